/**
 * `omnipost groups create|list|rename|delete|add|remove`: account groups,
 * through a running server (`/v1/groups`). A post targets a group with
 * `{ "groupId" }` among its destinations.
 */
import { Console, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { call } from "./Client.js"
import { connection, key, print, url } from "./Connection.js"

const path = (id: string) => `/v1/groups/${encodeURIComponent(id)}`
const id = Argument.String("id").pipe(Argument.withDescription("The group's id (grp_…)"))
const name = Flag.String("name").pipe(Flag.withDescription("The group's name (1 to 100 characters, unique in the organization)"))
const accounts = (min: number) =>
  Flag.String("account").pipe(Flag.withDescription("An account id (repeatable)"), Flag.atLeast(min))

const create = Command.make("create", { name, accounts: accounts(0), url, key }, (flags) =>
  Effect.gen(function*() {
    const body = { name: flags.name, ...(flags.accounts.length > 0 ? { accountIds: flags.accounts } : {}) }
    yield* print(yield* call(yield* connection(flags), "POST", "/v1/groups", body))
  })).pipe(Command.withDescription("Create an account group (optionally with its accounts)"))

const list = Command.make("list", { url, key }, (flags) =>
  Effect.gen(function*() {
    const conn = yield* connection(flags)
    const all: Array<unknown> = []
    let cursor: string | undefined
    do {
      const page = yield* call(conn, "GET", `/v1/groups?limit=100${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`)
      all.push(...page.data)
      cursor = page.nextCursor
    } while (cursor !== undefined)
    yield* print(all)
  })).pipe(Command.withDescription("List account groups with their accounts"))

const rename = Command.make("rename", { id, name, url, key }, (flags) =>
  Effect.gen(function*() {
    yield* print(yield* call(yield* connection(flags), "PATCH", path(flags.id), { name: flags.name }))
  })).pipe(Command.withDescription("Rename an account group"))

const remove = Command.make("delete", { id, url, key }, (flags) =>
  Effect.gen(function*() {
    yield* call(yield* connection(flags), "DELETE", path(flags.id))
    yield* Console.log(`deleted ${flags.id} (its accounts stay connected)`)
  })).pipe(Command.withDescription("Delete an account group (its accounts stay connected)"))

const add = Command.make("add", { id, accounts: accounts(1), url, key }, (flags) =>
  Effect.gen(function*() {
    yield* print(yield* call(yield* connection(flags), "POST", `${path(flags.id)}/accounts`, { accountIds: flags.accounts }))
  })).pipe(Command.withDescription("Add accounts to a group"))

const removeAccounts = Command.make("remove", { id, accounts: accounts(1), url, key }, (flags) =>
  Effect.gen(function*() {
    yield* print(yield* call(yield* connection(flags), "POST", `${path(flags.id)}/accounts/remove`, { accountIds: flags.accounts }))
  })).pipe(Command.withDescription("Remove accounts from a group (the accounts stay connected)"))

export const groupsCommand = Command.make("groups").pipe(
  Command.withDescription("Account groups: a post's destinations may name a group ({ \"groupId\" }) to publish to all its accounts"),
  Command.withSubcommands([create, list, rename, remove, add, removeAccounts])
)
