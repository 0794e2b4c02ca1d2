/**
 * Maps X API answers to core's closed set of publish errors.
 *
 * | X says                                              | we return |
 * |-----------------------------------------------------|-----------|
 * | 429, `x-rate-limit-reset` (epoch seconds)            | `RateLimited` with `resetAt` and `retryAfterSeconds` |
 * | 5xx, 408, or no connection at all                    | `Transient` |
 * | 401 (after one refresh attempt)                      | `AuthFailed` |
 * | 403 missing scope / unsupported authentication       | `AuthFailed` (`missing_permission`) |
 * | 403 duplicate content, not permitted, video too long | `Rejected` with X's code and message |
 * | 400/404/409/413/422                                  | `Rejected` |
 * | `POST /2/tweets` sent but no answer (timeout, drop)  | `OutcomeUnknown` |
 *
 * Requests without an answer are classified by the platform kit's `Transport`
 * (certainly not sent: `Transient`; a post that may have been sent:
 * `OutcomeUnknown`).
 *
 * X answers errors in two shapes (platform-specs §1.6): problem JSON
 * `{title, detail, type, status}` and `{errors: [{code, message}]}`; both are
 * read, and the platform's own code and message are kept verbatim.
 */
import { PublishError } from "@omnipost/core"
import { Json, RateLimit } from "@omnipost/platform-kit"
import { Clock, Effect } from "effect"

export const platform = "x"

/** Core's closed error set, which every X failure maps to. */
export type XPublishError = PublishError.PublishError

/** The platform's own code and message, read from either error shape. */
export interface XErrorDetails {
  readonly platformCode?: string | undefined
  readonly platformMessage?: string | undefined
  /** The problem `type` URI, when the body is problem JSON. */
  readonly problemType?: string | undefined
}

/** Reads X's code and message from a problem-JSON or `{errors: [...]}` body. */
export const readErrorDetails = (body: unknown): XErrorDetails => {
  const record = Json.record(body)
  if (record === undefined) return {}
  const first = Array.isArray(record.errors) ? Json.record(record.errors[0]) : undefined
  const problemType = Json.textOrNumber(record.type)
  const title = Json.textOrNumber(record.title)
  const code = Json.textOrNumber(first?.code) ??
    (problemType !== undefined && problemType !== "about:blank" ? problemType : undefined) ??
    title ??
    // OAuth 2.0 token endpoint errors (RFC 6749 §5.2)
    Json.textOrNumber(record.error)
  // An invalid-request body has a generic `detail` and the specific reason in
  // `errors[0].message`; the specific one is what users need to see.
  const message = Json.textOrNumber(first?.message) ??
    Json.textOrNumber(first?.detail) ??
    Json.textOrNumber(record.detail) ??
    Json.textOrNumber(record.error_description) ??
    title
  return { platformCode: code, platformMessage: message, problemType }
}

const lower = (s: string | undefined) => (s ?? "").toLowerCase()

/** Our code for a refusal, from X's message (X gives no stable code for these). */
export const rejectionCode = (status: number, details: XErrorDetails): string | undefined => {
  const message = lower(details.platformMessage)
  if (message.includes("duplicate content")) return "DUPLICATE_CONTENT"
  if (/video longer than|video.*too long|duration/.test(message)) return "VIDEO_DURATION_OUT_OF_RANGE"
  if (/too long|shorter/.test(message)) return "CONTENT_TOO_LONG"
  if (/media ids? .*invalid|invalid media|media.*not found/.test(message)) return "MEDIA_INVALID"
  if (status === 413) return "MEDIA_TOO_LARGE"
  return undefined
}

const isMissingPermission = (details: XErrorDetails) => {
  const type = lower(details.problemType)
  const message = lower(details.platformMessage)
  return type.includes("unsupported-authentication") ||
    type.includes("client-forbidden") ||
    message.includes("scope") ||
    message.includes("oauth 2.0 application-only") ||
    message.includes("not permitted to use this endpoint")
}

/** X's rate-limit windows (platform-specs §1.6): which one limits decides what is limited. */
const scopeOf = (info: RateLimit.Info): PublishError.RateLimited["scope"] =>
  info.limiting?.source === "x-app-limit-24hour" ? "app" : info.limiting?.source === "x-user-limit-24hour" ? "quota" : "account"

/**
 * The error for a 429: X's 15-minute window resets at `x-rate-limit-reset`
 * (epoch seconds); the 24-hour caps have their own `x-app-limit-24hour-*`
 * and `x-user-limit-24hour-*` headers and win when exhausted (the kit's
 * `RateLimit` reads them all; the exhausted window that resets last decides).
 */
export const rateLimited = (
  headers: RateLimit.Headers,
  details: XErrorDetails,
  operation: string
): Effect.Effect<PublishError.RateLimited> =>
  Effect.map(Clock.currentTimeMillis, (nowMs) =>
    RateLimit.rateLimited(headers, {
      platform,
      nowMs,
      platformCode: details.platformCode,
      platformMessage: details.platformMessage,
      scope: scopeOf,
      message: (info) =>
        `X rate limit reached on ${operation}${
          info.waitMs !== undefined ? `; resets at ${new Date(nowMs + info.waitMs).toISOString()}` : ""
        }`
    }))

/** The error for an HTTP error answer (status ≥ 400). A 401 here means the refresh did not help. */
export const fromResponse = (
  status: number,
  headers: Readonly<Record<string, string | undefined>>,
  body: unknown,
  operation: string
): Effect.Effect<XPublishError> => {
  const details = readErrorDetails(body)
  const common = {
    platform,
    httpStatus: status,
    platformCode: details.platformCode,
    platformMessage: details.platformMessage
  }
  const said = details.platformMessage !== undefined ? `: ${details.platformMessage}` : ""
  if (status === 429) return rateLimited(headers, details, operation)
  if (status >= 500 || status === 408) {
    return Effect.succeed(new PublishError.Transient({ ...common, message: `X failed on ${operation} (HTTP ${status})${said}` }))
  }
  if (status === 401) {
    return Effect.succeed(
      new PublishError.AuthFailed({ ...common, reason: "expired", message: `X refused the credentials on ${operation}${said}` })
    )
  }
  if (status === 403 && isMissingPermission(details)) {
    return Effect.succeed(
      new PublishError.AuthFailed({
        ...common,
        reason: "missing_permission",
        message: `The X app or token lacks a permission needed for ${operation}${said}`
      })
    )
  }
  return Effect.succeed(
    new PublishError.Rejected({
      ...common,
      code: rejectionCode(status, details),
      message: `X rejected ${operation} (HTTP ${status})${said}`
    })
  )
}
