import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"
import { Backoff, PublishError } from "../src/index.js"

const policyArb = fc.record({
  baseMs: fc.integer({ min: 0, max: 120_000 }),
  maxMs: fc.integer({ min: 0, max: 24 * 3_600_000 }),
  factor: fc.option(fc.double({ min: 1, max: 4, noNaN: true }), { nil: undefined }),
  jitter: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined })
})
const randomArb = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })
const indexArb = fc.integer({ min: 0, max: 2_000 })
const retryAfterArb = fc.option(fc.double({ min: 0, max: 48 * 3_600_000, noNaN: true }), { nil: undefined })

/** `n` evenly spaced draws of Random over [0, 1). */
const grid = (n: number) => Array.from({ length: n }, (_, i) => i / n)

describe("Backoff.delayMs", () => {
  it("is a non-negative integer, below the ceiling (never above the cap), unless a retry-after asks for more", () => {
    fc.assert(
      fc.property(policyArb, indexArb, randomArb, retryAfterArb, (policy, index, random, retryAfterMs) => {
        const delay = Backoff.delayMs(policy, index, random, { retryAfterMs })
        const ceiling = Backoff.ceilingMs(policy, index)
        assert.isTrue(Number.isInteger(delay) && delay >= 0, `delay ${delay}`)
        assert.isAtMost(ceiling, policy.maxMs)
        const floor = retryAfterMs === undefined ? 0 : Math.ceil(retryAfterMs)
        if (floor > ceiling) {
          assert.strictEqual(delay, floor)
        } else if ((policy.jitter ?? 1) > 0 && ceiling >= 1) {
          assert.isBelow(delay, Math.max(ceiling, floor + 1))
        } else {
          assert.isAtMost(delay, Math.max(ceiling, floor))
        }
      }),
      { numRuns: 2_000 }
    )
  })

  it("honours the retry-after: never earlier", () => {
    fc.assert(
      fc.property(policyArb, indexArb, randomArb, fc.double({ min: 0, max: 48 * 3_600_000, noNaN: true }), (policy, index, random, after) => {
        assert.isAtLeast(Backoff.delayMs(policy, index, random, { retryAfterMs: after }), after)
      }),
      { numRuns: 2_000 }
    )
  })

  it("at the cap, spreads uniformly over [0, cap): nothing piles onto the cap", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 10_000, max: 24 * 3_600_000 }),
        fc.integer({ min: 40, max: 2_000 }),
        (baseMs, maxMs, index) => {
          const policy = { baseMs, maxMs }
          assert.strictEqual(Backoff.ceilingMs(policy, index), maxMs, "the attempt is past the cap")
          const draws = grid(1_000).map((random) => Backoff.delayMs(policy, index, random))
          // No draw lands on the cap (a clipped ±x% jitter puts half of them there).
          assert.strictEqual(draws.filter((d) => d >= maxMs).length, 0)
          // Every tenth of [0, cap) gets a tenth of the draws.
          const tenths = Array.from({ length: 10 }, () => 0)
          for (const d of draws) tenths[Math.min(9, Math.floor((d / maxMs) * 10))]! += 1
          for (const count of tenths) assert.approximately(count, 100, 2)
          const mean = draws.reduce((a, b) => a + b, 0) / draws.length
          assert.approximately(mean / maxMs, 0.5, 0.01)
        }
      ),
      { numRuns: 200 }
    )
  })

  it("grows exponentially until the cap: the ceiling doubles per retry by default", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.integer({ min: 0, max: 30 }), (baseMs, index) => {
        const policy = { baseMs, maxMs: Number.MAX_SAFE_INTEGER }
        assert.strictEqual(Backoff.ceilingMs(policy, index), baseMs * 2 ** index)
      })
    )
    const policy = { baseMs: 1_000, maxMs: 10_000, jitter: 0 }
    assert.deepStrictEqual([0, 1, 2, 3, 4, 50, 5_000].map((n) => Backoff.delayMs(policy, n, 0.3)), [
      1_000,
      2_000,
      4_000,
      8_000,
      10_000,
      10_000,
      10_000
    ])
  })

  it("is non-decreasing in the random draw, and jitter sets the drawn part of the ceiling", () => {
    fc.assert(
      fc.property(policyArb, indexArb, randomArb, randomArb, (policy, index, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a]
        assert.isAtMost(Backoff.delayMs(policy, index, lo), Backoff.delayMs(policy, index, hi))
      })
    )
    const half = { baseMs: 1_000, maxMs: 1_000, jitter: 0.5 }
    assert.strictEqual(Backoff.delayMs(half, 0, 0), 500)
    assert.strictEqual(Backoff.delayMs(half, 0, 0.5), 750)
    assert.strictEqual(Backoff.delayMs({ baseMs: 1_000, maxMs: 1_000 }, 0, 0.25), 250)
  })

  it("survives nonsense: NaN, negative and infinite inputs give a finite delay", () => {
    for (const policy of [{ baseMs: Number.NaN, maxMs: 1_000 }, { baseMs: 1_000, maxMs: Infinity }, { baseMs: -5, maxMs: -1 }]) {
      for (const index of [Number.NaN, -3, Infinity, 1e9]) {
        for (const random of [Number.NaN, -1, 2]) {
          const delay = Backoff.delayMs(policy, index, random, { retryAfterMs: Number.NaN })
          assert.isTrue(Number.isInteger(delay) && delay >= 0, `${JSON.stringify(policy)} ${index} ${random}: ${delay}`)
        }
      }
    }
  })
})

describe("Backoff.retryAfterMs", () => {
  const now = Date.parse("2030-01-01T00:00:00Z")

  it("takes a rate limit's retry-after or reset time, whichever is later", () => {
    const after = new PublishError.RateLimited({ platform: "p", message: "429", retryAfterSeconds: 30 })
    assert.strictEqual(Backoff.retryAfterMs(after, now), 30_000)
    const reset = new PublishError.RateLimited({ platform: "p", message: "429", resetAt: "2030-01-01T00:15:00Z" })
    assert.strictEqual(Backoff.retryAfterMs(reset, now), 15 * 60_000)
    const both = new PublishError.RateLimited({ platform: "p", message: "429", retryAfterSeconds: 30, resetAt: "2030-01-01T00:01:00Z" })
    assert.strictEqual(Backoff.retryAfterMs(both, now), 60_000)
    // A reset already past: go now.
    const past = new PublishError.RateLimited({ platform: "p", message: "429", resetAt: "2029-12-31T23:59:00Z" })
    assert.strictEqual(Backoff.retryAfterMs(past, now), 0)
    assert.strictEqual(Backoff.retryAfterMs(new PublishError.RateLimited({ platform: "p", message: "429" }), now), undefined)
    assert.strictEqual(Backoff.retryAfterMs(new PublishError.Transient({ platform: "p", message: "503" }), now), undefined)
  })

  it("delayForErrorMs: a rate limit's wait is the floor, even above the cap", () => {
    const policy = { baseMs: 1_000, maxMs: 10_000 }
    const limited = new PublishError.RateLimited({ platform: "p", message: "429", retryAfterSeconds: 900 })
    assert.strictEqual(Backoff.delayForErrorMs(policy, 1, limited, now, 0.9), 900_000)
    const transient = new PublishError.Transient({ platform: "p", message: "503" })
    assert.strictEqual(Backoff.delayForErrorMs(policy, 1, transient, now, 0.5), 1_000)
  })
})
