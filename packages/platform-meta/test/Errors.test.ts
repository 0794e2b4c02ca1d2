import { assert, describe, it } from "@effect/vitest"
import { Errors } from "@omnipost/platform-meta"

const nowMs = Date.parse("2026-01-01T00:00:00Z")
const context = { platform: "instagram", operation: "POST /{ig-user-id}/media", nowMs }
const body = (code: number, subcode?: number, message = "boom", extra: Record<string, unknown> = {}) => ({
  error: { message, type: "OAuthException", code, ...(subcode !== undefined ? { error_subcode: subcode } : {}), fbtrace_id: "Atrace", ...extra }
})

describe("Errors.fromAnswer", () => {
  const table: ReadonlyArray<readonly [string, number, unknown, string, Record<string, unknown>]> = [
    ["app rate limit", 400, body(4), "RateLimited", { scope: "app", platformCode: "4" }],
    ["user rate limit", 400, body(17), "RateLimited", { scope: "account" }],
    ["page rate limit", 400, body(32), "RateLimited", { scope: "account" }],
    ["custom rate limit", 400, body(613), "RateLimited", { scope: "account" }],
    ["business use case", 400, body(80002), "RateLimited", { platformCode: "80002" }],
    ["publishing limit", 400, body(9, 2207042), "RateLimited", { scope: "quota", platformCode: "9/2207042" }],
    ["token expired", 400, body(190, 463), "AuthFailed", { reason: "expired", platformCode: "190/463" }],
    ["password changed", 400, body(190, 460), "AuthFailed", { reason: "revoked" }],
    ["app removed", 400, body(190, 458), "AuthFailed", { reason: "revoked" }],
    ["invalid token", 400, body(190), "AuthFailed", { reason: "invalid" }],
    ["session error", 400, body(102), "AuthFailed", { reason: "invalid" }],
    ["permission 10", 403, body(10), "AuthFailed", { reason: "missing_permission" }],
    ["permission 200", 403, body(200), "AuthFailed", { reason: "missing_permission" }],
    ["permission 299", 403, body(299), "AuthFailed", { reason: "missing_permission" }],
    ["identity confirmation", 400, body(368, 1404078, "Page requires the manager to confirm their identity"), "AuthFailed", {
      reason: "revoked"
    }],
    ["temporary 2", 500, body(2), "Transient", {}],
    ["is_transient", 400, body(1234, undefined, "x", { is_transient: true }), "Transient", {}],
    ["not ready", 400, body(9007, 2207027), "Transient", {}],
    ["threads media not found", 400, body(24, 4279009), "Transient", {}],
    ["bare 503", 503, "Service Unavailable", "Transient", {}],
    ["too large", 400, body(36000, 2207004), "Rejected", { code: "MEDIA_TOO_LARGE" }],
    ["bad format", 400, body(36001, 2207005), "Rejected", { code: "UNSUPPORTED_MEDIA_TYPE" }],
    ["aspect", 400, body(36003, 2207009), "Rejected", { code: "ASPECT_RATIO_OUT_OF_RANGE" }],
    ["caption", 400, body(36004, 2207010), "Rejected", { code: "CONTENT_TOO_LONG" }],
    ["fetch failed", 400, body(9004, 2207052), "Rejected", { code: "MEDIA_UNAVAILABLE" }],
    ["duplicate", 400, body(506), "Rejected", { code: "DUPLICATE_CONTENT" }],
    ["other", 400, body(100, 12345), "Rejected", { platformCode: "100/12345" }]
  ]
  for (const [name, status, answer, tag, fields] of table) {
    it(`${name}: ${tag}`, () => {
      const error = Errors.fromAnswer(status, {}, answer, context)
      assert.strictEqual(error._tag, tag)
      for (const [key, value] of Object.entries(fields)) assert.strictEqual((error as unknown as Record<string, unknown>)[key], value, key)
      assert.strictEqual(error.httpStatus, status)
      if (typeof answer === "object") {
        assert.strictEqual(error.platformMessage, (answer as { error: { message: string } }).error.message)
        assert.include(error.message, "fbtrace_id Atrace")
      }
    })
  }

  it("waits estimated_time_to_regain_access from X-Business-Use-Case-Usage (the largest)", () => {
    const headers = {
      "x-business-use-case-usage": JSON.stringify({
        "123": [{ type: "instagram", call_count: 100, total_cputime: 20, total_time: 30, estimated_time_to_regain_access: 7 }],
        "456": [{ type: "pages", call_count: 50, estimated_time_to_regain_access: 2 }]
      })
    }
    const error = Errors.fromAnswer(400, headers, body(80002), context)
    assert.strictEqual(error._tag, "RateLimited")
    assert.strictEqual((error as { retryAfterSeconds?: number }).retryAfterSeconds, 7 * 60)
    assert.strictEqual((error as { resetAt?: string }).resetAt, new Date(nowMs + 7 * 60_000).toISOString())
  })

  it("an X-App-Usage at 100 % waits the hour the app counters roll over; below, no wait is invented", () => {
    const full = Errors.fromAnswer(400, { "x-app-usage": "{\"call_count\":100,\"total_cputime\":12,\"total_time\":9}" }, body(4), context)
    assert.strictEqual((full as { retryAfterSeconds?: number }).retryAfterSeconds, 3600)
    const partial = Errors.fromAnswer(400, { "x-app-usage": "{\"call_count\":80}" }, body(4), context)
    assert.isUndefined((partial as { retryAfterSeconds?: number }).retryAfterSeconds)
    const garbage = Errors.fromAnswer(400, { "x-app-usage": "{not json", "x-business-use-case-usage": "[]" }, body(17), context)
    assert.strictEqual(garbage._tag, "RateLimited")
  })

  it("the identity-confirmation refusal says what to do", () => {
    const error = Errors.fromAnswer(400, {}, body(368, 1404078, "Page requires the manager to confirm their identity"), context)
    assert.match(error.message, /confirm their identity.*reconnect/)
  })
})
