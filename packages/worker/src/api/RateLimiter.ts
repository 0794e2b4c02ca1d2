/**
 * Per-API-key rate limiting, shared by every process of the service.
 *
 * The algorithm is GCRA (the generic cell rate algorithm, a token bucket kept
 * as one number): a key of `limit` requests a minute is let through when its
 * "theoretical arrival time" (`tat`) is no further ahead of now than the
 * minute minus one request's interval (`60 s / limit`); each allowed request
 * moves `tat` on by one interval. So a key has a burst of `limit` and then one
 * request every interval, refilled continuously.
 *
 * `layer` keeps `tat` in PostgreSQL (table `rate_limits`, migration 0013), one
 * row per key, read and written by a single `INSERT … ON CONFLICT DO UPDATE …
 * RETURNING`: one round trip a request, atomic under the row lock, so every
 * API process on the database counts against the same limit. `layerMemory`
 * keeps it in this process (an embedding without a database, unit tests).
 * Both take the same step (`step`), and time from `Clock`.
 *
 * @example
 * const decision = yield* (yield* RateLimiter).take(apiKeyId, 600)
 * // decision.allowed, decision.remaining, decision.resetSeconds…
 */
import { Clock, Context, Effect, Layer } from "effect"
import { SqlClient, type SqlError } from "effect/sql"

export interface RateDecision {
  readonly allowed: boolean
  /** Whole seconds until one request is allowed again (0 when allowed). */
  readonly retryAfterSeconds: number
  /** Requests a minute (the burst). */
  readonly limit: number
  /** Requests that could be made right now, after this one. */
  readonly remaining: number
  /** Whole seconds until the whole limit is available again. */
  readonly resetSeconds: number
}

export interface RateLimiterShape {
  readonly take: (key: string, limitPerMinute: number) => Effect.Effect<RateDecision, SqlError.SqlError>
}

/** The window a limit is counted over. */
export const windowMs = 60_000

// `limit × interval` may miss the window by a rounding error (7 × 60000/7).
const slack = 1e-6

/** A key's state after a request: its theoretical arrival time (epoch ms) and whether the request was let through. */
export interface GcraState {
  readonly tat: number
  readonly allowed: boolean
}

const intervalOf = (limit: number) => windowMs / limit

/** The latest `tat` a request is let through at: one interval short of a full window ahead of `now`. */
const thresholdOf = (now: number, limit: number) => now + windowMs - intervalOf(limit) + slack

/** The GCRA step the SQL statement takes too: a request at `now` against the key's `tat` (undefined: never seen). */
export const step = (tat: number | undefined, now: number, limit: number): GcraState =>
  tat === undefined || tat <= thresholdOf(now, limit)
    ? { tat: Math.max(tat ?? now, now) + intervalOf(limit), allowed: true }
    : { tat, allowed: false }

/** The answer to a request, from the key's state after it. */
export const decisionOf = (state: GcraState, now: number, limit: number): RateDecision => {
  const interval = intervalOf(limit)
  const ahead = Math.max(0, state.tat - now)
  return {
    allowed: state.allowed,
    limit,
    remaining: Math.max(0, Math.min(limit, Math.floor((windowMs - ahead) / interval + slack))),
    resetSeconds: Math.max(0, Math.ceil(ahead / 1000 - slack)),
    retryAfterSeconds: state.allowed ? 0 : Math.max(1, Math.ceil((ahead + interval - windowMs) / 1000 - slack))
  }
}

/**
 * The headers every rate-limited response carries: `RateLimit-Limit`,
 * `RateLimit-Remaining`, `RateLimit-Reset` (seconds), and on a refusal
 * `Retry-After` (seconds).
 */
export const headersOf = (decision: RateDecision): Record<string, string> => ({
  "ratelimit-limit": String(decision.limit),
  "ratelimit-remaining": String(decision.remaining),
  "ratelimit-reset": String(decision.resetSeconds),
  ...(decision.allowed ? {} : { "retry-after": String(decision.retryAfterSeconds) })
})

