/**
 * `validatePost`: pure, synchronous, browser-safe validation of a post against
 * every destination's platform rules. It returns every issue at once and never
 * throws, whatever it is given: anything that is not a post gets
 * `INVALID_POST` issues with the path of the offending field.
 *
 * What it checks, per destination, after overrides (`Post.resolveDestination`)
 * and per thread part: the platform is known, the placement exists, text
 * length counted the platform's way, forbidden characters, hashtags,
 * mentions and links, media count, kinds, mixing, MIME types, size, duration,
 * aspect ratio and dimensions, settings (the platform's settings schema and
 * its settings-text rows), thread support, duplicates, and the schedule (a
 * real date-time, not more than a minute in the past: `SCHEDULE_IN_PAST`).
 * Unknown fields are reported with the field probably meant (`Problems`).
 *
 * @example
 * import { Validation } from "@omnipost/core"
 * const { valid, issues } = Validation.validatePost({
 *   content: { text: "Hello" },
 *   destinations: [{ platform: "x", accountId: "1" }]
 * })
 */
import { Result, Schema } from "effect"
import * as Limits from "./Limits.js"
import type { MediaKind } from "./Media.js"
import * as Post from "./Post.js"
import * as Problems from "./Problems.js"
import type { ValidationContext } from "./Publisher.js"
import * as Rules from "./Rules.js"
import * as Schedule from "./Schedule.js"
import * as Settings from "./Settings.js"
import * as TextCount from "./TextCount.js"

/** The closed set of issue codes. */
export const issueCodes = [
  "INVALID_POST",
  "CONTENT_REQUIRED",
  "CONTENT_TOO_LONG",
  "INVALID_CHARACTERS",
  "TOO_MANY_HASHTAGS",
  "TOO_MANY_MENTIONS",
  "TOO_MANY_LINKS",
  "MEDIA_REQUIRED",
  "TOO_MANY_MEDIA",
  "TOO_FEW_MEDIA",
  "UNSUPPORTED_MEDIA_TYPE",
  "UNSUPPORTED_MEDIA_CONFIG",
  /** Stored media for a platform that fetches media by URL (Meta's), and the host has no public URL for it (`OMNIPOST_PUBLIC_URL`). */
  "PUBLIC_URL_REQUIRED",
  "MIXED_MEDIA_NOT_SUPPORTED",
  "MEDIA_TOO_LARGE",
  "MEDIA_TOO_SMALL",
  "VIDEO_DURATION_OUT_OF_RANGE",
  "ASPECT_RATIO_OUT_OF_RANGE",
  "DIMENSIONS_OUT_OF_RANGE",
  "INVALID_PLACEMENT",
  "THREAD_NOT_SUPPORTED",
  /**
   * A first comment for a platform that cannot post one (no `firstComment`
   * rules, or its publisher lacks the `comment` capability): clear it for
   * that platform with an override `comment: ""`.
   */
  "COMMENT_NOT_SUPPORTED",
  "SCHEDULING_NOT_SUPPORTED",
  "INVALID_SCHEDULE",
  /** The schedule is more than a minute in the past (`pastToleranceMs`): a mistake, not a request to publish now. */
  "SCHEDULE_IN_PAST",
  "INVALID_SETTINGS",
  "DUPLICATE_DESTINATION",
  "UNKNOWN_PLATFORM",
  /** A platform's rules could not be applied, or its extra validator threw or returned something that is not an issue. */
  "VALIDATOR_FAILED"
] as const
export const IssueCode = Schema.Literals(issueCodes)
export type IssueCode = (typeof issueCodes)[number]

export const isIssueCode = (value: unknown): value is IssueCode =>
  typeof value === "string" && (issueCodes as ReadonlyArray<string>).includes(value)

export const ValidationIssue = Schema.Struct({
  code: IssueCode,
  /** States the limit and the actual value. */
  message: Schema.String,
  /** Path to the offending field, from the post's root: `["content", "thread", 1, "text"]`. */
  path: Schema.Array(Schema.Union([Schema.String, Schema.Number])),
  platform: Schema.optional(Schema.String),
  destinationIndex: Schema.optional(Schema.Number),
  accountId: Schema.optional(Schema.String),
  limit: Schema.optional(Schema.Number),
  actual: Schema.optional(Schema.Number)
})
export type ValidationIssue = typeof ValidationIssue.Type

export type IssuePath = ReadonlyArray<string | number>

export interface ValidationResult {
  readonly valid: boolean
  readonly issues: ReadonlyArray<ValidationIssue>
}

/** A platform's own checks, beyond the rules table: pure and synchronous. */
export type ExtraValidator = (context: ValidationContext<any>) => ReadonlyArray<ValidationIssue>

/**
 * Options of `validatePost`. This shape is what the registry passes for
 * custom platforms; it is stable.
 */
export interface ValidateOptions {
  /** Rules by platform id, merged over the built-in table (a custom platform adds a row; a built-in id replaces its row). */
  readonly rules?: Readonly<Record<string, Rules.PlatformRules>> | undefined
  /** Settings schemas by platform id, merged over `Settings.settingsSchemas`. A platform with none skips the settings check. */
  readonly settingsSchemas?: Readonly<Record<string, Settings.SettingsSchema>> | undefined
  /** Extra checks by platform id, run for each destination of that platform whose settings decode. */
  readonly extraValidators?: Readonly<Record<string, ExtraValidator>> | undefined
  /** The current time, for the native-scheduling window and past schedules. Defaults to the system clock. */
  readonly now?: Date | undefined
  /**
   * Who fires scheduled posts. `"worker"` (default): our scheduler publishes
   * at the time, so every platform can be scheduled. `"native"`: the platform
   * must schedule it itself, within its window, else `SCHEDULING_NOT_SUPPORTED`.
   */
  readonly scheduling?: "worker" | "native" | undefined
}

