/**
 * How each platform counts text, and the entities (hashtags, mentions, links)
 * the rules limit. Browser-safe: `Intl.Segmenter` for graphemes, plain code
 * unit arithmetic for UTF-8 bytes, and the `twitter-text` reference library
 * for X's weighted length and for entity extraction.
 *
 * @example
 * import { TextCount } from "@omnipost/core"
 * TextCount.count("👨‍👩‍👧 hi", "graphemes") // 4
 * TextCount.count("👨‍👩‍👧 hi", "utf8_bytes") // 21
 */
import twitterText from "twitter-text"
import type { HashtagDetection, TextCounting, TextLimit } from "./Rules.js"

let segmenter: Intl.Segmenter | undefined
const graphemeSegmenter = (): Intl.Segmenter => (segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" }))

/** Printable ASCII, tab and line feed (not CR, which pairs with LF). */
const isPlainAscii = (unit: number): boolean => (unit >= 0x20 && unit <= 0x7e) || unit === 0x09 || unit === 0x0a

/**
 * Sums `weight` over the grapheme clusters of `text`, where a lone plain
 * ASCII character weighs 1. `Intl.Segmenter` is slow (about a microsecond a
 * cluster), so only the runs of other characters are segmented, each with
 * its ASCII neighbours: a neighbour can join the run (`e` + U+0301, `1` +
 * U+FE0F U+20E3, a Prepend mark before a letter) but never joins across a
 * plain ASCII character, since no grapheme rule lets ASCII extend ASCII
 * (a single ASCII character between two other runs is kept in one window).
 * The neighbours are counted in their ASCII run and subtracted from the
 * window, so a joined cluster is counted once, by its weight.
 */
const sumClusters = (text: string, weight: (cluster: string) => number): number => {
  const length = text.length
  let total = 0
  let index = 0
  while (index < length) {
    let complexStart = index
    while (complexStart < length && isPlainAscii(text.charCodeAt(complexStart))) complexStart++
    total += complexStart - index
    if (complexStart >= length) break
    let complexEnd = complexStart
    while (complexEnd < length) {
      if (!isPlainAscii(text.charCodeAt(complexEnd))) complexEnd++
      // A single ASCII character between two others could join both sides
      // (Prepend + a + keycap): keep it inside one window.
      else if (complexEnd + 1 < length && !isPlainAscii(text.charCodeAt(complexEnd + 1))) complexEnd += 2
      else break
    }
    const before = complexStart > 0 ? 1 : 0
    const after = complexEnd < length ? 1 : 0
    for (const { segment } of graphemeSegmenter().segment(text.slice(complexStart - before, complexEnd + after))) {
      total += weight(segment)
    }
    total -= before + after
    index = complexEnd
  }
  return total
}

const one = () => 1

/** User-perceived characters, as `Intl.Segmenter` splits them (a ZWJ family or a flag is one). */
export const graphemes = (text: string): number => sumClusters(text, one)

/**
 * UTF-8 byte length, as `TextEncoder` would encode the string (a lone
 * surrogate becomes U+FFFD, 3 bytes), computed without allocating.
 */
export const utf8Bytes = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4
        i++
      } else bytes += 3
    } else bytes += 3
  }
  return bytes
}

/** UTF-16 code units: JavaScript's `length`. */
export const utf16 = (text: string): number => text.length

const emojiGrapheme = /\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u

/**
 * Threads: graphemes, except that a grapheme which is an emoji counts its
 * UTF-8 byte length ("Emojis are counted as the number of UTF-8 bytes").
 */
export const threads = (text: string): number =>
  sumClusters(text, (cluster) => (emojiGrapheme.test(cluster) ? utf8Bytes(cluster) : 1))

/** X's weighted length, by twitter-text v3 (`parseTweet`): URLs 23, emoji and CJK 2, after NFC. */
export const twitter = (text: string): number => twitterText.parseTweet(text).weightedLength

