/**
 * Bluesky's rows of the rules table. The rows live in core (`Rules.bluesky`)
 * so that `validatePost` can run without any platform package (in a browser);
 * this module re-exports them so the package has the same shape as every
 * other platform package. Sources: platform-specs §6.2–§6.4.
 *
 * @example
 * rules.placements[0]?.media.image?.maxCount // 4
 */
import { Rules } from "@omnipost/core"

export const rules: Rules.PlatformRules = Rules.bluesky
