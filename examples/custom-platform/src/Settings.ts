/**
 * What a Mastodon destination's `settings` may hold, with the API's names
 * next to ours. Decoded by the registry's validation (unknown keys are
 * reported) and by the fan-out before `publish`.
 */
import { Schema } from "effect"

export const MastodonSettings = Schema.Struct({
  /** `visibility`; the account's default when absent. */
  visibility: Schema.optional(Schema.Literals(["public", "unlisted", "private", "direct"])),
  /** `spoiler_text`: a content warning shown before the text. Counts towards the 500 characters. */
  spoilerText: Schema.optional(Schema.String),
  /** `sensitive`: hide media behind a warning. */
  sensitive: Schema.optional(Schema.Boolean),
  /** `language`: ISO 639-1, two letters. */
  language: Schema.optional(
    Schema.String.check(Schema.isPattern(/^[a-z]{2}$/, { message: "language is an ISO 639-1 code such as \"en\"" }))
  )
})
export type MastodonSettings = typeof MastodonSettings.Type
