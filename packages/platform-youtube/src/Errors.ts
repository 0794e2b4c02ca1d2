/**
 * Maps YouTube's answers to core's closed set of publish errors. Google's
 * error body is `{ error: { code, message, errors: [{ domain, reason, message }] } }`;
 * the first `reason` decides, and it and the message are kept on every error
 * (`platformCode`, `platformMessage`). Google's OAuth token endpoint answers
 * `{ error: "invalid_grant", error_description }` instead; its `error` is read
 * as the reason.
 *
 * | YouTube answers | we return |
 * |---|---|
 * | `quotaExceeded` (403), `uploadLimitExceeded` (400), `rateLimitExceeded` (403), `dailyLimitExceeded` | `RateLimited` until the next midnight America/Los_Angeles, when the quota resets |
 * | 401, `authError`, `invalid_grant`, `invalidCredentials` | `AuthFailed` (`revoked` for `invalid_grant`: reconnect; `invalid` otherwise) |
 * | `insufficientPermissions` (403) | `AuthFailed` (`missing_permission`) |
 * | 5xx, `backendError`, 408 | `Transient` |
 * | 429 without a known reason | `RateLimited`, waiting what `Retry-After` says (kit `RateLimit`) |
 * | any other 4xx | `Rejected`, with YouTube's reason and message |
 * | a request without an answer | kit `Transport` (`Transient`, or `OutcomeUnknown` for a write) |
 *
 * Sources: https://developers.google.com/youtube/v3/docs/errors (reasons and statuses),
 * https://developers.google.com/youtube/v3/getting-started#quota (daily quota, reset at midnight Pacific Time),
 * https://developers.google.com/identity/protocols/oauth2/web-server#exchange-authorization-code (invalid_grant),
 * platform-specs §4.4, §4.5.
 */
import { PublishError } from "@omnipost/core"
import { Json, RateLimit, Rest, Transport } from "@omnipost/platform-kit"

export const platform = "youtube"

/** YouTube's own error fields, as read from an error body. */
export interface Details {
  readonly reason?: string | undefined
  readonly domain?: string | undefined
  readonly message?: string | undefined
}

/** Reads the first `errors[].reason` and the message (or OAuth's `error` / `error_description`). */
export const readDetails = (body: unknown): Details => {
  const record = Json.record(body)
  if (record === undefined) return {}
  const error = Json.record(record.error)
  if (error === undefined) {
    return { reason: Json.text(record.error), message: Json.text(record.error_description) }
  }
  const first = Array.isArray(error.errors) ? Json.record(error.errors[0]) : undefined
  return {
    reason: Json.text(first?.reason) ?? Json.text(error.status),
    domain: Json.text(first?.domain),
    message: Json.text(error.message) ?? Json.text(first?.message)
  }
}

/** The reasons that mean "wait for the daily quota to reset", and what they limit. */
export const quotaReasons: Readonly<Record<string, "quota" | "account">> = {
  quotaExceeded: "quota",
  dailyLimitExceeded: "quota",
  rateLimitExceeded: "quota",
  uploadLimitExceeded: "account"
}

const pacific = new Intl.DateTimeFormat("en-US", {
  timeZone: "America/Los_Angeles",
  hourCycle: "h23",
  year: "numeric",
  month: "numeric",
  day: "numeric",
  hour: "numeric",
  minute: "numeric",
  second: "numeric"
})

/** Los Angeles wall-clock time at `ms`, read as if it were UTC, minus `ms`: the zone's offset. */
const pacificOffsetMs = (ms: number): number => {
  const parts: Record<string, number> = {}
  for (const part of pacific.formatToParts(new Date(ms))) {
    if (part.type !== "literal") parts[part.type] = Number(part.value)
  }
  const wall = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!)
  return wall - Math.floor(ms / 1000) * 1000
}

/**
 * The next midnight in America/Los_Angeles after `nowMs` (epoch ms), when
 * YouTube's daily quotas reset; daylight saving time included.
 */
export const nextMidnightPacific = (nowMs: number): number => {
  const local = new Date(nowMs + pacificOffsetMs(nowMs))
  const nextLocalMidnight = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + 1)
  // Two passes: the offset at midnight may differ from now's (a DST change that day).
  let guess = nextLocalMidnight - pacificOffsetMs(nowMs)
  guess = nextLocalMidnight - pacificOffsetMs(guess)
  return guess
}

const common = (status: number, details: Details) => Rest.errorFields(platform, status, { code: details.reason, message: details.message })

/** The error for a spent daily quota or upload limit: wait until midnight Pacific. */
export const quotaSpent = (
  status: number,
  details: Details,
  operation: string,
  nowMs: number,
  scope: "quota" | "account"
): PublishError.RateLimited => {
  const resetMs = nextMidnightPacific(nowMs)
  const said = details.message !== undefined ? `: ${details.message}` : ""
  const what = scope === "account" ? "the channel's daily upload limit" : "the project's daily YouTube API quota"
  return new PublishError.RateLimited({
    ...common(status, details),
    message: `${operation} refused: ${what} is used up (${details.reason ?? "quota"}); it resets at ${
      new Date(resetMs).toISOString()
    } (midnight America/Los_Angeles)${said}`,
    scope,
    retryAfterSeconds: Math.ceil((resetMs - nowMs) / 1000),
    resetAt: new Date(resetMs).toISOString()
  })
}

/** The error for an HTTP error answer (status ≥ 400). */
export const fromResponse: Rest.FromResponse = (status, headers, body, operation, nowMs) => {
  const details = readDetails(body)
  const reason = details.reason ?? ""
  const said = details.message !== undefined ? `: ${details.message}` : ""
  const quota = quotaReasons[reason]
  if (quota !== undefined) return quotaSpent(status, details, operation, nowMs, quota)
  if (status === 401 || reason === "authError" || reason === "invalid_grant" || reason === "invalidCredentials") {
    const revoked = reason === "invalid_grant"
    return new PublishError.AuthFailed({
      ...common(status, details),
      reason: revoked ? "revoked" : "invalid",
      message: revoked
        ? `Google refused the refresh token on ${operation} (invalid_grant: revoked, expired or the password changed); reconnect the account${said}`
        : `YouTube refused the access token on ${operation}${said}`
    })
  }
  if (reason === "insufficientPermissions") {
    return new PublishError.AuthFailed({
      ...common(status, details),
      reason: "missing_permission",
      message: `YouTube refused ${operation}: the token lacks a scope; reconnect granting it${said}`
    })
  }
  if (status >= 500 || status === 408 || reason === "backendError") {
    return new PublishError.Transient({ ...common(status, details), message: `YouTube failed on ${operation} (HTTP ${status})${said}` })
  }
  if (status === 429) {
    return RateLimit.rateLimited(headers, {
      platform,
      nowMs,
      platformCode: details.reason,
      platformMessage: details.message,
      message: `YouTube rate limit reached on ${operation}${said}`
    })
  }
  return new PublishError.Rejected({
    ...common(status, details),
    message: `YouTube rejected ${operation} (HTTP ${status}${details.reason !== undefined ? `, ${details.reason}` : ""})${said}`
  })
}

/** A request that got no answer: `Transient`, or `OutcomeUnknown` for a write that may have been sent. */
export const unanswered = (error: unknown, operation: string, write: boolean) =>
  Transport.classify(error, { platform, operation, write })
