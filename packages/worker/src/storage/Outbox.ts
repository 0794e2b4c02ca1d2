/**
 * Reading the outcome outbox (`events`) after a position, without skipping.
 *
 * An event's id is taken from a sequence when it is written but becomes
 * visible when its transaction commits, so ids do not arrive in order: a
 * reader that had passed id 11 would never see an id 10 committed later.
 * Each event also records its transaction (`xid`, a `xid8`), and a reader
 * only takes events of transactions older than every transaction still
 * running (`pg_snapshot_xmin`): those are all committed or gone, so nothing
 * can appear behind the position afterwards. Positions order by
 * `(xid, id)`. A long transaction delays readers; it never makes them skip.
 * Only transactions that write count (a read-only one, such as `pg_dump`'s,
 * takes no transaction id), but those of every database on the server do.
 */
import type { SqlClient } from "effect/sql"

/** Where a reader stands: after the event `(xid, id)`. */
export interface EventPosition {
  /** A `xid8`, as text. */
  readonly xid: string
  readonly id: number
}

/** Before every event. */
export const origin: EventPosition = { xid: "0", id: 0 }

export interface EventRow {
  readonly id: string | number
  readonly xid: string
  readonly organization_id: string
  readonly type: string
  readonly post_id: string
  readonly destination_id: string | null
  readonly payload: unknown
  readonly created_at: Date | string
}

/** Up to `limit` settled events after `after`, in position order (one organization's, or all). */
export const readEvents = (sql: SqlClient.SqlClient, options: {
  readonly after: EventPosition
  readonly limit: number
  readonly organizationId?: string | undefined
}) =>
  sql<EventRow>`
    SELECT id, xid::text AS xid, organization_id, type, post_id, destination_id, payload, created_at FROM events
    WHERE (xid, id) > (${options.after.xid}::xid8, ${options.after.id})
      AND xid < pg_snapshot_xmin(pg_current_snapshot())
      ${options.organizationId === undefined ? sql`` : sql`AND organization_id = ${options.organizationId}`}
    ORDER BY xid, id LIMIT ${options.limit}`

/** The position of a row (the last one read, to resume after it). */
export const positionOf = (row: EventRow): EventPosition => ({ xid: row.xid, id: Number(row.id) })
