/** How validation messages show numbers, sizes, durations and places ("X allows 280 characters; this text counts 281"). */
import type * as Post from "../Post.js"
import type * as Rules from "../Rules.js"
import * as TextCount from "../TextCount.js"

export const formatBytes = (bytes: number): string =>
  bytes >= 1e9 ? `${+(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${+(bytes / 1e6).toFixed(2)} MB` : bytes >= 1e3 ? `${+(bytes / 1e3).toFixed(2)} KB` : `${bytes} bytes`

/** Both sizes, in bytes when rounding would make them look equal ("5 MB; this one is 5 MB"). */
export const formatSizes = (limit: number, actual: number): readonly [string, string] =>
  formatBytes(limit) === formatBytes(actual)
    ? [`${limit.toLocaleString("en-US")} bytes`, `${actual.toLocaleString("en-US")} bytes`]
    : [formatBytes(limit), formatBytes(actual)]

export const formatSeconds = (seconds: number): string =>
  seconds >= 3600 && seconds % 3600 === 0
    ? `${seconds / 3600} h`
    : seconds >= 60 && seconds % 60 === 0
      ? `${seconds / 60} min`
      : `${+seconds.toFixed(3)} s`

/** A rough duration for messages: "5 minutes", "3 hours", "12 days". */
export const formatAgo = (ms: number): string => {
  const [amount, unit] = ms < 3_600_000 ? [ms / 60_000, "minute"] : ms < 172_800_000 ? [ms / 3_600_000, "hour"] : [ms / 86_400_000, "day"]
  const rounded = Math.round(amount)
  return `${rounded} ${unit}${rounded === 1 ? "" : "s"}`
}

export const formatRatio = (ratio: number): string => `${+ratio.toFixed(4)}`

export const placementName = (rules: Rules.PlatformRules, placement: Post.Placement): string =>
  rules.placements.length > 1 ? `${rules.displayName} ${placement}` : rules.displayName

/**
 * A count for a message: exact up to `TextCount.exactBound(max)`, "more than"
 * that bound above it (counting stops there, so a huge text costs no more
 * than one at the bound).
 */
export const countOver = (text: string, counting: Rules.TextCounting, max: number) => {
  const bound = TextCount.exactBound(max)
  const counted = TextCount.count(text, counting, bound)
  return { counted, shown: counted > bound ? `more than ${bound}` : String(counted) }
}

export const partLabel = (partIndex: number): string => (partIndex === 0 ? "" : ` (thread part ${partIndex + 1})`)

export const kindsList = (row: Rules.PlacementRule): string =>
  Object.entries(row.media)
    .map(([kind, rule]) => `${rule.maxCount === 1 ? "1" : `up to ${rule.maxCount}`} ${kind}${rule.maxCount === 1 ? "" : "s"}`)
    .join(" or ")

// Encoders round dimensions, so 1080×1350 and 1079×1350 are both "4:5".
export const ASPECT_TOLERANCE = 0.005

export const hashtagTooLong = (rules: Rules.PlatformRules, limit: Rules.TextLimit, counted: number) =>
  `${rules.displayName} allows hashtags of ${limit.max} ${TextCount.unitDescription[limit.counting]}; this one counts ${counted}`

export const preview = (text: string) => (text.length > 20 ? `${text.slice(0, 19)}…` : text)
