import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { createOmnipost, Omnipost, PublishError } from "@omnipost/core"
import type { FanOut } from "@omnipost/core"
import { credentialsFor, scripted } from "./fixtures/TestPublishers.js"

/** True when a value is made of plain objects, arrays and primitives only: what a non-Effect backend can use and serialise. */
const isPlainData = (value: unknown): boolean => {
  if (value === null || ["string", "number", "boolean", "undefined"].includes(typeof value)) return true
  if (Array.isArray(value)) return value.every(isPlainData)
  if (typeof value !== "object") return false
  const prototype = Object.getPrototypeOf(value)
  return (prototype === Object.prototype || prototype === null) && Object.values(value as object).every(isPlainData)
}

const fastRetry = { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 }

describe("createOmnipost", () => {
  it("validates with plain reports and never throws on junk", () => {
    const omnipost = createOmnipost({ publishers: [scripted("ok", ["ok"]).publisher], credentials: {} })
    for (const junk of [undefined, null, 42, "post", [], { content: 1 }, { destinations: [{}] }]) {
      const report = omnipost.validate(junk)
      assert.isFalse(report.valid)
      assert.isAbove(report.issues.length, 0)
      assert.isTrue(isPlainData(report))
    }
    const report = omnipost.validate({ content: { text: "a".repeat(501) }, destinations: [{ platform: "ok", accountId: "a1" }] })
    assert.deepStrictEqual(report.issues.map((issue) => [issue.code, issue.limit, issue.actual]), [["CONTENT_TOO_LONG", 500, 501]])
  })

  it("publish answers a bad post with a validation report and publishes nothing", async () => {
    const ok = scripted("ok", ["ok"])
    const omnipost = createOmnipost({ publishers: [ok.publisher], credentials: credentialsFor(["a1"]) })
    const report = await omnipost.publish({
      content: { text: "a".repeat(600) },
      destinations: [{ platform: "ok", accountId: "a1" }, { platform: "nowhere", accountId: "a2" }]
    })
    assert.strictEqual(report.status, "invalid")
    assert.isFalse(report.ok)
    assert.deepStrictEqual(report.status === "invalid" && report.issues.map((i) => i.code).sort(), ["CONTENT_TOO_LONG", "UNKNOWN_PLATFORM"])
    assert.strictEqual(ok.calls.length, 0)
    for (const junk of [null, "text", { content: { text: "hi" }, destinations: [{ platform: "ok", accountId: "a1" }], extra: true }]) {
      const junkReport = await omnipost.publish(junk)
      assert.strictEqual(junkReport.status, "invalid")
    }
    assert.strictEqual(ok.calls.length, 0)
  })

  it("publish never rejects and never publishes, whatever JSON it is given", async () => {
    const ok = scripted("ok", ["ok"])
    const omnipost = createOmnipost({ publishers: [ok.publisher], credentials: credentialsFor(["a1"]) })
    // Arbitrary JSON, and post-shaped objects with arbitrary field values.
    const postLike = fc.record({
      content: fc.oneof(fc.jsonValue(), fc.record({ text: fc.jsonValue() })),
      destinations: fc.oneof(fc.jsonValue(), fc.array(fc.record({ platform: fc.jsonValue(), accountId: fc.jsonValue() }))),
      schedule: fc.jsonValue()
    }, { requiredKeys: [] })
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.jsonValue(), postLike), async (input) => {
        const report = await omnipost.publish(input)
        assert.strictEqual(report.status, "invalid")
        assert.isTrue(isPlainData(report))
      }),
      { numRuns: 200 }
    )
    assert.strictEqual(ok.calls.length, 0)
  })

  it("refuses a schedule: publish sends now", async () => {
    const ok = scripted("ok", ["ok"])
    const omnipost = createOmnipost({ publishers: [ok.publisher], credentials: credentialsFor(["a1"]) })
    const report = await omnipost.publish({
      content: { text: "later" },
      destinations: [{ platform: "ok", accountId: "a1" }],
      schedule: { _tag: "instant", at: "2099-01-01T00:00:00Z" }
    })
    assert.strictEqual(report.status, "invalid")
    assert.deepStrictEqual(report.status === "invalid" && report.issues.map((i) => [i.code, i.path]), [["SCHEDULING_NOT_SUPPORTED", ["schedule"]]])
    assert.strictEqual(ok.calls.length, 0)
  })

  it("publishes to every destination, reports progress, and returns plain data", async () => {
    const x = scripted("x", [new PublishError.Transient({ platform: "x", message: "503", httpStatus: 503 }), "ok"])
    const bsky = scripted("bsky", [new PublishError.Rejected({ platform: "bsky", message: "Record/text must not be longer than 300 graphemes", platformCode: "InvalidRequest", httpStatus: 400 })])
    const omnipost = createOmnipost({
      publishers: [x.publisher, bsky.publisher],
      credentials: async ({ accountId }) => ({ accessToken: `token-${accountId}` }),
      retry: fastRetry
    })
    const events: Array<FanOut.PublishEvent> = []
    const report = await omnipost.publish(
      { content: { text: "Hello" }, destinations: [{ platform: "x", accountId: "a1" }, { platform: "bsky", accountId: "a2" }] },
      { onProgress: (event) => events.push(event) }
    )
    assert.strictEqual(report.status, "partially_failed")
    assert.isTrue(isPlainData(report))
    if (report.status !== "partially_failed") return
    assert.isFalse(report.ok)
    const [published, failed] = report.destinations
    assert.strictEqual(published!.status, "published")
    assert.strictEqual(published!.attempts.length, 2)
    assert.match(published!.url!, /^https:\/\/x\.example\//)
    assert.deepStrictEqual(failed!.lastError, {
      code: "REJECTED_BY_PLATFORM",
      message: "Record/text must not be longer than 300 graphemes",
      retryable: false,
      platformCode: "InvalidRequest",
      httpStatus: 400
    })
    assert.strictEqual(x.calls[0]!.credentials.accessToken, "token-a1")
    assert.deepStrictEqual(
      events.filter((e) => e.platform === "x").map((e) => e._tag),
      ["AttemptStarted", "AttemptFailed", "AttemptStarted", "Published"]
    )
    assert.isTrue(events.every(isPlainData))
    assert.strictEqual(report.post.status, "partially_failed")
    assert.strictEqual(JSON.parse(JSON.stringify(report)).destinations[1].lastError.code, "REJECTED_BY_PLATFORM")
  })

  it("a throwing progress callback and a failing credentials store do not break publish", async () => {
    const ok = scripted("ok", ["ok"])
    const omnipost = createOmnipost({
      publishers: [ok.publisher],
      credentials: ({ accountId }) => {
        if (accountId === "broken") throw new Error("database is down")
        return { accessToken: "t" }
      }
    })
    const report = await omnipost.publish(
      { content: { text: "hi" }, destinations: [{ platform: "ok", accountId: "a1" }, { platform: "ok", accountId: "broken" }] },
      {
        onProgress: () => {
          throw new Error("listener bug")
        }
      }
    )
    assert.strictEqual(report.status, "partially_failed")
    assert.deepStrictEqual(
      report.status === "partially_failed" && report.destinations.map((d) => d.lastError?.code),
      [undefined, "CREDENTIALS_UNAVAILABLE"]
    )
    assert.include(report.status === "partially_failed" ? report.destinations[1]!.lastError!.message : "", "database is down")
  })

  it("saves refreshed credentials through saveCredentials, never without the refresh token", async () => {
    const saved: Array<unknown> = []
    const oauth = scripted("oauth", [new PublishError.AuthFailed({ platform: "oauth", message: "expired", reason: "expired" }), "ok"], {
      refresh: () => Effect.succeed({ accessToken: "new" })
    })
    const omnipost = createOmnipost({
      publishers: [oauth.publisher],
      credentials: () => ({ accessToken: "old", refreshToken: "r" }),
      saveCredentials: async (ref, credentials) => void saved.push({ ref, credentials })
    })
    const report = await omnipost.publish({ content: { text: "hi" }, destinations: [{ platform: "oauth", accountId: "a1" }] })
    assert.strictEqual(report.status, "published")
    assert.isTrue(report.ok)
    assert.deepStrictEqual(saved, [{ ref: { platform: "oauth", accountId: "a1" }, credentials: { accessToken: "new", refreshToken: "r" } }])
  })

  it("a saveCredentials that rejects is called again until it resolves (a rotated refresh token is not dropped)", async () => {
    const saved: Array<unknown> = []
    let rejections = 1
    const oauth = scripted("oauth", [new PublishError.AuthFailed({ platform: "oauth", message: "expired", reason: "expired" }), "ok"], {
      refresh: () => Effect.succeed({ accessToken: "new", refreshToken: "rotated" })
    })
    const omnipost = createOmnipost({
      publishers: [oauth.publisher],
      credentials: () => ({ accessToken: "old", refreshToken: "r" }),
      saveCredentials: async (_ref, credentials) => {
        if (rejections-- > 0) throw new Error("database is restarting")
        saved.push(credentials)
      }
    })
    const report = await omnipost.publish({ content: { text: "hi" }, destinations: [{ platform: "oauth", accountId: "a1" }] })
    assert.strictEqual(report.status, "published")
    assert.deepStrictEqual(saved, [{ accessToken: "new", refreshToken: "rotated" }])
  })

  it("retry publishes only the failed destinations of a returned post", async () => {
    const x = scripted("x", ["ok"])
    const flaky = scripted("flaky", [new PublishError.Transient({ platform: "flaky", message: "down" }), "ok"])
    const omnipost = createOmnipost({
      publishers: [x.publisher, flaky.publisher],
      credentials: credentialsFor(["a1", "a2"]),
      retry: { ...fastRetry, maxAttempts: 1 }
    })
    const first = await omnipost.publish({
      content: { text: "hi" },
      destinations: [{ platform: "x", accountId: "a1" }, { platform: "flaky", accountId: "a2" }]
    })
    assert.strictEqual(first.status, "partially_failed")
    if (first.status !== "partially_failed") return
    // A backend stores the post as JSON and reads it back later.
    const stored: unknown = JSON.parse(JSON.stringify(first.post))
    const second = await omnipost.retry(stored)
    assert.strictEqual(second.status, "published")
    assert.strictEqual(x.calls.length, 1)
    assert.strictEqual(flaky.calls.length, 2)
    if (second.status !== "published") return
    const third = await omnipost.retry(second.post)
    assert.strictEqual(third.status, "error")
    assert.strictEqual(third.status === "error" && third.error.code, "INVALID_STATUS_TRANSITION")
    assert.strictEqual((await omnipost.retry({ not: "a post" })).status, "invalid")
  })

  it("lists platforms with what they support", () => {
    const omnipost = createOmnipost({ publishers: [scripted("ok", ["ok"]).publisher], credentials: {} })
    assert.deepStrictEqual(omnipost.platforms(), [{
      platform: "ok",
      displayName: "OK",
      placements: ["feed"],
      threads: true,
      nativeScheduling: false,
      canDelete: false,
      canVerifyCredentials: false,
      canRefreshCredentials: false
    }])
  })

  it("throws at start-up only, with a code, when two publishers claim one platform", () => {
    const ok = scripted("ok", ["ok"]).publisher
    try {
      createOmnipost({ publishers: [ok, ok], credentials: {} })
      assert.fail("expected createOmnipost to throw")
    } catch (error) {
      assert.instanceOf(error, Omnipost.OmnipostConfigError)
      assert.strictEqual((error as Omnipost.OmnipostConfigError).code, "DUPLICATE_PLATFORM")
    }
  })
})
