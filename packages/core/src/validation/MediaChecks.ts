/**
 * The checks of a part's media: how many and of which kinds (together), then
 * each item against its kind's rule: type, size, duration, aspect ratio and
 * dimensions, alt text, thumbnail and frames.
 */
import type { Media, MediaKind } from "../Media.js"
import * as Rules from "../Rules.js"
import * as TextCount from "../TextCount.js"
import { type Finding, finding, type IssuePath } from "./Issues.js"
import { ASPECT_TOLERANCE, countOver, formatRatio, formatSeconds, formatSizes, kindsList } from "./Messages.js"
import type { PartCheck } from "./Part.js"

/** Required, at least, at most, mixed kinds, and at most per kind. */
export const mediaCounts: PartCheck = function*({ part, paths, row, suffix, where }) {
  const media = part.media
  if (media.length === 0) {
    if (row.mediaRequired) {
      yield finding("MEDIA_REQUIRED", paths.media, `${where} needs media (${kindsList(row)})${suffix}; this post has none`, {
        limit: Math.max(1, row.minMedia),
        actual: 0
      })
    }
  } else if (media.length < row.minMedia) {
    yield finding("TOO_FEW_MEDIA", paths.media, `${where} needs at least ${row.minMedia} media items; this post${suffix} has ${media.length}`, {
      limit: row.minMedia,
      actual: media.length
    })
  }
  const totalTooMany = media.length > row.maxMedia
  if (totalTooMany) {
    yield finding("TOO_MANY_MEDIA", paths.media, `${where} allows ${row.maxMedia} media item${row.maxMedia === 1 ? "" : "s"}; this post${suffix} has ${media.length}`, {
      limit: row.maxMedia,
      actual: media.length
    })
  }
  const perKind = new Map<MediaKind, number>()
  for (const item of media) perKind.set(item.kind, (perKind.get(item.kind) ?? 0) + 1)
  if (!row.mixedMedia && perKind.size > 1) {
    yield finding(
      "MIXED_MEDIA_NOT_SUPPORTED",
      paths.media,
      `${where} does not mix media kinds (${kindsList(row)}); this post${suffix} has ${[...perKind.entries()].map(([kind, n]) => `${n} ${kind}`).join(", ")}`,
      { limit: 1, actual: perKind.size }
    )
  }
  if (totalTooMany) return
  for (const [kind, n] of perKind) {
    const kindRule = row.media[kind]
    if (kindRule !== undefined && n > kindRule.maxCount) {
      yield finding("TOO_MANY_MEDIA", paths.media, `${where} allows ${kindRule.maxCount} ${kind} per post; this post${suffix} has ${n}`, {
        limit: kindRule.maxCount,
        actual: n
      })
    }
  }
}

/** One media item, its kind's rule and where it is. */
export interface ItemContext {
  readonly item: Media
  readonly rule: Rules.MediaKindRule
  readonly path: IssuePath
  readonly where: string
}

/** A check of one media item whose kind the placement takes and whose numbers are numbers. */
export type ItemCheck = (context: ItemContext) => Iterable<Finding>

const mimeType: ItemCheck = function*({ item, path, rule, where }) {
  if (!Rules.mimeTypeAllowed(rule.mimeTypes, item.mimeType)) {
    yield finding(
      "UNSUPPORTED_MEDIA_TYPE",
      [...path, "mimeType"],
      `${where} accepts ${item.kind} as ${rule.mimeTypes.join(", ")}; this one is ${item.mimeType || "(no type)"}`
    )
  }
}