/** A limit as the limiter counts it: whole requests, at least one. */
export const limitOf = (limitPerMinute: number) => Math.max(1, Math.trunc(limitPerMinute))

export class RateLimiter extends Context.Service<RateLimiter, RateLimiterShape>()("@omnipost/worker/RateLimiter") {
  /** Shared by every process on the database: one statement a request. */
  static readonly layer: Layer.Layer<RateLimiter, never, SqlClient.SqlClient> = Layer.effect(
    RateLimiter,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const take = Effect.fn("RateLimiter.take")(function*(key: string, limitPerMinute: number) {
        const limit = limitOf(limitPerMinute)
        const now = yield* Clock.currentTimeMillis
        const threshold = thresholdOf(now, limit)
        // In SET every expression reads the row as it was, so `allowed` and `tat` judge the same old `tat`.
        const rows = yield* sql<GcraState>`
          INSERT INTO rate_limits AS r (key, tat, allowed)
          VALUES (${key}, ${now + intervalOf(limit)}::float8, true)
          ON CONFLICT (key) DO UPDATE SET
            allowed = r.tat <= ${threshold}::float8,
            tat = CASE WHEN r.tat <= ${threshold}::float8
              THEN GREATEST(r.tat, ${now}::float8) + ${intervalOf(limit)}::float8 ELSE r.tat END
          RETURNING tat, allowed`
        const row = rows[0]!
        return decisionOf({ tat: Number(row.tat), allowed: row.allowed }, now, limit)
      })
      return RateLimiter.of({ take })
    })
  )

  /** In this process only: N processes would allow N times the limit. */
  static readonly layerMemory: Layer.Layer<RateLimiter> = Layer.sync(RateLimiter, () => {
    const tats = new Map<string, number>()
    const take = (key: string, limitPerMinute: number) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const limit = limitOf(limitPerMinute)
        const state = step(tats.get(key), now, limit)
        tats.set(key, state.tat)
        return decisionOf(state, now, limit)
      })
    return RateLimiter.of({ take })
  })
}

const headerDocs = {
  "RateLimit-Limit": "Requests a minute the API key may make (its burst).",
  "RateLimit-Remaining": "Requests the key could make right now, after this one.",
  "RateLimit-Reset": "Seconds until the key's whole limit is available again.",
  "Retry-After": "On a 429: seconds until one request is allowed again."
} as const

/**
 * An `OpenApi.Transform` for the API: every response of an authenticated
 * operation (one with `security`) declares the rate-limit headers, a 429 also
 * `Retry-After`; not 401 and 403, which refuse the key before it is counted. The headers are set by the middleware, not by handlers, so
 * they are documented here rather than in each endpoint's schema.
 */
export const documentHeaders = (spec: Record<string, any>): Record<string, any> => {
  const schema = { type: "integer", minimum: 0 }
  const components = (spec.components ??= {})
  components.headers = {
    ...components.headers,
    ...Object.fromEntries(Object.entries(headerDocs).map(([name, description]) => [name, { description, schema }]))
  }
  const ref = (name: string) => ({ $ref: `#/components/headers/${name}` })
  for (const operations of Object.values<Record<string, any>>(spec.paths ?? {})) {
    for (const operation of Object.values<any>(operations)) {
      if (!Array.isArray(operation?.security) || operation.security.length === 0) continue
      for (const [status, response] of Object.entries<any>(operation.responses ?? {})) {
        if (status === "401" || status === "403") continue
        response.headers = {
          ...response.headers,
          "RateLimit-Limit": ref("RateLimit-Limit"),
          "RateLimit-Remaining": ref("RateLimit-Remaining"),
          "RateLimit-Reset": ref("RateLimit-Reset"),
          ...(status === "429" ? { "Retry-After": ref("Retry-After") } : {})
        }
      }
    }
  }
  return spec
}
