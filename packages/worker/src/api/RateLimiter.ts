/**
 * Per-API-key rate limiting: a token bucket per key, refilled continuously at
 * `limit` tokens a minute with room for a burst of `limit`. Kept in memory:
 * each API process enforces the limit for the requests it serves (with N API
 * processes behind a balancer a key gets at most N times its limit). That is
 * the trade for not touching the database on every request.
 */
import { Clock, Context, Effect, Layer } from "effect"

export interface RateDecision {
  readonly allowed: boolean
  /** Whole seconds until one request is allowed again (0 when allowed). */
  readonly retryAfterSeconds: number
  readonly limit: number
  readonly remaining: number
}

export interface RateLimiterShape {
  readonly take: (key: string, limitPerMinute: number) => Effect.Effect<RateDecision>
}

interface Bucket {
  tokens: number
  updatedAt: number
}

export class RateLimiter extends Context.Service<RateLimiter, RateLimiterShape>()("@omnipost/worker/RateLimiter") {
  static readonly layer: Layer.Layer<RateLimiter> = Layer.sync(RateLimiter, () => {
    const buckets = new Map<string, Bucket>()
    const take = (key: string, limitPerMinute: number) =>
      Effect.map(Clock.currentTimeMillis, (now): RateDecision => {
        const limit = Math.max(1, limitPerMinute)
        const perMs = limit / 60_000
        const bucket = buckets.get(key) ?? { tokens: limit, updatedAt: now }
        bucket.tokens = Math.min(limit, bucket.tokens + (now - bucket.updatedAt) * perMs)
        bucket.updatedAt = now
        buckets.set(key, bucket)
        if (bucket.tokens >= 1) {
          bucket.tokens -= 1
          return { allowed: true, retryAfterSeconds: 0, limit, remaining: Math.floor(bucket.tokens) }
        }
        return {
          allowed: false,
          retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)),
          limit,
          remaining: 0
        }
      })
    return RateLimiter.of({ take })
  })
}
