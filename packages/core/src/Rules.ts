/**
 * The per-platform rules table: data, not branches. Each row carries the
 * `source` it was taken from (a section of shared/docs/platform-specs.md, or
 * a documentation URL). `Validation.validatePost` applies these rows; a
 * custom platform supplies its own `PlatformRules`.
 *
 * Conventions:
 * - "MB" in a platform's docs is read as 10^6 bytes and "GB" as 10^9: the
 *   smaller reading, so that a file we accept is never over the real cap.
 * - Where the spec marks a conflict (⚠), the row takes the conservative value
 *   and says so in a comment. Every limit is configuration: pass your own
 *   rows to `validatePost({ rules })` to opt in to larger caps (X Premium…).
 * - "Characters" with no documented unit are counted as UTF-16 code units,
 *   which never undercounts graphemes or code points.
 *
 * @example
 * import { Rules } from "@omnipost/core"
 * Rules.bluesky.placements[0].media.image?.maxCount // 4
 */
import type { MediaKind } from "./Media.js"
import type { BuiltinPlatform } from "./Platform.js"
import type { Placement } from "./Post.js"

/** How a platform counts text. */
export type TextCounting =
  /** twitter-text v3 weighted length: URLs 23, emoji and CJK 2, Latin 1, after NFC. */
  | "twitter"
  /** User-perceived characters (`Intl.Segmenter`, grapheme granularity). */
  | "graphemes"
  /** UTF-8 bytes. */
  | "utf8_bytes"
  /** UTF-16 code units (JavaScript's `length`). */
  | "utf16"
  /** Threads: graphemes, except that an emoji counts its UTF-8 byte length. */
  | "threads"

export interface Sourced {
  /** Where the number comes from: a documentation URL or the spec section. */
  readonly source: string
}

export interface TextLimit extends Sourced {
  readonly max: number
  readonly counting: TextCounting
  /** What the platform calls this text, for messages: "caption", "description", "title". */
  readonly label?: string | undefined
  /** Characters the platform rejects in this text (YouTube: `<` and `>`). */
  readonly forbiddenCharacters?: ReadonlyArray<string> | undefined
}

/** A length limit on a text field of the destination's settings (YouTube title and tags, TikTok photo title). */
export interface SettingsTextLimit extends TextLimit {
  /** The settings key. */
  readonly field: string
  /**
   * For a list of strings, how the platform joins it before counting.
   * `youtube_tags`: joined with commas, a tag containing a space wrapped in quotes.
   */
  readonly join?: "youtube_tags" | undefined
}

/** What a thumbnail, cover or link-card image may be. */
export interface ThumbnailRule extends Sourced {
  readonly mimeTypes: ReadonlyArray<string>
  readonly maxSizeBytes?: number | undefined
}

/** Limits for one media kind in one placement. */
export interface MediaKindRule extends Sourced {
  /** How many of this kind one post (or one thread part) may carry. */
  readonly maxCount: number
  /** Exact types, or a wildcard such as `video/*`. */
  readonly mimeTypes: ReadonlyArray<string>
  readonly maxSizeBytes?: number | undefined
  readonly minSizeBytes?: number | undefined
  readonly minDurationSeconds?: number | undefined
  readonly maxDurationSeconds?: number | undefined
  /** width / height; compared with a 0.5 % tolerance (encoders round dimensions). */
  readonly minAspectRatio?: number | undefined
  readonly maxAspectRatio?: number | undefined
  readonly minWidth?: number | undefined
  readonly maxWidth?: number | undefined
  readonly minHeight?: number | undefined
  readonly maxHeight?: number | undefined
  readonly maxFrames?: number | undefined
  /** width × height must stay below or at this. */
  readonly maxPixels?: number | undefined
  /** Limits on the item's alt text (all apply). */
  readonly altText?: ReadonlyArray<TextLimit> | undefined
  /** What a custom thumbnail or cover may be (YouTube thumbnail, Instagram Reel cover). */
  readonly thumbnail?: ThumbnailRule | undefined
}

export interface PlacementRule extends Sourced {
  readonly placement: Placement
  /**
   * Chosen automatically, in table order, when a destination names no
   * placement and the media fit this placement (Instagram: one image → feed,
   * several → carousel, one video → reel).
   */
  readonly inferable?: boolean | undefined
  /** Text limits for this placement, all of which apply (Bluesky: graphemes and bytes). */
  readonly text: ReadonlyArray<TextLimit>
  /** `false` for placements that take no caption (stories): any text is an issue, not silently dropped. */
  readonly textAllowed: boolean
  /** Limits on settings text fields (YouTube title and tags). */
  readonly settingsText?: ReadonlyArray<SettingsTextLimit> | undefined
  readonly mediaRequired: boolean
  /** Fewest media items when there are any (Instagram carousel: 2). */
  readonly minMedia: number
  readonly maxMedia: number
  /** Per kind; a kind missing here is not allowed in this placement. */
  readonly media: Partial<Record<MediaKind, MediaKindRule>>
  /** Whether different media kinds (image with video, image with GIF) may be mixed in one post. */
  readonly mixedMedia: boolean
  /** Whether a link card can go with media (Bluesky and Threads: one or the other). Default `true`. */
  readonly linkWithMedia?: boolean | undefined
  /**
   * The image a link card may carry, where the publisher uploads it (Bluesky's
   * `app.bsky.embed.external` thumb). Not a post's media: the publisher reads it.
   */
  readonly linkCardThumbnail?: ThumbnailRule | undefined
  /**
   * The placement has no link attachment: a post's `link` is appended to the
   * text (after a blank line) unless the text already contains it, so the
   * text is counted with it (X: 23 more, plus the blank line).
   */
  readonly linkInText?: boolean | undefined
}

