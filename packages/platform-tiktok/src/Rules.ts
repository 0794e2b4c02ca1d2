/**
 * TikTok's rows of the rules table. The rows live in core (`Rules.tiktok`)
 * so that `validatePost` runs without any platform package; this module
 * re-exports them so the package has the same shape as every other platform
 * package, and the publisher reads its limits from them.
 *
 * @example
 * rules.placements[1]?.media.image?.maxCount // 35
 */
import { Rules } from "@omnipost/core"

export const rules: Rules.PlatformRules = Rules.tiktok
