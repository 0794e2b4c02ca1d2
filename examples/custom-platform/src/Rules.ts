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
    // This example publishes text only (media goes through POST /api/v2/media,
    // left out to keep the example short): any media is reported, not dropped.
    maxMedia: 0,
    media: {},
    mixedMedia: false
  }],
  threads: true,
  // Mastodon can schedule (`scheduled_at`, at least 5 minutes ahead); this example does not use it.
  nativeScheduling: { supported: false, source }
}