export interface CountLimit extends Sourced {
  readonly max: number
}

/**
 * How a platform finds hashtags in text: `twitter` by twitter-text's rules;
 * `atproto` as `@atproto/api`'s RichText does (`#` or `＃` at the start or
 * after white space, up to the next white space, not only digits, trailing
 * punctuation left out).
 */
export type HashtagDetection = "twitter" | "atproto"

/**
 * Limits on each hashtag, counted without its `#`: the hashtags found in the
 * text and each entry of the settings lists named in `settingsFields`.
 */
export interface HashtagLengthRule extends Sourced {
  readonly detection: HashtagDetection
  /** All apply (Bluesky: graphemes and bytes). */
  readonly text: ReadonlyArray<TextLimit>
  /** Settings keys holding lists of extra hashtags (Bluesky's record `tags`). */
  readonly settingsFields?: ReadonlyArray<string> | undefined
}

export interface NativeScheduling extends Sourced {
  readonly supported: boolean
  /** The placements the platform can schedule; all of them when absent. */
  readonly placements?: ReadonlyArray<Placement> | undefined
  readonly minLeadSeconds?: number | undefined
  readonly maxLeadSeconds?: number | undefined
  /** A setting the platform's own scheduling needs (YouTube's `publishAt` only with `privacyStatus: "private"`). */
  readonly requiresSetting?: { readonly field: string; readonly value: string } | undefined
}

/**
 * A first comment the platform can post under a published post (a reply on
 * X, Bluesky and Threads; a comment elsewhere): its text limits. A platform
 * without this row cannot take a first comment (`COMMENT_NOT_SUPPORTED`).
 */
export interface FirstCommentRule extends Sourced {
  /** All apply. */
  readonly text: ReadonlyArray<TextLimit>
}

export interface PlatformRules {
  readonly platform: string
  readonly displayName: string
  /** Used when no placement is named and no inferable placement fits the media. */
  readonly defaultPlacement: Placement
  readonly placements: ReadonlyArray<PlacementRule>
  /** Per post (per thread part). */
  readonly maxHashtags?: CountLimit | undefined
  /** Length of each hashtag. */
  readonly hashtagLength?: HashtagLengthRule | undefined
  readonly maxMentions?: CountLimit | undefined
  /** Distinct links in the text plus the link attachment (Threads: 5). */
  readonly maxLinks?: CountLimit | undefined
  /** Whether a thread (reply chain) can be posted. */
  readonly threads: boolean
  /** Where `threads` comes from. */
  readonly threadsSource?: string | undefined
  /** Whether the platform's own API can schedule, and within which window. */
  readonly nativeScheduling: NativeScheduling
  /** The first comment, where the platform can post one under the post. */
  readonly firstComment?: FirstCommentRule | undefined
}

const KB = 1_000
const MB = 1_000_000
const GB = 1_000_000_000
const MINUTE = 60
const HOUR = 3_600
const DAY = 86_400

const spec = (section: string) => `shared/docs/platform-specs.md §${section}`

// ---------------------------------------------------------------------------
// X
// ---------------------------------------------------------------------------

const xText: TextLimit = {
  max: 280,
  counting: "twitter",
  // twitter-text's parseTweet marks these invalid.
  forbiddenCharacters: ["\uFFFE", "\uFEFF", "\uFFFF"],
  source: `${spec("1.5")}; https://developer.x.com/en/docs/counting-characters (twitter-text config/v3.json)`
}

const xAltText: TextLimit = {
  max: 1000,
  counting: "utf16",
  label: "alt text",
  source: `${spec("1.3")} (POST /2/media/metadata alt text ≤ 1000 characters, the v1.1 limit [unverified])`
}

