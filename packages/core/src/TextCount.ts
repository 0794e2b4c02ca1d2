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
import { simpleTwitterWeight, sumClusters } from "./internal/Clusters.js"
import { twitterPieces } from "./internal/TwitterPieces.js"
import { mayHoldUrl } from "./internal/UrlScan.js"
import type { HashtagDetection, TextCounting, TextLimit } from "./Rules.js"
import { Lru } from "./Lru.js"

export { splitBeforeSchemes, twitterPieces } from "./internal/TwitterPieces.js"
export { mayHoldUrl } from "./internal/UrlScan.js"

const one = () => 1

/**
 * User-perceived characters, as `Intl.Segmenter` splits them (a ZWJ family or a flag is one).
 * With `atMost`, counting stops once the count passes it (see `count`).
 */
export const graphemes = (text: string, atMost?: number): number => sumClusters(text, one, one, atMost)

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
export const threads = (text: string, atMost?: number): number =>
  sumClusters(text, (cluster) => (emojiGrapheme.test(cluster) ? utf8Bytes(cluster) : 1), (width) => (width === 2 ? 4 : 1), atMost)

/**
 * X's weighted length, by twitter-text v3 (`parseTweet`): URLs 23, emoji and
 * CJK 2, of the text's NFC form (as parseTweet, which normalizes first). In time linear in the text: where no URL can be
 * (`mayHoldUrl`), simple characters (ASCII, CJK, kana, Hangul, stand-alone
 * emoji) are weighed directly; the rest is handed to twitter-text piece by
 * piece (`twitterPieces`), with the dots of a piece that can hold no URL
 * turned into commas (same weight) so that its URL scan does not run. With
 * `atMost`, it stops once the count passes it.
 */
export const twitter = (raw: string, atMost = Infinity): number => {
  // parseTweet counts the NFC form: a URL may appear only after composing ("example.coma\u0301" holds "example.com").
  const text = raw.normalize("NFC")
  const urlFree = !mayHoldUrl(text)
  if (urlFree) {
    const simple = simpleTwitterWeight(text, atMost)
    if (simple !== undefined) return simple
  }
  let total = 0
  for (const piece of twitterPieces(text, atMost !== Infinity)) {
    total += pieceWeight(piece, urlFree)
    if (total > atMost) break
  }
  return total
}

const pieceWeight = (piece: string, urlFree: boolean): number => {
  if (!urlFree && mayHoldUrl(piece)) return twitterText.parseTweet(piece).weightedLength
  return simpleTwitterWeight(piece) ?? twitterText.parseTweet(piece.includes(".") ? piece.replaceAll(".", ",") : piece).weightedLength
}

/** twitter-text's entities of `text`, piece by piece, stopping once more than `atMost` are found. */
const entities = (
  text: string,
  extract: (piece: string) => ReadonlyArray<string>,
  atMost = Infinity,
  mark?: RegExp
): ReadonlyArray<string> => {
  // twitter-text's own first check, once for the whole text instead of once a piece.
  if (mark !== undefined && !mark.test(text)) return []
  const found: Array<string> = []
  for (const piece of twitterPieces(text)) {
    found.push(...extract(piece))
    if (found.length > atMost) break
  }
  return found
}

/**
 * The answers for the last few long texts: a post's text is validated once
 * per destination, and each pass over 100,000 characters costs milliseconds.
 * Pure functions of their arguments, so a cached answer is the answer.
 */
const memoized = <A>(_name: string, compute: (text: string, key: string) => A) => {
  const cache = new Lru<string, Map<string, A>>(16)
  return (text: string, key: string): A => {
    if (text.length < 1_000) return compute(text, key)
    const answers = cache.getOrSet(text, () => new Map())
    let answer = answers.get(key)
    if (answer === undefined && !answers.has(key)) {
      answer = compute(text, key)
      answers.set(key, answer)
    }
    return answer as A
  }
}

const counters: Record<TextCounting, (text: string, atMost?: number) => number> = {
  twitter,
  graphemes,
  utf8_bytes: utf8Bytes,
  utf16,
  threads
}

/**
 * Counts text the way a platform does. With `atMost`, counting may stop once
 * the count passes it: a result above `atMost` then says "more than
 * `atMost`", at least the result, not the exact count (whatever the text's
 * length, the work is bounded by `atMost`, not by the text).
 */