// ---------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------

interface Problem {
  readonly path: IssuePath
  readonly message: string
}

/** How far in the past a schedule may be and still mean "now" (clock skew, a request in flight). */
export const pastToleranceMs = 60_000

const parseOptions = { errors: "all", onExcessProperty: "error" } as const

// Building a decoder costs far more than running it: keep one per schema.
const decoders = new WeakMap<object, (input: unknown) => Result.Result<unknown, Schema.SchemaError>>()
const decoderFor = (schema: Schema.Codec<unknown, any>) => {
  let decoder = decoders.get(schema)
  if (decoder === undefined) {
    decoder = Schema.decodeUnknownResult(schema, parseOptions)
    decoders.set(schema, decoder)
  }
  return decoder
}

/** Decodes with every error collected and unknown keys rejected (with the fields probably meant); never throws. */
const decode = <A>(schema: Schema.Codec<A, any>, input: unknown): Result.Result<A, ReadonlyArray<Problem>> => {
  const result = decoderFor(schema)(input) as Result.Result<A, Schema.SchemaError>
  if (Result.isSuccess(result)) return Result.succeed(result.success)
  const { omitted, problems } = Problems.fromIssue(result.failure.issue)
  return Result.fail(omitted === 0 ? problems : [...problems, { path: [], message: `and ${omitted} more problems` }])
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const describeType = (value: unknown): string =>
  value === null ? "null" : Array.isArray(value) ? "an array" : typeof value

const topLevelKeys = new Set([...Object.keys(Post.PostInput.fields), ...Object.keys(Post.Post.fields)])
const destinationInputKeys = new Set(Object.keys(Post.DestinationInput.fields))
/** Publishing state of a stored destination: not the caller's to validate, and not part of what is published. */
const destinationStateKeys = new Set(Object.keys(Post.Destination.fields).filter((key) => !destinationInputKeys.has(key)))

const PostMeta = Schema.Struct({
  id: Schema.optional(Schema.String),
  status: Schema.optional(Post.PostStatus),
  createdAt: Schema.optional(Schema.String),
  updatedAt: Schema.optional(Schema.String)
})

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

const formatBytes = (bytes: number): string =>
  bytes >= 1e9 ? `${+(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${+(bytes / 1e6).toFixed(2)} MB` : bytes >= 1e3 ? `${+(bytes / 1e3).toFixed(2)} KB` : `${bytes} bytes`

/** Both sizes, in bytes when rounding would make them look equal ("5 MB; this one is 5 MB"). */
const formatSizes = (limit: number, actual: number): readonly [string, string] =>
  formatBytes(limit) === formatBytes(actual)
    ? [`${limit.toLocaleString("en-US")} bytes`, `${actual.toLocaleString("en-US")} bytes`]
    : [formatBytes(limit), formatBytes(actual)]

const formatSeconds = (seconds: number): string =>
  seconds >= 3600 && seconds % 3600 === 0
    ? `${seconds / 3600} h`
    : seconds >= 60 && seconds % 60 === 0
      ? `${seconds / 60} min`
      : `${+seconds.toFixed(3)} s`

/** A rough duration for messages: "5 minutes", "3 hours", "12 days". */
const formatAgo = (ms: number): string => {
  const [amount, unit] = ms < 3_600_000 ? [ms / 60_000, "minute"] : ms < 172_800_000 ? [ms / 3_600_000, "hour"] : [ms / 86_400_000, "day"]
  const rounded = Math.round(amount)
  return `${rounded} ${unit}${rounded === 1 ? "" : "s"}`
}

const formatRatio = (ratio: number): string => `${+ratio.toFixed(4)}`

const placementName = (rules: Rules.PlatformRules, placement: Post.Placement): string =>
  rules.placements.length > 1 ? `${rules.displayName} ${placement}` : rules.displayName

/**
 * A count for a message: exact up to `TextCount.exactBound(max)`, "more than"
 * that bound above it (counting stops there, so a huge text costs no more
 * than one at the bound).
 */
const countOver = (text: string, counting: Rules.TextCounting, max: number) => {
  const bound = TextCount.exactBound(max)
  const counted = TextCount.count(text, counting, bound)
  return { counted, shown: counted > bound ? `more than ${bound}` : String(counted) }
}

const partLabel = (partIndex: number): string => (partIndex === 0 ? "" : ` (thread part ${partIndex + 1})`)

const kindsList = (row: Rules.PlacementRule): string =>
  Object.entries(row.media)
    .map(([kind, rule]) => `${rule.maxCount === 1 ? "1" : `up to ${rule.maxCount}`} ${kind}${rule.maxCount === 1 ? "" : "s"}`)
    .join(" or ")

// Encoders round dimensions, so 1080×1350 and 1079×1350 are both "4:5".
const ASPECT_TOLERANCE = 0.005

// ---------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------

interface DestinationScope {
  readonly platform: string
  readonly destinationIndex: number
  readonly accountId: string
}

type Emit = (
  code: IssueCode,
  path: IssuePath,
  message: string,
  numbers?: { readonly limit?: number | undefined; readonly actual?: number | undefined }
) => void

interface PartPaths {
  readonly text: IssuePath
  readonly media: IssuePath
  readonly link: IssuePath
}

const checkPart = (
  emit: Emit,
  rules: Rules.PlatformRules,
  row: Rules.PlacementRule,
  part: Post.ResolvedPart,
  partIndex: number,
  paths: PartPaths
): void => {
  const where = placementName(rules, row.placement)
  const suffix = partLabel(partIndex)
  const media = part.media
  const hasLink = part.link !== undefined && part.link.length > 0
  // Where the link has nowhere to go but the text, count the text the platform will get.
  const linkAppended = row.linkInText === true && hasLink && !part.text.includes(part.link!)
  const text = linkAppended ? (part.text.length > 0 ? `${part.text}\n\n${part.link}` : part.link!) : part.text
  const textName = linkAppended ? "text with its link" : "text"

  // Where media is required, MEDIA_REQUIRED says it better.
  if (text.trim().length === 0 && media.length === 0 && !hasLink && !row.mediaRequired) {
    emit("CONTENT_REQUIRED", paths.text, `${where} needs text, media or a link${suffix}; this post is empty`)
  }

  // Text
  if (!row.textAllowed) {
    if (hasLink) {
      emit("UNSUPPORTED_MEDIA_CONFIG", paths.link, `${where} takes no link${suffix} (remove it, or choose another placement)`)
    }
    if (text.length > 0) {
      const { counted, shown } = countOver(text, "graphemes", 0)
      emit(
        "CONTENT_TOO_LONG",
        paths.text,
        `${where} takes no text; this text${suffix} counts ${shown} characters (remove it, or choose another placement)`,
        { limit: 0, actual: counted }
      )
    }
  } else {
    const forbidden = new Set<string>()
    for (const limit of row.text) {
      const { counted, shown } = countOver(text, limit.counting, limit.max)
      if (counted > limit.max) {
        const label = limit.label ?? "text"
        emit(
          "CONTENT_TOO_LONG",
          paths.text,
          `${where} allows ${limit.max} ${TextCount.unitDescription[limit.counting]}${limit.label !== undefined ? ` in a ${limit.label}` : ""}; this ${linkAppended ? `${label} with its link` : label}${suffix} counts ${shown}`,
          { limit: limit.max, actual: counted }
        )
      }
      for (const character of limit.forbiddenCharacters ?? []) if (text.includes(character)) forbidden.add(character)
    }
    if (forbidden.size > 0) {
      emit(
        "INVALID_CHARACTERS",
        paths.text,
        `${where} does not accept ${[...forbidden].map((c) => JSON.stringify(c)).join(", ")} in this text${suffix}`
      )
    }
  }

  // Entities
  if (rules.maxHashtags !== undefined) {
    const bound = TextCount.exactBound(rules.maxHashtags.max)
    const found = TextCount.hashtags(text, "twitter", bound).length
    if (found > rules.maxHashtags.max) {
      emit("TOO_MANY_HASHTAGS", paths.text, `${rules.displayName} allows ${rules.maxHashtags.max} hashtags; this ${textName}${suffix} has ${found > bound ? `more than ${bound}` : found}`, {
        limit: rules.maxHashtags.max,
        actual: found
      })
    }
  }
  if (rules.hashtagLength !== undefined) {
    for (const tag of TextCount.hashtags(text, rules.hashtagLength.detection)) {
      for (const { counted, limit } of TextCount.exceeded(tag, rules.hashtagLength.text)) {
        emit("CONTENT_TOO_LONG", paths.text, `${hashtagTooLong(rules, limit, counted)}: #${preview(tag)} in this ${textName}${suffix}`, {
          limit: limit.max,
          actual: counted
        })
      }
    }
  }
  if (rules.maxMentions !== undefined) {
    const bound = TextCount.exactBound(rules.maxMentions.max)
    const found = TextCount.mentions(text, bound).length
    if (found > rules.maxMentions.max) {
      emit("TOO_MANY_MENTIONS", paths.text, `${rules.displayName} allows ${rules.maxMentions.max} @mentions; this ${textName}${suffix} has ${found > bound ? `more than ${bound}` : found}`, {
        limit: rules.maxMentions.max,
        actual: found
      })
    }
  }
  if (rules.maxLinks !== undefined) {
    const bound = TextCount.exactBound(rules.maxLinks.max)
    const found = TextCount.distinctLinks(text, part.link, bound).length
    if (found > rules.maxLinks.max) {
      emit(
        "TOO_MANY_LINKS",
        paths.text,
        `${rules.displayName} allows ${rules.maxLinks.max} distinct links (the link attachment included); this post${suffix} has ${found > bound ? `more than ${bound}` : found}`,
        { limit: rules.maxLinks.max, actual: found }
      )
    }
  }
  if (row.linkWithMedia === false && hasLink && media.length > 0) {
    emit(
      "UNSUPPORTED_MEDIA_CONFIG",
      paths.link,
      `${where} takes a link card or media, not both; this post${suffix} has a link and ${media.length} media`
    )
  }

  // Media counts
  if (media.length === 0) {
    if (row.mediaRequired) {
      emit("MEDIA_REQUIRED", paths.media, `${where} needs media (${kindsList(row)})${suffix}; this post has none`, {
        limit: Math.max(1, row.minMedia),
        actual: 0
      })
    }
  } else if (media.length < row.minMedia) {
    emit("TOO_FEW_MEDIA", paths.media, `${where} needs at least ${row.minMedia} media items; this post${suffix} has ${media.length}`, {
      limit: row.minMedia,
      actual: media.length
    })
  }
  const totalTooMany = media.length > row.maxMedia
  if (totalTooMany) {
    emit("TOO_MANY_MEDIA", paths.media, `${where} allows ${row.maxMedia} media item${row.maxMedia === 1 ? "" : "s"}; this post${suffix} has ${media.length}`, {
      limit: row.maxMedia,
      actual: media.length
    })
  }
  const perKind = new Map<MediaKind, number>()
  for (const item of media) perKind.set(item.kind, (perKind.get(item.kind) ?? 0) + 1)
  if (!row.mixedMedia && perKind.size > 1) {
    emit(
      "MIXED_MEDIA_NOT_SUPPORTED",
      paths.media,
      `${where} does not mix media kinds (${kindsList(row)}); this post${suffix} has ${[...perKind.entries()].map(([kind, n]) => `${n} ${kind}`).join(", ")}`,
      { limit: 1, actual: perKind.size }
    )
  }
  if (!totalTooMany) {
    for (const [kind, n] of perKind) {
      const kindRule = row.media[kind]
      if (kindRule !== undefined && n > kindRule.maxCount) {
        emit("TOO_MANY_MEDIA", paths.media, `${where} allows ${kindRule.maxCount} ${kind} per post; this post${suffix} has ${n}`, {
          limit: kindRule.maxCount,
          actual: n
        })
      }
    }
  }

  // Each item
  media.forEach((item, itemIndex) => {
    const itemPath = [...paths.media, itemIndex]
    const kindRule = row.media[item.kind]
    if (kindRule === undefined) {
      const elsewhere = rules.placements.filter((other) => other.media[item.kind] !== undefined).map((other) => other.placement)
      if (elsewhere.length > 0) {
        emit(
          "UNSUPPORTED_MEDIA_CONFIG",
          [...itemPath, "kind"],
          `${where} does not take ${item.kind} media (it takes ${kindsList(row) || "no media"}); ${rules.displayName} takes ${item.kind} in the ${elsewhere.join(", ")} placement`
        )
      } else {
        emit("UNSUPPORTED_MEDIA_TYPE", [...itemPath, "kind"], `${rules.displayName} does not accept ${item.kind} media`)
      }
      return
    }
    for (const field of ["sizeBytes", "width", "height", "durationSeconds", "frames"] as const) {
      const value = item[field]
      if (value !== undefined && !(Number.isFinite(value) && value >= 0)) {
        emit("INVALID_POST", [...itemPath, field], `${field} must be a finite number ≥ 0; got ${value}`)
        return
      }
    }
    if (!Rules.mimeTypeAllowed(kindRule.mimeTypes, item.mimeType)) {
      emit(
        "UNSUPPORTED_MEDIA_TYPE",
        [...itemPath, "mimeType"],
        `${where} accepts ${item.kind} as ${kindRule.mimeTypes.join(", ")}; this one is ${item.mimeType || "(no type)"}`
      )
    }
    if (kindRule.maxSizeBytes !== undefined && item.sizeBytes > kindRule.maxSizeBytes) {
      emit(
        "MEDIA_TOO_LARGE",
        [...itemPath, "sizeBytes"],
        `${where} allows ${item.kind} up to ${formatSizes(kindRule.maxSizeBytes, item.sizeBytes).join("; this one is ")}`,
        { limit: kindRule.maxSizeBytes, actual: item.sizeBytes }
      )
    }
    if (kindRule.minSizeBytes !== undefined && item.sizeBytes < kindRule.minSizeBytes) {
      emit(
        "MEDIA_TOO_SMALL",
        [...itemPath, "sizeBytes"],
        `${where} needs ${item.kind} of at least ${formatSizes(kindRule.minSizeBytes, item.sizeBytes).join("; this one is ")}`,
        { limit: kindRule.minSizeBytes, actual: item.sizeBytes }
      )
    }
    const duration = item.durationSeconds
    if (duration !== undefined && (kindRule.minDurationSeconds !== undefined || kindRule.maxDurationSeconds !== undefined)) {
      const min = kindRule.minDurationSeconds ?? 0
      const max = kindRule.maxDurationSeconds ?? Infinity
      // A video of no length is never publishable, whatever the minimum.
      if (duration <= 0 || duration < min || duration > max) {
        const range = `${formatSeconds(min)} to ${max === Infinity ? "any length" : formatSeconds(max)}`
        emit(
          "VIDEO_DURATION_OUT_OF_RANGE",
          [...itemPath, "durationSeconds"],
          `${where} allows ${item.kind} of ${min === 0 ? "more than 0 s" : range}${min === 0 && max !== Infinity ? ` up to ${formatSeconds(max)}` : ""}; this one lasts ${formatSeconds(duration)}`,
          { limit: duration > max ? max : min, actual: duration }
        )
      }
    }
    const { width, height } = item
    if (width !== undefined && height !== undefined && width > 0 && height > 0) {
      const ratio = width / height
      const min = kindRule.minAspectRatio
      const max = kindRule.maxAspectRatio
      const below = min !== undefined && ratio < min * (1 - ASPECT_TOLERANCE)
      const above = max !== undefined && ratio > max * (1 + ASPECT_TOLERANCE)
      if (below || above) {
        const range =
          min !== undefined && max !== undefined
            ? min === max
              ? `exactly ${formatRatio(min)}`
              : `${formatRatio(min)} to ${formatRatio(max)}`
            : min !== undefined
              ? `at least ${formatRatio(min)}`
              : `at most ${formatRatio(max!)}`
        emit(
          "ASPECT_RATIO_OUT_OF_RANGE",
          itemPath,
          `${where} needs ${item.kind} with an aspect ratio (width / height) of ${range}; this one is ${width}×${height} (${formatRatio(ratio)})`,
          { limit: below ? min : max, actual: ratio }
        )
      }
      if (kindRule.maxPixels !== undefined && width * height > kindRule.maxPixels) {
        emit(
          "DIMENSIONS_OUT_OF_RANGE",
          itemPath,
          `${where} allows ${item.kind} of up to ${kindRule.maxPixels} pixels; this one is ${width}×${height} (${width * height})`,
          { limit: kindRule.maxPixels, actual: width * height }
        )
      }
    }
    const sides = [
      ["width", width, kindRule.minWidth, kindRule.maxWidth],
      ["height", height, kindRule.minHeight, kindRule.maxHeight]
    ] as const
    for (const [side, value, min, max] of sides) {
      if (value === undefined) continue
      if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
        emit(
          "DIMENSIONS_OUT_OF_RANGE",
          [...itemPath, side],
          `${where} allows ${item.kind} ${side} of ${min ?? 0}${max !== undefined ? `–${max}` : "+"} px; this one is ${value} px`,
          { limit: max !== undefined && value > max ? max : min, actual: value }
        )
      }
    }
    for (const limit of kindRule.altText ?? []) {
      if (item.altText === undefined) break
      const { counted, shown } = countOver(item.altText, limit.counting, limit.max)
      if (counted > limit.max) {
        emit(
          "CONTENT_TOO_LONG",
          [...itemPath, "altText"],
          `${where} allows ${limit.max} ${TextCount.unitDescription[limit.counting]} of alt text; this ${item.kind}'s alt text counts ${shown}`,
          { limit: limit.max, actual: counted }
        )
      }
    }
    if (kindRule.thumbnail !== undefined && item.thumbnail !== undefined) {
      const thumbnailRule = kindRule.thumbnail
      const thumbnail = item.thumbnail
      if (!Rules.mimeTypeAllowed(thumbnailRule.mimeTypes, thumbnail.mimeType)) {
        emit(
          "UNSUPPORTED_MEDIA_TYPE",
          [...itemPath, "thumbnail", "mimeType"],
          `${where} accepts a ${item.kind} thumbnail as ${thumbnailRule.mimeTypes.join(", ")}; this one is ${thumbnail.mimeType || "(no type)"}`
        )
      }
      if (thumbnailRule.maxSizeBytes !== undefined && thumbnail.sizeBytes !== undefined && thumbnail.sizeBytes > thumbnailRule.maxSizeBytes) {
        emit(
          "MEDIA_TOO_LARGE",
          [...itemPath, "thumbnail", "sizeBytes"],
          `${where} allows a ${item.kind} thumbnail up to ${formatSizes(thumbnailRule.maxSizeBytes, thumbnail.sizeBytes).join("; this one is ")}`,
          { limit: thumbnailRule.maxSizeBytes, actual: thumbnail.sizeBytes }
        )
      }
    }
    if (kindRule.maxFrames !== undefined && item.frames !== undefined && item.frames > kindRule.maxFrames) {
      emit(
        "UNSUPPORTED_MEDIA_CONFIG",
        [...itemPath, "frames"],
        `${where} allows ${item.kind} of up to ${kindRule.maxFrames} frames; this one has ${item.frames}`,
        { limit: kindRule.maxFrames, actual: item.frames }
      )
    }
  })
}

