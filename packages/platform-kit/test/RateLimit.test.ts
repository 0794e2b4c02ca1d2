/**
 * Rate-limit headers of every form a platform sends, one row per form, and a
 * property test: any header values parse without throwing into a bounded wait.
 */
import { assert, describe, it } from "@effect/vitest"
import { RateLimit } from "@omnipost/platform-kit"
import * as fc from "fast-check"

const now = Date.parse("2026-12-01T12:00:00.000Z")
const nowSeconds = now / 1000

describe("RateLimit.parse", () => {
  const rows: ReadonlyArray<readonly [string, RateLimit.Headers, number | undefined, string | undefined]> = [
    ["Retry-After in seconds", { "retry-after": "120" }, 120_000, undefined],
    ["Retry-After as an HTTP date", { "retry-after": "Tue, 01 Dec 2026 12:05:00 GMT" }, 300_000, undefined],
    ["Retry-After as a past date: now", { "retry-after": "Tue, 01 Dec 2026 11:00:00 GMT" }, 0, undefined],
    ["Retry-After that is neither: ignored", { "retry-after": "soon" }, undefined, undefined],
    ["Retry-After negative: ignored", { "retry-after": "-5" }, undefined, undefined],
    [
      "X: x-rate-limit-reset in epoch seconds",
      { "x-rate-limit-limit": "300", "x-rate-limit-remaining": "0", "x-rate-limit-reset": String(nowSeconds + 900) },
      900_000,
      "x-rate-limit"
    ],
    [
      "X: the exhausted 24-hour app cap wins over the 15-minute window",
      {
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": String(nowSeconds + 900),
        "x-app-limit-24hour-limit": "10000",
        "x-app-limit-24hour-remaining": "0",
        "x-app-limit-24hour-reset": String(nowSeconds + 50_000)
      },
      50_000_000,
      "x-app-limit-24hour"
    ],
    [
      "X: a 24-hour cap with requests left does not decide",
      {
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": String(nowSeconds + 900),
        "x-user-limit-24hour-remaining": "12",
        "x-user-limit-24hour-reset": String(nowSeconds + 50_000)
      },
      900_000,
      "x-rate-limit"
    ],
    [
      "Bluesky: ratelimit-reset in epoch seconds, ratelimit-policy",
      { "ratelimit-limit": "3000", "ratelimit-remaining": "0", "ratelimit-reset": String(nowSeconds + 90), "ratelimit-policy": "3000;w=300" },
      90_000,
      "ratelimit"
    ],
    [
      "IETF draft ≤ 04: RateLimit-Reset in seconds from now",
      { "RateLimit-Limit": "100", "RateLimit-Remaining": "0", "RateLimit-Reset": "50" },
      50_000,
      "ratelimit"
    ],
    [
      "Mastodon: x-ratelimit-reset as ISO 8601",
      { "x-ratelimit-limit": "300", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "2026-12-01T12:03:00.000Z" },
      180_000,
      "x-ratelimit"
    ],
    [
      "IETF draft: RateLimit and RateLimit-Policy structured fields",
      { ratelimit: "\"default\";r=0;t=30", "ratelimit-policy": "\"default\";q=100;w=60" },
      30_000,
      "RateLimit \"default\""
    ],
    [
      "IETF draft: several policies, the exhausted one decides",
      { ratelimit: "\"burst\";r=5;t=1, \"day\";r=0;t=3600", "ratelimit-policy": "\"burst\";q=10;w=1, \"day\";q=1000;w=86400" },
      3_600_000,
      "RateLimit \"day\""
    ],
    ["IETF drafts 05–06: a RateLimit dictionary", { ratelimit: "limit=10, remaining=0, reset=45" }, 45_000, "RateLimit"],
    [
      "Retry-After later than the reset: the later wins",
      { "retry-after": "600", "ratelimit-remaining": "0", "ratelimit-reset": String(nowSeconds + 60) },
      600_000,
      "ratelimit"
    ],
    ["a reset in the past: now", { "x-rate-limit-remaining": "0", "x-rate-limit-reset": String(nowSeconds - 60) }, 0, "x-rate-limit"],
    ["nothing at all", { "content-type": "application/json" }, undefined, undefined],
    ["a malformed structured field: ignored", { ratelimit: "\"unterminated;r=0" }, undefined, undefined]
  ]
  for (const [name, headers, waitMs, limiting] of rows) {
    it(name, () => {
      const info = RateLimit.parse(headers, now)
      assert.strictEqual(info.waitMs, waitMs)
      assert.strictEqual(info.limiting?.source, limiting)
    })
  }

  it("reads limits, remaining and windows from the policy", () => {
    const bluesky = RateLimit.parse({ "ratelimit-limit": "3000", "ratelimit-remaining": "12", "ratelimit-policy": "3000;w=300" }, now)
    assert.deepInclude(bluesky.windows[0]!, { source: "ratelimit", limit: 3000, remaining: 12, windowSeconds: 300 })
    const ietf = RateLimit.parse({ ratelimit: "\"default\";r=7;t=30", "ratelimit-policy": "\"default\";q=100;w=60" }, now)
    assert.deepInclude(ietf.windows[0]!, { policy: "default", limit: 100, remaining: 7, windowSeconds: 60, resetAtMs: now + 30_000 })
  })

  it("any header values: never throws, the wait is finite, non-negative and at most maxWaitMs", () => {
    const names = fc.constantFrom(
      "retry-after",
      "ratelimit",
      "ratelimit-policy",
      "ratelimit-reset",
      "ratelimit-remaining",
      "x-rate-limit-reset",
      "x-rate-limit-remaining",
      "x-app-limit-24hour-reset",
      "x-ratelimit-reset"
    )
    const values = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.integer({ min: -1e6, max: 1e12 }).map(String),
      fc.constantFrom("99999999999999999999", "1e400", "0", "0.5"),
      fc.double({ noNaN: false }).map(String),
      fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      fc.string({ minLength: 1_000, maxLength: 1_100 })
    )
    fc.assert(
      fc.property(fc.dictionary(names, values), (headers) => {
        const info = RateLimit.parse(headers, now)
        if (info.waitMs !== undefined) {
          assert.isTrue(Number.isFinite(info.waitMs) && info.waitMs >= 0 && info.waitMs <= RateLimit.maxWaitMs, String(info.waitMs))
        }
        const error = RateLimit.rateLimited(headers, { platform: "p", nowMs: now, message: "limited" })
        assert.strictEqual(error._tag, "RateLimited")
      }),
      { numRuns: 1_000 }
    )
  }, 60_000) // 1,000 runs of kilobyte headers: seconds on a loaded machine, never a hang
})

