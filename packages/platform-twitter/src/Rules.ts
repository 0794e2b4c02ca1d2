/**
 * X's rows of the rules table: core's `Rules.x`, re-exported so that the
 * package has the same shape as every platform package while the numbers
 * (and their sources) stay in one place. See platform-specs §1.4 and §1.5:
 * up to 4 images (5 MB), or 1 GIF (15 MB), or 1 video (conservative default
 * 0.5–140 s, 512 MB); text 280 weighted by twitter-text.
 */
import { Rules } from "@omnipost/core"

export const rules: Rules.PlatformRules = Rules.x
