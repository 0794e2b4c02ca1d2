/**
 * Per-destination settings for X. The schema lives in core (`Settings.XSettings`)
 * so that `validatePost` checks it without this package; it is re-exported here.
 *
 * | setting            | `POST /2/tweets` field | notes (platform-specs §1.2) |
 * |--------------------|------------------------|-----------------------------|
 * | `replySettings`    | `reply_settings`       | `everyone` (X's default, sent as no field), `following`, `mentionedUsers`, `subscribers`, `verified`; applies to every part |
 * | `inReplyToTweetId` | `reply.in_reply_to_tweet_id` | the first part replies to this post; the rest of a thread follows it |
 * | `quoteTweetId`     | `quote_tweet_id`       | first part only; X does not take a quote together with media |
 *
 * @example
 * const settings: XSettings = { replySettings: "following" }
 */
import { Settings } from "@omnipost/core"

export const XSettings = Settings.XSettings
export type XSettings = Settings.XSettings
