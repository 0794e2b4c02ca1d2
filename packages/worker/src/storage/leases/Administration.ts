/**
 * Lease administration: renewing and releasing this worker's leases, rate-limit
 * pauses, when to look for work again, and the `workers` table (heartbeats,
 * `health` for `/readyz`).
 */
import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import type { SqlError } from "effect/sql"
import type { Post } from "@omnipost/core"
import { hostname } from "node:os"
import type { SchedulerHealth } from "./Model.js"

export const make = (sql: PgClient.PgClient) => ({
  /** Extends this worker's leases on `ids` until `until`. */
  renew: (workerId: string, ids: ReadonlyArray<string>, until: Date): Effect.Effect<void, SqlError.SqlError> =>
    ids.length === 0
      ? Effect.void
      : sql`UPDATE destinations SET lease_expires_at = ${until} WHERE lease_owner = ${workerId} AND ${sql.in("id", ids)}`.pipe(
        Effect.asVoid
      ),
  /** Gives back this worker's claims of `ids` (all of them without), still `queued`; how many. */
  release: (workerId: string, ids?: ReadonlyArray<string>): Effect.Effect<number, SqlError.SqlError> =>
    (ids === undefined
      ? sql<{ id: string }>`UPDATE destinations SET lease_owner = NULL, lease_expires_at = NULL
          WHERE lease_owner = ${workerId} AND status = 'queued' RETURNING id`
      : ids.length === 0
      ? Effect.succeed([] as ReadonlyArray<{ id: string }>)
      : sql<{ id: string }>`UPDATE destinations SET lease_owner = NULL, lease_expires_at = NULL
          WHERE lease_owner = ${workerId} AND status = 'queued' AND ${sql.in("id", ids)} RETURNING id`
    ).pipe(Effect.map((rows) => rows.length)),
  /**
   * Keeps a call's parts on its destination while the call runs
   * (`PublishRequest.keepPostedParts`): only for the attempt still publishing,
   * so a late write cannot touch a settled or re-marked destination. A worker
   * that dies leaves them to the recovery (`expiredPublishing`), which hands
   * them to `findPublished`.
   */
  keepParts: (destinationId: string, attemptId: string, parts: ReadonlyArray<Post.PublishedPart>): Effect.Effect<void, SqlError.SqlError> =>
    parts.length === 0 ? Effect.void : sql`UPDATE destinations SET parts = ${sql.json(parts)}
      WHERE id = ${destinationId} AND current_attempt_id = ${attemptId} AND status = 'publishing'`.pipe(Effect.asVoid),
  /** Pauses a rate-limit scope (`<platform>`, `<platform>:<accountId>`, `org:<id>`) until `until`; never shortens a pause. */
  pause: (scope: string, until: Date, reason: string): Effect.Effect<void, SqlError.SqlError> =>
    sql`
      INSERT INTO rate_limit_pauses (scope, paused_until, reason) VALUES (${scope}, ${until}, ${reason})
      ON CONFLICT (scope) DO UPDATE SET
        paused_until = GREATEST(rate_limit_pauses.paused_until, EXCLUDED.paused_until), reason = EXCLUDED.reason`.pipe(
      Effect.asVoid
    ),
  /**
   * When to look again: `due`, the earliest due time of work no one has
   * claimed and no pause holds (in the past when some is due now);
   * `other`, the earliest instant a claim or a call's lease expires or a pause ends.
   */
  nextWake: (now: Date): Effect.Effect<{ readonly due: Date | undefined; readonly other: Date | undefined }, SqlError.SqlError> =>
    sql<{ due: Date | null; other: Date | null }>`
      SELECT
        (SELECT min(due_at) FROM destinations
          WHERE status = 'queued' AND due_at IS NOT NULL AND (lease_expires_at IS NULL OR lease_expires_at < ${now})
            AND NOT EXISTS (
              SELECT 1 FROM rate_limit_pauses p
              WHERE p.paused_until > ${now}
                AND (p.scope = destinations.platform OR p.scope = destinations.platform || ':' || destinations.account_id
              OR p.scope = 'org:' || destinations.organization_id))
        ) AS due,
        LEAST(
          (SELECT min(lease_expires_at) FROM destinations WHERE status = 'queued' AND lease_expires_at > ${now}),
          (SELECT min(lease_expires_at) FROM destinations WHERE status = 'publishing'),
          (SELECT min(paused_until) FROM rate_limit_pauses WHERE paused_until > ${now})
        ) AS other`.pipe(Effect.map((rows) => ({ due: rows[0]?.due ?? undefined, other: rows[0]?.other ?? undefined }))),
  /** Records this worker alive (or stopped) in `workers`. */
  heartbeat: (workerId: string, now: Date, stopped = false): Effect.Effect<void, SqlError.SqlError> =>
    sql`
      INSERT INTO workers (id, hostname, pid, started_at, heartbeat_at, stopped_at)
      VALUES (${workerId}, ${hostname()}, ${process.pid}, ${now}, ${now}, ${stopped ? now : null})
      ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, stopped_at = EXCLUDED.stopped_at`.pipe(
      Effect.asVoid
    )
})

/** The administration operations of `Leases`. */
export type Operations = ReturnType<typeof make>

/**
 * Whether a scheduler is alive and whether work is overdue, for `/readyz`:
 * live workers have a heartbeat within `windowMs` and are not stopped; overdue
 * destinations are queued and due more than `overdueAfterMs` ago.
 */
export const health = Effect.fn("Leases.health")(function*(options: {
  readonly now: Date
  readonly windowMs?: number | undefined
  readonly overdueAfterMs?: number | undefined
}) {
  const sql = yield* PgClient.PgClient
  const since = new Date(options.now.getTime() - (options.windowMs ?? 30_000))
  const overdueBefore = new Date(options.now.getTime() - (options.overdueAfterMs ?? 60_000))
  // A disabled organization's queued work waits on purpose: not overdue.
  const notDisabled = sql`NOT EXISTS (SELECT 1 FROM rate_limit_pauses p
    WHERE p.scope = 'org:' || destinations.organization_id AND p.paused_until > ${options.now})`
  const rows = yield* sql<{ live: string | number; overdue: string | number; oldest: Date | null }>`
    SELECT
      (SELECT count(*) FROM workers WHERE heartbeat_at >= ${since} AND stopped_at IS NULL) AS live,
      (SELECT count(*) FROM destinations WHERE status = 'queued' AND due_at < ${overdueBefore} AND ${notDisabled}) AS overdue,
      (SELECT min(due_at) FROM destinations WHERE status = 'queued' AND due_at < ${overdueBefore} AND ${notDisabled}) AS oldest`
  const row = rows[0]!
  return {
    liveWorkers: Number(row.live),
    overdue: Number(row.overdue),
    ...(row.oldest === null ? {} : { oldestOverdueAt: row.oldest.toISOString() })
  } satisfies SchedulerHealth
})
