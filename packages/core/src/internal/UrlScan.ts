/**
 * Could twitter-text find a URL here? A linear pre-scan, sound in one
 * direction: `false` means twitter-text extracts no URL from the text (so it
 * counts no URL, and its quadratic URL scan need not run at all).
 */
import twitterText from "twitter-text"

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

