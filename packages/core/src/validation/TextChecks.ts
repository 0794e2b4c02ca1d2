/**
 * The checks of a part's text: that there is something to post, its length
 * counted the platform's way, forbidden characters, and the hashtags,
 * mentions and links in it.
 */
import * as TextCount from "../TextCount.js"
import { type Finding, finding } from "./Issues.js"
import { countOver, hashtagTooLong, preview } from "./Messages.js"
import type { PartCheck, PartContext } from "./Part.js"

/** Text, media or a link (where media is required, MEDIA_REQUIRED says it better). */
export const contentRequired: PartCheck = function*({ hasLink, part, paths, row, suffix, text, where }) {
  if (text.trim().length === 0 && part.media.length === 0 && !hasLink && !row.mediaRequired) {
    yield finding("CONTENT_REQUIRED", paths.text, `${where} needs text, media or a link${suffix}; this post is empty`)
  }
}

/** A placement without text takes no text and no link. */
const noTextAllowed = function*({ hasLink, paths, suffix, text, where }: PartContext): Iterable<Finding> {
  if (hasLink) {
    yield finding("UNSUPPORTED_MEDIA_CONFIG", paths.link, `${where} takes no link${suffix} (remove it, or choose another placement)`)
  }
  if (text.length > 0) {
    const { counted, shown } = countOver(text, "graphemes", 0)
    yield finding(
      "CONTENT_TOO_LONG",
      paths.text,
      `${where} takes no text; this text${suffix} counts ${shown} characters (remove it, or choose another placement)`,
      { limit: 0, actual: counted }
    )
  }
}

/** Every text limit of the placement (a platform may count two ways), and the characters it refuses. */
export const textLength: PartCheck = function*(context) {
  const { linkAppended, paths, row, suffix, text, where } = context
  if (!row.textAllowed) {
    yield* noTextAllowed(context)
    return
  }
  const forbidden = new Set<string>()
  for (const limit of row.text) {
    const { counted, shown } = countOver(text, limit.counting, limit.max)
    if (counted > limit.max) {
      const label = limit.label ?? "text"
      yield finding(
        "CONTENT_TOO_LONG",
        paths.text,
        `${where} allows ${limit.max} ${TextCount.unitDescription[limit.counting]}${limit.label !== undefined ? ` in a ${limit.label}` : ""}; this ${linkAppended ? `${label} with its link` : label}${suffix} counts ${shown}`,
        { limit: limit.max, actual: counted }
      )
    }
    for (const character of limit.forbiddenCharacters ?? []) if (text.includes(character)) forbidden.add(character)
  }
  if (forbidden.size > 0) {
    yield finding(
      "INVALID_CHARACTERS",
      paths.text,
      `${where} does not accept ${[...forbidden].map((c) => JSON.stringify(c)).join(", ")} in this text${suffix}`
    )
  }
}

/** How many hashtags, and how long each may be. */
export const hashtags: PartCheck = function*({ paths, rules, suffix, text, textName }) {
  if (rules.maxHashtags !== undefined) {
    const bound = TextCount.exactBound(rules.maxHashtags.max)
    const found = TextCount.hashtags(text, "twitter", bound).length
    if (found > rules.maxHashtags.max) {
      yield finding("TOO_MANY_HASHTAGS", paths.text, `${rules.displayName} allows ${rules.maxHashtags.max} hashtags; this ${textName}${suffix} has ${found > bound ? `more than ${bound}` : found}`, {
        limit: rules.maxHashtags.max,
        actual: found
      })
    }
  }
  if (rules.hashtagLength !== undefined) {
    for (const tag of TextCount.hashtags(text, rules.hashtagLength.detection)) {
      for (const { counted, limit } of TextCount.exceeded(tag, rules.hashtagLength.text)) {
        yield finding("CONTENT_TOO_LONG", paths.text, `${hashtagTooLong(rules, limit, counted)}: #${preview(tag)} in this ${textName}${suffix}`, {
          limit: limit.max,
          actual: counted
        })
      }
    }
  }
}

export const mentions: PartCheck = function*({ paths, rules, suffix, text, textName }) {
  if (rules.maxMentions === undefined) return
  const bound = TextCount.exactBound(rules.maxMentions.max)
  const found = TextCount.mentions(text, bound).length
  if (found > rules.maxMentions.max) {
    yield finding("TOO_MANY_MENTIONS", paths.text, `${rules.displayName} allows ${rules.maxMentions.max} @mentions; this ${textName}${suffix} has ${found > bound ? `more than ${bound}` : found}`, {
      limit: rules.maxMentions.max,
      actual: found
    })
  }
}

/** Distinct links (the link attachment included), and a link card beside media where the placement takes one or the other. */
export const links: PartCheck = function*({ hasLink, part, paths, row, rules, suffix, text, where }) {
  if (rules.maxLinks !== undefined) {
    const bound = TextCount.exactBound(rules.maxLinks.max)
    const found = TextCount.distinctLinks(text, part.link, bound).length
    if (found > rules.maxLinks.max) {
      yield finding(
        "TOO_MANY_LINKS",
        paths.text,
        `${rules.displayName} allows ${rules.maxLinks.max} distinct links (the link attachment included); this post${suffix} has ${found > bound ? `more than ${bound}` : found}`,
        { limit: rules.maxLinks.max, actual: found }
      )
    }
  }
  if (row.linkWithMedia === false && hasLink && part.media.length > 0) {
    yield finding(
      "UNSUPPORTED_MEDIA_CONFIG",
      paths.link,
      `${where} takes a link card or media, not both; this post${suffix} has a link and ${part.media.length} media`
    )
  }
}

/** The text checks, in the order their issues are reported. */
export const textChecks: ReadonlyArray<PartCheck> = [contentRequired, textLength, hashtags, mentions, links]
