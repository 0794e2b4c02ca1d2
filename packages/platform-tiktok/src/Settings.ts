/**
 * Per-destination settings for TikTok: core's `TiktokSettings` (Direct Post
 * `post_info`), plus how the post is made.
 *
 * | setting | API field | notes |
 * |---|---|---|
 * | `privacyLevel` | `post_info.privacy_level` | required, no default (audit guidelines); one of the creator's `privacy_level_options` |
 * | `disableComment` / `disableDuet` / `disableStitch` | `post_info.disable_*` | must be `true` where the creator disabled them |
 * | `brandContentToggle` | `post_info.brand_content_toggle` | paid partnership; cannot be `SELF_ONLY` |
 * | `brandOrganicToggle` | `post_info.brand_organic_toggle` | promoting the creator's own business ("your brand") |
 * | `isAigc` | `post_info.is_aigc` | AI-generated content |
 * | `videoCoverTimestampMs` | `post_info.video_cover_timestamp_ms` | video cover frame |
 * | `title` | photo `post_info.title` | ≤ 90 UTF-16 units (rules row) |
 * | `photoCoverIndex` | photo `source_info.photo_cover_index` | |
 * | `autoAddMusic` | photo `post_info.auto_add_music` | |
 * | `postMode` | which endpoint | `direct` (default: `video/init`, `content/init` `DIRECT_POST`) or `inbox` (a draft the creator finishes in the app: `inbox/video/init`, `content/init` `MEDIA_UPLOAD`) |
 *
 * Sources: https://developers.tiktok.com/doc/content-posting-api-reference-direct-post,
 * https://developers.tiktok.com/doc/content-posting-api-reference-photo-post, platform-specs §5.3, §5.4.
 */
import { Settings } from "@omnipost/core"
import { Schema } from "effect"

export const TiktokSettings = Schema.Struct({
  ...Settings.TiktokSettings.fields,
  postMode: Schema.optional(Schema.Literals(["direct", "inbox"]))
}).check(
  Schema.makeFilter((settings) =>
    settings.brandContentToggle === true && settings.privacyLevel === "SELF_ONLY"
      ? { path: ["privacyLevel"], issue: "TikTok does not allow branded content to be private (SELF_ONLY)" }
      : undefined
  )
)
export type TiktokSettings = typeof TiktokSettings.Type