export const x: PlatformRules = {
  platform: "x",
  displayName: "X",
  defaultPlacement: "feed",
  placements: [
    {
      placement: "feed",
      inferable: true,
      source: spec("1.4"),
      text: [xText],
      // POST /2/tweets has no link field: the link goes in the text.
      linkInText: true,
      textAllowed: true,
      mediaRequired: false,
      minMedia: 0,
      maxMedia: 4,
      // 4 photos OR 1 animated GIF OR 1 video.
      mixedMedia: false,
      media: {
        image: {
          maxCount: 4,
          mimeTypes: ["image/jpeg", "image/png", "image/webp", "image/gif"],
          maxSizeBytes: 5 * MB,
          altText: [xAltText],
          source: `${spec("1.4")} (tweet_image 5 MB)`
        },
        gif: {
          maxCount: 1,
          mimeTypes: ["image/gif"],
          maxSizeBytes: 15 * MB,
          maxWidth: 1280,
          maxHeight: 1080,
          maxFrames: 350,
          altText: [xAltText],
          source: `${spec("1.4")} (tweet_gif 15 MB; ≤1280×1080, ≤350 frames)`
        },
        video: {
          maxCount: 1,
          mimeTypes: ["video/mp4", "video/quicktime"],
          // ⚠ CONFLICT: current docs say 0.5 s–20 min and 8 GB, older docs and
          // third parties 0.5–140 s and 512 MB. The spec recommends the latter,
          // which every account can post.
          minDurationSeconds: 0.5,
          maxDurationSeconds: 140,
          maxSizeBytes: 512 * MB,
          minAspectRatio: 1 / 3,
          maxAspectRatio: 3,
          source: `${spec("1.4")} (conservative: 0.5–140 s, 512 MB; aspect 1:3–3:1)`
        }
      }
    }
  ],
  threads: true,
  threadsSource: `${spec("1.2")} (reply.in_reply_to_tweet_id)`,
  firstComment: {
    text: [xText],
    source: `${spec("1.2")} (a reply: POST /2/tweets with reply.in_reply_to_tweet_id, the same 280 weighted characters)`
  },
  nativeScheduling: { supported: false, source: spec("7") }
}

// ---------------------------------------------------------------------------
// Instagram
// ---------------------------------------------------------------------------

const instagramCaption: TextLimit = {
  max: 2200,
  counting: "utf16",
  label: "caption",
  source: `${spec("2.1")} (caption ≤ 2200 characters); https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media`
}

const instagramFeedImage: MediaKindRule = {
  maxCount: 1,
  mimeTypes: ["image/jpeg"],
  maxSizeBytes: 8 * MB,
  minAspectRatio: 4 / 5,
  maxAspectRatio: 1.91,
  altText: [{ max: 1000, counting: "utf16", label: "alt text", source: `${spec("2.1")} (alt_text ≤ 1000 characters, images only)` }],
  source: `${spec("2.1")} (feed image: JPEG only, ≤ 8 MB, aspect 4:5–1.91:1)`
}

// ⚠ CONFLICT: the official reference says 3 s–15 min and 300 MB for Reels,
// third parties 90 s and 1 GB. We take the smaller of each: 90 s, 300 MB.
const instagramReelVideo: MediaKindRule = {
  maxCount: 1,
  mimeTypes: ["video/mp4", "video/quicktime"],
  minDurationSeconds: 3,
  maxDurationSeconds: 15 * 60,
  maxSizeBytes: 300 * MB,
  minAspectRatio: 0.01,
  maxAspectRatio: 10,
  maxWidth: 1920,
  thumbnail: { mimeTypes: ["image/jpeg"], maxSizeBytes: 8 * MB, source: `${spec("2.1")} (Reel cover: JPEG ≤ 8 MB)` },
  source:
    `${spec("2.1")}; https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-user/media#reel-specifications (Reels: 3 s–15 min, ≤ 300 MB; aspect 0.01:1–10:1; ≤ 1920 px wide. Third-party guides' 90 s is the app's old cap, not the API's)`
}

export const instagram: PlatformRules = {
  platform: "instagram",
  displayName: "Instagram",
  defaultPlacement: "feed",
  placements: [
    {
      placement: "feed",
      inferable: true,
      source: `${spec("2.1")}; ${spec("7")} (Instagram feed image)`,
      text: [instagramCaption],
      // No link attachment on Instagram: the link goes in the caption.
      linkInText: true,
      textAllowed: true,
      mediaRequired: true,
      minMedia: 1,
      maxMedia: 1,
      mixedMedia: false,
      media: { image: instagramFeedImage }
    },
    {
      placement: "carousel",
      inferable: true,
      source: `${spec("2.1")} (carousel)`,
      text: [instagramCaption],
      // No link attachment on Instagram: the link goes in the caption.
      linkInText: true,
      textAllowed: true,
      mediaRequired: true,
      // ⚠ CONFLICT: the API reference says up to 10 children, some third parties 20: 10.
      minMedia: 2,
      maxMedia: 10,
      mixedMedia: true,
      media: {
        image: { ...instagramFeedImage, maxCount: 10, source: `${spec("2.1")} (carousel items as feed images; conservative 10 items)` },
        video: {
          ...instagramReelVideo,
          maxCount: 10,
          // The reference gives carousel videos no duration of their own: kept at the conservative 90 s.
          maxDurationSeconds: 90,
          source: `${spec("2.1")} (carousel video items: Reel-like specs, conservative 3–90 s)`
        }
      }
    },
    {
      placement: "reel",
      inferable: true,
      source: `${spec("2.1")} (single videos are published as Reels)`,
      text: [instagramCaption],
      // No link attachment on Instagram: the link goes in the caption.
      linkInText: true,
      textAllowed: true,
      mediaRequired: true,
      minMedia: 1,
      maxMedia: 1,
      mixedMedia: false,
      media: { video: instagramReelVideo }
    },
    {
      placement: "story",
      inferable: false,
      source: `${spec("2.1")} (stories: no caption, one image or video)`,
      text: [],
      textAllowed: false,
      mediaRequired: true,
      minMedia: 1,
      maxMedia: 1,
      mixedMedia: false,
      media: {
        image: { maxCount: 1, mimeTypes: ["image/jpeg"], maxSizeBytes: 8 * MB, source: `${spec("2.1")} (story image: JPEG ≤ 8 MB)` },
        video: {
          maxCount: 1,
          mimeTypes: ["video/mp4", "video/quicktime"],
          minDurationSeconds: 3,
          maxDurationSeconds: 60,
          maxSizeBytes: 100 * MB,
          minAspectRatio: 0.1,
          maxAspectRatio: 10,
          source: `${spec("2.1")} (story video: 3–60 s, ≤ 100 MB, aspect 0.1:1–10:1)`
        }
      }
    }
  ],
  maxHashtags: { max: 30, source: `${spec("2.1")} (≤ 30 hashtags)` },
  maxMentions: { max: 20, source: `${spec("2.1")} (≤ 20 @mentions)` },
  threads: false,
  threadsSource: spec("7"),
  firstComment: {
    text: [{
      max: 2200,
      counting: "utf16",
      label: "comment",
      source: "https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments (message; 2,200 characters as captions [3rd-party])"
    }],
    source: "https://developers.facebook.com/docs/instagram-platform/instagram-graph-api/reference/ig-media/comments (POST /{ig-media-id}/comments with message)"
  },
  nativeScheduling: { supported: false, source: `${spec("2.1")} (no native scheduling)` }
}

