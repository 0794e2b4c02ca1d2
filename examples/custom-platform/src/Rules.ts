/**
 * Mastodon's rows of the rules table. Core knows nothing of Mastodon: these
 * rows travel with the publisher and reach `validatePost` through the registry.
 *
 * Sources: https://docs.joinmastodon.org/methods/statuses/#create and the
 * instance configuration (`GET /api/v2/instance`, `configuration.statuses`),
 * whose defaults are 500 characters and 23 characters per URL.
 */
import type { Rules } from "@omnipost/core"

/** `configuration.statuses.max_characters` of a default instance. */
export const maxCharacters = 500
/** `configuration.statuses.characters_reserved_per_url`: every URL counts this many, whatever its length. */
export const charactersPerUrl = 23

const source = "https://docs.joinmastodon.org/methods/statuses/#create; GET /api/v2/instance configuration.statuses"

/** `MediaAttachment::IMAGE_LIMIT` (16.megabytes, as `configuration.media_attachments.image_size_limit` reports it). */
export const maxImageBytes = 16 * 1024 * 1024

const mediaSource =
  "https://docs.joinmastodon.org/methods/media/#v2; mastodon app/models/media_attachment.rb (IMAGE_LIMIT 16.megabytes, MAX_DESCRIPTION_LENGTH 1500); configuration.statuses.max_media_attachments 4"

export const rules: Rules.PlatformRules = {
  platform: "mastodon",
  displayName: "Mastodon",
  defaultPlacement: "feed",
  placements: [{
    placement: "feed",
    source,
    // Mastodon counts its own way (URLs 23, remote mentions by their local
    // part, the content warning included): `Validation.ts` checks the length,
    // so the table has no text row that would count differently.
    text: [],
    textAllowed: true,
    mediaRequired: false,
    minMedia: 0,
    maxMedia: 4,
    media: {
      image: {
        maxCount: 4,
        mimeTypes: ["image/jpeg", "image/png", "image/gif", "image/webp"],
        maxSizeBytes: maxImageBytes,
        // Mastodon counts characters (Ruby's String#length, code points); UTF-16 units never count fewer.
        altText: [{ max: 1_500, counting: "utf16", label: "alt text", source: mediaSource }],
        source: mediaSource
      }
    },
    mixedMedia: false
  }],
  threads: true,
  // Mastodon can schedule (`scheduled_at`, at least 5 minutes ahead); this example does not use it.
  nativeScheduling: { supported: false, source }
}
