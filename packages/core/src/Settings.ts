/**
 * Settings schemas of the built-in platforms: what a destination's `settings`
 * may hold. They live in core so that `validatePost` (in a composer UI, in a
 * browser) reports `INVALID_SETTINGS` without loading any platform package;
 * the platform packages re-use them for their `PlatformPublisher.settingsSchema`.
 *
 * `validatePost` decodes settings with `onExcessProperty: "error"`, so a
 * misspelt key is reported, never silently dropped. Length limits that are
 * counted the platform's way (YouTube title and tags, TikTok photo title) are
 * rows of the rules table, not checks here, so each problem is reported once.
 *
 * @example
 * import { Schema } from "effect"
 * import { Settings } from "@omnipost/core"
 * Schema.decodeUnknownSync(Settings.YoutubeSettings)({ title: "Hi", privacyStatus: "private", madeForKids: false })
 */
import { Schema } from "effect"
import type { BuiltinPlatform } from "./Platform.js"

const NonEmptyString = Schema.String.check(Schema.isMinLength(1, { message: "must not be empty" }))
const NonNegativeInt = Schema.Number.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0))

const TweetId = Schema.String.check(Schema.isPattern(/^[0-9]{1,19}$/, { message: "an X post id is 1-19 digits" }))

/** X post options (kept in step with @omnipost/platform-twitter's `XSettings`). */
export const XSettings = Schema.Struct({
  /** Who may reply (`reply_settings`); `everyone` is X's default and is sent as no field. */
  replySettings: Schema.optional(Schema.Literals(["everyone", "following", "mentionedUsers", "subscribers", "verified"])),
  /** Post the first part as a reply to this existing post. */
  inReplyToTweetId: Schema.optional(TweetId),
  /** Quote this post in the first part. */
  quoteTweetId: Schema.optional(TweetId)
})
export type XSettings = typeof XSettings.Type

/** Instagram container options (feed, carousel, Reel, Story). */
export const InstagramSettings = Schema.Struct({
  /** Reels: also show in the feed (`share_to_feed`). */
  shareToFeed: Schema.optional(Schema.Boolean),
  /** Up to 3 usernames invited as collaborators. */
  collaborators: Schema.optional(
    Schema.Array(NonEmptyString).check(Schema.isMaxLength(3, { message: "Instagram allows at most 3 collaborators" }))
  ),
  /** Reel cover image URL; wins over `thumbOffsetMs`. */
  coverUrl: Schema.optional(NonEmptyString),
  /** Reel cover taken from the video at this offset (`thumb_offset`). */
  thumbOffsetMs: Schema.optional(NonNegativeInt),
  locationId: Schema.optional(NonEmptyString),
  audioName: Schema.optional(NonEmptyString)
})
export type InstagramSettings = typeof InstagramSettings.Type

/** Facebook Page post options. */
export const FacebookSettings = Schema.Struct({
  /** Title of a (non-Reel) video post. */
  videoTitle: Schema.optional(NonEmptyString)
})
export type FacebookSettings = typeof FacebookSettings.Type

/** Threads post options. */
export const ThreadsSettings = Schema.Struct({
  /** One topic per post: 1–50 characters, no `.` or `&`. */
  topicTag: Schema.optional(
    Schema.String.check(
      Schema.isBetweenLength(1, 50, { message: "a Threads topic tag is 1–50 characters" }),
      Schema.makeFilter((tag: string) => !/[.&]/.test(tag) || "a Threads topic tag may not contain '.' or '&'")
    )
  ),
  replyControl: Schema.optional(
    Schema.Literals(["everyone", "accounts_you_follow", "mentioned_only", "parent_post_author_only", "followers_only"])
  )
})
export type ThreadsSettings = typeof ThreadsSettings.Type

/** LinkedIn post options. */
export const LinkedinSettings = Schema.Struct({
  visibility: Schema.optional(Schema.Literals(["PUBLIC", "CONNECTIONS", "LOGGED_IN"]))
})
export type LinkedinSettings = typeof LinkedinSettings.Type

