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
const sumClusters = (text: string, weight: (cluster: string) => number, atMost = Infinity): number => {
  const length = text.length
  let total = 0
  let index = 0
  while (index < length) {
    let complexStart = index
    while (complexStart < length && isPlainAscii(text.charCodeAt(complexStart))) complexStart++
    total += complexStart - index
    if (complexStart >= length || total > atMost) break
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
      // Past the bound the exact figure no longer matters: stop segmenting (a lower bound once the neighbours are taken off).
      if (total - before - after > atMost) break
    }
    total -= before + after
    if (total > atMost) break
    index = complexEnd
  }
  return total
}

const one = () => 1

/**
 * User-perceived characters, as `Intl.Segmenter` splits them (a ZWJ family or a flag is one).
 * With `atMost`, counting stops once the count passes it (see `count`).
 */
export const graphemes = (text: string, atMost?: number): number => sumClusters(text, one, atMost)

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
  sumClusters(text, (cluster) => (emojiGrapheme.test(cluster) ? utf8Bytes(cluster) : 1), atMost)

// ---------------------------------------------------------------------------
// twitter-text in bounded pieces
// ---------------------------------------------------------------------------

// White space as both JavaScript and twitter-text know it: no URL, hashtag,
// mention or emoji spans it, and an entity ends before it as at the end of a
// text. So twitter-text's answers for a text are the sums (weighted length)
// or concatenations (entities) of its answers for the pieces cut before each
// run of white space: a piece starts with the white space before its word,
// which twitter-text reads as the character before an entity, as it does in
// the whole text (a piece starting with the word itself would not: a
// combining mark there is taken as the character before a URL).
const isSpace = (unit: number): boolean =>
  unit === 0x20 || (unit >= 0x09 && unit <= 0x0d) || unit === 0xa0 || unit === 0x1680 ||
  (unit >= 0x2000 && unit <= 0x200a) || unit === 0x2028 || unit === 0x2029 || unit === 0x202f ||
  unit === 0x205f || unit === 0x3000

/** Where the piece starting at `from` ends: before the next run of white space that follows a character that is not. */
const pieceEnd = (text: string, from: number): number => {
  let i = from
  while (i < text.length && isSpace(text.charCodeAt(i))) i++
  while (i < text.length && !isSpace(text.charCodeAt(i))) i++
  return i
}

/**
 * twitter-text's URL extraction is quadratic in the length of a run without
 * white space that contains a `.` and characters a domain may hold (CJK,
 * emoji): 4,096 such characters take 300 ms. Runs without a `.` never reach
 * it. A URL with a scheme starts a part of its own (also when glued to the
 * words before it, as is common in Japanese and Chinese) and is kept whole
 * up to the longest URL twitter-text accepts (`MAX_URL_LENGTH`, 4,096);
 * the rest of a dotted run longer than `dottedWindow` is read in windows of
 * `windowUnits`, where a scheme-less URL straddling two windows is
 * miscounted (such a run is a wall of text no platform would take). Short pieces are
 * handed over together, up to `chunkUnits`, so a text of many words costs a
 * few calls, not one a word.
 */
const dottedWindow = 256
const windowUnits = 64
const chunkUnits = 2048
const maxUrlLength = 4096

/** Whether `text` has `h`, `t`, `t`, `p` (and `s` when `secure`) at `at`, in either case. */
const schemeLetters = (text: string, at: number, secure: boolean): boolean =>
  at >= 0 && (text.charCodeAt(at) | 0x20) === 0x68 && (text.charCodeAt(at + 1) | 0x20) === 0x74 &&
  (text.charCodeAt(at + 2) | 0x20) === 0x74 && (text.charCodeAt(at + 3) | 0x20) === 0x70 &&
  (!secure || (text.charCodeAt(at + 4) | 0x20) === 0x73)

/**
 * `piece.split(/(?=https?:\/\/)/i)`, by hand: twitter-text loads core-js,
 * whose `split` polyfill takes milliseconds on a long run. Cuts before every
 * `http://` or `https://` (either case) but the one the piece starts with.
 */
export const splitBeforeSchemes = (piece: string): Array<string> => {
  const parts: Array<string> = []
  let start = 0
  for (let colon = piece.indexOf("://"); colon !== -1; colon = piece.indexOf("://", colon + 1)) {
    const cut = schemeLetters(piece, colon - 5, true) ? colon - 5 : schemeLetters(piece, colon - 4, false) ? colon - 4 : -1
    if (cut > start) {
      parts.push(piece.slice(start, cut))
      start = cut
    }
  }
  parts.push(piece.slice(start))
  return parts
}

/** Cuts `piece` into windows of about `size` units, never inside a surrogate pair. */
function* unitWindows(piece: string, size: number): Generator<string> {
  for (let start = 0; start < piece.length;) {
    let end = Math.min(start + size, piece.length)
    const last = piece.charCodeAt(end - 1)
    if (end < piece.length && last >= 0xd800 && last <= 0xdbff) end++
    yield piece.slice(start, end)
    start = end
  }
}

