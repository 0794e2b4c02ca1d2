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
    const retryAfter = Number(headers["retry-after"])
    const resetMs = Date.parse(headers["x-ratelimit-reset"] ?? "")
    return new PublishError.RateLimited({
      ...common,
      message: `Mastodon rate limit reached (${headers["x-ratelimit-limit"] ?? "?"} per window): ${platformMessage}`,
      scope: "account",
      ...(Number.isFinite(retryAfter) && retryAfter >= 0
        ? { retryAfterSeconds: retryAfter }
        : Number.isNaN(resetMs)
        ? {}
        : { retryAfterSeconds: Math.max(0, Math.ceil((resetMs - nowMs) / 1000)) }),
      ...(Number.isNaN(resetMs) ? {} : { resetAt: new Date(resetMs).toISOString() })
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
      message: `the access token lacks a scope (write:statuses is needed): ${platformMessage}`
    })
  }
  return new PublishError.Rejected({
    ...common,
    ...(status === 422 && /character limit/i.test(platformMessage) ? { code: "CONTENT_TOO_LONG" } : {}),
    message: `Mastodon refused the request (${status}): ${platformMessage}`
  })
}
