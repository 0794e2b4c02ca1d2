/**
 * twitter-text in bounded pieces: where a text can be cut so that
 * twitter-text's answers for the pieces add up to its answer for the whole,
 * each piece cheap for it.
 */
import { graphemeSegmenter } from "./Clusters.js"

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

