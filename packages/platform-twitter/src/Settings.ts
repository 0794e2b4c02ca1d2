/**
 * Per-destination settings for X, decoded from a destination's `settings`.
 *
 * @example
 * const settings: XSettings = { replySettings: "following" }
 */
import { Schema } from "effect"

/**
 * Who may reply (`reply_settings` of `POST /2/tweets`, platform-specs §1.2).
 * `everyone` is X's default and is sent as no field at all.
 */
export const ReplySettings = Schema.Literals(["everyone", "following", "mentionedUsers", "subscribers", "verified"])
export type ReplySettings = typeof ReplySettings.Type

const TweetId = Schema.String.check(Schema.isPattern(/^[0-9]{1,19}$/, { message: "an X post id is 1-19 digits" }))

export const XSettings = Schema.Struct({
  replySettings: Schema.optional(ReplySettings),
  /** Post the first part as a reply to this existing post (the rest of a thread follows it). */
  inReplyToTweetId: Schema.optional(TweetId),
  /** Quote this post in the first part. X does not allow a quote together with media. */
  quoteTweetId: Schema.optional(TweetId)
})
export type XSettings = typeof XSettings.Type