// ---------------------------------------------------------------------------
// Facebook Pages
// ---------------------------------------------------------------------------

const facebookText: TextLimit = {
  max: 63_206,
  counting: "utf16",
  source: `${spec("7")} (Facebook Page feed ~63,206 characters [3rd-party])`
}

export const facebook: PlatformRules = {
  platform: "facebook",
  displayName: "Facebook",
  defaultPlacement: "feed",
  placements: [
    {
      placement: "feed",
      inferable: true,
      source: `${spec("2.2")}; ${spec("7")} (Facebook Page feed)`,
      text: [facebookText],
      textAllowed: true,
      mediaRequired: false,
      minMedia: 0,
      maxMedia: 10,
      // A multi-photo post takes photos only; a video post one video.
      mixedMedia: false,
      media: {
        image: {
          maxCount: 10,
          mimeTypes: ["image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"],
          maxSizeBytes: 10 * MB,
          source: `${spec("2.2")} (multi-photo ≤ 10 via attached_media; ≤ 10 MB [3rd-party])`
        },
        gif: {
          maxCount: 1,
          mimeTypes: ["image/gif"],
          maxSizeBytes: 10 * MB,
          source: `${spec("7")} (GIF is a photo format on Facebook, ≤ 10 MB [3rd-party])`
        },
        video: {
          maxCount: 1,
          mimeTypes: ["video/mp4", "video/quicktime"],
          maxSizeBytes: 4 * GB,
          maxDurationSeconds: 240 * MINUTE,
          source: `${spec("2.2")} (video: ≤ 4 GB, ≤ 240 min [3rd-party])`
        }
      }
    },
    {
      placement: "reel",
      inferable: false,
      source: `${spec("2.2")} (Reels); https://developers.facebook.com/docs/video-api/guides/reels-publishing`,
      text: [{ ...facebookText, label: "description" }],
      textAllowed: true,
      mediaRequired: true,
      minMedia: 1,
      maxMedia: 1,
      mixedMedia: false,
      media: {
        video: {
          maxCount: 1,
          mimeTypes: ["video/mp4", "video/quicktime"],
          minDurationSeconds: 3,
          maxDurationSeconds: 90,
          minAspectRatio: 9 / 16,
          maxAspectRatio: 9 / 16,
          minWidth: 540,
          minHeight: 960,
          source: `${spec("2.2")} (Reels: 9:16, ≥ 540×960, 3–90 s)`
        }
      }
    },
    {
      placement: "story",
      inferable: false,
      source: `${spec("2.2")} (Page Stories: no caption)`,
      text: [],
      textAllowed: false,
      mediaRequired: true,
      minMedia: 1,
      maxMedia: 1,
      mixedMedia: false,
      media: {
        image: {
          maxCount: 1,
          mimeTypes: ["image/jpeg", "image/bmp", "image/png", "image/gif", "image/tiff"],
          // ⚠ CONFLICT: the English page says 10 MB, translations 4 MB: 4 MB.
          maxSizeBytes: 4 * MB,
          source: `${spec("2.2")} (story photo: conservative 4 MB)`
        },
        video: {
          maxCount: 1,
          mimeTypes: ["video/mp4"],
          minDurationSeconds: 3,
          maxDurationSeconds: 60,
          minAspectRatio: 9 / 16,
          maxAspectRatio: 9 / 16,
          source: `${spec("2.2")} (story video: .mp4, 9:16, 3–60 s)`
        }
      }
    }
  ],
  threads: false,
  threadsSource: spec("7"),
  firstComment: {
    text: [{
      max: 8000,
      counting: "utf16",
      label: "comment",
      source: "https://developers.facebook.com/docs/graph-api/reference/object/comments/ (message; 8,000 characters [3rd-party])"
    }],
    source: "https://developers.facebook.com/docs/graph-api/reference/object/comments/ (POST /{object-id}/comments with message)"
  },
  nativeScheduling: {
    supported: true,
    placements: ["feed", "reel"],
    // ⚠ CONFLICT: 10 min–30 days in most sources, 6 months in older tools: 30 days.
    minLeadSeconds: 10 * MINUTE,
    maxLeadSeconds: 30 * DAY,
    source: `${spec("2.2")} (published=false + scheduled_publish_time, conservative 10 min–30 days; Reels video_state=SCHEDULED)`
  }
}

