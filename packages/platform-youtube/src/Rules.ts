/**
 * YouTube's rows of the rules table. The rows live in core (`Rules.youtube`)
 * so that `validatePost` runs without any platform package; this module
 * re-exports them so the package has the same shape as every other platform
 * package, and the publisher reads its limits (video size) from them.
 *
 * @example
 * rules.placements[0]?.media.video?.maxSizeBytes // 256 GB
 */
import { Rules } from "@omnipost/core"

export const rules: Rules.PlatformRules = Rules.youtube
