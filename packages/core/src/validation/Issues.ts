/** What validation reports: the closed set of issue codes, an issue, and a check's finding before it is placed in a destination. */
import { Schema } from "effect"

/** The closed set of issue codes. */
export const issueCodes = [
  "INVALID_POST",
  "CONTENT_REQUIRED",
  "CONTENT_TOO_LONG",
  "INVALID_CHARACTERS",
  "TOO_MANY_HASHTAGS",
  "TOO_MANY_MENTIONS",
  "TOO_MANY_LINKS",
  "MEDIA_REQUIRED",
  "TOO_MANY_MEDIA",
  "TOO_FEW_MEDIA",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNSUPPORTED_MEDIA_CONFIG",
  /** Stored media for a platform that fetches media by URL (Meta's), and the host has no public URL for it (`OMNIPOST_PUBLIC_URL`). */
  "PUBLIC_URL_REQUIRED",
  "MIXED_MEDIA_NOT_SUPPORTED",
  "MEDIA_TOO_LARGE",
  "MEDIA_TOO_SMALL",
  "VIDEO_DURATION_OUT_OF_RANGE",
  "ASPECT_RATIO_OUT_OF_RANGE",
  "DIMENSIONS_OUT_OF_RANGE",
  "INVALID_PLACEMENT",
  "THREAD_NOT_SUPPORTED",
  /**
   * A first comment for a platform that cannot post one (no `firstComment`
   * rules, or its publisher lacks the `comment` capability): clear it for
   * that platform with an override `comment: ""`.
   */
  "COMMENT_NOT_SUPPORTED",
  "SCHEDULING_NOT_SUPPORTED",
  "INVALID_SCHEDULE",
  /** The schedule is more than a minute in the past (`pastToleranceMs`): a mistake, not a request to publish now. */
  "SCHEDULE_IN_PAST",
  "INVALID_SETTINGS",
  "DUPLICATE_DESTINATION",
  "UNKNOWN_PLATFORM",
  /** A platform's rules could not be applied, or its extra validator threw or returned something that is not an issue. */
  "VALIDATOR_FAILED"
] as const
export const IssueCode = Schema.Literals(issueCodes)
export type IssueCode = (typeof issueCodes)[number]

export const isIssueCode = (value: unknown): value is IssueCode =>
  typeof value === "string" && (issueCodes as ReadonlyArray<string>).includes(value)

export const ValidationIssue = Schema.Struct({
  code: IssueCode,
  /** States the limit and the actual value. */
  message: Schema.String,
  /** Path to the offending field, from the post's root: `["content", "thread", 1, "text"]`. */
  path: Schema.Array(Schema.Union([Schema.String, Schema.Number])),
  platform: Schema.optional(Schema.String),
  destinationIndex: Schema.optional(Schema.Number),
  accountId: Schema.optional(Schema.String),
  limit: Schema.optional(Schema.Number),
  actual: Schema.optional(Schema.Number)
})
export type ValidationIssue = typeof ValidationIssue.Type

export type IssuePath = ReadonlyArray<string | number>

export interface ValidationResult {
  readonly valid: boolean
  readonly issues: ReadonlyArray<ValidationIssue>
}


/** An issue as a check finds it: the destination it belongs to is added by `validatePost`. */
export interface Finding {
  readonly code: IssueCode
  readonly path: IssuePath
  readonly message: string
  readonly limit?: number | undefined
  readonly actual?: number | undefined
}

/** A finding (`limit` and `actual` when the message states numbers). */
export const finding = (
  code: IssueCode,
  path: IssuePath,
  message: string,
  numbers?: { readonly limit?: number | undefined; readonly actual?: number | undefined }
): Finding => ({ code, path, message, ...numbers })
