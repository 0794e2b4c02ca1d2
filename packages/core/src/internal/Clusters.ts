/**
 * Grapheme clusters, summed without asking `Intl.Segmenter` (about a
 * microsecond a cluster) where no Unicode rule can join two neighbours.
 */

let segmenter: Intl.Segmenter | undefined
export const graphemeSegmenter = (): Intl.Segmenter => (segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" }))

/** Printable ASCII, tab and line feed (not CR, which pairs with LF). */
const isPlainAscii = (unit: number): boolean => (unit >= 0x20 && unit <= 0x7e) || unit === 0x09 || unit === 0x0a

/**
 * Which of U+1F300–U+1FAFF stand alone: the Extended_Pictographic ones (the
 * skin-tone modifiers, which extend the emoji before them, are not). Two of
 * them never join without a ZWJ, variation selector or modifier between them.
 */
const pictographs = (() => {
  const table = new Uint8Array(0x800)
  const pictographic = /^\p{Extended_Pictographic}$/u
  for (let i = 0; i < table.length; i++) {
    const char = String.fromCodePoint(0x1f300 + i)
    table[i] = pictographic.test(char) ? 1 : 0
  }
  return table
})()

/**
 * The width in UTF-16 units (1 or 2) of a "simple" character at `at`, 0 when
 * it is not one. A simple character is a cluster of its own unless a
 * neighbour that is not simple joins it (a combining mark after it, a
 * Prepend mark before it, a ZWJ, a jamo): plain ASCII, CJK ideographs
 * (U+3400–U+4DBF, U+4E00–U+9FFF), kana (U+3041–U+3096, U+30A1–U+30FA),
 * Hangul syllables (U+AC00–U+D7A3), and stand-alone pictographs (see above).
 * None of them changes under NFC, and none is an emoji sequence on its own.
 */
export const simpleWidth = (text: string, at: number): 0 | 1 | 2 => {
  const unit = text.charCodeAt(at)
  if (unit < 0x80) return isPlainAscii(unit) ? 1 : 0
  if (
    (unit >= 0x4e00 && unit <= 0x9fff) || (unit >= 0x3400 && unit <= 0x4dbf) || (unit >= 0xac00 && unit <= 0xd7a3) ||
    (unit >= 0x3041 && unit <= 0x3096) || (unit >= 0x30a1 && unit <= 0x30fa)
  ) return 1
  // High surrogates of U+1F000–U+1FBFF.
  if (unit >= 0xd83c && unit <= 0xd83e) {
    const low = text.charCodeAt(at + 1)
    if (low >= 0xdc00 && low <= 0xdfff) {
      const offset = ((unit - 0xd800) << 10) + (low - 0xdc00) + 0x10000 - 0x1f300
      if (offset >= 0 && offset < pictographs.length && pictographs[offset] === 1) return 2
    }
  }
  return 0
}

/**
 * Sums `weight` over the grapheme clusters of `text`, where a simple
 * character standing alone weighs `simpleWeight(its width)`. Only the runs of
 * other characters are segmented, each with its simple neighbours: a
 * neighbour can join the run (`e` + U+0301, `1` + U+FE0F U+20E3, a Prepend
 * mark before a letter, 😀 + a skin tone) but never joins across a simple
 * character, since no grapheme rule joins two of them (a single simple
 * character between two other runs is kept in one window). The neighbours
 * are counted in their simple run and subtracted from the window, so a
 * joined cluster is counted once, by its weight. With `atMost`, counting
 * stops once the sum passes it (the result then says "more than `atMost`").
 */
export const sumClusters = (
  text: string,
  weight: (cluster: string) => number,
  simpleWeight: (width: 1 | 2) => number,
  atMost = Infinity
): number => {
  const length = text.length
  let total = 0
  let index = 0
  while (index < length) {
    let complexStart = index
    let before: 0 | 1 | 2 = 0
    for (let width = simpleWidth(text, complexStart); width !== 0; width = simpleWidth(text, complexStart)) {
      total += simpleWeight(width)
      complexStart += width
      before = width
      if (total > atMost) return total
      if (complexStart >= length) return total
    }
    let complexEnd = complexStart
    while (complexEnd < length) {
      const width = simpleWidth(text, complexEnd)
      if (width === 0) complexEnd++
      // A single simple character between two others could join both sides
      // (Prepend + a + keycap): keep it inside one window.
      else if (complexEnd + width < length && simpleWidth(text, complexEnd + width) === 0) complexEnd += width
      else break
    }
    const after = complexEnd < length ? simpleWidth(text, complexEnd) : 0
    const neighbours = (before === 0 ? 0 : simpleWeight(before)) + (after === 0 ? 0 : simpleWeight(after))
    for (const { segment } of graphemeSegmenter().segment(text.slice(complexStart - before, complexEnd + after))) {
      total += weight(segment)
      // Past the bound the exact figure no longer matters: stop segmenting (a lower bound once the neighbours are taken off).
      if (total - neighbours > atMost) break
    }
    total -= neighbours
    if (total > atMost) break
    index = complexEnd
  }
  return total
}

/**
 * X's weighted length (twitter-text v3) of a text made only of simple
 * characters, in which no URL can be (the caller knows): ASCII weighs 1,
 * every other simple character 2 (outside the ranges that weigh 1, and a
 * stand-alone emoji weighs 2 as one). `undefined` when some character is not
 * simple: twitter-text must count it. Stops once the sum passes `atMost`.
 */
export const simpleTwitterWeight = (text: string, atMost = Infinity): number | undefined => {
  let total = 0
  for (let i = 0; i < text.length;) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) {
      total += 1
      i++
    } else {
      const width = simpleWidth(text, i)
      if (width === 0) return undefined
      total += 2
      i += width
    }
    if (total > atMost) return total
  }
  return total
}
