/**
 * Bounds on what a post may hold, far above any platform's own limits: they
 * exist so that no input makes validation (or anything after it) do
 * unbounded work. `validatePost` enforces them (`INVALID_POST` with the
 * path), and the schemas of `Post` and `Media` carry them, so the worker's
 * HTTP API and its OpenAPI document state them too.
 *
 * | bound | value | the largest platform limit |
 * |---|---|---|
 * | characters (UTF-16 code units) in any text field | 100,000 | Facebook's 63,206 characters |
 * | destinations per post | 100 | |
 * | thread parts after the first | 100 | X and Bluesky threads (no documented limit; 25 is the common tool limit) |
 * | media per part | 100 | TikTok's 35 photos |
 * | characters of text in all (every part, every override) | 200,000 | |
 *
 * @example
 * import { Limits } from "@omnipost/core"
 * Limits.maxTextLength // 100000
 */
import { Schema } from "effect"

/** Characters (UTF-16 code units) in any text field: text, link, alt text, ids, URLs, MIME types. */
export const maxTextLength = 100_000

/**
 * Characters of text in one post, all texts together: the first part and
 * every thread part, in the content and in every override. This bounds the
 * work of validating the largest post, whatever its shape.
 */
export const maxPostTextLength = 200_000

/** Destinations of one post. */
export const maxDestinations = 100

/** Parts of a thread after the first (the `thread` array). */
export const maxThreadParts = 100

/** Media of one part. */
export const maxMediaPerPart = 100

/** A string of at most `maxTextLength` characters. */
export const BoundedString = Schema.String.check(
  Schema.isMaxLength(maxTextLength, { message: `at most ${maxTextLength.toLocaleString("en-US")} characters` })
)

/** An array of at most `max` items of `item`, named in the message. */
export const boundedArray = <S extends Schema.Top>(item: S, max: number, what: string) =>
  Schema.Array(item).check(Schema.isMaxLength(max, { message: `at most ${max} ${what}` }))
