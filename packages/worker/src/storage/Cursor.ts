/**
 * Page cursors: opaque, versioned and exact.
 *
 * A list ordered by `(created_at, id)` pages with the last row's key. The
 * instant keeps the column's microseconds (`timestamptz` has them; a
 * JavaScript `Date` does not, and a cursor cut to milliseconds skips the rest
 * of that millisecond). The token is base64url of `[version, list, ...key]`
 * as JSON, then a check of it: a cursor names the list it came from, and a
 * malformed, tampered or foreign one is refused (`InvalidCursor`, an HTTP
 * `400`) instead of silently listing from the top.
 *
 * @example
 * const rows = yield* sql`SELECT *, ${Cursor.instantColumn(sql, "created_at")} AS cursor_at FROM posts
 *   WHERE ${after === undefined ? sql`true` : sql`(created_at, id) < (${after.at}::timestamptz, ${after.id})`} …`
 * const next = Cursor.encode("posts", { at: last.cursor_at, id: last.id })
 */
import { Data, Effect } from "effect"
import type { Statement } from "effect/sql"
import { createHash } from "node:crypto"

/** A cursor that cannot be used: not one of ours, damaged, or from another list. */
export class InvalidCursor extends Data.TaggedError("InvalidCursor")<{
  readonly message: string
}> {}

/** The key of the last row of a page: its creation instant (ISO 8601, microseconds, UTC) and its id. */
export interface Position {
  readonly at: string
  readonly id: string
}

const version = 1
/** Longest token accepted: a position is under 150 characters; anything longer is not ours. */
const maxLength = 512
const instant = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/
const idPattern = /^[a-z]{2,8}_[0-9a-z]{1,64}$/

const check = (payload: string) => createHash("sha256").update(payload).digest().subarray(0, 6).toString("base64url")

/** The token for the position after `position` in `list`. */
export const encode = (list: string, position: Position): string => {
  const payload = Buffer.from(JSON.stringify([version, list, position.at, position.id])).toString("base64url")
  return `${payload}.${check(payload)}`
}

/** The position a token names, if it is a valid cursor of `list`. */
export const decode = (list: string, token: string): Effect.Effect<Position, InvalidCursor> => {
  const invalid = (why: string) =>
    Effect.fail(new InvalidCursor({ message: `the cursor is invalid (${why}): pass a nextCursor of this list unchanged` }))
  if (token.length === 0 || token.length > maxLength) return invalid("wrong length")
  const dot = token.indexOf(".")
  const payload = token.slice(0, dot)
  if (dot < 0 || !/^[A-Za-z0-9_-]+$/.test(payload) || token.slice(dot + 1) !== check(payload)) {
    return invalid("damaged or not a cursor")
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"))
  } catch {
    return invalid("damaged or not a cursor")
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || parsed[0] !== version) return invalid("unknown version")
  const [, from, at, id] = parsed as [unknown, unknown, unknown, unknown]
  if (from !== list) return invalid(`it belongs to another list`)
  if (typeof at !== "string" || !instant.test(at) || Number.isNaN(Date.parse(at))) return invalid("bad position")
  if (typeof id !== "string" || !idPattern.test(id)) return invalid("bad position")
  return Effect.succeed({ at, id })
}

/**
 * A `timestamptz` column as the exact ISO 8601 text a position holds
 * (microseconds, UTC), to select beside a page's rows.
 */
export const instantOf = (sql: { readonly literal: (sql: string) => Statement.Fragment }, column: string): Statement.Fragment =>
  sql.literal(`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)
