/**
 * Mastodon's answers mapped to core's closed set of publish errors, keeping
 * Mastodon's own message. What decides retries:
 *
 * | answer                                  | error |
 * |-----------------------------------------|-------|
 * | 429 (`X-RateLimit-Reset`, ISO 8601)     | `RateLimited` with `resetAt` |
 * | 5xx; connection refused                 | `Transient` |
 * | 401                                     | `AuthFailed` (`revoked` or `invalid`: tokens do not expire) |
 * | 403 "outside the authorized scopes"     | `AuthFailed` (`missing_permission`) |
 * | 422 and other 4xx                       | `Rejected` (`CONTENT_TOO_LONG` for the character limit) |
 * | a write sent without an answer          | `OutcomeUnknown` (it may have been posted) |
 */
import { PublishError } from "@omnipost/core"

const platform = "mastodon"

/** Error codes of a connection that never opened: nothing was sent. */
const unreachableCodes = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "UND_ERR_CONNECT_TIMEOUT"])

const causeCodes = (error: unknown): Array<string> => {
  const codes: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") codes.push(code)
    current = (current as { cause?: unknown }).cause
  }
  return codes
}

/** No answer came back: before the connection opened (nothing sent), or after (a write may have been applied). */
export const fromTransport = (
  cause: unknown,
  request: { readonly write: boolean; readonly what: string }
): PublishError.PublishError => {
  const codes = causeCodes(cause)
  const detail = cause instanceof Error ? cause.message : String(cause)
  if (codes.some((code) => unreachableCodes.has(code))) {
    return new PublishError.Transient({ platform, message: `the instance is unreachable (${codes[0]}): ${detail}` })
  }
  return request.write
    ? new PublishError.OutcomeUnknown({
      platform,
      message: `${request.what} was sent but no answer came back (${detail}); it may have been posted`
    })
    : new PublishError.Transient({ platform, message: `${request.what} failed: ${detail}` })
}

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
