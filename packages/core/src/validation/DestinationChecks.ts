/**
 * The checks of one destination beyond its parts: thread support, the first
 * comment, the settings texts and hashtag lists its placement limits, and
 * native scheduling.
 */
import type * as Post from "../Post.js"
import type * as Rules from "../Rules.js"
import * as TextCount from "../TextCount.js"
import { type Finding, finding, type IssuePath } from "./Issues.js"
import { countOver, formatSeconds, hashtagTooLong, placementName, preview } from "./Messages.js"

/** A content field whose issues point where the caller wrote it (content, platform override or destination override). */
export type ContentKey = "text" | "media" | "link" | "thread" | "comment"

export interface DestinationContext {
  readonly rules: Rules.PlatformRules
  readonly row: Rules.PlacementRule
  readonly placement: Post.Placement
  readonly resolved: Post.ResolvedDestination
  /** Where a content field came from. */
  readonly originOf: (key: ContentKey) => IssuePath
  /** Where a settings key came from. */
  readonly settingsPath: (key: string) => IssuePath
  /** When it is scheduled (epoch ms), if it is. */
  readonly scheduledAt: number | undefined
  readonly now: number
  readonly scheduling: "worker" | "native" | undefined
}

export type DestinationCheck = (context: DestinationContext) => Iterable<Finding>

export const threadSupported: DestinationCheck = function*({ originOf, resolved, rules }) {
  if (resolved.parts.length > 1 && !rules.threads) {
    yield finding(
      "THREAD_NOT_SUPPORTED",
      originOf("thread"),
      `${rules.displayName} cannot post a thread (a reply chain); this post has ${resolved.parts.length} parts. Use a per-platform override without a thread.`,
      { limit: 1, actual: resolved.parts.length }
    )
  }
}

/**
 * The first comment: refused where the platform cannot post one (the post
 * itself is fine; an override clears the comment there), else its length
 * counted the platform's way.
 */
export const comment: DestinationCheck = function*({ originOf, resolved, rules }) {
  const text = resolved.comment
  if (text === undefined) return
  const path = originOf("comment")
  const rule = rules.firstComment
  if (rule === undefined) {
    yield finding(
      "COMMENT_NOT_SUPPORTED",
      path,
      `${rules.displayName} cannot post a first comment here; clear it for ${rules.displayName} with a per-platform override (comment: "")`
    )
    return
  }
  for (const limit of rule.text) {
    const { counted, shown } = countOver(text, limit.counting, limit.max)
    if (counted > limit.max) {
      yield finding(
        "CONTENT_TOO_LONG",
        path,
        `${rules.displayName} allows ${limit.max} ${TextCount.unitDescription[limit.counting]} in a first comment; this comment counts ${shown}`,
        { limit: limit.max, actual: counted }
      )
    }
  }
}

/** The settings text fields a placement limits (YouTube title and tags). */
export const settingsText: DestinationCheck = function*({ resolved, row, rules, settingsPath }) {
  const where = placementName(rules, row.placement)
  for (const limit of row.settingsText ?? []) {
    const value = resolved.settings[limit.field]
    const text = typeof value === "string"
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
      yield finding(
        "CONTENT_TOO_LONG",
        settingsPath(limit.field),
        `${where} allows ${limit.max} ${TextCount.unitDescription[limit.counting]} in the ${label}${limit.join === "youtube_tags" ? " (joined by commas, tags with spaces in quotes)" : ""}; this ${label} counts ${shown}`,
        { limit: limit.max, actual: counted }
      )
    }
    const forbidden = (limit.forbiddenCharacters ?? []).filter((character) => text.includes(character))
    if (forbidden.length > 0) {
      yield finding(
        "INVALID_CHARACTERS",
        settingsPath(limit.field),
        `${where} does not accept ${forbidden.map((c) => JSON.stringify(c)).join(", ")} in the ${label}`
      )
    }
  }
}

/** Each entry of the settings lists that hold extra hashtags (Bluesky's `tags`), counted without a leading `#`. */
export const settingsHashtags: DestinationCheck = function*({ resolved, rules, settingsPath }) {
  const rule = rules.hashtagLength
  for (const field of rule?.settingsFields ?? []) {
    const value = resolved.settings[field]
    // Wrong types are the settings schema's to report.
    if (!Array.isArray(value)) continue
    for (const [index, entry] of (value as ReadonlyArray<unknown>).entries()) {
      if (typeof entry !== "string") continue
      const tag = entry.replace(/^[#＃]/, "")
      for (const { counted, limit } of TextCount.exceeded(tag, rule!.text)) {
        yield finding("CONTENT_TOO_LONG", [...settingsPath(field), index], `${hashtagTooLong(rules, limit, counted)}: #${preview(tag)} in ${field}`, {
          limit: limit.max,
          actual: counted
        })
      }
    }
  }
}

/** With `scheduling: "native"`, the platform must schedule the post itself, within its window and with the setting it needs. */
export const nativeScheduling: DestinationCheck = function*({ now, placement, resolved, rules, scheduledAt, scheduling, settingsPath }) {
  if (scheduledAt === undefined || scheduling !== "native") return
  const native = rules.nativeScheduling
  const leadSeconds = Math.round((scheduledAt - now) / 1000)
  if (!native.supported || (native.placements !== undefined && !native.placements.includes(placement))) {
    yield finding("SCHEDULING_NOT_SUPPORTED", ["schedule"], `${placementName(rules, placement)} cannot schedule posts itself; let the Omnipost worker publish it at the time`)
  } else if (native.minLeadSeconds !== undefined && leadSeconds < native.minLeadSeconds) {
    yield finding(
      "SCHEDULING_NOT_SUPPORTED",
      ["schedule"],
      `${rules.displayName} schedules posts at least ${formatSeconds(native.minLeadSeconds)} ahead; this schedule is ${formatSeconds(leadSeconds)} ahead`,
      { limit: native.minLeadSeconds, actual: leadSeconds }
    )
  } else if (native.maxLeadSeconds !== undefined && leadSeconds > native.maxLeadSeconds) {
    yield finding(
      "SCHEDULING_NOT_SUPPORTED",
      ["schedule"],
      `${rules.displayName} schedules posts at most ${formatSeconds(native.maxLeadSeconds)} ahead; this schedule is ${formatSeconds(leadSeconds)} ahead`,
      { limit: native.maxLeadSeconds, actual: leadSeconds }
    )
  } else if (native.requiresSetting !== undefined && resolved.settings[native.requiresSetting.field] !== native.requiresSetting.value) {
    const { field, value } = native.requiresSetting
    yield finding(
      "SCHEDULING_NOT_SUPPORTED",
      settingsPath(field),
      `${rules.displayName} schedules a post itself only when its ${field} is ${JSON.stringify(value)}; this one is ${JSON.stringify(resolved.settings[field]) ?? "not set"}: set it to ${JSON.stringify(value)}, or let the Omnipost worker publish it at the time`
    )
  }
}
