/**
 * Organizations, the tenants of one service: an operator (an agency hosting
 * its customers) creates, lists, disables and enables them with an admin key
 * (`/v1/admin/organizations`, `omnipost orgs`). Every tenant-owned row carries
 * its organization's id; a disabled organization keeps its data, its API
 * keys are refused and its scheduled work is held (no scheduler claims it, and
 * `/readyz` does not count it overdue) until it is enabled again.
 */
import { Clock, Context, Effect, Layer, Option } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as Cursor from "./Cursor.js"
import { Database } from "./Database.js"
import * as Ids from "./Ids.js"
import { dueChannel } from "./PostStore.js"

/** The scheduler pause that holds a disabled organization's work (see `Leases`). */
export const pauseScope = (organizationId: string) => `org:${organizationId}`
const disabledUntil = new Date("9999-12-31T00:00:00Z")

export interface Organization {
  readonly id: string
  readonly name: string
  readonly createdAt: string
  /** Set while the organization is disabled: its keys are refused. */
  readonly disabledAt?: string | undefined
}

export interface OrganizationPage {
  readonly items: ReadonlyArray<Organization>
  /** The next page's cursor; absent on the last page. */
  readonly nextCursor?: string | undefined
  /** With `offset`: every organization. */
  readonly total?: number | undefined
}

export interface OrganizationsShape {
  readonly create: (name: string) => Effect.Effect<Organization, SqlError.SqlError>
  readonly get: (id: string) => Effect.Effect<Option.Option<Organization>, SqlError.SqlError>
  /** Oldest first; `limit` is kept within 1–100. */
  readonly list: (page: {
    readonly limit: number
    readonly cursor?: string | undefined
    /** Skip this many (not with `cursor`); the page then carries `total`. */
    readonly offset?: number | undefined
  }) => Effect.Effect<OrganizationPage, SqlError.SqlError | Cursor.InvalidCursor>
  /**
   * Disables (`true`) or enables (`false`) an organization; doing it twice
   * changes nothing (a disabled organization keeps its first `disabledAt`).
   * None when there is no such organization.
   */
  readonly setDisabled: (id: string, disabled: boolean) => Effect.Effect<Option.Option<Organization>, SqlError.SqlError>
}

interface Row {
  readonly id: string
  readonly name: string
  readonly created_at: Date | string
  readonly disabled_at: Date | string | null
}

const toOrganization = (row: Row): Organization => ({
  id: row.id,
  name: row.name,
  createdAt: new Date(row.created_at).toISOString(),
  ...(row.disabled_at !== null ? { disabledAt: new Date(row.disabled_at).toISOString() } : {})
})

/** Inserts an organization; the one way one is created (`ApiKeys.bootstrap` and `defaultOrganization` use it too). */
export const insert = (sql: SqlClient.SqlClient, name: string) =>
  sql<Row>`INSERT INTO organizations (id, name) VALUES (${Ids.make("org")}, ${name})
    RETURNING id, name, created_at, disabled_at`.pipe(Effect.map((rows) => toOrganization(rows[0]!)))

export class Organizations extends Context.Service<Organizations, OrganizationsShape>()("@omnipost/worker/Organizations") {
  static readonly layer: Layer.Layer<Organizations, never, SqlClient.SqlClient | Database> = Layer.effect(
    Organizations,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const database = yield* Database

      const get = (id: string) =>
        sql<Row>`SELECT id, name, created_at, disabled_at FROM organizations WHERE id = ${id}`.pipe(
          Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toOrganization))
        )

      const list: OrganizationsShape["list"] = (page) =>
        Effect.gen(function*() {
          const limit = Math.min(Math.max(Math.trunc(page.limit), 1), 100)
          const after = page.cursor === undefined ? undefined : yield* Cursor.decode("organizations", page.cursor)
          const rows = yield* sql<Row & { readonly cursor_at: string }>`
            SELECT id, name, created_at, disabled_at, ${Cursor.instantOf(sql, "created_at")} AS cursor_at
            FROM organizations
            ${after === undefined ? sql`` : sql`WHERE (created_at, id) > (${after.at}::timestamptz, ${after.id})`}
            ORDER BY created_at, id LIMIT ${limit + 1} OFFSET ${page.offset ?? 0}`
          const items = rows.slice(0, limit)
          const last = items[items.length - 1]
          const total = page.offset === undefined
            ? undefined
            : (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM organizations`)[0]!.n
          return {
            items: items.map(toOrganization),
            ...(total !== undefined ? { total } : {}),
            ...(rows.length > limit && last !== undefined
              ? { nextCursor: Cursor.encode("organizations", { at: last.cursor_at, id: last.id }) }
              : {})
          }
        })

      // While disabled, a pause of scope `org:<id>` (until the year 9999) keeps every scheduler from
      // claiming the organization's work (`Leases`); enabling lifts it and wakes the schedulers.
      const setDisabled = (id: string, disabled: boolean) =>
        sql.withTransaction(Effect.gen(function*() {
          const rows = disabled
            ? yield* sql<Row>`UPDATE organizations SET disabled_at = COALESCE(disabled_at, now()) WHERE id = ${id}
                RETURNING id, name, created_at, disabled_at`
            : yield* sql<Row>`UPDATE organizations SET disabled_at = NULL WHERE id = ${id}
                RETURNING id, name, created_at, disabled_at`
          const row = rows[0]
          if (row === undefined) return Option.none<Organization>()
          const scope = pauseScope(id)
          if (disabled) {
            yield* sql`INSERT INTO rate_limit_pauses (scope, paused_until, reason)
              VALUES (${scope}, ${disabledUntil}, 'organization disabled')
              ON CONFLICT (scope) DO UPDATE SET paused_until = EXCLUDED.paused_until, reason = EXCLUDED.reason`
          } else {
            yield* sql`DELETE FROM rate_limit_pauses WHERE scope = ${scope}`
            const now = yield* Clock.currentTimeMillis
            yield* sql.afterCommit(database.notify(dueChannel, new Date(now).toISOString()).pipe(Effect.ignore))
          }
          return Option.some(toOrganization(row))
        }))

      return Organizations.of({ create: (name) => insert(sql, name), get, list, setDisabled })
    })
  )
}
