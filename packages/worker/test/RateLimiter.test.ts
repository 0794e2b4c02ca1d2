/**
 * The per-key rate limiter: GCRA, the same steps in memory and in one SQL
 * statement (PGlite and PostgreSQL), with time from `TestClock`.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { decisionOf, headersOf, RateLimiter, step } from "../src/api/RateLimiter.js"
import { Database } from "../src/storage/Database.js"
import { testKinds } from "./fixtures.js"

const layers: ReadonlyArray<readonly [string, Layer.Layer<RateLimiter, unknown>]> = [
  ["memory", RateLimiter.layerMemory],
  ...testKinds.map((kind) => [kind, RateLimiter.layer.pipe(Layer.provide(Database.layerTest(kind)))] as const)
]

let keys = 0
const freshKey = () => `key_${++keys}`

for (const [name, limiterLayer] of layers) {
  describe(`RateLimiter (${name})`, () => {
    // The database's pool runs on the live clock; each test brings its own TestClock.
    layer(limiterLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
      it.effect("a burst of `limit` a minute, refilled continuously; keys are independent", () =>
        Effect.gen(function*() {
          const limiter = yield* RateLimiter
          const key = freshKey()
          const limit = 3
          const taken = []
          for (let i = 0; i < limit; i++) taken.push(yield* limiter.take(key, limit))
          assert.deepStrictEqual(taken.map((d) => [d.allowed, d.remaining]), [[true, 2], [true, 1], [true, 0]])
          assert.deepStrictEqual(taken.map((d) => d.resetSeconds), [20, 40, 60], "until the whole limit is back")
          const refused = yield* limiter.take(key, limit)
          assert.isFalse(refused.allowed)
          assert.strictEqual(refused.remaining, 0)
          assert.strictEqual(refused.retryAfterSeconds, 20) // one request every 60 s / 3
          assert.isTrue((yield* limiter.take(freshKey(), limit)).allowed)
          yield* TestClock.adjust("19 seconds")
          assert.isFalse((yield* limiter.take(key, limit)).allowed)
          yield* TestClock.adjust("2 seconds")
          const again = yield* limiter.take(key, limit)
          assert.isTrue(again.allowed)
          assert.strictEqual(again.remaining, 0)
          assert.isFalse((yield* limiter.take(key, limit)).allowed)
          // Idle for a minute: the whole limit again, never more.
          yield* TestClock.adjust("5 minutes")
          const rested = yield* limiter.take(key, limit)
          assert.deepStrictEqual([rested.allowed, rested.remaining, rested.resetSeconds], [true, 2, 20])
        }).pipe(Effect.provide(TestClock.layer())))

      it.effect("limits that do not divide the minute: exactly `limit` in a burst", () =>
        Effect.gen(function*() {
          const limiter = yield* RateLimiter
          for (const limit of [1, 7, 11, 600]) {
            const key = freshKey()
            let allowed = 0
            for (let i = 0; i <= limit; i++) if ((yield* limiter.take(key, limit)).allowed) allowed++
            assert.strictEqual(allowed, limit, `limit ${limit}`)
          }
        }).pipe(Effect.provide(TestClock.layer())))

      it.effect("concurrent requests of one key: exactly `limit` let through", () =>
        Effect.gen(function*() {
          const limiter = yield* RateLimiter
          const key = freshKey()
          const decisions = yield* Effect.forEach(Array.from({ length: 25 }), () => limiter.take(key, 10), { concurrency: "unbounded" })
          assert.strictEqual(decisions.filter((d) => d.allowed).length, 10)
          assert.sameMembers(decisions.filter((d) => d.allowed).map((d) => d.remaining), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
        }).pipe(Effect.provide(TestClock.layer())))
    })
  })
}

describe("RateLimiter decisions", () => {
  it("headers: the three RateLimit fields always, Retry-After on a refusal", () => {
    const allowed = decisionOf(step(undefined, 0, 60), 0, 60)
    assert.deepStrictEqual(headersOf(allowed), { "ratelimit-limit": "60", "ratelimit-remaining": "59", "ratelimit-reset": "1" })
    let tat: number | undefined
    for (let i = 0; i < 60; i++) tat = step(tat, 0, 60).tat
    const refused = decisionOf(step(tat, 0, 60), 0, 60)
    assert.deepStrictEqual(headersOf(refused), {
      "ratelimit-limit": "60",
      "ratelimit-remaining": "0",
      "ratelimit-reset": "60",
      "retry-after": "1"
    })
  })
})