const counters: Record<TextCounting, (text: string) => number> = {
  twitter,
  graphemes,
  utf8_bytes: utf8Bytes,
  utf16,
  threads
}

/** Counts text the way a platform does. */
export const count = (text: string, counting: TextCounting): number => {
  const counter = counters[counting]
  if (counter === undefined) throw new Error(`unknown text counting "${String(counting)}" (known: ${Object.keys(counters).join(", ")})`)
  return counter(text)
}

/** What a count measures, for messages: "characters (graphemes)", "bytes of UTF-8". */
export const unitDescription: Record<TextCounting, string> = {
  twitter: "characters, URLs counting 23 each and emoji and CJK characters 2",
  graphemes: "characters (graphemes)",
  utf8_bytes: "bytes of UTF-8",
  utf16: "characters (UTF-16 code units)",
  threads: "characters, emoji counting their UTF-8 bytes"
}

// atproto's hashtag: `#` or `＃` at the start or after white space, then visible
// characters up to white space; soft hyphen, word joiner, hair space, zero-width
// characters and the keycap mark end it too. Not digits and punctuation only.
const tagStop = "\\s\\u00AD\\u2060\\u200A\\u200B\\u200C\\u200D\\u20E2"
const atprotoTag = new RegExp(
  `(?:^|\\s)[#＃](?!\\uFE0F)([^${tagStop}]*[^\\d\\p{P}${tagStop}][^${tagStop}]*)?`,
  "gu"
)
const trailingPunctuation = /\p{P}+$/u

const atprotoHashtags = (text: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  for (const match of text.matchAll(atprotoTag)) {
    const tag = (match[1] ?? "").replace(trailingPunctuation, "")
    if (tag.length > 0) found.push(tag)
  }
  return found
}

/**
 * Hashtags in the text, without `#`. `twitter` (default): as twitter-text
 * finds them (`#tag`, `＃tag`, not `#1`). `atproto`: as `@atproto/api`'s
 * RichText does, before it drops tags over its length limit.
 */
export const hashtags = (text: string, detection: HashtagDetection = "twitter"): ReadonlyArray<string> =>
  detection === "atproto" ? atprotoHashtags(text) : twitterText.extractHashtags(text)

/** The limits `text` exceeds, each with its count. */
export const exceeded = (
  text: string,
  limits: ReadonlyArray<TextLimit>
): ReadonlyArray<{ readonly limit: TextLimit; readonly counted: number }> =>
  limits.flatMap((limit) => {
    const counted = count(text, limit.counting)
    return counted > limit.max ? [{ limit, counted }] : []
  })

/** @-mentions in the text, without `@`. */
export const mentions = (text: string): ReadonlyArray<string> => twitterText.extractMentions(text)

/** URLs in the text, including scheme-less domains such as `example.com`. */
export const urls = (text: string): ReadonlyArray<string> => twitterText.extractUrls(text)

const normaliseLink = (url: string): string => url.replace(/^https?:\/\//i, "").replace(/\/$/, "").toLowerCase()

/**
 * Distinct links of a post: the URLs in its text plus a link attachment
 * that differs from all of them (Threads counts such an attachment as one
 * more link). Scheme and trailing slash are ignored when comparing.
 */
export const distinctLinks = (text: string, attachment?: string | undefined): ReadonlyArray<string> => {
  const seen = new Map<string, string>()
  for (const url of urls(text)) if (!seen.has(normaliseLink(url))) seen.set(normaliseLink(url), url)
  if (attachment !== undefined && attachment.length > 0 && !seen.has(normaliseLink(attachment))) {
    seen.set(normaliseLink(attachment), attachment)
  }
  return [...seen.values()]
}

/**
 * YouTube's tag list as it is counted: joined by commas, a tag that contains
 * a space wrapped in quotes (`a,"b c"` counts 7).
 */
export const joinYoutubeTags = (tags: ReadonlyArray<string>): string =>
  tags.map((tag) => (tag.includes(" ") ? `"${tag}"` : tag)).join(",")
