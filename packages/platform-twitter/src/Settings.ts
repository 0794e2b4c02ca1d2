/**
 * Per-destination settings for X.
 *
 * | setting            | `POST /2/tweets` field | notes (platform-specs §1.2) |
 * |--------------------|------------------------|-----------------------------|
 * | `replySettings`    | `reply_settings`       | `everyone` (X's default, sent as no field), `following`, `mentionedUsers`, `subscribers`, `verified`; applies to every part |
 * | `inReplyToTweetId` | `reply.in_reply_to_tweet_id` | the first part replies to this post; the rest of a thread follows it |
 * | `quoteTweetId`     | `quote_tweet_id`       | first part only; X does not take a quote together with media |
 *
 * Core has the same schema (`Settings.XSettings`, so that `validatePost`
 * needs no platform package); it is defined here too because core's bundled
 * declarations keep `Settings.XSettings` only as a type, and a test keeps the
 * two in step.
 *
 * @example
 * const settings: XSettings = { replySettings: "following" }
 */
import { Schema } from "effect"

/** Who may reply (`reply_settings`); `everyone` is X's default and is sent as no field. */
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
