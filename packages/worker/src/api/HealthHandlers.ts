/**
 * `/healthz` (the process answers) and `/readyz`: the database answers, a
 * scheduler heartbeat is fresh, and no queued destination is overdue — so a
 * post stuck in "queued" because no worker runs is visible, not silent —
 * and how many requests are in flight.
 */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { SqlClient } from "effect/sql"
import { ServerConfig } from "../Config.js"
import { OmnipostApi } from "./Api.js"
import { RequestsInFlight } from "./InFlight.js"
import type * as Models from "./Models.js"

/** What /readyz reports: the database, the schedulers' heartbeats, and overdue work. */
export const readiness = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const config = yield* ServerConfig
  const requestsInFlight = yield* RequestsInFlight.use((requests) => requests.count)
  const database = yield* sql`SELECT 1`.pipe(
    Effect.timeout("2 seconds"),
    Effect.as("ok" as const),
    Effect.orElseSucceed(() => "unreachable" as const)
  )
  if (database === "unreachable") {
    return {
      status: "degraded",
      database,
      scheduler: { alive: false, workers: 0 },
      overdue: { count: 0, thresholdSeconds: config.overdueThresholdSeconds },
      requestsInFlight
    } satisfies Models.Readiness
  }
  const [workers] = yield* sql<{ alive: string | number; last: Date | string | null }>`
    SELECT count(*) FILTER (WHERE heartbeat_at > now() - make_interval(secs => ${config.heartbeatStaleSeconds})) AS alive,
           max(heartbeat_at) AS last
    FROM workers WHERE stopped_at IS NULL`.pipe(Effect.orDie)
  const [overdue] = yield* sql<{ count: string | number; oldest: Date | string | null }>`
    SELECT count(*) AS count, min(due_at) AS oldest FROM destinations
    WHERE status = 'queued' AND due_at < now() - make_interval(secs => ${config.overdueThresholdSeconds})`.pipe(
    Effect.orDie
  )
  const alive = Number(workers?.alive ?? 0)
  const overdueCount = Number(overdue?.count ?? 0)
  return {
    status: alive > 0 && overdueCount === 0 ? "ready" : "degraded",
    database,
    scheduler: {
      alive: alive > 0,
      workers: alive,
      ...(workers?.last ? { lastHeartbeatAt: new Date(workers.last).toISOString() } : {})
    },
    overdue: {
      count: overdueCount,
      thresholdSeconds: config.overdueThresholdSeconds,
      ...(overdue?.oldest ? { oldestDueAt: new Date(overdue.oldest).toISOString() } : {})
    },
    requestsInFlight
  } satisfies Models.Readiness
})

export const HealthHandlers = HttpApiBuilder.group(OmnipostApi, "health", (handlers) =>
  handlers
    .handle("healthz", () => Effect.succeed({ status: "ok" as const }))
    .handle("readyz", () =>
      Effect.flatMap(readiness, (report) => report.status === "ready" ? Effect.succeed(report) : Effect.fail(report))))
