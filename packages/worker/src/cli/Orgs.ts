/**
 * `omnipost orgs create|list|disable|enable`: organizations, for the
 * operator: on the database directly, or through a running server with an
 * admin key.
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { call } from "./Client.js"
import { directOrganizations } from "./Direct.js"
import { connection, hasKey, key, orgPath, print, url } from "./Connection.js"

const orgsCreate = Command.make("create", {
  name: Flag.String("name").pipe(Flag.withDescription("The organization's name (a client, a brand)")),
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const created = (yield* hasKey(flags.key))
      ? yield* call(yield* connection(flags), "POST", "/v1/admin/organizations", { name: flags.name })
      : yield* directOrganizations(({ organizations }) => organizations.create(flags.name))
    yield* print(created)
    yield* Console.error(`Next: its first key, \`omnipost keys create --org ${created.id} --name <what for>\``)
  })).pipe(Command.withDescription("Create an organization"))

const orgsList = Command.make("list", { url, key }, (flags) =>
  Effect.gen(function*() {
    const all: Array<unknown> = []
    let cursor: string | undefined
    const remote = yield* hasKey(flags.key)
    const conn = remote ? yield* connection(flags) : undefined
    do {
      const page: { readonly data: ReadonlyArray<unknown>; readonly nextCursor?: string | undefined } = conn !== undefined
        ? yield* call(conn, "GET", `/v1/admin/organizations?limit=100${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`)
        : yield* directOrganizations(({ organizations }) =>
          Effect.map(organizations.list({ limit: 100, cursor }), (p) => ({ data: p.items, nextCursor: p.nextCursor }))
        )
      all.push(...page.data)
      cursor = page.nextCursor
    } while (cursor !== undefined)
    yield* print(all)
  })).pipe(Command.withDescription("List organizations"))

const orgsSetDisabled = (disabled: boolean) =>
  Command.make(disabled ? "disable" : "enable", { id: Argument.String("id"), url, key }, (flags) =>
    Effect.gen(function*() {
      const updated = (yield* hasKey(flags.key))
        ? yield* call(yield* connection(flags), "POST", `${orgPath(flags.id)}/${disabled ? "disable" : "enable"}`)
        : yield* directOrganizations(({ organizations }) =>
          Effect.flatMap(organizations.setDisabled(flags.id, disabled), (found) =>
            Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new Error(`no organization ${flags.id}`)))
        )
      yield* print(updated)
    })).pipe(Command.withDescription(
      disabled ? "Disable an organization: its keys are refused until it is enabled" : "Enable a disabled organization"
    ))

export const orgsCommand = Command.make("orgs").pipe(
  Command.withDescription("Manage organizations (an admin key through the server, or the database directly)"),
  Command.withSubcommands([orgsCreate, orgsList, orgsSetDisabled(true), orgsSetDisabled(false)])
)
