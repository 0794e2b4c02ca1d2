/**
 * Maps Bluesky's answers to core's closed set of publish errors. The
 * platform's own error name (`ExpiredToken`, `BlobTooLarge`…) and message are
 * kept verbatim on every error.
 *
 * | Bluesky answer                                          | error            |
 * |---------------------------------------------------------|------------------|
 * | 429 (`RateLimitExceeded`), `ratelimit-reset` header      | `RateLimited`    |
 * | 5xx, connection refused, broken connection on a read     | `Transient`      |
 * | 401, `ExpiredToken`, `InvalidToken`, `AuthRequired`…     | `AuthFailed` (after one refresh) |
 * | `UploadLimitExceeded` (daily video quota)                 | `RateLimited` (scope `quota`) |
 * | 400 `InvalidRequest`, `BlobTooLarge`, 413, other 4xx     | `Rejected` (`MEDIA_TOO_LARGE`, `CONTENT_TOO_LONG` when the message says so) |
 * | a write (`createRecord`) sent but unanswered             | `OutcomeUnknown` |
 *
 * Unanswered requests are classified by the platform kit's `Transport`
 * (certainly not sent, such as a refused connection or a closed pool:
 * `Transient`).
 *
 * Sources: platform-specs §6.5, https://docs.bsky.app/docs/advanced-guides/rate-limits.
 */
import { PublishError } from "@omnipost/core"
import { RateLimit, Transport } from "@omnipost/platform-kit"
import type { XrpcFailure } from "./internal/Xrpc.js"

export const platform = "bluesky"

/** XRPC error names that mean the access (or refresh) token is not usable. */
const authErrorNames = new Set([
  "ExpiredToken",
  "InvalidToken",
  "AuthRequired",
  "AuthenticationRequired",
  "AuthMissing",
  "BadJwt",
  "BadJwtSignature",
  "JwtExpired"
])

/** Account states no refresh can fix. */
const revokedErrorNames = new Set(["AccountTakedown", "AccountDeactivated", "AccountSuspended"])

/** Whether a failure is a token problem that a session refresh may fix. */
export const isTokenProblem = (failure: XrpcFailure): boolean =>
  failure.kind === "status" &&
  (failure.status === 401 || (failure.error !== undefined && authErrorNames.has(failure.error)))

/** Whether the failure is a definite refusal of the token or password (as opposed to an outage). */
export const isAuthRefusal = (failure: XrpcFailure): boolean =>
  isTokenProblem(failure) || (failure.error !== undefined && revokedErrorNames.has(failure.error))

/** Our code for a refusal, when one of core's codes names it. */
const rejectionCode = (failure: XrpcFailure): string | undefined => {
  if (failure.error === "BlobTooLarge" || failure.status === 413) return "MEDIA_TOO_LARGE"
  if (failure.error !== "InvalidRequest") return undefined
  // The PDS's lexicon validation (@atproto/lex-schema): "blob too big (maximum 2000000, got …)",
  // "grapheme too big …" / "string too big …"; older PDSs: "… must not be longer than …".
  const message = failure.message.toLowerCase()
  if (/\bblob too big\b/.test(message)) return "MEDIA_TOO_LARGE"
  if (/must not be longer than|\b(grapheme|string) too big\b/.test(message)) return "CONTENT_TOO_LONG"
  return undefined
}

export interface MappingContext {
  /** Now, in epoch milliseconds (from `Clock`), to turn `ratelimit-reset` into a wait. */
  readonly nowMillis: number
  /**
   * Whether repeating the call could do the thing twice (`createRecord`). Such
   * a call that was sent but not answered ends in `OutcomeUnknown`.
   */
  readonly write: boolean
}

const common = (failure: XrpcFailure) => ({
  platform,
  ...(failure.error !== undefined ? { platformCode: failure.error } : {}),
  ...(failure.kind === "status" ? { platformMessage: failure.message } : {}),
  ...(failure.status !== undefined ? { httpStatus: failure.status } : {})
})

/** Maps one failed XRPC call to core's publish error. */
export const toPublishError = (failure: XrpcFailure, context: MappingContext): PublishError.PublishError => {
  switch (failure.kind) {
    case "transport":
      // Not sent (refused, DNS, TLS, a closed pool): Transient; a write that may have been sent: OutcomeUnknown.
      return Transport.classify(failure.cause ?? failure, { platform, operation: failure.nsid, write: context.write })
    case "timeout":
      return Transport.noAnswer({ platform, operation: failure.nsid, write: context.write })
    case "decode":
      return context.write
        ? new PublishError.OutcomeUnknown({ ...common(failure), message: `${failure.message}; the write may have been applied` })
        : new PublishError.Transient({ ...common(failure), message: failure.message })
    case "status":
      break
  }
  const status = failure.status ?? 0
  if (failure.error === "UploadLimitExceeded") {
    // The video service's daily quota: no reset time is given.
    return new PublishError.RateLimited({
      ...common(failure),
      scope: "quota",
      message: `Bluesky's daily video quota is used up: ${failure.message}`
    })
  }
  if (status === 429 || failure.error === "RateLimitExceeded") {
    // ratelimit-reset (epoch seconds), ratelimit-policy, Retry-After: read by the kit's RateLimit.
    return RateLimit.rateLimited(failure.headers ?? {}, {
      platform,
      nowMs: context.nowMillis,
      httpStatus: failure.status,
      platformCode: failure.error,
      platformMessage: failure.message,
      scope: "account",
      message: `Bluesky rate limit reached (${failure.headers?.["ratelimit-policy"] ?? "no policy given"}): ${failure.message}`
    })
  }
  if (status >= 500) {
    return new PublishError.Transient({ ...common(failure), message: `Bluesky server error ${status}: ${failure.message}` })
  }
  if (isAuthRefusal(failure)) {
    const reason = failure.error === "ExpiredToken"
      ? "expired"
      : failure.error !== undefined && revokedErrorNames.has(failure.error)
      ? "revoked"
      : "invalid"
    return new PublishError.AuthFailed({
      ...common(failure),
      reason,
      message: `Bluesky refused the credentials (${failure.error ?? status}): ${failure.message}`
    })
  }
  const code = rejectionCode(failure)
  return new PublishError.Rejected({
    ...common(failure),
    ...(code !== undefined ? { code } : {}),
    message: `Bluesky refused ${failure.nsid} (${failure.error ?? status}): ${failure.message}`
  })
}