describe("RateLimit.rateLimited", () => {
  it("builds core's RateLimited: whole seconds rounded up, the reset instant, the scope", () => {
    const error = RateLimit.rateLimited(
      { "x-app-limit-24hour-remaining": "0", "x-app-limit-24hour-reset": String(nowSeconds + 50_000), "retry-after": "1.5" },
      {
        platform: "x",
        nowMs: now,
        platformCode: "88",
        message: (info) => `limited until ${new Date(now + info.waitMs!).toISOString()}`,
        scope: (info) => info.limiting?.source === "x-app-limit-24hour" ? "app" : "account"
      }
    )
    assert.strictEqual(error.retryAfterSeconds, 50_000)
    assert.strictEqual(error.resetAt, new Date(now + 50_000_000).toISOString())
    assert.strictEqual(error.scope, "app")
    assert.strictEqual(error.httpStatus, 429)
    assert.strictEqual(error.platformCode, "88")
    assert.strictEqual(error.message, `limited until ${error.resetAt}`)
    const sub = RateLimit.rateLimited({ "retry-after": "1.2" }, { platform: "p", nowMs: now, message: "m" })
    assert.strictEqual(sub.retryAfterSeconds, 2)
    assert.strictEqual(sub.scope, "account")
    const silent = RateLimit.rateLimited({}, { platform: "p", nowMs: now, message: "m" })
    assert.strictEqual(silent.retryAfterSeconds, undefined)
    assert.strictEqual(silent.resetAt, undefined)
  })
})