// ---------------------------------------------------------------------------
// Threads
// ---------------------------------------------------------------------------

export const threads: PlatformRules = {
  platform: "threads",
  displayName: "Threads",
  defaultPlacement: "feed",
  placements: [
    {
      placement: "feed",
      inferable: true,
      source: `${spec("2.3")} (text, image, video or carousel of 2–20)`,
      text: [
        {
          max: 500,
          counting: "threads",
          // ⚠ The counting rule is loosely worded by Meta; we count graphemes
          // plus each emoji's UTF-8 bytes, as the spec suggests.
          source: `${spec("2.3")} (500 characters, emoji counted as UTF-8 bytes); https://developers.facebook.com/docs/threads/posts`
        }
      ],
      textAllowed: true,
      mediaRequired: false,
      minMedia: 0,
      maxMedia: 20,
      mixedMedia: true,
      // link_attachment is for TEXT posts only.
      linkWithMedia: false,
      media: {
        image: {
          maxCount: 20,
          mimeTypes: ["image/jpeg", "image/png"],
          maxSizeBytes: 8 * MB,
          minAspectRatio: 1 / 10,
          maxAspectRatio: 10,
          source: `${spec("2.3")} (images: JPEG/PNG ≤ 8 MB, aspect ≤ 10:1; carousel ≤ 20)`
        },
        video: {
          maxCount: 20,
          mimeTypes: ["video/mp4", "video/quicktime"],
          minDurationSeconds: 0,
          maxDurationSeconds: 5 * MINUTE,
          maxSizeBytes: 1 * GB,
          minAspectRatio: 0.01,
          maxAspectRatio: 10,
          maxWidth: 1920,
          source: `${spec("2.3")} (video: MOV/MP4, ≤ 5 min, ≤ 1 GB, aspect 0.01:1–10:1, ≤ 1920 px wide)`
        }
      }
    }
  ],
  maxLinks: { max: 5, source: `${spec("2.3")} (≤ 5 unique links, THREADS_API__LINK_LIMIT_EXCEEDED)` },
  threads: true,
  threadsSource: `${spec("2.3")} (reply_to_id)`,
  firstComment: {
    text: [
      {
        max: 500,
        counting: "threads",
        source: `${spec("2.3")} (a reply is a post: 500 characters); https://developers.facebook.com/docs/threads/reply-management`
      }
    ],
    source: `${spec("2.3")} (reply_to_id: a reply container, then threads_publish); https://developers.facebook.com/docs/threads/reply-management`
  },
  nativeScheduling: { supported: false, source: `${spec("2.3")} (no native scheduling)` }
}

// ---------------------------------------------------------------------------
// LinkedIn
// ---------------------------------------------------------------------------

export const linkedin: PlatformRules = {
  platform: "linkedin",
  displayName: "LinkedIn",
  defaultPlacement: "feed",
  placements: [
    {
      placement: "feed",
      inferable: true,
      source: `${spec("3.2")}; ${spec("7")} (LinkedIn)`,
      text: [
        {
          max: 3000,
          counting: "utf16",
          label: "commentary",
          // ⚠ Undocumented in the Posts API; 3000 is what the product and third parties use.
          source: `${spec("3.5")} (3000 UTF-16 units, counted before little-text escaping)`
        }
      ],
      textAllowed: true,
      mediaRequired: false,
      minMedia: 0,
      maxMedia: 20,
      mixedMedia: false,
      media: {
        image: {
          // A single image, or a multiImage post of 2–20.
          maxCount: 20,
          mimeTypes: ["image/jpeg", "image/png", "image/gif"],
          // ⚠ No byte cap is documented; third parties use 5–10 MB: 5 MB.
          maxSizeBytes: 5 * MB,
          maxPixels: 36_152_319,
          maxFrames: 250,
          altText: [{ max: 4086, counting: "utf16", label: "alt text", source: `${spec("3.3")} (multiImage alt text ≤ 4,086 characters)` }],
          source: `${spec("3.3")} (JPG/PNG/GIF ≤ 250 frames, < 36,152,320 px; conservative 5 MB); ${spec("3.2")} (multiImage 2–20)`
        },
        gif: {
          // An animated GIF goes up through the Images API like any image.
          maxCount: 1,
          mimeTypes: ["image/gif"],
          maxSizeBytes: 5 * MB,
          maxPixels: 36_152_319,
          maxFrames: 250,
          source: `${spec("3.3")} (GIF ≤ 250 frames, < 36,152,320 px; conservative 5 MB)`
        },
        video: {
          maxCount: 1,
          mimeTypes: ["video/mp4"],
          minDurationSeconds: 3,
          maxDurationSeconds: 30 * MINUTE,
          minSizeBytes: 75 * KB,
          // The Videos API's own bound (some third parties say 200 MB; the platform's documentation wins).
          maxSizeBytes: 500 * MB,
          minAspectRatio: 1 / 2.4,
          maxAspectRatio: 2.4,
          source: `${spec("3.4")} (MP4, 3 s–30 min, 75 KB–500 MB: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/videos-api ; aspect 1:2.4–2.4:1 [3rd-party])`
        },
        document: {
          maxCount: 1,
          mimeTypes: [
            "application/pdf",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "application/vnd.ms-powerpoint",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/msword"
          ],
          // The Documents API page: "The file size cannot exceed 100MB and 300 pages" (PPT, PPTX, DOC, DOCX, PDF).
          maxSizeBytes: 100 * MB,
          source: "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/documents-api (PPT, PPTX, DOC, DOCX, PDF; ≤ 100 MB and 300 pages)"
        }
      }
    }
  ],
  threads: false,
  threadsSource: spec("7"),
  firstComment: {
    text: [{
      max: 1250,
      counting: "utf16",
      label: "comment",
      source: "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api (message.text; 1,250 characters [3rd-party])"
    }],
    source: "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/comments-api (POST /rest/socialActions/{shareUrn}/comments with actor and message)"
  },
  nativeScheduling: { supported: false, source: `${spec("3.2")} (no native scheduling)` }
}

