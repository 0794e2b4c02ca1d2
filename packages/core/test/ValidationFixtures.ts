/**
 * Builders of valid posts and media for a rules row, so that table tests can
 * start from a post the row accepts and change one thing.
 */
import type { Media, Platform, Post, Rules } from "@omnipost/core"

/** Settings each built-in platform needs to be valid. */
export const validSettings: Readonly<Record<Platform.BuiltinPlatform, Readonly<Record<string, unknown>>>> = {
  x: {},
  instagram: {},
  facebook: {},
  threads: {},
  linkedin: {},
  youtube: { title: "A title", privacyStatus: "private", madeForKids: false },
  tiktok: { privacyLevel: "SELF_ONLY" },
  bluesky: {}
}

export const concreteMime = (pattern: string, kind: Media.MediaKind): string =>
  pattern.endsWith("/*") ? pattern.replace("*", kind === "video" ? "mp4" : "jpeg") : pattern

const clamp = (value: number, min: number | undefined, max: number | undefined) =>
  Math.min(max ?? Infinity, Math.max(min ?? -Infinity, value))

/** A media item that satisfies every limit of `rule`. */
export const validMedia = (kind: Media.MediaKind, rule: Rules.MediaKindRule): Media.Media => {
  const ratio = clamp(1, rule.minAspectRatio, rule.maxAspectRatio)
  const height = clamp(1000, rule.minHeight, rule.maxHeight)
  const width = Math.round(clamp(height * ratio, rule.minWidth, rule.maxWidth))
  return {
    kind,
    mimeType: concreteMime(rule.mimeTypes[0]!, kind),
    sizeBytes: rule.minSizeBytes ?? 1000,
    width,
    height,
    ...(kind === "video" ? { durationSeconds: clamp(10, rule.minDurationSeconds, rule.maxDurationSeconds) } : {}),
    ...(kind === "gif" ? { frames: 10 } : {}),
    source: { _tag: "url", url: `https://media.example/${kind}` }
  }
}

/** The first media kind of a row that can fill its minimum count alone. */
export const primaryKind = (row: Rules.PlacementRule): Media.MediaKind | undefined =>
  (Object.keys(row.media) as Array<Media.MediaKind>).find((kind) => row.media[kind]!.maxCount >= Math.max(1, row.minMedia))

/** `count` copies of `item`, or of the row's primary kind. */
export const mediaFor = (row: Rules.PlacementRule, count: number, kind = primaryKind(row)): Array<Media.Media> =>
  kind === undefined ? [] : Array.from({ length: count }, () => validMedia(kind, row.media[kind]!))

/** A post one destination of `rules` at `row` accepts: short text, the fewest media the row needs. */
export const validPostFor = (
  rules: Rules.PlatformRules,
  row: Rules.PlacementRule,
  content: Partial<Post.Content> = {}
): Post.PostInput => ({
  content: {
    ...(row.textAllowed ? { text: "Hello" } : {}),
    media: mediaFor(row, row.mediaRequired ? Math.max(1, row.minMedia) : 0),
    ...content
  },
  destinations: [
    {
      platform: rules.platform,
      accountId: "acct-1",
      placement: row.placement,
      settings: { ...(validSettings as Record<string, Record<string, unknown>>)[rules.platform] }
    }
  ]
})

/** Every (platform, placement) row of the built-in table. */
export const allRows = (table: Readonly<Record<string, Rules.PlatformRules>>) =>
  Object.values(table).flatMap((rules) => rules.placements.map((row) => ({ rules, row, name: `${rules.platform}/${row.placement}` })))
