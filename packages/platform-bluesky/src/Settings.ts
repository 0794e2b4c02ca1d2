/**
 * Per-destination settings for Bluesky. Every setting applies to each part of
 * a thread.
 *
 * @example
 * const settings: BlueskySettings = { langs: ["en", "de"], labels: ["graphic-media"] }
 */
import { Schema } from "effect"

/** Self-labels a post can carry (`com.atproto.label.defs#selfLabels`); the app hides or blurs such posts. */
export const SelfLabel = Schema.Literals(["sexual", "nudity", "porn", "graphic-media"])
export type SelfLabel = typeof SelfLabel.Type

export const BlueskySettings = Schema.Struct({
  /** Up to 3 BCP-47 language codes (record `langs`, lexicon maxLength 3; platform-specs §6.4). */
  langs: Schema.optional(Schema.Array(Schema.String.check(Schema.isMinLength(2))).check(Schema.isMaxLength(3))),
  /** Content warnings. */
  labels: Schema.optional(Schema.Array(SelfLabel)),
  /** Up to 8 extra hashtags that are not in the text (record `tags`, lexicon maxLength 8), without `#`. */
  tags: Schema.optional(Schema.Array(Schema.String.check(Schema.isMinLength(1))).check(Schema.isMaxLength(8))),
  /**
   * Whether a part with a link and no media gets a link card
   * (`app.bsky.embed.external`); on by default.
   */
  linkCard: Schema.optional(Schema.Boolean)
})
export type BlueskySettings = typeof BlueskySettings.Type
