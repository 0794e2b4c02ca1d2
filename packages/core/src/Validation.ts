/**
 * `validatePost`: pure, synchronous, browser-safe validation of a post against
 * every destination's platform rules. It returns every issue at once and never
 * throws, whatever it is given.
 *
 * TODO(validation): being implemented.
 */
import { Schema } from "effect"

/** The closed set of issue codes. */
export const issueCodes = [
  "INVALID_POST",
  "CONTENT_REQUIRED",
  "CONTENT_TOO_LONG",
  "TOO_MANY_HASHTAGS",
  "TOO_MANY_MENTIONS",
  "TOO_MANY_LINKS",
  "MEDIA_REQUIRED",
  "TOO_MANY_MEDIA",
  "TOO_FEW_MEDIA",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNSUPPORTED_MEDIA_CONFIG",
  "MIXED_MEDIA_NOT_SUPPORTED",
  "MEDIA_TOO_LARGE",
  "MEDIA_TOO_SMALL",
  "VIDEO_DURATION_OUT_OF_RANGE",
  "ASPECT_RATIO_OUT_OF_RANGE",
  "DIMENSIONS_OUT_OF_RANGE",
  "INVALID_PLACEMENT",
  "THREAD_NOT_SUPPORTED",
  "SCHEDULING_NOT_SUPPORTED",
  "INVALID_SCHEDULE",
  "INVALID_SETTINGS",
  "DUPLICATE_DESTINATION",
  "UNKNOWN_PLATFORM"
] as const
export const IssueCode = Schema.Literals(issueCodes)
export type IssueCode = (typeof issueCodes)[number]

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
