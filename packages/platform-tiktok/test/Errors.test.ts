import { assert, describe, it } from "@effect/vitest"
import { Errors } from "@omnipost/platform-tiktok"

const nowMs = Date.UTC(2026, 11, 1, 12, 0)
const body = (code: string, message = `msg for ${code}`) => ({ data: {}, error: { code, message, log_id: "202612011200LOG" } })
const map = (status: number, b: unknown, headers: Record<string, string> = {}) =>
  Errors.fromResponse(status, headers, b, "POST /v2/post/publish/video/init/", nowMs)

describe("Errors: TikTok's answers into core's errors", () => {
  const rows: ReadonlyArray<readonly [number, string, string, string | undefined]> = [
    [403, "spam_risk_too_many_posts", "RateLimited", "account"],
    [429, "rate_limit_exceeded", "RateLimited", "account"],
    [401, "access_token_invalid", "AuthFailed", "invalid"],
    [401, "access_token_expired", "AuthFailed", "expired"],
    [401, "scope_not_authorized", "AuthFailed", "missing_permission"],
    [400, "privacy_level_option_mismatch", "Rejected", "PRIVACY_LEVEL_NOT_ALLOWED"],
    [400, "duration_check_failed", "Rejected", "VIDEO_TOO_LONG"],
    [400, "file_format_check_failed", "Rejected", "UNSUPPORTED_MEDIA_FORMAT"],
    [403, "unaudited_client_can_only_post_to_private_accounts", "Rejected", "UNAUDITED_CLIENT_PRIVATE_ONLY"],
    [403, "url_ownership_unverified", "Rejected", "URL_NOT_VERIFIED"],
    [403, "reached_active_user_cap", "Rejected", undefined],
    [400, "invalid_param", "Rejected", undefined],
    [500, "internal_error", "Transient", undefined]
  ]
  for (const [status, code, tag, detail] of rows) {
    it(`${code} (${status}) is ${tag}${detail !== undefined ? ` ${detail}` : ""}, code, message and log_id kept`, () => {
      const error = map(status, body(code))
      assert.strictEqual(error._tag, tag)
      assert.strictEqual(error.platformCode, code)
      assert.strictEqual(error.platformMessage, `msg for ${code}`)
      assert.include(error.message, "202612011200LOG")
      const got = error._tag === "AuthFailed"
        ? error.reason
        : error._tag === "Rejected"
        ? error.code
        : error._tag === "RateLimited"
        ? error.scope
        : undefined
      assert.strictEqual(got, detail)
    })
  }

  it("a 200 whose error.code is not ok is still mapped by its code", () => {
    assert.strictEqual(map(200, body("privacy_level_option_mismatch"))._tag, "Rejected")
    assert.isTrue(Errors.isOk(body("ok")))
    assert.isFalse(Errors.isOk(body("invalid_param")))
  })

  it("rate_limit_exceeded honours Retry-After", () => {
    const error = map(429, body("rate_limit_exceeded"), { "retry-after": "30" })
    assert.strictEqual(error._tag, "RateLimited")
    if (error._tag === "RateLimited") assert.strictEqual(error.retryAfterSeconds, 30)
  })

  it("a body that is not JSON is a typed error, never a throw", () => {
    assert.isUndefined(Errors.parseJson("<html>"))
    assert.strictEqual(map(502, Errors.parseJson("<html>"))._tag, "Transient")
    assert.strictEqual(map(404, undefined)._tag, "Rejected")
  })

  it("fail_reason from status/fetch maps the same way", () => {
    const duration = Errors.fromFailReason("duration_check_failed", "v_pub_file~1")
    assert.strictEqual(duration._tag, "Rejected")
    if (duration._tag === "Rejected") assert.strictEqual(duration.code, "VIDEO_TOO_LONG")
    assert.include(duration.message, "duration_check_failed")
    assert.strictEqual(Errors.fromFailReason("spam_risk_too_many_posts", "p")._tag, "RateLimited")
    assert.strictEqual(Errors.fromFailReason("internal", "p")._tag, "Transient")
    const other = Errors.fromFailReason("frame_rate_check_failed", "p")
    if (other._tag === "Rejected") assert.strictEqual(other.code, "UNSUPPORTED_MEDIA_FORMAT")
  })
})
