/**
 * Maps LinkedIn's answers to core's closed set of publish errors. LinkedIn's
 * REST error body is `{ status, serviceErrorCode, code, message }`; its
 * `code` (`REVOKED_ACCESS_TOKEN`, `ACCESS_DENIED`…) and `message` are kept
 * verbatim on every error.
 *
 * | LinkedIn answers | we return |
 * |---|---|
 * | 401 `EXPIRED_ACCESS_TOKEN` | `AuthFailed` (`expired`) |
 * | 401 `REVOKED_ACCESS_TOKEN`, 401 anything else | `AuthFailed` (`revoked` / `invalid`) |
 * | 403 (`ACCESS_DENIED`: missing scope, not an admin of the page) | `AuthFailed` (`missing_permission`) |
 * | 429 "… APPLICATION DAY limit …" / "… MEMBER DAY limit …" | `RateLimited` until the next midnight UTC (scope `app` / `account`) |
 * | 429 otherwise | `RateLimited`, waiting what `Retry-After` says (kit `RateLimit`), else left to backoff |
 * | 422 "Content is a duplicate of urn:li:share:…" | `Rejected` `DUPLICATE_CONTENT`, LinkedIn's message kept |
 * | 426 `NONEXISTENT_VERSION` (a sunset or unknown `LinkedIn-Version`) | `Rejected` `UNSUPPORTED_API_VERSION` (set `OMNIPOST_LINKEDIN_VERSION`) |
 * | 5xx, 408 | `Transient` |
 * | other 4xx | `Rejected` |
 * | `POST /rest/posts` sent without an answer | `OutcomeUnknown` (kit `Transport`) |
 *
 * Sources: https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits (daily limits,
 * reset at midnight UTC), https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling,
 * platform-specs §3.1 and §3.6.
 */
import { PublishError } from "@omnipost/core"
import { Json, RateLimit, Rest, Transport } from "@omnipost/platform-kit"

export const platform = "linkedin"

/** LinkedIn's own error fields, as read from an error body. */
export interface Details {
  readonly code?: string | undefined
  readonly serviceErrorCode?: string | undefined
  readonly message?: string | undefined
}

/** Reads `code`, `serviceErrorCode` and `message` (also OAuth's `error`/`error_description`). */
export const readDetails = (body: unknown): Details => {
  const record = Json.record(body)
  if (record === undefined) return {}
  return {
    code: Json.textOrNumber(record.code) ?? Json.textOrNumber(record.error),
    serviceErrorCode: Json.textOrNumber(record.serviceErrorCode),
    message: Json.textOrNumber(record.message) ?? Json.textOrNumber(record.error_description)
  }
}

/** Which daily limit a 429 names: LinkedIn says "Resource level throttle APPLICATION DAY limit …". */
export const dailyLimitOf = (message: string | undefined): "app" | "account" | undefined => {
  const text = (message ?? "").toUpperCase()
  if (/APPLICATION\s+DAY/.test(text)) return "app"
  if (/MEMBER\s+DAY/.test(text)) return "account"
  return undefined
}

/** The next midnight UTC after `nowMs` (LinkedIn's daily limits reset then). */
export const nextMidnightUtc = (nowMs: number): number => {
  const day = 86_400_000
  return Math.floor(nowMs / day) * day + day
}

const common = (status: number, details: Details) => Rest.errorFields(platform, status, details)

/** The error for a 429: a daily limit waits for midnight UTC; otherwise the headers decide. */
export const rateLimited = (
  headers: RateLimit.Headers,
  details: Details,
  operation: string,
  nowMs: number
): PublishError.RateLimited => {
  const daily = dailyLimitOf(details.message)
  const said = details.message !== undefined ? `: ${details.message}` : ""
  const fromHeaders = RateLimit.rateLimited(headers, {
    platform,
    nowMs,
    platformCode: details.code,
    platformMessage: details.message,
    message: `LinkedIn rate limit reached on ${operation}${said}`
  })
  if (daily === undefined) return fromHeaders
  const resetMs = Math.max(nextMidnightUtc(nowMs), fromHeaders.resetAt !== undefined ? Date.parse(fromHeaders.resetAt) : 0)
  return new PublishError.RateLimited({
    ...common(429, details),
    message: `LinkedIn's daily ${daily === "app" ? "application" : "member"} limit is reached on ${operation}; it resets at ${
      new Date(resetMs).toISOString()
    } (midnight UTC)${said}`,
    scope: daily,
    retryAfterSeconds: Math.ceil((resetMs - nowMs) / 1000),
    resetAt: new Date(resetMs).toISOString()
  })
}

/** Our code for a refusal, from LinkedIn's status and message. */
export const rejectionCode = (status: number, details: Details): string | undefined => {
  const message = (details.message ?? "").toLowerCase()
  if (status === 426 || details.code === "NONEXISTENT_VERSION") return "UNSUPPORTED_API_VERSION"
  if (message.includes("duplicate")) return "DUPLICATE_CONTENT"
  if (status === 413) return "MEDIA_TOO_LARGE"
  if (/commentary.*(length|long)|too long/.test(message)) return "CONTENT_TOO_LONG"
  return undefined
}

/** The error for an HTTP error answer (status ≥ 400). */
export const fromResponse: Rest.FromResponse = (status, headers, body, operation, nowMs) => {
  const details = readDetails(body)
  const said = details.message !== undefined ? `: ${details.message}` : ""
  if (status === 429) return rateLimited(headers, details, operation, nowMs)
  if (status >= 500 || status === 408) {
    return new PublishError.Transient({ ...common(status, details), message: `LinkedIn failed on ${operation} (HTTP ${status})${said}` })
  }
  if (status === 401) {
    const code = details.code ?? ""
    const reason = code === "EXPIRED_ACCESS_TOKEN" ? "expired" : code === "REVOKED_ACCESS_TOKEN" ? "revoked" : "invalid"
    return new PublishError.AuthFailed({
      ...common(status, details),
      reason,
      message: `LinkedIn refused the access token on ${operation} (${
        reason === "expired" ? "expired" : reason === "revoked" ? "revoked by the member" : "invalid"
      }); reconnect the account${said}`
    })
  }
  if (status === 403) {
    return new PublishError.AuthFailed({
      ...common(status, details),
      reason: "missing_permission",
      message: `LinkedIn refused ${operation}: the token lacks a permission (scope) or the member lacks a role${said}`
    })
  }
  const code = rejectionCode(status, details)
  return new PublishError.Rejected({
    ...common(status, details),
    ...(code !== undefined ? { code } : {}),
    message: code === "UNSUPPORTED_API_VERSION"
      ? `LinkedIn does not serve the requested LinkedIn-Version on ${operation} (sunset or unknown); set OMNIPOST_LINKEDIN_VERSION to a current YYYYMM version${said}`
      : `LinkedIn rejected ${operation} (HTTP ${status})${said}`
  })
}

/** A request that got no answer: `Transient`, or `OutcomeUnknown` for a write that may have been sent. */
export const unanswered = (error: unknown, operation: string, write: boolean) =>
  Transport.classify(error, { platform, operation, write })
