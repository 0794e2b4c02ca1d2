/**
 * The three platforms' rows of core's rules table (`Rules.instagram`,
 * `Rules.facebook`, `Rules.threads`), with their sources. The publishers
 * read their limits from these rows; pass your own to a publisher's
 * `rules` option to follow a limit that changed.
 */
import { Rules } from "@omnipost/core"

export const instagram = Rules.instagram
export const facebook = Rules.facebook
export const threads = Rules.threads
