/**
 * Per-destination settings for Bluesky. The schema lives in core
 * (`Settings.BlueskySettings`) so that `validatePost` reports bad settings
 * without loading this package; it is re-exported here so every platform
 * package has the same shape. Every setting applies to each part of a thread.
 *
 * | setting    | record field | limit (source) |
 * |------------|--------------|----------------|
 * | `langs`    | `langs`      | ≤ 3 BCP-47 codes (lexicon app.bsky.feed.post; platform-specs §6.4) |
 * | `labels`   | `labels` (`com.atproto.label.defs#selfLabels`) | sexual, nudity, porn, graphic-media |
 * | `tags`     | `tags`       | ≤ 8 extra hashtags, without `#` (lexicon) |
 * | `linkCard` | `embed` (`app.bsky.embed.external`) | on by default; only for a part without media |
 *
 * @example
 * const settings: BlueskySettings = { langs: ["en", "de"], labels: ["graphic-media"] }
 */
import { Settings } from "@omnipost/core"

export const BlueskySettings = Settings.BlueskySettings
export type BlueskySettings = Settings.BlueskySettings
