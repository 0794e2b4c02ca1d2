/**
 * The per-platform rules table: data, not branches. Each row carries the
 * `source` it was taken from (see shared/docs/platform-specs.md and the
 * platform READMEs). `Validation.validatePost` applies these rows; a custom
 * platform supplies its own `PlatformRules`.
 *
 * TODO(rules): the rows for the eight built-in platforms are being filled in.
 */
import type { MediaKind } from "./Media.js"
import type { Placement } from "./Post.js"

/** How a platform counts text. */
export type TextCounting =
  /** twitter-text v3 weighted length: URLs 23, emoji and CJK 2, Latin 1, after NFC. */
  | "twitter"
  /** User-perceived characters (`Intl.Segmenter`, grapheme granularity). */
  | "graphemes"
  /** UTF-8 bytes. */
  | "utf8_bytes"
  /** UTF-16 code units (JavaScript's `length`). */
  | "utf16"
  /** Threads: graphemes, except that an emoji counts its UTF-8 byte length. */
  | "threads"

export interface Sourced {
  /** Where the number comes from: a documentation URL or the spec section. */
  readonly source: string
}

export interface TextLimit extends Sourced {
  readonly max: number
  readonly counting: TextCounting
}

/** Limits for one media kind in one placement. */
export interface MediaKindRule extends Sourced {
  readonly mimeTypes: ReadonlyArray<string>
  readonly maxSizeBytes?: number
  readonly minSizeBytes?: number
  readonly minDurationSeconds?: number
  readonly maxDurationSeconds?: number
  /** width / height */
  readonly minAspectRatio?: number
  readonly maxAspectRatio?: number
  readonly minWidth?: number
  readonly maxWidth?: number
  readonly minHeight?: number
  readonly maxHeight?: number
  readonly maxFrames?: number
  readonly maxPixels?: number
}

export interface PlacementRule extends Sourced {
  readonly placement: Placement
  /** Text limits for this placement; `[]` with `textAllowed: false` for placements that take no caption. */
  readonly text: ReadonlyArray<TextLimit>
  readonly textAllowed: boolean
  readonly mediaRequired: boolean
  readonly minMedia: number
  readonly maxMedia: number
  /** Per kind; a kind missing here is not allowed in this placement. */
  readonly media: Partial<Record<MediaKind, MediaKindRule & { readonly maxCount: number }>>
  /** Whether images and videos (or GIFs) may be mixed in one post. */
  readonly mixedMedia: boolean
}

export interface PlatformRules {
  readonly platform: string
  readonly displayName: string
  readonly defaultPlacement: Placement
  readonly placements: ReadonlyArray<PlacementRule>
  readonly maxHashtags?: { readonly max: number } & Sourced
  readonly maxMentions?: { readonly max: number } & Sourced
  /** Distinct links in the text (Threads: 5). */
  readonly maxLinks?: { readonly max: number } & Sourced
  /** Whether a thread (reply chain) can be posted. */
  readonly threads: boolean
  /** Whether the platform's own API can schedule, and within which window. */
  readonly nativeScheduling: {
    readonly supported: boolean
    readonly minLeadSeconds?: number
    readonly maxLeadSeconds?: number
  } & Sourced
}
