import { assert, describe, it } from "@effect/vitest"
import { Errors } from "@omnipost/platform-linkedin"

const nowMs = Date.UTC(2026, 11, 1, 12, 0)
const map = (status: number, body: unknown, headers: Record<string, string> = {}) => Errors.fromResponse(status, headers, body, "POST /rest/posts", nowMs)

describe("Errors: LinkedIn's answers into core's errors", () => {
  const rows: ReadonlyArray<readonly [string, number, unknown, string, string | undefined]> = [
    ["expired token", 401, { status: 401, serviceErrorCode: 65601, code: "EXPIRED_ACCESS_TOKEN", message: "The token used in the request has expired" }, "AuthFailed", "expired"],
    ["revoked token", 401, { status: 401, serviceErrorCode: 65602, code: "REVOKED_ACCESS_TOKEN", message: "The token used in the request has been revoked by the user" }, "AuthFailed", "revoked"],
    ["invalid token", 401, { status: 401, code: "INVALID_ACCESS_TOKEN", message: "Invalid access token" }, "AuthFailed", "invalid"],
    ["missing scope", 403, { status: 403, code: "ACCESS_DENIED", message: "Not enough permissions to access: partnerApiPostsExternal.CREATE.20261101" }, "AuthFailed", "missing_permission"],
    ["sunset version", 426, { status: 426, code: "NONEXISTENT_VERSION", message: "Requested version 202401 is not active" }, "Rejected", "UNSUPPORTED_API_VERSION"],
    ["duplicate", 422, { status: 422, message: "Content is a duplicate of urn:li:share:7" }, "Rejected", "DUPLICATE_CONTENT"],
    ["commentary too long", 422, { status: 422, message: "/commentary length 3001 exceeds the maximum of 3000" }, "Rejected", "CONTENT_TOO_LONG"],
    ["server error", 500, { status: 500, message: "Internal Server Error" }, "Transient", undefined],
    ["gateway timeout", 504, "<html>", "Transient", undefined],
    ["not found", 404, { status: 404, message: "Not Found" }, "Rejected", undefined]
  ]
  for (const [what, status, body, tag, detail] of rows) {
    it(`${what} (${status}) is ${tag}${detail !== undefined ? ` ${detail}` : ""}, LinkedIn's code and message kept`, () => {
      const error = map(status, body)
      assert.strictEqual(error._tag, tag)
      assert.strictEqual(error.httpStatus, status)
      const got = error._tag === "AuthFailed" ? error.reason : error._tag === "Rejected" ? error.code : undefined
      assert.strictEqual(got, detail)
      const details = Errors.readDetails(body)
      assert.strictEqual(error.platformMessage, details.message)
    })
  }

  it("a member's daily limit waits until midnight UTC, scope account", () => {
    const error = map(429, { status: 429, message: "Resource level throttle MEMBER DAY limit for calls to this resource is reached." })
    assert.strictEqual(error._tag, "RateLimited")
    if (error._tag !== "RateLimited") return
    assert.strictEqual(error.scope, "account")
    assert.strictEqual(error.resetAt, "2026-12-02T00:00:00.000Z")
    assert.strictEqual(error.retryAfterSeconds, 12 * 3600)
  })

  it("a 429 saying nothing about its wait is RateLimited with no reset (left to backoff)", () => {
    const error = map(429, undefined)
    assert.strictEqual(error._tag, "RateLimited")
    assert.isUndefined(error._tag === "RateLimited" ? error.resetAt : "x")
  })
})
