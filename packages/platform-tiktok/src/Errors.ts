/**
 * Maps TikTok's answers to core's closed set of publish errors. Every
 * Content Posting API answer carries `error: { code, message, log_id }`, with
 * `code: "ok"` on success; `code`, `message` and `log_id` are kept on every
 * error (`platformCode`, `platformMessage`, and the log id in the message,
 * which TikTok support asks for).
 *
 * | TikTok answers | we return |
 * |---|---|
 * | `spam_risk_too_many_posts` (403) | `RateLimited` scope `account` (the creator's daily cap, shared across apps) |
 * | `rate_limit_exceeded` (429) | `RateLimited` scope `account` (per-token limits), `Retry-After` honoured (kit `RateLimit`) |
 * | `access_token_invalid` / `access_token_expired` (401) | `AuthFailed` (`invalid` / `expired`) |
 * | `scope_not_authorized` (401) | `AuthFailed` (`missing_permission`) |
 * | `privacy_level_option_mismatch` | `Rejected` `PRIVACY_LEVEL_NOT_ALLOWED` |
 * | `duration_check_failed` | `Rejected` `VIDEO_TOO_LONG` |
 * | `file_format_check_failed` | `Rejected` `UNSUPPORTED_MEDIA_FORMAT` |
 * | `unaudited_client_can_only_post_to_private_accounts` | `Rejected` `UNAUDITED_CLIENT_PRIVATE_ONLY` |
 * | `url_ownership_unverified` | `Rejected` `URL_NOT_VERIFIED` |
 * | other 403 `spam_risk_*`, `reached_active_user_cap` | `Rejected` (not retryable now) |
 * | 5xx, `internal_error` | `Transient` |
 * | other 4xx | `Rejected` |
 * | a write sent without an answer | `OutcomeUnknown` (kit `Transport`) |
 *
 * The same codes come back as `fail_reason` from `status/fetch` when a post
 * FAILED after init (`fromFailReason`).
 *
 * Sources: https://developers.tiktok.com/doc/content-posting-api-reference-direct-post (error codes),
 * https://developers.tiktok.com/doc/content-posting-api-reference-get-video-status (fail_reason),
 * platform-specs §5.5 and §5.6.
 */
import { PublishError } from "@omnipost/core"
import { Json, RateLimit, Rest, Transport } from "@omnipost/platform-kit"

export const platform = "tiktok"

/** TikTok's own error fields, as read from a body's `error` object. */
export interface Details {
  readonly code?: string | undefined
  readonly message?: string | undefined
  readonly logId?: string | undefined
}

/** A body that may be JSON; anything else is `undefined`, never a throw (the kit's `Json.parse`). */
export const parseJson = Json.parse

/** Reads `error.code`, `error.message`, `error.log_id` (also OAuth's `error`/`error_description`). */
export const readDetails = (body: unknown): Details => {
  const record = Json.record(body)
  if (record === undefined) return {}
  const error = Json.record(record.error)
  if (error !== undefined) {
    return { code: Json.text(error.code), message: Json.text(error.message), logId: Json.text(error.log_id) }
  }
  return { code: Json.text(record.error), message: Json.text(record.error_description), logId: Json.text(record.log_id) }
}

/** Whether a body says success (`error.code === "ok"`). */
export const isOk = (body: unknown): boolean => readDetails(body).code === "ok"

/** Our code for a TikTok refusal code (or `fail_reason`). */
const rejectionCodes: Readonly<Record<string, string>> = {
  privacy_level_option_mismatch: "PRIVACY_LEVEL_NOT_ALLOWED",
  duration_check_failed: "VIDEO_TOO_LONG",
  file_format_check_failed: "UNSUPPORTED_MEDIA_FORMAT",
  frame_rate_check_failed: "UNSUPPORTED_MEDIA_FORMAT",
  picture_size_check_failed: "UNSUPPORTED_MEDIA_FORMAT",
  unaudited_client_can_only_post_to_private_accounts: "UNAUDITED_CLIENT_PRIVATE_ONLY",
  url_ownership_unverified: "URL_NOT_VERIFIED",
  video_pull_failed: "MEDIA_NOT_FOUND",
  photo_pull_failed: "MEDIA_NOT_FOUND"
}

export const rejectionCode = (code: string | undefined): string | undefined =>
  code === undefined ? undefined : rejectionCodes[code]

const common = (status: number | undefined, details: Details) => Rest.errorFields(platform, status, details)

const said = (details: Details) =>
  `${details.message !== undefined ? `: ${details.message}` : ""}${details.logId !== undefined ? ` (log_id ${details.logId})` : ""}`

/**
 * The error for an answer that is not a success: HTTP status ≥ 400, or a 200
 * whose `error.code` is not `ok`. TikTok's code decides before the status.
 */
export const fromResponse: Rest.FromResponse = (status, headers, body, operation, nowMs) => {
  const details = readDetails(body)
  const code = details.code ?? ""
  if (code === "spam_risk_too_many_posts") {
    return new PublishError.RateLimited({
      ...common(status, details),
      scope: "account",
      message: `TikTok caps how many posts this creator may make today (shared across all apps); try again later${said(details)}`
    })
  }
  if (code === "rate_limit_exceeded" || status === 429) {
    return RateLimit.rateLimited(headers, {
      platform,
      nowMs,
      platformCode: details.code,
      platformMessage: details.message,
      message: `TikTok rate limit reached on ${operation}${said(details)}`
    })
  }
  if (code === "access_token_invalid" || code === "access_token_expired" || code === "scope_not_authorized" || status === 401) {
    const reason = code === "access_token_expired"
      ? "expired"
      : code === "scope_not_authorized"
      ? "missing_permission"
      : "invalid"
    return new PublishError.AuthFailed({
      ...common(status, details),
      reason,
      message: `TikTok refused the access token on ${operation} (${
        reason === "missing_permission" ? "a scope is not authorized" : reason
      }); reconnect the account${said(details)}`
    })
  }
  if (code === "internal_error" || status >= 500 || status === 408) {
    return new PublishError.Transient({ ...common(status, details), message: `TikTok failed on ${operation} (HTTP ${status})${said(details)}` })
  }
  const ours = rejectionCode(details.code)
  return new PublishError.Rejected({
    ...common(status, details),
    ...(ours !== undefined ? { code: ours } : {}),
    message: `TikTok rejected ${operation} (HTTP ${status}${details.code !== undefined ? `, ${details.code}` : ""})${said(details)}`
  })
}

/** The error for a post whose `status/fetch` says `FAILED` with `fail_reason`. */
export const fromFailReason = (failReason: string | undefined, publishId: string): PublishError.PublishError => {
  const reason = failReason ?? "unknown"
  if (reason === "spam_risk_too_many_posts") {
    return new PublishError.RateLimited({
      platform,
      platformCode: reason,
      scope: "account",
      message: `TikTok failed post ${publishId}: the creator reached today's post cap (${reason})`
    })
  }
  if (reason === "internal") {
    return new PublishError.Transient({ platform, platformCode: reason, message: `TikTok failed post ${publishId} internally` })
  }
  const ours = rejectionCode(reason) ?? "MEDIA_PROCESSING_FAILED"
  return new PublishError.Rejected({
    platform,
    platformCode: reason,
    code: ours,
    message: `TikTok failed post ${publishId}: ${reason}`
  })
}

/** A request that got no answer: `Transient`, or `OutcomeUnknown` for a write that may have been sent. */
export const unanswered = (error: unknown, operation: string, write: boolean) =>
  Transport.classify(error, { platform, operation, write })
