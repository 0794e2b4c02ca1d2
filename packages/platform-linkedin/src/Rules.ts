/**
 * LinkedIn's rows of the rules table. The rows live in core
 * (`Rules.linkedin`) so that `validatePost` runs without any platform
 * package (in a browser); this module re-exports them so the package has the
 * same shape as every other platform package, and the publisher reads its
 * limits (image, video, document sizes) from them. Sources: platform-specs
 * §3 and the Microsoft Learn pages named in each row and in the README.
 *
 * @example
 * rules.placements[0]?.media.document?.maxSizeBytes // 100_000_000
 */
import { Rules } from "@omnipost/core"

export const rules: Rules.PlatformRules = Rules.linkedin
