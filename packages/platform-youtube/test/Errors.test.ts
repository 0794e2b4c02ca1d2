import { assert, describe, it } from "@effect/vitest"
import { Errors } from "@omnipost/platform-youtube"
import { errorBody } from "@omnipost/platform-youtube/testing"

// 2026-12-01T23:30:00Z is 15:30 in Los Angeles (PST, UTC-8): the reset is 2026-12-02T08:00:00Z.
const now = Date.parse("2026-12-01T23:30:00Z")

describe("Errors", () => {
  it("the next midnight in Los Angeles, in winter and in summer time, and across the DST changes", () => {
    assert.strictEqual(new Date(Errors.nextMidnightPacific(now)).toISOString(), "2026-12-02T08:00:00.000Z")
    assert.strictEqual(new Date(Errors.nextMidnightPacific(Date.parse("2026-07-01T06:59:59Z"))).toISOString(), "2026-07-01T07:00:00.000Z")
    assert.strictEqual(new Date(Errors.nextMidnightPacific(Date.parse("2026-07-01T07:00:00Z"))).toISOString(), "2026-07-02T07:00:00.000Z")
    // 2026-03-08 (PST until 02:00): the day of the change is 23 hours long.
    assert.strictEqual(new Date(Errors.nextMidnightPacific(Date.parse("2026-03-08T09:00:00Z"))).toISOString(), "2026-03-09T07:00:00.000Z")
    // 2026-11-01 (PDT until 02:00): 25 hours long.
    assert.strictEqual(new Date(Errors.nextMidnightPacific(Date.parse("2026-11-01T08:00:00Z"))).toISOString(), "2026-11-02T08:00:00.000Z")
  })

  const cases: ReadonlyArray<readonly [number, unknown, string, Record<string, unknown>]> = [
    [403, errorBody(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.", "youtube.quota"), "RateLimited", { scope: "quota", resetAt: "2026-12-02T08:00:00.000Z", retryAfterSeconds: 8.5 * 3600, platformCode: "quotaExceeded" }],
    [400, errorBody(400, "uploadLimitExceeded", "The user has exceeded the number of videos they may upload."), "RateLimited", { scope: "account", resetAt: "2026-12-02T08:00:00.000Z" }],
    [403, errorBody(403, "rateLimitExceeded", "Rate limit exceeded", "usageLimits"), "RateLimited", { scope: "quota", resetAt: "2026-12-02T08:00:00.000Z" }],
    [401, errorBody(401, "authError", "Invalid Credentials", "global"), "AuthFailed", { reason: "invalid", platformCode: "authError" }],
    [400, { error: "invalid_grant", error_description: "Token has been expired or revoked." }, "AuthFailed", { reason: "revoked", platformCode: "invalid_grant" }],
    [403, errorBody(403, "insufficientPermissions", "Insufficient Permission", "global"), "AuthFailed", { reason: "missing_permission" }],
    [400, errorBody(400, "invalidTitle", "The request metadata specifies an invalid video title."), "Rejected", { platformCode: "invalidTitle", platformMessage: "The request metadata specifies an invalid video title." }],
    [403, errorBody(403, "forbiddenPrivacySetting", "The privacy setting is not allowed."), "Rejected", { platformCode: "forbiddenPrivacySetting", httpStatus: 403 }],
    [503, errorBody(503, "backendError", "Backend Error", "global"), "Transient", { httpStatus: 503 }],
    [502, undefined, "Transient", { httpStatus: 502 }],
    [429, undefined, "RateLimited", {}],
    [404, "<html>not found</html>", "Rejected", { httpStatus: 404 }]
  ]
  for (const [status, body, tag, fields] of cases) {
    it(`${status} ${JSON.stringify(body)?.slice(0, 60)} → ${tag}`, () => {
      const error = Errors.fromResponse(status, {}, body, "videos.insert", now)
      assert.strictEqual(error._tag, tag)
      for (const [key, value] of Object.entries(fields)) assert.deepStrictEqual((error as unknown as Record<string, unknown>)[key], value, key)
      if (tag === "Rejected" && body !== undefined && typeof body === "object") assert.include(error.message, (body as any).error.errors[0].message)
    })
  }
})