const hashtagTooLong = (rules: Rules.PlatformRules, limit: Rules.TextLimit, counted: number) =>
  `${rules.displayName} allows hashtags of ${limit.max} ${TextCount.unitDescription[limit.counting]}; this one counts ${counted}`

const preview = (text: string) => (text.length > 20 ? `${text.slice(0, 19)}…` : text)

/** Each entry of the settings lists that hold extra hashtags (Bluesky's `tags`), counted without a leading `#`. */
const checkSettingsHashtags = (
  emit: Emit,
  rules: Rules.PlatformRules,
  settings: Readonly<Record<string, unknown>>,
  settingsPath: (key: string) => IssuePath
): void => {
  const rule = rules.hashtagLength
  for (const field of rule?.settingsFields ?? []) {
    const value = settings[field]
    // Wrong types are the settings schema's to report.
    if (!Array.isArray(value)) continue
    value.forEach((entry: unknown, index) => {
      if (typeof entry !== "string") return
      const tag = entry.replace(/^[#＃]/, "")
      for (const { counted, limit } of TextCount.exceeded(tag, rule!.text)) {
        emit("CONTENT_TOO_LONG", [...settingsPath(field), index], `${hashtagTooLong(rules, limit, counted)}: #${preview(tag)} in ${field}`, {
          limit: limit.max,
          actual: counted
        })
      }
    })
  }
}

/** The settings text fields a placement limits (YouTube title and tags). */
const checkSettingsText = (
  emit: Emit,
  rules: Rules.PlatformRules,
  row: Rules.PlacementRule,
  settings: Readonly<Record<string, unknown>>,
  settingsPath: (key: string) => IssuePath
): void => {
  const where = placementName(rules, row.placement)
  for (const limit of row.settingsText ?? []) {
    const value = settings[limit.field]
    const text =
      typeof value === "string"
        ? value
        : Array.isArray(value) && value.every((entry) => typeof entry === "string")
          ? limit.join === "youtube_tags"
            ? TextCount.joinYoutubeTags(value)
            : value.join(",")
          : undefined
    // Wrong types are the settings schema's to report.
    if (text === undefined) continue
    const { counted, shown } = countOver(text, limit.counting, limit.max)
    const label = limit.label ?? limit.field
    if (counted > limit.max) {
      emit(
        "CONTENT_TOO_LONG",
        settingsPath(limit.field),
        `${where} allows ${limit.max} ${TextCount.unitDescription[limit.counting]} in the ${label}${limit.join === "youtube_tags" ? " (joined by commas, tags with spaces in quotes)" : ""}; this ${label} counts ${shown}`,
        { limit: limit.max, actual: counted }
      )
    }
    const forbidden = (limit.forbiddenCharacters ?? []).filter((character) => text.includes(character))
    if (forbidden.length > 0) {
      emit(
        "INVALID_CHARACTERS",
        settingsPath(limit.field),
        `${where} does not accept ${forbidden.map((c) => JSON.stringify(c)).join(", ")} in the ${label}`
      )
    }
  }
}

// ---------------------------------------------------------------------------
// validatePost
// ---------------------------------------------------------------------------

/**
 * The first comment: refused where the platform cannot post one (the post
 * itself is fine; an override clears the comment there), else its length
 * counted the platform's way.
 */
const checkComment = (emit: Emit, rules: Rules.PlatformRules, comment: string | undefined, path: IssuePath) => {
  if (comment === undefined) return
  const rule = rules.firstComment
  if (rule === undefined) {
    emit(
      "COMMENT_NOT_SUPPORTED",
      path,
      `${rules.displayName} cannot post a first comment here; clear it for ${rules.displayName} with a per-platform override (comment: "")`
    )
    return
  }
  for (const limit of rule.text) {
    const { counted, shown } = countOver(comment, limit.counting, limit.max)
    if (counted > limit.max) {
      emit(
        "CONTENT_TOO_LONG",
        path,
        `${rules.displayName} allows ${limit.max} ${TextCount.unitDescription[limit.counting]} in a first comment; this comment counts ${shown}`,
        { limit: limit.max, actual: counted }
      )
    }
  }
}

type ContentKey = "text" | "media" | "link" | "thread" | "comment"

/** Characters of text in a content or an override (first part and thread parts); anything malformed counts 0. */
const textLength = (value: unknown): number => {
  if (!isRecord(value)) return 0
  const own = (typeof value.text === "string" ? value.text.length : 0) +
    (typeof value.comment === "string" ? value.comment.length : 0)
  const thread = Array.isArray(value.thread)
    ? value.thread.reduce((sum: number, part: unknown) => sum + (isRecord(part) && typeof part.text === "string" ? part.text.length : 0), 0)
    : 0
  return own + thread
}

const validate = (input: unknown, options: ValidateOptions): Array<ValidationIssue> => {
  const issues: Array<ValidationIssue> = []
  const push = (issue: ValidationIssue) => issues.push(issue)
  const postLevel = (code: IssueCode, path: IssuePath, message: string) => push({ code, path, message })

  if (!isRecord(input)) {
    postLevel("INVALID_POST", [], `a post is an object with content and destinations; got ${describeType(input)}`)
    return issues
  }

  for (const key of Object.keys(input)) {
    if (!topLevelKeys.has(key)) postLevel("INVALID_POST", [key], Problems.unknownField([key], topLevelKeys).message)
  }
  const meta = decode(PostMeta, { id: input.id, status: input.status, createdAt: input.createdAt, updatedAt: input.updatedAt })
  if (Result.isFailure(meta)) for (const problem of meta.failure) postLevel("INVALID_POST", problem.path, problem.message)

  // Content
  let content: Post.Content | undefined
  if (!("content" in input) || input.content === undefined) {
    postLevel("INVALID_POST", ["content"], "a post needs content (text, media, a link or a thread)")
  } else {
    const decoded = decode(Post.Content, input.content)
    if (Result.isSuccess(decoded)) content = decoded.success
    else for (const problem of decoded.failure) postLevel("INVALID_POST", ["content", ...problem.path], problem.message)
  }

  // Platform overrides: one bad platform's override does not hide the others' issues.
  const platformOverrides: Record<string, Post.Override> = {}
  const brokenOverrides = new Set<string>()
  if (input.platformOverrides !== undefined) {
    if (!isRecord(input.platformOverrides)) {
      postLevel("INVALID_POST", ["platformOverrides"], `platformOverrides is an object keyed by platform id; got ${describeType(input.platformOverrides)}`)
    } else {
      for (const [platform, override] of Object.entries(input.platformOverrides)) {
        const decoded = decode(Post.Override, override)
        if (Result.isSuccess(decoded)) platformOverrides[platform] = decoded.success
        else {
          brokenOverrides.add(platform)
          for (const problem of decoded.failure) postLevel("INVALID_POST", ["platformOverrides", platform, ...problem.path], problem.message)
        }
      }
    }
  }

  // Schedule
  let scheduledAt: number | undefined
  if (input.schedule !== undefined) {
    const decoded = decode(Schedule.Schedule, input.schedule)
    if (Result.isFailure(decoded)) {
      for (const problem of decoded.failure) postLevel("INVALID_SCHEDULE", ["schedule", ...problem.path], problem.message)
    } else {
      const resolved = Schedule.resolve(decoded.success)
      if (Result.isFailure(resolved)) postLevel("INVALID_SCHEDULE", ["schedule"], resolved.failure.message)
      else scheduledAt = resolved.success.epochMilliseconds
    }
  }
  const now = (options.now ?? new Date()).getTime()
  // A stored post (it has createdAt) had its schedule checked when it was stored; time has passed since.
  if (scheduledAt !== undefined && input.createdAt === undefined && scheduledAt < now - pastToleranceMs) {
    postLevel(
      "SCHEDULE_IN_PAST",
      ["schedule"],
      `the schedule (${new Date(scheduledAt).toISOString()}) is ${formatAgo(now - scheduledAt)} in the past; give a future time, or no schedule to publish now`
    )
  }

  // Destinations
  if (!Array.isArray(input.destinations)) {
    postLevel(
      "INVALID_POST",
      ["destinations"],
      input.destinations === undefined ? "a post needs destinations" : `destinations is an array; got ${describeType(input.destinations)}`
    )
    return issues
  }
  if (input.destinations.length === 0) postLevel("INVALID_POST", ["destinations"], "a post needs at least one destination")
  if (input.destinations.length > Limits.maxDestinations) {
    postLevel(
      "INVALID_POST",
      ["destinations"],
      `a post has at most ${Limits.maxDestinations} destinations; this one has ${input.destinations.length}`
    )
    return issues
  }

  // All the post's texts together: past the bound, no destination is checked (that work is what the bound bounds).
  const totalText = textLength(content) +
    Object.values(platformOverrides).reduce((sum, override) => sum + textLength(override), 0) +
    input.destinations.reduce((sum: number, destination: unknown) =>
      sum + (isRecord(destination) && isRecord(destination.override) ? textLength(destination.override) : 0), 0)
  if (totalText > Limits.maxPostTextLength) {
    postLevel(
      "INVALID_POST",
      ["content"],
      `a post holds at most ${Limits.maxPostTextLength.toLocaleString("en-US")} characters of text in all (every part, every override); this one has ${totalText.toLocaleString("en-US")}`
    )
    return issues
  }

  const allRules: Readonly<Record<string, Rules.PlatformRules>> = { ...Rules.rules, ...options.rules }
  const allSchemas: Readonly<Record<string, Settings.SettingsSchema>> = { ...Settings.settingsSchemas, ...options.settingsSchemas }
  const seen = new Map<string, number>()

  input.destinations.forEach((rawDestination: unknown, destinationIndex: number) => {
    const destinationPath = ["destinations", destinationIndex] as const
    if (!isRecord(rawDestination)) {
      postLevel("INVALID_POST", destinationPath, `a destination is an object with platform and accountId; got ${describeType(rawDestination)}`)
      return
    }
    const withoutState: Record<string, unknown> = {}
    for (const [key, value] of Object.entries(rawDestination)) if (!destinationStateKeys.has(key)) withoutState[key] = value
    const decoded = decode(Post.DestinationInput, withoutState)
    if (Result.isFailure(decoded)) {
      for (const problem of decoded.failure) {
        push({
          code: "INVALID_POST",
          path: [...destinationPath, ...problem.path],
          message: problem.message,
          destinationIndex,
          ...(typeof rawDestination.platform === "string" ? { platform: rawDestination.platform } : {}),
          ...(typeof rawDestination.accountId === "string" ? { accountId: rawDestination.accountId } : {})
        })
      }
      return
    }
    const destination = decoded.success
    const scope: DestinationScope = { platform: destination.platform, destinationIndex, accountId: destination.accountId }
    const emit: Emit = (code, path, message, numbers) =>
      push({
        code,
        path,
        message,
        platform: scope.platform,
        destinationIndex,
        accountId: scope.accountId,
        ...(numbers?.limit !== undefined ? { limit: numbers.limit } : {}),
        ...(numbers?.actual !== undefined ? { actual: numbers.actual } : {})
      })

    const rules = allRules[destination.platform]
    if (rules === undefined) {
      emit(
        "UNKNOWN_PLATFORM",
        [...destinationPath, "platform"],
        `no rules for platform "${destination.platform}": register a publisher for it (known: ${Object.keys(allRules).join(", ")})`
      )
      return
    }
    // Rules from a plugin may be malformed: that fails this destination, not the whole report.
    try {
      if (brokenOverrides.has(destination.platform)) return

      const platformOverride = platformOverrides[destination.platform]
      const settingsPath = (key: string): IssuePath =>
        destination.override?.settings?.[key] !== undefined
          ? [...destinationPath, "override", "settings", key]
          : destination.settings?.[key] !== undefined || platformOverride?.settings?.[key] === undefined
            ? [...destinationPath, "settings", key]
            : ["platformOverrides", destination.platform, "settings", key]

      // Settings first: they do not depend on the content, so a broken content
      // does not hide their issues. Merged as `Post.resolveDestination` merges them.
      const mergedSettings = { ...platformOverride?.settings, ...destination.settings, ...destination.override?.settings }
      const schema = allSchemas[destination.platform]
      let settings: Readonly<Record<string, unknown>> | undefined = mergedSettings
      if (schema !== undefined) {
        const decodedSettings = decode(schema, mergedSettings)
        if (Result.isSuccess(decodedSettings)) settings = decodedSettings.success
        else {
          settings = undefined
          for (const problem of decodedSettings.failure) {
            const [key, ...rest] = problem.path
            emit(
              "INVALID_SETTINGS",
              key === undefined ? [...destinationPath, "settings"] : [...settingsPath(String(key)), ...rest],
              `${rules.displayName} settings: ${problem.message}`
            )
          }
        }
      }

      if (content === undefined) return
      const resolved = Post.resolveDestination({ content, platformOverrides }, destination)
      const originOf = (key: ContentKey): IssuePath =>
        destination.override?.[key] !== undefined
          ? [...destinationPath, "override", key]
          : platformOverride?.[key] !== undefined
            ? ["platformOverrides", destination.platform, key]
            : ["content", key]

      const placement = destination.placement ?? Rules.inferPlacement(rules, resolved.parts[0].media.map((item) => item.kind))

      // Duplicates: the same account and placement twice would post twice.
      const duplicateKey = JSON.stringify([destination.platform, destination.accountId, placement])
      const first = seen.get(duplicateKey)
      if (first !== undefined) {
        emit(
          "DUPLICATE_DESTINATION",
          destinationPath,
          `destination ${destinationIndex} repeats destination ${first} (${rules.displayName} account ${destination.accountId}, ${placement}); it would be posted twice`
        )
      } else seen.set(duplicateKey, destinationIndex)

      const row = Rules.placementRule(rules, placement)
      if (row === undefined) {
        emit(
          "INVALID_PLACEMENT",
          [...destinationPath, "placement"],
          `${rules.displayName} has no ${placement} placement; it has ${rules.placements.map((p) => p.placement).join(", ")}`
        )
      } else {
        const threadPath = originOf("thread")
        if (resolved.parts.length > 1 && !rules.threads) {
          emit(
            "THREAD_NOT_SUPPORTED",
            threadPath,
            `${rules.displayName} cannot post a thread (a reply chain); this post has ${resolved.parts.length} parts. Use a per-platform override without a thread.`,
            { limit: 1, actual: resolved.parts.length }
          )
        }
        const partsToCheck = rules.threads ? resolved.parts : resolved.parts.slice(0, 1)
        partsToCheck.forEach((part, partIndex) => {
          const paths: PartPaths =
            partIndex === 0
              ? { text: originOf("text"), media: originOf("media"), link: originOf("link") }
              : {
                text: [...threadPath, partIndex - 1, "text"],
                media: [...threadPath, partIndex - 1, "media"],
                link: [...threadPath, partIndex - 1, "link"]
              }
          checkPart(emit, rules, row, part, partIndex, paths)
        })
        checkComment(emit, rules, resolved.comment, originOf("comment"))
        checkSettingsText(emit, rules, row, resolved.settings, settingsPath)
        checkSettingsHashtags(emit, rules, resolved.settings, settingsPath)

        if (scheduledAt !== undefined && options.scheduling === "native") {
          const native = rules.nativeScheduling
          const leadSeconds = Math.round((scheduledAt - now) / 1000)
          if (!native.supported || (native.placements !== undefined && !native.placements.includes(placement))) {
            emit("SCHEDULING_NOT_SUPPORTED", ["schedule"], `${placementName(rules, placement)} cannot schedule posts itself; let the Omnipost worker publish it at the time`)
          } else if (native.minLeadSeconds !== undefined && leadSeconds < native.minLeadSeconds) {
            emit(
              "SCHEDULING_NOT_SUPPORTED",
              ["schedule"],
              `${rules.displayName} schedules posts at least ${formatSeconds(native.minLeadSeconds)} ahead; this schedule is ${formatSeconds(leadSeconds)} ahead`,
              { limit: native.minLeadSeconds, actual: leadSeconds }
            )
          } else if (native.maxLeadSeconds !== undefined && leadSeconds > native.maxLeadSeconds) {
            emit(
              "SCHEDULING_NOT_SUPPORTED",
              ["schedule"],
              `${rules.displayName} schedules posts at most ${formatSeconds(native.maxLeadSeconds)} ahead; this schedule is ${formatSeconds(leadSeconds)} ahead`,
              { limit: native.maxLeadSeconds, actual: leadSeconds }
            )
          } else if (native.requiresSetting !== undefined && resolved.settings[native.requiresSetting.field] !== native.requiresSetting.value) {
            const { field, value } = native.requiresSetting
            emit(
              "SCHEDULING_NOT_SUPPORTED",
              settingsPath(field),
              `${rules.displayName} schedules a post itself only when its ${field} is ${JSON.stringify(value)}; this one is ${JSON.stringify(resolved.settings[field]) ?? "not set"}: set it to ${JSON.stringify(value)}, or let the Omnipost worker publish it at the time`
            )
          }
        }
      }

      // The platform's own checks, given settings that decoded.
      const validator = options.extraValidators?.[destination.platform]
      if (validator !== undefined && settings !== undefined) {
        const context: ValidationContext<Readonly<Record<string, unknown>>> = {
          destination: { ...resolved, placement, settings },
          destinationIndex
        }
        let returned: unknown
        try {
          returned = validator(context)
        } catch (error) {
          emit("VALIDATOR_FAILED", destinationPath, `the ${rules.displayName} validator failed: ${error instanceof Error ? error.message : String(error)}`)
          return
        }
        if (!Array.isArray(returned)) {
          emit("VALIDATOR_FAILED", destinationPath, `the ${rules.displayName} validator returned ${describeType(returned)}, not a list of issues`)
          return
        }
        for (const issue of returned as ReadonlyArray<unknown>) {
          const candidate = decode(ValidationIssue, issue)
          if (Result.isFailure(candidate)) {
            emit(
              "VALIDATOR_FAILED",
              destinationPath,
              `the ${rules.displayName} validator returned an invalid issue: ${candidate.failure.map((p) => `${p.message} at ${JSON.stringify(p.path)}`).join("; ")}`
            )
            continue
          }
          push({ platform: scope.platform, destinationIndex, accountId: scope.accountId, ...candidate.success })
        }
      }
    } catch (error) {
      emit(
        "VALIDATOR_FAILED",
        destinationPath,
        `the ${rules.displayName} rules could not be applied: ${error instanceof Error ? error.message : String(error)}`
      )
    }
  })

  return issues
}

/**
 * Validates a post (a `PostInput`, a stored `Post`, or anything at all)
 * against every destination's platform rules. Pure and synchronous; never
 * throws; returns every issue at once.
 *
 * @example
 * const result = validatePost(
 *   { content: { text: "x".repeat(281) }, destinations: [{ platform: "x", accountId: "1" }] }
 * )
 * result.issues[0]?.message
 * // "X allows 280 characters, URLs counting 23 each and emoji and CJK characters 2; this text counts 281"
 */
export const validatePost = (input: unknown, options: ValidateOptions = {}): ValidationResult => {
  let issues: ReadonlyArray<ValidationIssue>
  try {
    issues = validate(input, options ?? {})
  } catch (error) {
    // A bug of ours (or a hostile getter in the input) must still give a report.
    issues = [{
      code: "INVALID_POST",
      path: [],
      message: `the post could not be validated: ${error instanceof Error ? error.message : String(error)}`
    }]
  }
  return { valid: issues.length === 0, issues }
}