export const count = (text: string, counting: TextCounting, atMost?: number): number => {
  const counter = counters[counting]
  if (counter === undefined) throw new Error(`unknown text counting "${String(counting)}" (known: ${Object.keys(counters).join(", ")})`)
  return countMemo(text, `${counting} ${atMost ?? ""}`)
}
const countMemo = memoized("count", (text, key) => {
  const [counting, atMost] = key.split(" ")
  return counters[counting as TextCounting](text, atMost === "" ? undefined : Number(atMost))
})

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
export const hashtags = (text: string, detection: HashtagDetection = "twitter", atMost?: number): ReadonlyArray<string> =>
  hashtagsMemo(text, `${detection} ${atMost ?? ""}`)
const hashtagsMemo = memoized("hashtags", (text, key) => {
  const [detection, atMost] = key.split(" ")
  return detection === "atproto"
    ? atprotoHashtags(text)
    : entities(text, twitterText.extractHashtags, atMost === "" ? undefined : Number(atMost), /[#＃]/)
})

/**
 * The limits `text` exceeds, each with its count: exact up to `exactBound(max)`
 * (twice the limit, at least 1,000), above it a lower bound
 * (see `count`).
 */
export const exceeded = (
  text: string,
  limits: ReadonlyArray<TextLimit>
): ReadonlyArray<{ readonly limit: TextLimit; readonly counted: number; readonly exact: boolean }> =>
  limits.flatMap((limit) => {
    const bound = exactBound(limit.max)
    const counted = count(text, limit.counting, bound)
    return counted > limit.max ? [{ limit, counted, exact: counted <= bound }] : []
  })

/** Up to where an over-limit count is worth computing exactly, for a message. */
export const exactBound = (max: number): number => Math.max(2 * max, 1_000)

/** @-mentions in the text, without `@`; with `atMost`, it may stop once more than that are found. */
export const mentions = (text: string, atMost?: number): ReadonlyArray<string> => mentionsMemo(text, `${atMost ?? ""}`)
const mentionsMemo = memoized("mentions", (text, atMost) =>
  entities(text, twitterText.extractMentions, atMost === "" ? undefined : Number(atMost), /[@＠]/))

/** URLs in the text, including scheme-less domains such as `example.com`. */
export const urls = (text: string): ReadonlyArray<string> =>
  entities(text, (piece) => (mayHoldUrl(piece) ? twitterText.extractUrls(piece) : []), Infinity, /\./)

const normaliseLink = (url: string): string => url.replace(/^https?:\/\//i, "").replace(/\/$/, "").toLowerCase()

/**
 * Distinct links of a post: the URLs in its text plus a link attachment
 * that differs from all of them (Threads counts such an attachment as one
 * more link). Scheme and trailing slash are ignored when comparing. With
 * `atMost`, it may stop once more than `atMost` + 1 are found.
 */
export const distinctLinks = (text: string, attachment?: string | undefined, atMost = Infinity): ReadonlyArray<string> => {
  const seen = new Map(textLinks(text, String(atMost)))
  if (attachment !== undefined && attachment.length > 0 && !seen.has(normaliseLink(attachment))) {
    seen.set(normaliseLink(attachment), attachment)
  }
  return [...seen.values()]
}
const textLinks = memoized("links", (text, atMost): ReadonlyArray<readonly [string, string]> => {
  const seen = new Map<string, string>()
  // A dotted wall repeats its windows (`a.com/a.com/…` has three): each distinct one is extracted once.
  const extracted = new Map<string, ReadonlyArray<string>>()
  for (const piece of text.includes(".") ? twitterPieces(text) : []) {
    // twitter-text's extraction costs about 5 µs a character on dotted text; most pieces cannot hold a URL at all.
    if (!mayHoldUrl(piece)) continue
    let urls = extracted.get(piece)
    if (urls === undefined) {
      urls = twitterText.extractUrls(piece)
      if (extracted.size < 256) extracted.set(piece, urls)
    }
    for (const url of urls) if (!seen.has(normaliseLink(url))) seen.set(normaliseLink(url), url)
    // One more than `atMost` is enough to say there are too many.
    if (seen.size > Number(atMost) + 1) break
  }
  return [...seen]
})

/**
 * YouTube's tag list as it is counted: joined by commas, a tag that contains
 * a space wrapped in quotes (`a,"b c"` counts 7).
 */
export const joinYoutubeTags = (tags: ReadonlyArray<string>): string =>
  tags.map((tag) => (tag.includes(" ") ? `"${tag}"` : tag)).join(",")
