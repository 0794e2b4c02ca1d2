/**
 * How a list is paged: by cursor (`nextCursor`, exact under concurrent
 * inserts) or by `offset` with a `total` (what PostEverywhere and Ampost
 * offer). Offset pages count what the filter selects, with the same
 * conditions as the page, so the count uses the list's index; it is bounded
 * (`maxOffset`) so a deep page never scans a whole table.
 */
import { Effect } from "effect"
import type { SqlClient, SqlError, Statement } from "effect/sql"
import * as Cursor from "./Cursor.js"

/** The deepest offset a list accepts (deeper: page by cursor). */
export const maxOffset = 10_000

/** The largest page. */
export const maxLimit = 100

export interface PageRequest {
  readonly limit: number
  readonly cursor?: string | undefined
  readonly offset?: number | undefined
}

/** One page: `nextCursor` when more follow (cursor paging and offset paging alike), `total` with offset paging. */
export interface Page<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor?: string | undefined
  readonly total?: number | undefined
}

/** The page size within 1..maxLimit. */
export const clampLimit = (limit: number | undefined, fallback: number) =>
  Math.min(Math.max(Math.trunc(limit ?? fallback), 1), maxLimit)

/** What a paged list selects: its rows (of `from`, with `columns`) where `where` holds, by `(created_at, id)`. */
export interface ListQuery {
  /** The cursor's list name: a cursor of another list is refused. */
  readonly list: string
  /** The table (SQL text, ours, never a user's). */
  readonly from: string
  /** The selected columns (SQL text); each row also gets `cursor_at`. */
  readonly columns: string
  /** The list's own conditions; `total` counts the rows they select. */
  readonly where: Statement.Fragment
  /** Newest first (`created_at DESC, id DESC`); default oldest first. */
  readonly newestFirst?: boolean | undefined
}

/**
 * One page of a list ordered by `(created_at, id)`: after the cursor's
 * position, or skipping `offset` rows and then counting the list (`total`,
 * same conditions), one row more than the page to know whether another follows.
 *
 * @example
 * const page = yield* Paging.query<KeyRow>(sql, {
 *   list: "keys", from: "api_keys", columns: "id, name, created_at",
 *   where: sql`organization_id = ${organizationId}`
 * }, { limit: 20, offset: 40 })
 */
export const query = <Row extends { readonly id: string }>(
  sql: SqlClient.SqlClient,
  list: ListQuery,
  page: PageRequest
): Effect.Effect<Page<Row>, Cursor.InvalidCursor | SqlError.SqlError> =>
  Effect.gen(function*() {
    const after = page.cursor === undefined ? undefined : yield* Cursor.decode(list.list, page.cursor)
    const direction = sql.literal(list.newestFirst === true ? "DESC" : "ASC")
    const beyond = after === undefined
      ? sql``
      : sql`AND (created_at, id) ${sql.literal(list.newestFirst === true ? "<" : ">")} (${after.at}::timestamptz, ${after.id})`
    const rows = yield* sql<Row & { readonly cursor_at: string }>`
      SELECT ${sql.literal(list.columns)}, ${Cursor.instantOf(sql, "created_at")} AS cursor_at
      FROM ${sql.literal(list.from)} WHERE ${list.where} ${beyond}
      ORDER BY created_at ${direction}, id ${direction} LIMIT ${page.limit + 1} OFFSET ${page.offset ?? 0}`
    const total = page.offset === undefined ? undefined : yield* sql<{ readonly n: number }>`
      SELECT count(*)::int AS n FROM ${sql.literal(list.from)} WHERE ${list.where}`.pipe(Effect.map((r) => r[0]!.n))
    const items = rows.slice(0, page.limit)
    const last = items[items.length - 1]
    return {
      items,
      ...(rows.length > page.limit && last !== undefined
        ? { nextCursor: Cursor.encode(list.list, { at: last.cursor_at, id: last.id }) }
        : {}),
      ...(total !== undefined ? { total } : {})
    }
  })