// ---------------------------------------------------------------------------
// YouTube
// ---------------------------------------------------------------------------

const youtubeDescription: TextLimit = {
  max: 5000,
  counting: "utf8_bytes",
  label: "description",
  forbiddenCharacters: ["<", ">"],
  source: `${spec("4.3")} (snippet.description ≤ 5000 bytes, no < or >)`
}

const youtubeSettingsText: ReadonlyArray<SettingsTextLimit> = [
  {
    field: "title",
    max: 100,
    counting: "utf16",
    label: "title",
    forbiddenCharacters: ["<", ">"],
    source: `${spec("4.3")} (snippet.title required, ≤ 100 characters, no < or >)`
  },
  {
    field: "tags",
    max: 500,
    counting: "utf16",
    label: "tags",
    join: "youtube_tags",
    source: `${spec("4.3")} (snippet.tags ≤ 500 characters in total, commas and quotes around tags with spaces included)`
  }
]

const youtubeVideo: MediaKindRule = {
  maxCount: 1,
  mimeTypes: ["video/*", "application/octet-stream"],
  maxSizeBytes: 256 * GB,
  // 15 min for unverified channels, 12 h for verified [3rd-party]; the
  // channel's status is unknown here, so the outer bound applies.
  maxDurationSeconds: 12 * HOUR,
  thumbnail: { mimeTypes: ["image/jpeg", "image/png"], maxSizeBytes: 2 * MB, source: `${spec("7")} (YouTube thumbnail: JPEG/PNG ≤ 2 MB [3rd-party])` },
  source: `${spec("4.3")} (video/*, ≤ 256 GB; ≤ 12 h for verified channels [3rd-party])`
}

export const youtube: PlatformRules = {
  platform: "youtube",
  displayName: "YouTube",
  defaultPlacement: "video",
  placements: [
    {
      placement: "video",
      inferable: true,
      source: `${spec("4")} (videos.insert)`,
      linkInText: true,
      text: [youtubeDescription],
      textAllowed: true,
      settingsText: youtubeSettingsText,
      mediaRequired: true,
      minMedia: 1,
      maxMedia: 1,
      mixedMedia: false,
      media: { video: youtubeVideo }
    },
    {
      placement: "short",
      inferable: false,
      source: `${spec("4.6")} (Shorts: ≤ 3 min, square or vertical; no API flag [3rd-party])`,
      linkInText: true,
      text: [youtubeDescription],
      textAllowed: true,
      settingsText: youtubeSettingsText,
      mediaRequired: true,
      minMedia: 1,
      maxMedia: 1,
      mixedMedia: false,
      media: {
        video: {
          ...youtubeVideo,
          maxDurationSeconds: 3 * MINUTE,
          maxAspectRatio: 1,
          source: `${spec("4.6")} (a Short is ≤ 3 min and square or vertical [3rd-party])`
        }
      }
    }
  ],
  threads: false,
  threadsSource: spec("7"),
  firstComment: {
    text: [{
      max: 10_000,
      counting: "utf16",
      label: "comment",
      source: "https://developers.google.com/youtube/v3/docs/comments#snippet.textOriginal (10,000 characters [3rd-party])"
    }],
    source: "https://developers.google.com/youtube/v3/docs/commentThreads/insert (snippet.videoId + snippet.topLevelComment; scope youtube.force-ssl)"
  },
  nativeScheduling: {
    supported: true,
    placements: ["video", "short"],
    minLeadSeconds: 0,
    requiresSetting: { field: "privacyStatus", value: "private" },
    source: `${spec("4.3")} (status.publishAt with privacyStatus=private)`
  }
}