/**
 * YouTube `videos.insert` snippet and status. The post's text is the
 * description. Privacy and made-for-kids have no default on purpose: YouTube
 * asks for them to be set explicitly (COPPA), and a wrong default is public.
 */
export const YoutubeSettings = Schema.Struct({
  title: NonEmptyString,
  privacyStatus: Schema.Literals(["public", "private", "unlisted"]),
  madeForKids: Schema.Boolean,
  tags: Schema.optional(Schema.Array(NonEmptyString)),
  categoryId: Schema.optional(Schema.String.check(Schema.isPattern(/^\d+$/, { message: "a YouTube category id is a number, such as \"22\"" }))),
  containsSyntheticMedia: Schema.optional(Schema.Boolean),
  defaultLanguage: Schema.optional(NonEmptyString),
  notifySubscribers: Schema.optional(Schema.Boolean)
})
export type YoutubeSettings = typeof YoutubeSettings.Type

/**
 * TikTok Direct Post `post_info`. `privacyLevel` has no default (TikTok's
 * audit guidelines), and must be one of the creator's `privacy_level_options`,
 * which the publisher checks against `creator_info`.
 */
export const TiktokSettings = Schema.Struct({
  privacyLevel: Schema.Literals(["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"]),
  disableComment: Schema.optional(Schema.Boolean),
  disableDuet: Schema.optional(Schema.Boolean),
  disableStitch: Schema.optional(Schema.Boolean),
  /** Paid partnership ("branded content"). */
  brandContentToggle: Schema.optional(Schema.Boolean),
  /** Promoting the creator's own business. */
  brandOrganicToggle: Schema.optional(Schema.Boolean),
  /** AI-generated content disclosure. */
  isAigc: Schema.optional(Schema.Boolean),
  videoCoverTimestampMs: Schema.optional(NonNegativeInt),
  /** Photo posts: the title (≤ 90 UTF-16 units, a rules row). */
  title: Schema.optional(Schema.String),
  /** Photo posts: which photo is the cover (0-based). */
  photoCoverIndex: Schema.optional(NonNegativeInt),
  autoAddMusic: Schema.optional(Schema.Boolean)
}).check(
  Schema.makeFilter((settings) =>
    settings.brandContentToggle === true && settings.privacyLevel === "SELF_ONLY"
      ? { path: ["privacyLevel"], issue: "TikTok does not allow branded content to be private (SELF_ONLY)" }
      : undefined
  )
)
export type TiktokSettings = typeof TiktokSettings.Type

/** Bluesky record options. */
export const BlueskySettings = Schema.Struct({
  /** Up to 3 BCP-47 language codes (`langs`). */
  langs: Schema.optional(
    Schema.Array(
      Schema.String.check(Schema.isPattern(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/, { message: "a language is a BCP-47 code such as en or pt-BR" }))
    ).check(Schema.isMaxLength(3, { message: "Bluesky allows at most 3 languages" }))
  ),
  /** Self-labels (content warnings, `com.atproto.label.defs#selfLabels`). */
  labels: Schema.optional(Schema.Array(Schema.Literals(["sexual", "nudity", "porn", "graphic-media"]))),
  /** Up to 8 extra hashtags not in the text (record `tags`), without `#`. */
  tags: Schema.optional(
    Schema.Array(NonEmptyString).check(Schema.isMaxLength(8, { message: "Bluesky allows at most 8 extra tags" }))
  ),
  /** Whether a part with a link and no media gets a link card; on by default. */
  linkCard: Schema.optional(Schema.Boolean)
})
export type BlueskySettings = typeof BlueskySettings.Type

/** A settings schema `validatePost` can decode with: no services needed. */
export type SettingsSchema = Schema.Codec<any, any>

/** The settings schema of every built-in platform, by id. */
export const settingsSchemas: Readonly<Record<BuiltinPlatform, SettingsSchema>> = {
  x: XSettings,
  instagram: InstagramSettings,
  facebook: FacebookSettings,
  threads: ThreadsSettings,
  linkedin: LinkedinSettings,
  youtube: YoutubeSettings,
  tiktok: TiktokSettings,
  bluesky: BlueskySettings
}