const size: ItemCheck = function*({ item, path, rule, where }) {
  if (rule.maxSizeBytes !== undefined && item.sizeBytes > rule.maxSizeBytes) {
    yield finding(
      "MEDIA_TOO_LARGE",
      [...path, "sizeBytes"],
      `${where} allows ${item.kind} up to ${formatSizes(rule.maxSizeBytes, item.sizeBytes).join("; this one is ")}`,
      { limit: rule.maxSizeBytes, actual: item.sizeBytes }
    )
  }
  if (rule.minSizeBytes !== undefined && item.sizeBytes < rule.minSizeBytes) {
    yield finding(
      "MEDIA_TOO_SMALL",
      [...path, "sizeBytes"],
      `${where} needs ${item.kind} of at least ${formatSizes(rule.minSizeBytes, item.sizeBytes).join("; this one is ")}`,
      { limit: rule.minSizeBytes, actual: item.sizeBytes }
    )
  }
}

const duration: ItemCheck = function*({ item, path, rule, where }) {
  const seconds = item.durationSeconds
  if (seconds === undefined || (rule.minDurationSeconds === undefined && rule.maxDurationSeconds === undefined)) return
  const min = rule.minDurationSeconds ?? 0
  const max = rule.maxDurationSeconds ?? Infinity
  // A video of no length is never publishable, whatever the minimum.
  if (seconds <= 0 || seconds < min || seconds > max) {
    const range = `${formatSeconds(min)} to ${max === Infinity ? "any length" : formatSeconds(max)}`
    yield finding(
      "VIDEO_DURATION_OUT_OF_RANGE",
      [...path, "durationSeconds"],
      `${where} allows ${item.kind} of ${min === 0 ? "more than 0 s" : range}${min === 0 && max !== Infinity ? ` up to ${formatSeconds(max)}` : ""}; this one lasts ${formatSeconds(seconds)}`,
      { limit: seconds > max ? max : min, actual: seconds }
    )
  }
}

/** Aspect ratio (with the encoders' rounding tolerance) and total pixels. */
const shape: ItemCheck = function*({ item, path, rule, where }) {
  const { height, width } = item
  if (width === undefined || height === undefined || width <= 0 || height <= 0) return
  const ratio = width / height
  const min = rule.minAspectRatio
  const max = rule.maxAspectRatio
  const below = min !== undefined && ratio < min * (1 - ASPECT_TOLERANCE)
  const above = max !== undefined && ratio > max * (1 + ASPECT_TOLERANCE)
  if (below || above) {
    const range = min !== undefined && max !== undefined
      ? min === max
        ? `exactly ${formatRatio(min)}`
        : `${formatRatio(min)} to ${formatRatio(max)}`
      : min !== undefined
      ? `at least ${formatRatio(min)}`
      : `at most ${formatRatio(max!)}`
    yield finding(
      "ASPECT_RATIO_OUT_OF_RANGE",
      path,
      `${where} needs ${item.kind} with an aspect ratio (width / height) of ${range}; this one is ${width}×${height} (${formatRatio(ratio)})`,
      { limit: below ? min : max, actual: ratio }
    )
  }
  if (rule.maxPixels !== undefined && width * height > rule.maxPixels) {
    yield finding(
      "DIMENSIONS_OUT_OF_RANGE",
      path,
      `${where} allows ${item.kind} of up to ${rule.maxPixels} pixels; this one is ${width}×${height} (${width * height})`,
      { limit: rule.maxPixels, actual: width * height }
    )
  }
}

const sides: ItemCheck = function*({ item, path, rule, where }) {
  const bounds = [
    ["width", item.width, rule.minWidth, rule.maxWidth],
    ["height", item.height, rule.minHeight, rule.maxHeight]
  ] as const
  for (const [side, value, min, max] of bounds) {
    if (value === undefined) continue
    if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
      yield finding(
        "DIMENSIONS_OUT_OF_RANGE",
        [...path, side],
        `${where} allows ${item.kind} ${side} of ${min ?? 0}${max !== undefined ? `–${max}` : "+"} px; this one is ${value} px`,
        { limit: max !== undefined && value > max ? max : min, actual: value }
      )
    }
  }
}

