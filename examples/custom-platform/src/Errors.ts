/**
 * Mastodon's answers mapped to core's closed set of publish errors, keeping
 * Mastodon's own message. What decides retries:
 *
 * | answer                                  | error |
 * |-----------------------------------------|-------|
 * | 429 (`X-RateLimit-Reset`, ISO 8601)     | `RateLimited` with `resetAt` |
 * | 5xx                                     | `Transient` |
 * | 401                                     | `AuthFailed` (`revoked` or `invalid`: tokens do not expire) |
 * | 403 "outside the authorized scopes"     | `AuthFailed` (`missing_permission`) |
 * | 422 and other 4xx                       | `Rejected` (`CONTENT_TOO_LONG` for the character limit) |
 * | no answer                               | the platform kit's `Transport.classify`: `Transient` when nothing was sent (connection refused, DNS, TLS) or for a read, `OutcomeUnknown` for a write that may have been sent |
 */
import { PublishError } from "@omnipost/core"
import { RateLimit } from "@omnipost/platform-kit"

export const platform = "mastodon"

/** Mastodon's error body is `{"error": "…"}`. */
const errorMessageOf = (body: unknown, text: string, status: number) =>
  typeof (body as { error?: unknown } | undefined)?.error === "string"
    ? (body as { error: string }).error
    : text.slice(0, 300) || `HTTP ${status}`

export const fromResponse = (answer: {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: unknown
  readonly text: string
  readonly nowMs: number
}): PublishError.PublishError => {
  const { body, headers, nowMs, status, text } = answer
  const platformMessage = errorMessageOf(body, text, status)
  const common = { platform, platformMessage, httpStatus: status }
  if (status === 429) {
    // X-RateLimit-Reset (ISO 8601) and Retry-After, read by the platform kit's RateLimit.
    return RateLimit.rateLimited(headers, {
      platform,
      nowMs,
      platformMessage,
      scope: "account",
      message: `Mastodon rate limit reached (${headers["x-ratelimit-limit"] ?? "?"} per window): ${platformMessage}`
    })
  }
  if (status >= 500) {
    return new PublishError.Transient({ ...common, message: `Mastodon server error ${status}: ${platformMessage}` })
  }
  if (status === 401) {
    return new PublishError.AuthFailed({
      ...common,
      reason: /revoked/i.test(platformMessage) ? "revoked" : "invalid",
      message: `Mastodon refused the access token: ${platformMessage}; reconnect the account`
    })
  }
  if (status === 403 && /scope/i.test(platformMessage)) {
    return new PublishError.AuthFailed({
      ...common,
      reason: "missing_permission",
      message: `the access token lacks a scope (write:statuses, and write:media for images, are needed): ${platformMessage}`
    })
  }
  return new PublishError.Rejected({
    ...common,
    ...(status === 422 && /character limit/i.test(platformMessage) ? { code: "CONTENT_TOO_LONG" } : {}),
    message: `Mastodon refused the request (${status}): ${platformMessage}`
  })
}