/**
 * Cuts a run without URLs into windows of about `size` units at grapheme
 * boundaries: an emoji sequence, an NFC composition and a surrogate pair
 * never span one, so the weighted lengths of the windows add up exactly.
 */
function* graphemeWindows(piece: string, size: number): Generator<string> {
  let start = 0
  while (piece.length - start > size) {
    let cut = start + size
    const around = piece.slice(cut - 32, cut + 32)
    for (const { index } of graphemeSegmenter().segment(around)) {
      if (index >= 32) {
        cut = cut - 32 + index
        break
      }
    }
    const last = piece.charCodeAt(cut - 1)
    if (last >= 0xd800 && last <= 0xdbff) cut++
    yield piece.slice(start, cut)
    start = cut
  }
  yield piece.slice(start)
}

/**
 * `text` cut where twitter-text's answers add up, each piece cheap for it.
 * `windowPlainRuns` also cuts long runs without a `.` (fine for counting, not
 * for entities: a 10,000-character hashtag would come out in windows), so
 * that a bounded count stops early in them too.
 */
export function* twitterPieces(text: string, windowPlainRuns = false): Generator<string> {
  if (text.length <= dottedWindow) {
    yield text
    return
  }
  let chunk = ""
  let from = 0
  while (from < text.length) {
    const to = pieceEnd(text, from)
    const piece = text.slice(from, to)
    from = to
    if (piece.length <= dottedWindow) {
      if (chunk.length + piece.length > chunkUnits) {
        yield chunk
        chunk = ""
      }
      chunk += piece
      continue
    }
    if (chunk.length > 0) {
      yield chunk
      chunk = ""
    }
    if (!piece.includes(".")) {
      if (windowPlainRuns) yield* graphemeWindows(piece, dottedWindow)
      else yield piece
      continue
    }
    // A URL glued to the words before it (common in Japanese and Chinese) starts a part of its own.
    for (const part of splitBeforeSchemes(piece)) {
      if (part.length <= dottedWindow || !part.includes(".")) {
        yield part
        continue
      }
      // The URL it starts with stays whole (its ASCII head, up to the longest URL) if its host is
      // no longer than DNS allows (253): twitter-text's scan of a host is what is quadratic.
      let head = 0
      const scheme = /^https?:\/\//i.exec(part)
      if (scheme !== null) {
        while (head < maxUrlLength && part.charCodeAt(head) <= 0x7f) head++
        const hostEnd = part.slice(scheme[0].length, head).search(/[/?#:]/)
        if ((hostEnd === -1 ? head - scheme[0].length : hostEnd) > 253) head = 0
      }
      if (head > 0) yield part.slice(0, head)
      const rest = part.slice(head)
      if (rest.includes(".")) yield* unitWindows(rest, windowUnits)
      else if (windowPlainRuns) yield* graphemeWindows(rest, dottedWindow)
      else yield rest
    }
  }
  if (chunk.length > 0) yield chunk
}

/**
 * X's weighted length, by twitter-text v3 (`parseTweet`): URLs 23, emoji and
 * CJK 2, after NFC. Computed piece by piece (`twitterPieces`), in time linear
 * in the text; with `atMost`, it stops once the count passes it.
 */
export const twitter = (text: string, atMost = Infinity): number => {
  let total = 0
  for (const piece of twitterPieces(text, atMost !== Infinity)) {
    total += twitterText.parseTweet(piece).weightedLength
    if (total > atMost) break
  }
  return total
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
  const cache = new Map<string, Map<string, A>>()
  return (text: string, key: string): A => {
    if (text.length < 1_000) return compute(text, key)
    let answers = cache.get(text)
    if (answers === undefined) {
      if (cache.size >= 16) cache.delete(cache.keys().next().value!)
      answers = new Map()
      cache.set(text, answers)
    }
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

// ---------------------------------------------------------------------------
// Could twitter-text find a URL here? A linear pre-scan
// ---------------------------------------------------------------------------

// Every URL twitter-text extracts, with a scheme or without, has a domain
// that ends in `.` and a top-level domain its `validGTLD`, `validCCTLD` or
// `validPunycode` matches (its `validDomain`), there and then. So a text in
// which no `.` is followed by one cannot yield a URL. The TLD lists are
// twitter-text's own, read from its regular expressions (a plain alternation
// of names followed by `(?=[^0-9a-zA-Z@+-]|$)`); checked by hand, since
// V8 runs that alternation slowly where it fails (200 µs on 64 dotted
// characters). The comparison ignores case as the `i` flag does without `u`.

/** The `i` flag's Canonicalize without `u`: a character's upper case, unless that is several characters or leaves non-ASCII for ASCII. */
const canonical = (text: string): string => {
  let out = ""
  for (const char of text) {
    const upper = char.toUpperCase()
    out += upper.length === char.length && !(char.charCodeAt(0) >= 128 && upper.charCodeAt(0) < 128) ? upper : char
  }
  return out
}

const tldNames = (regex: RegExp): ReadonlyArray<string> | undefined => {
  const prefix = "(?:(?:"
  const suffix = ")(?=[^0-9a-zA-Z@+-]|$))"
  const source = regex.source
  if (!source.startsWith(prefix) || !source.endsWith(suffix)) return undefined
  const names = source.slice(prefix.length, -suffix.length).split("|")
  return names.every((name) => name.length > 0 && !/[\\^$.*+?()[\]{}|/]/.test(name)) ? names : undefined
}

const tlds = (() => {
  const regexen = (twitterText as unknown as { readonly regexen?: Record<string, RegExp> }).regexen
  const gtld = regexen?.validGTLD === undefined ? undefined : tldNames(regexen.validGTLD)
  const cctld = regexen?.validCCTLD === undefined ? undefined : tldNames(regexen.validCCTLD)
  // twitter-text changed shape: every dot is a candidate (slower, never wrong).
  if (gtld === undefined || cctld === undefined || String(regexen?.validPunycode?.source) !== "(?:xn--[\\-0-9a-z]+)") return undefined
  // Names of ASCII letters can only be the whole run of letters after the dot (a letter may not follow them);
  // the others (Unicode names) are looked up by their first character.
  const ascii = new Set<string>()
  const others = new Map<string, { readonly names: Set<string>; readonly lengths: Array<number> }>()
  for (const name of [...gtld, ...cctld].map(canonical)) {
    if (/^[A-Z]+$/.test(name)) {
      ascii.add(name)
      continue
    }
    const first = [...name][0]!
    const entry = others.get(first) ?? { names: new Set<string>(), lengths: [] }
    entry.names.add(name)
    if (!entry.lengths.includes(name.length)) entry.lengths.push(name.length)
    others.set(first, entry)
  }
  return { ascii, others }
})()

/** What may not follow a top-level domain: `[0-9a-zA-Z@+-]`. */
const continuesTld = (unit: number): boolean =>
  (unit >= 0x30 && unit <= 0x39) || isAsciiLetter(unit) || unit === 0x40 || unit === 0x2b || unit === 0x2d

const isAsciiLetter = (unit: number): boolean => (unit >= 0x41 && unit <= 0x5a) || (unit >= 0x61 && unit <= 0x7a)

const isPunycodeUnit = (unit: number): boolean => (unit >= 0x30 && unit <= 0x39) || isAsciiLetter(unit) || unit === 0x2d

/** Whether a top-level domain, as twitter-text's `validDomain` ends, starts at `at`. */
const tldAt = (text: string, at: number): boolean => {
  if (tlds === undefined) return true
  const length = text.length
  let end = at
  while (end < length && isAsciiLetter(text.charCodeAt(end))) end++
  if (end - at >= 2) {
    const next = end < length ? text.charCodeAt(end) : -1
    // validPunycode: xn-- and one more of [-0-9a-z], case ignored, nothing required after.
    if (end - at === 2 && next === 0x2d && canonical(text.slice(at, at + 4)) === "XN--" && at + 4 < length && isPunycodeUnit(text.charCodeAt(at + 4))) {
      return true
    }
    if (!continuesTld(next) && tlds.ascii.has(text.slice(at, end).toUpperCase())) return true
  }
  if (at >= length) return false
  const first = text.charCodeAt(at)
  // ASCII canonicalizes to its upper case (cheap); other characters as the `i` flag does.
  const key = first < 0x80
    ? String.fromCharCode(first >= 0x61 && first <= 0x7a ? first - 0x20 : first)
    : canonical(String.fromCodePoint(text.codePointAt(at)!))
  const other = tlds.others.get(key)
  if (other === undefined) return false
  for (const size of other.lengths) {
    if (at + size > length || (at + size < length && continuesTld(text.charCodeAt(at + size)))) continue
    if (other.names.has(canonical(text.slice(at, at + size)))) return true
  }
  return false
}

/**
 * Whether twitter-text could extract a URL from `text`: some `.` is followed
 * by a top-level domain it knows. `false` means certainly none (a linear scan).
 */
export const mayHoldUrl = (text: string): boolean => {
  for (let dot = text.indexOf("."); dot !== -1; dot = text.indexOf(".", dot + 1)) {
    if (tldAt(text, dot + 1)) return true
  }
  return false
}

/**
 * YouTube's tag list as it is counted: joined by commas, a tag that contains
 * a space wrapped in quotes (`a,"b c"` counts 7).
 */
export const joinYoutubeTags = (tags: ReadonlyArray<string>): string =>
  tags.map((tag) => (tag.includes(" ") ? `"${tag}"` : tag)).join(",")