const altText: ItemCheck = function*({ item, path, rule, where }) {
  if (item.altText === undefined) return
  for (const limit of rule.altText ?? []) {
    const { counted, shown } = countOver(item.altText, limit.counting, limit.max)
    if (counted > limit.max) {
      yield finding(
        "CONTENT_TOO_LONG",
        [...path, "altText"],
        `${where} allows ${limit.max} ${TextCount.unitDescription[limit.counting]} of alt text; this ${item.kind}'s alt text counts ${shown}`,
        { limit: limit.max, actual: counted }
      )
    }
  }
}

const thumbnail: ItemCheck = function*({ item, path, rule, where }) {
  if (rule.thumbnail === undefined || item.thumbnail === undefined) return
  const thumbnailRule = rule.thumbnail
  const given = item.thumbnail
  if (!Rules.mimeTypeAllowed(thumbnailRule.mimeTypes, given.mimeType)) {
    yield finding(
      "UNSUPPORTED_MEDIA_TYPE",
      [...path, "thumbnail", "mimeType"],
      `${where} accepts a ${item.kind} thumbnail as ${thumbnailRule.mimeTypes.join(", ")}; this one is ${given.mimeType || "(no type)"}`
    )
  }
  if (thumbnailRule.maxSizeBytes !== undefined && given.sizeBytes !== undefined && given.sizeBytes > thumbnailRule.maxSizeBytes) {
    yield finding(
      "MEDIA_TOO_LARGE",
      [...path, "thumbnail", "sizeBytes"],
      `${where} allows a ${item.kind} thumbnail up to ${formatSizes(thumbnailRule.maxSizeBytes, given.sizeBytes).join("; this one is ")}`,
      { limit: thumbnailRule.maxSizeBytes, actual: given.sizeBytes }
    )
  }
}

const frames: ItemCheck = function*({ item, path, rule, where }) {
  if (rule.maxFrames !== undefined && item.frames !== undefined && item.frames > rule.maxFrames) {
    yield finding(
      "UNSUPPORTED_MEDIA_CONFIG",
      [...path, "frames"],
      `${where} allows ${item.kind} of up to ${rule.maxFrames} frames; this one has ${item.frames}`,
      { limit: rule.maxFrames, actual: item.frames }
    )
  }
}

/** The checks of one item, in the order their issues are reported. */
export const itemChecks: ReadonlyArray<ItemCheck> = [mimeType, size, duration, shape, sides, altText, thumbnail, frames]

const numericFields = ["sizeBytes", "width", "height", "durationSeconds", "frames"] as const

/**
 * Each item: a kind the placement takes (else where the platform takes it)
 * and numbers that are numbers, then `itemChecks`.
 */
export const mediaItems: PartCheck = function*({ part, paths, row, rules, where }) {
  for (const [index, item] of part.media.entries()) {
    const path = [...paths.media, index]
    const rule = row.media[item.kind]
    if (rule === undefined) {
      const elsewhere = rules.placements.filter((other) => other.media[item.kind] !== undefined).map((other) => other.placement)
      yield elsewhere.length > 0
        ? finding(
          "UNSUPPORTED_MEDIA_CONFIG",
          [...path, "kind"],
          `${where} does not take ${item.kind} media (it takes ${kindsList(row) || "no media"}); ${rules.displayName} takes ${item.kind} in the ${elsewhere.join(", ")} placement`
        )
        : finding("UNSUPPORTED_MEDIA_TYPE", [...path, "kind"], `${rules.displayName} does not accept ${item.kind} media`)
      continue
    }
    const notANumber = numericFields.find((field) => item[field] !== undefined && !(Number.isFinite(item[field]) && item[field]! >= 0))
    if (notANumber !== undefined) {
      yield finding("INVALID_POST", [...path, notANumber], `${notANumber} must be a finite number ≥ 0; got ${item[notANumber]}`)
      continue
    }
    const context: ItemContext = { item, rule, path, where }
    for (const check of itemChecks) yield* check(context)
  }
}

/** The media checks, in the order their issues are reported. */
export const mediaChecks: ReadonlyArray<PartCheck> = [mediaCounts, mediaItems]