// ---------------------------------------------------------------------------
// TikTok
// ---------------------------------------------------------------------------

export const tiktok: PlatformRules = {
  platform: "tiktok",
  displayName: "TikTok",
  defaultPlacement: "video",
  placements: [
    {
      placement: "video",
      inferable: true,
      source: `${spec("5.3")} (Direct Post video)`,
      linkInText: true,
      text: [{ max: 2200, counting: "utf16", label: "caption", source: `${spec("5.6")} (caption ≤ 2200 UTF-16 units)` }],
      textAllowed: true,
      mediaRequired: true,
      minMedia: 1,
      maxMedia: 1,
      mixedMedia: false,
      media: {
        video: {
          maxCount: 1,
          mimeTypes: ["video/mp4", "video/webm", "video/quicktime"],
          minDurationSeconds: 3,
          // The creator's own cap (creator_info max_video_post_duration_sec) is
          // checked by the publisher; 600 s is the usual API value.
          maxDurationSeconds: 600,
          maxSizeBytes: 4 * GB,
          minWidth: 360,
          maxWidth: 4096,
          minHeight: 360,
          maxHeight: 4096,
          source: `${spec("5.6")} (MP4/WebM/MOV, 3 s [3rd-party]–600 s, ≤ 4 GB, 360–4096 px per side)`
        }
      }
    },
    {
      placement: "photo",
      inferable: true,
      source: `${spec("5.4")} (photo post)`,
      linkInText: true,
      text: [{ max: 4000, counting: "utf16", label: "description", source: `${spec("5.4")} (description ≤ 4000 UTF-16 units)` }],
      textAllowed: true,
      settingsText: [
        { field: "title", max: 90, counting: "utf16", label: "title", source: `${spec("5.4")} (photo title ≤ 90 UTF-16 units)` }
      ],
      mediaRequired: true,
      minMedia: 1,
      maxMedia: 35,
      mixedMedia: false,
      media: {
        image: {
          maxCount: 35,
          mimeTypes: ["image/jpeg", "image/webp"],
          maxSizeBytes: 20 * MB,
          source: `${spec("5.4")} (up to 35 JPEG/WebP photos, no PNG, ≤ 20 MB each)`
        }
      }
    }
  ],
  threads: false,
  threadsSource: spec("7"),
  nativeScheduling: { supported: false, source: `${spec("5.3")} (no scheduling field)` }
}

// ---------------------------------------------------------------------------
// Bluesky
// ---------------------------------------------------------------------------

// The lexicons are those of bluesky-social/atproto (`lexicons/app/bsky/...`),
// as the PDS on npm (@atproto/pds 0.5.35) enforces them when a record is created.
const atprotoLexicon = (path: string) => `https://github.com/bluesky-social/atproto/blob/main/lexicons/app/bsky/${path}`
// The official app's limits, where the video service documents none.
const socialApp = "https://github.com/bluesky-social/social-app/blob/main/src/lib/constants.ts"

const blueskyAltText: ReadonlyArray<TextLimit> = [
  {
    // The lexicons set no limit on alt text (video's 1000 graphemes were dropped in atproto#5350, August 2026);
    // the app caps it at 2000 characters, whose unit is not documented: counted as UTF-16 units.
    max: 2000,
    counting: "utf16",
    label: "alt text",
    source: `${socialApp} (MAX_ALT_TEXT = 2000); no limit in ${atprotoLexicon("embed/images.json")} or ${atprotoLexicon("embed/video.json")}`
  }
]

const blueskyTag = (what: string) =>
  `${atprotoLexicon("richtext/facet.json")} (#tag: ${what}) and ${atprotoLexicon("feed/post.json")} (tags items: ${what})`

