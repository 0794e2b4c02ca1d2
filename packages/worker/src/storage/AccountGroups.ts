/**
 * Account groups: named sets of an organization's accounts (Ampost's
 * "platform sets"). A post can target a group; the API expands it into one
 * destination per member when the post is created.
 *
 * Operations, all scoped to an organization (another organization's group or
 * account answers exactly like an unknown one):
 * - `create` (a name unique in the organization ignoring case, optional
 *   members), `rename`, `remove` (the accounts stay);
 * - `get`, `list` (oldest first, by cursor or offset with a total);
 * - `addAccounts`, `removeAccounts` (at most `maxAccounts` members).
 */
import { Context, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { type Account, accountColumns, type AccountRow, toAccount } from "./AccountStore.js"
import * as Cursor from "./Cursor.js"
import * as Ids from "./Ids.js"
import { iso } from "./internal/rows.js"
import type * as Paging from "./Paging.js"

/** The longest group name (characters). */
export const maxNameLength = 100
/** The most accounts a group holds: a post's most destinations (core's `Limits.maxDestinations`). */
export const maxAccounts = 100

export class GroupNotFound extends Schema.TaggedError<GroupNotFound>()("GroupNotFound", {
  groupId: Schema.String,
  message: Schema.String
}) {}

export class GroupNameTaken extends Schema.TaggedError<GroupNameTaken>()("GroupNameTaken", {
  name: Schema.String,
  message: Schema.String
}) {}

/** Account ids that are not the organization's. */
export class UnknownAccounts extends Schema.TaggedError<UnknownAccounts>()("UnknownAccounts", {
  accountIds: Schema.Array(Schema.String),
  message: Schema.String
}) {}

export class GroupFull extends Schema.TaggedError<GroupFull>()("GroupFull", {
  groupId: Schema.String,
  max: Schema.Number,
  wouldHave: Schema.Number,
  message: Schema.String
}) {}

export interface AccountGroup {
  readonly id: string
  readonly name: string
  /** The members, in the order they were added. */
  readonly accounts: ReadonlyArray<Account>
  readonly createdAt: string
  readonly updatedAt: string
}

interface GroupRow {
  readonly id: string
  readonly name: string
  readonly created_at: Date
  readonly updated_at: Date
}

type Failure = SqlError.SqlError

export class AccountGroups extends Context.Service<AccountGroups, {
  readonly create: (
    organizationId: string,
    input: { readonly name: string; readonly accountIds?: ReadonlyArray<string> | undefined }
  ) => Effect.Effect<AccountGroup, GroupNameTaken | UnknownAccounts | GroupFull | Failure>
  readonly get: (organizationId: string, groupId: string) => Effect.Effect<AccountGroup, GroupNotFound | Failure>
  readonly list: (
    organizationId: string,
    page: Paging.PageRequest
  ) => Effect.Effect<Paging.Page<AccountGroup>, Cursor.InvalidCursor | Failure>
  readonly rename: (
    organizationId: string,
    groupId: string,
    name: string
  ) => Effect.Effect<AccountGroup, GroupNotFound | GroupNameTaken | Failure>
  readonly remove: (organizationId: string, groupId: string) => Effect.Effect<void, GroupNotFound | Failure>
  readonly addAccounts: (
    organizationId: string,
    groupId: string,
    accountIds: ReadonlyArray<string>
  ) => Effect.Effect<AccountGroup, GroupNotFound | UnknownAccounts | GroupFull | Failure>
  readonly removeAccounts: (
    organizationId: string,
    groupId: string,
    accountIds: ReadonlyArray<string>
  ) => Effect.Effect<AccountGroup, GroupNotFound | Failure>
}>()("@omnipost/worker/AccountGroups") {
  static readonly layer = Layer.effect(AccountGroups)(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const memberColumns = accountColumns.split(", ").map((c) => `a.${c}`).join(", ")

    const notFound = (groupId: string) => new GroupNotFound({ groupId, message: `no account group ${groupId}` })
    const nameTaken = (name: string) =>
      new GroupNameTaken({ name, message: `a group named "${name}" already exists in this organization (names ignore case)` })

    /** The members of some groups, in the order they were added. */
    const membersOf = (groupIds: ReadonlyArray<string>) =>
      groupIds.length === 0
        ? Effect.succeed(new Map<string, Array<Account>>())
        : sql.unsafe<AccountRow & { readonly group_id: string }>(
          `SELECT m.group_id, ${memberColumns} FROM account_group_members m JOIN accounts a ON a.id = m.account_id
           WHERE m.group_id = ANY($1) ORDER BY m.seq`,
          [groupIds as Array<string>]
        ).pipe(Effect.map((rows) => {
          const out = new Map<string, Array<Account>>()
          for (const row of rows) {
            const list = out.get(row.group_id) ?? []
            list.push(toAccount(row))
            out.set(row.group_id, list)
          }
          return out
        }))

    const withMembers = (rows: ReadonlyArray<GroupRow>) =>
      Effect.map(membersOf(rows.map((r) => r.id)), (members) =>
        rows.map((row): AccountGroup => ({
          id: row.id,
          name: row.name,
          accounts: members.get(row.id) ?? [],
          createdAt: iso(row.created_at),
          updatedAt: iso(row.updated_at)
        })))

    const findRow = (organizationId: string, groupId: string, lock = false) =>
      sql<GroupRow>`SELECT id, name, created_at, updated_at FROM account_groups
        WHERE id = ${groupId} AND organization_id = ${organizationId} ${sql.literal(lock ? "FOR UPDATE" : "")}`.pipe(
        Effect.flatMap((rows) => rows.length === 0 ? Effect.fail(notFound(groupId)) : Effect.succeed(rows[0]!))
      )

    const get = (organizationId: string, groupId: string) =>
      findRow(organizationId, groupId).pipe(
        Effect.flatMap((row) => withMembers([row])),
        Effect.map((groups) => groups[0]!)
      )

    /** The organization's accounts among `accountIds`; fails naming the others. */
    const checkAccounts = Effect.fnUntraced(function*(organizationId: string, accountIds: ReadonlyArray<string>) {
      const wanted = [...new Set(accountIds)]
      if (wanted.length === 0) return wanted
      const rows = yield* sql<{ id: string }>`
        SELECT id FROM accounts WHERE organization_id = ${organizationId} AND ${sql.in("id", wanted)}`
      const known = new Set(rows.map((r) => r.id))
      const unknown = wanted.filter((id) => !known.has(id))
      if (unknown.length > 0) {
        return yield* new UnknownAccounts({ accountIds: unknown, message: `no account ${unknown.join(", ")} in this organization` })
      }
      return wanted
    })

    /** Adds members (those already in are left as they are), within the bound. */
    const insertMembers = Effect.fnUntraced(function*(groupId: string, accountIds: ReadonlyArray<string>) {
      if (accountIds.length === 0) return
      const current = yield* sql<{ account_id: string }>`SELECT account_id FROM account_group_members WHERE group_id = ${groupId}`
      const have = new Set(current.map((r) => r.account_id))
      const fresh = accountIds.filter((id) => !have.has(id))
      const wouldHave = have.size + fresh.length
      if (wouldHave > maxAccounts) {
        return yield* new GroupFull({
          groupId,
          max: maxAccounts,
          wouldHave,
          message: `a group holds at most ${maxAccounts} accounts; this would make ${wouldHave}`
        })
      }
      // One statement per account: each takes the next `seq`, so the group keeps the order given.
      for (const accountId of fresh) {
        yield* sql`INSERT INTO account_group_members (group_id, account_id) VALUES (${groupId}, ${accountId})
          ON CONFLICT DO NOTHING`
      }
    })

    const touch = (groupId: string) => sql`UPDATE account_groups SET updated_at = now() WHERE id = ${groupId}`

    const nameInUse = (organizationId: string, name: string, except: string) =>
      sql<{ id: string }>`SELECT id FROM account_groups
        WHERE organization_id = ${organizationId} AND lower(name) = lower(${name}) AND id <> ${except}`.pipe(
        Effect.map((rows) => rows.length > 0)
      )

    const create = Effect.fn("AccountGroups.create")(function*(
      organizationId: string,
      input: { readonly name: string; readonly accountIds?: ReadonlyArray<string> | undefined }
    ) {
      const accountIds = yield* checkAccounts(organizationId, input.accountIds ?? [])
      const id = Ids.make("grp")
      const inserted = yield* sql<{ id: string }>`
        INSERT INTO account_groups (id, organization_id, name) VALUES (${id}, ${organizationId}, ${input.name})
        ON CONFLICT (organization_id, lower(name)) DO NOTHING RETURNING id`
      if (inserted.length === 0) return yield* nameTaken(input.name)
      yield* insertMembers(id, accountIds)
      return yield* get(organizationId, id).pipe(Effect.orDie)
    }, sql.withTransaction)

    const rename = Effect.fn("AccountGroups.rename")(function*(organizationId: string, groupId: string, name: string) {
      yield* findRow(organizationId, groupId, true)
      if (yield* nameInUse(organizationId, name, groupId)) return yield* nameTaken(name)
      yield* sql`UPDATE account_groups SET name = ${name}, updated_at = now() WHERE id = ${groupId}`
      return yield* get(organizationId, groupId)
    }, sql.withTransaction)

    const addAccounts = Effect.fn("AccountGroups.addAccounts")(function*(
      organizationId: string,
      groupId: string,
      accountIds: ReadonlyArray<string>
    ) {
      // Locked: two concurrent additions cannot both pass the bound.
      yield* findRow(organizationId, groupId, true)
      const checked = yield* checkAccounts(organizationId, accountIds)
      yield* insertMembers(groupId, checked)
      yield* touch(groupId)
      return yield* get(organizationId, groupId)
    }, sql.withTransaction)

    const removeAccounts = Effect.fn("AccountGroups.removeAccounts")(function*(
      organizationId: string,
      groupId: string,
      accountIds: ReadonlyArray<string>
    ) {
      yield* findRow(organizationId, groupId, true)
      if (accountIds.length > 0) {
        yield* sql`DELETE FROM account_group_members WHERE group_id = ${groupId} AND ${sql.in("account_id", [...accountIds])}`
      }
      yield* touch(groupId)
      return yield* get(organizationId, groupId)
    }, sql.withTransaction)

    const list = Effect.fn("AccountGroups.list")(function*(organizationId: string, page: Paging.PageRequest) {
      const after = page.cursor === undefined ? undefined : yield* Cursor.decode("groups", page.cursor)
      const rows = yield* sql<GroupRow & { readonly cursor_at: string }>`
        SELECT id, name, created_at, updated_at, ${Cursor.instantOf(sql, "created_at")} AS cursor_at
        FROM account_groups WHERE organization_id = ${organizationId}
        ${after === undefined ? sql`` : sql`AND (created_at, id) > (${after.at}::timestamptz, ${after.id})`}
        ORDER BY created_at, id LIMIT ${page.limit + 1} OFFSET ${page.offset ?? 0}`
      const items = rows.slice(0, page.limit)
      const last = items[items.length - 1]
      const total = page.offset === undefined ? undefined : yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM account_groups WHERE organization_id = ${organizationId}`.pipe(Effect.map((r) => r[0]!.n))
      return {
        items: yield* withMembers(items),
        ...(rows.length > page.limit && last !== undefined
          ? { nextCursor: Cursor.encode("groups", { at: last.cursor_at, id: last.id }) }
          : {}),
        ...(total !== undefined ? { total } : {})
      }
    })

    return {
      create,
      get,
      list,
      rename,
      remove: (organizationId, groupId) =>
        sql<{ id: string }>`DELETE FROM account_groups WHERE id = ${groupId} AND organization_id = ${organizationId} RETURNING id`.pipe(
          Effect.flatMap((rows) => rows.length === 0 ? Effect.fail(notFound(groupId)) : Effect.void)
        ),
      addAccounts,
      removeAccounts
    }
  }))
}
