/** The per-key rate limiter. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { RateLimiter } from "../src/api/RateLimiter.js"

describe("RateLimiter", () => {
  it.effect("a bucket of `limit` per minute, refilled continuously; keys are independent", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const limit = 3
      for (let i = 0; i < limit; i++) assert.isTrue((yield* limiter.take("a", limit)).allowed)
      const refused = yield* limiter.take("a", limit)
      assert.isFalse(refused.allowed)
      assert.strictEqual(refused.retryAfterSeconds, 20) // one token every 60 s / 3
      assert.isTrue((yield* limiter.take("b", limit)).allowed)
      yield* TestClock.adjust("19 seconds")
      assert.isFalse((yield* limiter.take("a", limit)).allowed)
      yield* TestClock.adjust("2 seconds")
      assert.isTrue((yield* limiter.take("a", limit)).allowed)
      assert.isFalse((yield* limiter.take("a", limit)).allowed)
    }).pipe(Effect.provide(RateLimiter.layer)))
})
