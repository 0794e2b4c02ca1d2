/**
 * The closed set of errors a platform call can end in. The retry logic (in
 * `FanOut` and in the worker) decides from the tag alone:
 *
 * | error              | retried automatically? |
 * |--------------------|------------------------|
 * | `RateLimited`      | yes, after `retryAfterSeconds` / `resetAt` |
 * | `Transient`        | yes, with backoff |
 * | `AuthFailed`       | no: the account needs reconnecting (or a refresh) |
 * | `Rejected`         | no: the platform refused the content |
 * | `OutcomeUnknown`   | no: the request may have reached the platform, so a retry may post twice |
 *
 * Every error keeps the platform's own code and message next to ours.
 */
import { Schema } from "effect"
import { PublishedPart } from "./Post.js"

const platformFields = {
  platform: Schema.String,
  message: Schema.String,
  /** The platform's own error code (`88`, `ExpiredToken`, `2207042`…). */
  platformCode: Schema.optional(Schema.String),
  /** The platform's own message, verbatim. */
  platformMessage: Schema.optional(Schema.String),
  httpStatus: Schema.optional(Schema.Number),
  /**
   * A thread that failed part way: the parts live before the failure, in
   * order. They are kept on the destination, and a retry resumes after them
   * (`PublishRequest.postedParts`); whether it is retried follows the tag as
   * for any error.
   */
  postedParts: Schema.optional(Schema.Array(PublishedPart))
}

export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  ...platformFields,
  /** Seconds to wait, when the platform says (Retry-After, or derived from a reset time). */
  retryAfterSeconds: Schema.optional(Schema.Number),
  /** When the limit resets (ISO 8601), when the platform says. */
  resetAt: Schema.optional(Schema.String),
  /** What is limited: the one account, the whole app, or a daily quota. */
  scope: Schema.optional(Schema.Literals(["account", "app", "quota"]))
}) {}

export class Transient extends Schema.TaggedError<Transient>()("Transient", {
  ...platformFields
}) {}

export class AuthFailed extends Schema.TaggedError<AuthFailed>()("AuthFailed", {
  ...platformFields,
  reason: Schema.Literals(["expired", "revoked", "invalid", "missing_permission"])
}) {}

export class Rejected extends Schema.TaggedError<Rejected>()("Rejected", {
  ...platformFields,
  /** Our code for the problem, when it maps to one (`CONTENT_TOO_LONG`, `DUPLICATE_CONTENT`, `MEDIA_PROCESSING_FAILED`…). */
  code: Schema.optional(Schema.String)
}) {}

export class OutcomeUnknown extends Schema.TaggedError<OutcomeUnknown>()("OutcomeUnknown", {
  ...platformFields
}) {}

export type PublishError = RateLimited | Transient | AuthFailed | Rejected | OutcomeUnknown
export const PublishError = Schema.Union([RateLimited, Transient, AuthFailed, Rejected, OutcomeUnknown])

/**
 * The same error, saying that `parts` are live (a thread that failed part
 * way), with `note` added to its message. No parts: the error unchanged.
 *
 * @example
 * return yield* PublishError.withPostedParts(error, posted, "part 3 of 4 failed")
 */
export const withPostedParts = <E extends PublishError>(error: E, parts: ReadonlyArray<PublishedPart>, note?: string): E => {
  if (parts.length === 0) return error
  return rebuild(error, {
    postedParts: parts,
    ...(note !== undefined ? { message: `${error.message} (${note})` } : {})
  })
}

const rebuild = <E extends PublishError>(error: E, changes: Record<string, unknown>): E => {
  const { _tag: _, ...fields } = error as unknown as { readonly _tag: string } & Record<string, unknown>
  const Constructor = error.constructor as new(fields: Record<string, unknown>) => E
  // `message` is not an own enumerable field of an Error: carried over by hand.
  return new Constructor({ ...fields, message: error.message, ...changes })
}

/** Whether the retry logic may try again by itself. */
export const isRetryable = (error: PublishError): boolean =>
  error._tag === "RateLimited" || error._tag === "Transient"

/** The stable code stored on a destination and shown in APIs. */
export const codeOf = (error: PublishError): string => {
  switch (error._tag) {
    case "RateLimited":
      return "RATE_LIMITED"
    case "Transient":
      return "PLATFORM_UNAVAILABLE"
    case "AuthFailed":
      return error.reason === "missing_permission" ? "MISSING_PERMISSION" : "AUTH_EXPIRED"
    case "Rejected":
      return error.code ?? "REJECTED_BY_PLATFORM"
    case "OutcomeUnknown":
      return "OUTCOME_UNKNOWN"
  }
}

/** The destination's `lastError` for a publish error. */
export const toDestinationError = (error: PublishError) => ({
  code: codeOf(error),
  message: error.message,
  retryable: isRetryable(error),
  ...(error.platformCode !== undefined ? { platformCode: error.platformCode } : {}),
  ...(error.platformMessage !== undefined ? { platformMessage: error.platformMessage } : {}),
  ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {})
})