export const bluesky: PlatformRules = {
  platform: "bluesky",
  displayName: "Bluesky",
  defaultPlacement: "feed",
  placements: [
    {
      placement: "feed",
      inferable: true,
      source: `${spec("6.4")} (app.bsky.feed.post)`,
      text: [
        { max: 300, counting: "graphemes", source: `${spec("6.4")} (≤ 300 graphemes)` },
        { max: 3000, counting: "utf8_bytes", source: `${spec("6.4")} (≤ 3000 UTF-8 bytes, lexicon maxLength)` }
      ],
      textAllowed: true,
      mediaRequired: false,
      minMedia: 0,
      maxMedia: 4,
      // Exactly one embed per post: images, a video or a link card.
      mixedMedia: false,
      linkWithMedia: false,
      linkCardThumbnail: {
        mimeTypes: ["image/*"],
        maxSizeBytes: 1_000_000,
        source: `${atprotoLexicon("embed/external.json")} (thumb: image/*, maxSize 1,000,000)`
      },
      media: {
        image: {
          maxCount: 4,
          mimeTypes: ["image/*"],
          // 2,000,000 since atproto#4823 (April 2026); it was 1,000,000. The app sends up to 2,000,000 too.
          maxSizeBytes: 2 * MB,
          altText: blueskyAltText,
          source: `${atprotoLexicon("embed/images.json")} (≤ 4 images; image: image/*, maxSize 2,000,000); ${socialApp} (IMAGE_SIZE_CONFIG_POSTS.maxSize)`
        },
        gif: {
          // A GIF is an image blob like any other (the app shows it as an image).
          maxCount: 4,
          mimeTypes: ["image/gif"],
          maxSizeBytes: 2 * MB,
          altText: blueskyAltText,
          source: `${atprotoLexicon("embed/images.json")} (any image/* blob, maxSize 2,000,000)`
        },
        video: {
          maxCount: 1,
          mimeTypes: ["video/mp4"],
          // The video service documents no limits; the app enforces 10 minutes and 300 MB (ISO megabytes, "as the backend").
          maxDurationSeconds: 10 * MINUTE,
          // 300,000,000 since atproto#5373 (August 2026); it was 100,000,000, and 50,000,000 before March 2025.
          maxSizeBytes: 300 * MB,
          altText: blueskyAltText,
          source: `${atprotoLexicon("embed/video.json")} (video/mp4, maxSize 300,000,000); ${socialApp} (VIDEO_MAX_SIZE 300 MB, VIDEO_MAX_DURATION_MS 10 min)`
        }
      }
    }
  ],
  hashtagLength: {
    detection: "atproto",
    text: [
      { max: 64, counting: "graphemes", label: "hashtag", source: blueskyTag("maxGraphemes 64") },
      { max: 640, counting: "utf8_bytes", label: "hashtag", source: blueskyTag("maxLength 640") }
    ],
    settingsFields: ["tags"],
    source: `${atprotoLexicon("richtext/facet.json")}; ${atprotoLexicon("feed/post.json")}`
  },
  threads: true,
  threadsSource: `${spec("6.4")} (reply.root and reply.parent)`,
  firstComment: {
    text: [
      { max: 300, counting: "graphemes", source: `${spec("6.4")} (a reply is a post: ≤ 300 graphemes)` },
      { max: 3000, counting: "utf8_bytes", source: `${spec("6.4")} (≤ 3000 UTF-8 bytes, lexicon maxLength)` }
    ],
    source: `${spec("6.4")} (a reply: app.bsky.feed.post with reply.root and reply.parent strong refs)`
  },
  nativeScheduling: { supported: false, source: `${spec("6.4")} (createdAt is not a scheduling mechanism)` }
}

/** The rules of every built-in platform, by id. */
export const rules: Readonly<Record<BuiltinPlatform, PlatformRules>> = {
  x,
  instagram,
  facebook,
  threads,
  linkedin,
  youtube,
  tiktok,
  bluesky
}

// ---------------------------------------------------------------------------
// Reading the table
// ---------------------------------------------------------------------------

/** Whether a MIME type is in a list of exact types and `type/*` wildcards (case-insensitive). */
export const mimeTypeAllowed = (allowed: ReadonlyArray<string>, mimeType: string): boolean => {
  const lower = mimeType.toLowerCase().split(";")[0]!.trim()
  return allowed.some((entry) =>
    entry.endsWith("/*") ? lower.startsWith(entry.slice(0, -1)) && lower.length > entry.length - 1 : entry === lower
  )
}

/** The row of a placement, if the platform has it. */
export const placementRule = (platformRules: PlatformRules, placement: Placement): PlacementRule | undefined =>
  platformRules.placements.find((row) => row.placement === placement)

/** Whether these media (by kind) fit a placement's counts, ignoring sizes and types. */
const mediaFit = (row: PlacementRule, kinds: ReadonlyArray<MediaKind>): boolean => {
  if (kinds.length === 0) return !row.mediaRequired
  if (kinds.length < row.minMedia || kinds.length > row.maxMedia) return false
  const counts = new Map<MediaKind, number>()
  for (const kind of kinds) counts.set(kind, (counts.get(kind) ?? 0) + 1)
  if (!row.mixedMedia && counts.size > 1) return false
  for (const [kind, count] of counts) {
    const kindRule = row.media[kind]
    if (kindRule === undefined || count > kindRule.maxCount) return false
  }
  return true
}

/**
 * The placement a destination publishes to: the one it names, else the first
 * inferable placement whose counts fit the media, else the platform's default.
 *
 * @example
 * inferPlacement(Rules.instagram, ["video"]) // "reel"
 */
export const inferPlacement = (platformRules: PlatformRules, mediaKinds: ReadonlyArray<MediaKind>): Placement => {
  const inferable = platformRules.placements.filter((row) => row.inferable === true)
  const fitting = inferable.find((row) => mediaFit(row, mediaKinds))
  if (fitting !== undefined) return fitting.placement
  if (mediaKinds.length === 0) return platformRules.defaultPlacement
  // Nothing fits: pick the placement whose complaint will be most useful
  // (11 images on Instagram are "too many for a carousel", not "for a feed post").
  const takingKinds = inferable
    .filter((row) => mediaKinds.every((kind) => row.media[kind] !== undefined))
    .sort((a, b) => b.maxMedia - a.maxMedia)
  return takingKinds[0]?.placement ?? platformRules.defaultPlacement
}
