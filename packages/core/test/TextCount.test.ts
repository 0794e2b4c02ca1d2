import { assert, describe, it } from "@effect/vitest"
import { TextCount } from "@omnipost/core"
import fc from "fast-check"
import twitterText from "twitter-text"

const family = "👨‍👩‍👧‍👦" // man ZWJ woman ZWJ girl ZWJ boy: 7 code points, 11 UTF-16 units, 25 bytes
const flag = "🇫🇷" // two regional indicators: 4 UTF-16 units, 8 bytes
const thumbsDark = "👍🏿" // emoji + skin tone modifier
const keycap = "1️⃣" // digit + VS16 + combining keycap
const cafeCombining = "cafe\u0301" // e + combining acute: 5 code points, 4 graphemes
const cjk = "日本語のテキスト" // 8 CJK characters
const hangulJamo = "\u1100\u1161\u11A8" // one Hangul syllable as three conjoining jamo

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })
const referenceGraphemes = (text: string) => [...segmenter.segment(text)].length
const referenceBytes = (text: string) => new TextEncoder().encode(text).length

describe("TextCount: concrete values", () => {
  // [text, graphemes, utf8 bytes, utf16 units, X weighted, Threads]
  const rows: ReadonlyArray<readonly [string, string, number, number, number, number, number]> = [
    ["ASCII", "hello", 5, 5, 5, 5, 5],
    ["ZWJ family", family, 1, 25, 11, 2, 25],
    ["flag", flag, 1, 8, 4, 2, 8],
    ["skin tone", thumbsDark, 1, 8, 4, 2, 8],
    ["keycap", keycap, 1, 7, 3, 2, 7],
    ["combining mark (NFC makes it one code point for X)", cafeCombining, 4, 6, 5, 4, 4],
    ["CJK", cjk, 8, 24, 8, 16, 8],
    ["Hangul jamo (NFC composes one syllable, weight 2)", hangulJamo, 1, 9, 3, 2, 1],
    ["URL", "see https://example.com/a/very/long/path/that/is/long", 53, 53, 53, 27, 53],
    ["scheme-less URL", "go to example.com now", 21, 21, 21, 33, 21]
  ]
  for (const [name, text, graphemes, bytes, units, weighted, threads] of rows) {
    it(`${name}: ${JSON.stringify(text)}`, () => {
      assert.strictEqual(TextCount.graphemes(text), graphemes, "graphemes")
      assert.strictEqual(TextCount.utf8Bytes(text), bytes, "utf8 bytes")
      assert.strictEqual(TextCount.utf16(text), units, "utf16")
      assert.strictEqual(TextCount.twitter(text), weighted, "twitter")
      assert.strictEqual(TextCount.threads(text), threads, "threads")
    })
  }

  it("X counts every URL as 23, whatever its length", () => {
    assert.strictEqual(TextCount.twitter("https://t.co"), 23)
    assert.strictEqual(TextCount.twitter(`https://example.com/${"a".repeat(200)}`), 23)
    assert.strictEqual(TextCount.twitter("a https://a.co b https://b.co"), 2 + 23 + 3 + 23)
  })

  it("X normalises to NFC before counting (a decomposed é counts 1)", () => {
    assert.strictEqual(TextCount.twitter("e\u0301"), 1)
    assert.strictEqual(TextCount.twitter("\u00e9"), 1)
  })

  it("count dispatches on the counting rule", () => {
    const text = `${family}a`
    assert.strictEqual(TextCount.count(text, "graphemes"), 2)
    assert.strictEqual(TextCount.count(text, "utf8_bytes"), 26)
    assert.strictEqual(TextCount.count(text, "utf16"), 12)
    assert.strictEqual(TextCount.count(text, "twitter"), 3)
    assert.strictEqual(TextCount.count(text, "threads"), 26)
  })

  it("an unknown counting rule is an error that names it, not a silent zero", () => {
    assert.throws(() => TextCount.count("hi", "words" as any), /unknown text counting "words"/)
  })

  it("a lone surrogate counts 3 bytes, as TextEncoder encodes it (U+FFFD)", () => {
    assert.strictEqual(TextCount.utf8Bytes("\uD800"), 3)
    assert.strictEqual(TextCount.utf8Bytes("a\uDC00b"), 5)
    assert.strictEqual(referenceBytes("a\uDC00b"), 5)
  })
})

describe("TextCount: entities", () => {
  it("extracts hashtags, mentions and URLs", () => {
    const text = "Hi @alice and @bob_2! #launch #日本 #1 https://example.com and example.org/x"
    assert.deepStrictEqual([...TextCount.hashtags(text)], ["launch", "日本"])
    assert.deepStrictEqual([...TextCount.mentions(text)], ["alice", "bob_2"])
    assert.deepStrictEqual([...TextCount.urls(text)], ["https://example.com", "example.org/x"])
  })

  it("counts distinct links, the attachment included when it differs", () => {
    const text = "https://a.com https://a.com/ http://b.com"
    assert.strictEqual(TextCount.distinctLinks(text).length, 2)
    assert.strictEqual(TextCount.distinctLinks(text, "https://b.com").length, 2)
    assert.strictEqual(TextCount.distinctLinks(text, "https://c.com").length, 3)
  })

  it("joins YouTube tags with commas and quotes tags that contain spaces", () => {
    assert.strictEqual(TextCount.joinYoutubeTags(["a", "b c", "d"]), 'a,"b c",d')
    assert.strictEqual(TextCount.joinYoutubeTags([]), "")
  })
})

describe("TextCount: against the reference implementations", () => {
  const anyText = fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.string({ unit: "grapheme", maxLength: 100 }),
    fc.array(fc.constantFrom(family, flag, thumbsDark, keycap, cafeCombining, cjk, hangulJamo, "a", " ", "https://example.com/x", "#tag", "@user"), { maxLength: 40 }).map((parts) => parts.join("")),
    // Pieces that join their ASCII neighbours: combining marks, ZWJ, variation selectors, keycaps, a Prepend mark, CR LF, lone regional indicators.
    fc.array(fc.constantFrom("a", "1", "#", " ", "\r", "\n", "\t", "\u0301", "\u200D", "\uFE0F", "\u20E3", "\u0600", "\u0915\u094D", "\u{1F1EB}", "\u{1F1F7}", "\u{1F600}", "\u{1F3FF}", "\u1100", "\u1161", "\uD800", "\uDC00"), { maxLength: 30 }).map((parts) => parts.join(""))
  )
  const referenceThreads = (text: string) =>
    [...segmenter.segment(text)].reduce((sum, { segment }) => sum + (/\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u.test(segment) ? referenceBytes(segment) : 1), 0)

  it("graphemes equal Intl.Segmenter's count", () => {
    fc.assert(fc.property(anyText, (text) => TextCount.graphemes(text) === referenceGraphemes(text)), { numRuns: 1000 })
  })

  it("UTF-8 bytes equal TextEncoder's output length", () => {
    fc.assert(fc.property(anyText, (text) => TextCount.utf8Bytes(text) === referenceBytes(text)), { numRuns: 300 })
  })

  it("X weighted length equals twitter-text's parseTweet", () => {
    fc.assert(fc.property(anyText, (text) => TextCount.twitter(text) === twitterText.parseTweet(text).weightedLength), { numRuns: 300 })
  })

  it("Threads count equals a plain per-cluster count over Intl.Segmenter", () => {
    fc.assert(fc.property(anyText, (text) => TextCount.threads(text) === referenceThreads(text)), { numRuns: 500 })
  })

  it("Threads count lies between graphemes and UTF-8 bytes", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const threads = TextCount.threads(text)
        return threads >= referenceGraphemes(text) && threads <= Math.max(referenceBytes(text), referenceGraphemes(text))
      }),
      { numRuns: 300 }
    )
  })
})

describe("TextCount: twitter-text in pieces (long texts)", () => {
  // Words of tricky tokens (URLs, dots, CJK, emoji, hashtags, mentions, IDN) between white space of every kind,
  // long enough (over 256 units) to be cut into pieces.
  const token = fc.constantFrom(
    "a", "中", ".", "/", ":", "#", "@", "#tag", "@user", "＃タグ", "https://example.com/x", "https://例え.テスト/パス",
    "example.com", "t.co/abc", "a.b", family, flag, cafeCombining, "\u0301", "x.中国", "http://д.рф/д"
  )
  const space = fc.constantFrom(" ", "\n", "\t", "\u3000", "\u00a0", "\u2009", "\r\n", "  ")
  const word = fc.array(token, { minLength: 1, maxLength: 12 }).map((parts) => parts.join(""))
  const longText = fc.array(fc.tuple(word, space), { minLength: 20, maxLength: 120 })
    .map((pairs) => pairs.map(([w, s]) => w + s).join(""))
    .filter((text) => text.length > 256)

  it("the weighted length equals parseTweet's on the whole text", () => {
    fc.assert(fc.property(longText, (text) => TextCount.twitter(text) === twitterText.parseTweet(text).weightedLength), { numRuns: 200 })
  })

  it("hashtags, mentions and URLs equal twitter-text's on the whole text", () => {
    fc.assert(
      fc.property(longText, (text) => {
        assert.deepStrictEqual(TextCount.hashtags(text), twitterText.extractHashtags(text))
        assert.deepStrictEqual(TextCount.mentions(text), twitterText.extractMentions(text))
        assert.deepStrictEqual(TextCount.urls(text), twitterText.extractUrls(text))
      }),
      { numRuns: 200 }
    )
  })

  it("a URL as long as twitter-text accepts, alone between spaces, still counts 23", () => {
    const url = `https://example.com/${"a".repeat(4000)}`
    assert.strictEqual(TextCount.twitter(`see ${url} now`), 4 + 23 + 4)
    assert.strictEqual(TextCount.twitter(`see ${url} now`), twitterText.parseTweet(`see ${url} now`).weightedLength)
  })

  it("with atMost, counting stops past it: the result is above the bound, at most one piece further", () => {
    // A wall of CJK behind a dot: one run twitter-text would take hours over whole.
    const wall = `https://example.com/${"中".repeat(100_000)}`
    const counted = TextCount.count(wall, "twitter", 560)
    assert.isAbove(counted, 560)
    assert.isAtMost(counted, 560 + 2 * 256 + 23 + 64)
    const graphemes = TextCount.count("é".repeat(100_000), "graphemes", 1000)
    assert.isAbove(graphemes, 1000)
    assert.isBelow(graphemes, 100_000)
    // Without a bound, the count is the whole text's.
    assert.strictEqual(TextCount.count("中".repeat(100_000), "twitter"), 200_000)
  })
})

describe("TextCount: simple characters counted directly, as the references count them", () => {
  // CJK, kana, Hangul syllables and stand-alone emoji are counted without Intl.Segmenter or twitter-text;
  // mixed with everything that could join them: combining marks, a voiced-sound mark, jamo, a Prepend mark,
  // ZWJ, variation selectors, skin tones, regional indicators, tags, keycaps, lone surrogates, and dots and URLs.
  const simple = fc.oneof(
    fc.constantFrom("中", "㐀", "鿿", "あ", "ゖ", "ア", "ヺ", "가", "힣", "😀", "🌍", "🫠", "a", "1", "#", " ", ".", "\n"),
    fc.integer({ min: 0x1f300, max: 0x1faff }).map((codePoint) => String.fromCodePoint(codePoint))
  )
  const joiner = fc.constantFrom(
    "\u3099", "\u309A", "\u1100", "\u1161", "\u11A8", "\u0600", "\u0301", "\uFE0F", "\uFE00", "\u{E0100}", "\u200D",
    "\u{1F3FB}", "\u{1F3FF}", "\u{1F1EB}", "\u{1F1F7}", "\u20E3", "\r", "\uD83D", "\uDE00", "\u{E0067}", "\u{F900}",
    "example.com", "https://a.co/x", "t.co", "x.中国"
  )
  const mixed = fc.array(fc.oneof({ arbitrary: simple, weight: 3 }, { arbitrary: joiner, weight: 2 }), { maxLength: 60 }).map((parts) => parts.join(""))
  const long = fc.tuple(mixed, fc.integer({ min: 2, max: 40 })).map(([text, times]) => text.repeat(times))
  const anyText = fc.oneof(mixed, long)
  const referenceThreads = (text: string) =>
    [...segmenter.segment(text)].reduce((sum, { segment }) => sum + (/\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20E3/u.test(segment) ? referenceBytes(segment) : 1), 0)

  it("a simple character joined by its neighbour is one cluster", () => {
    // Hangul LV + T jamo, L jamo + syllable, kana + voiced-sound mark, ideograph + variation selector,
    // Prepend + ideograph, emoji + skin tone, emoji ZWJ emoji, emoji + VS16.
    for (const [text, clusters] of [
      ["가\u11A8", 1], ["\u1100가", 1], ["あ\u3099", 1], ["中\uFE00", 1], ["中\u{E0100}", 1], ["\u0600中", 1],
      ["😀\u{1F3FB}", 1], ["😀\u200D🌍", 1], ["🌍\uFE0F", 1], ["中中가가😀😀", 6], ["a\u0600中b", 3]
    ] as const) {
      assert.strictEqual(referenceGraphemes(text), clusters, `reference for ${JSON.stringify(text)}`)
      assert.strictEqual(TextCount.graphemes(text), clusters, JSON.stringify(text))
      assert.strictEqual(TextCount.threads(text), referenceThreads(text), JSON.stringify(text))
      assert.strictEqual(TextCount.twitter(text), twitterText.parseTweet(text).weightedLength, JSON.stringify(text))
    }
  })

  it("graphemes and the Threads count equal Intl.Segmenter's", () => {
    fc.assert(fc.property(anyText, (text) => {
      assert.strictEqual(TextCount.graphemes(text), referenceGraphemes(text), JSON.stringify(text))
      assert.strictEqual(TextCount.threads(text), referenceThreads(text), JSON.stringify(text))
    }), { numRuns: 1000 })
  })

  it("X's weighted length counts a URL that only composing reveals, as parseTweet does", () => {
    // Found by the property below (CI seed 318531189): "example.com" + "a" + U+0301 is "example.comá" in NFC, which holds a URL.
    for (const text of ["example.coma\u0301", "x.coma\u0308b", "a example.coma\u0301 b", "example.co\u0301", "example.com\u0301"]) {
      assert.strictEqual(TextCount.twitter(text), twitterText.parseTweet(text).weightedLength, JSON.stringify(text))
    }
  })

  it("X's weighted length equals parseTweet's", () => {
    fc.assert(fc.property(mixed, (text) => TextCount.twitter(text) === twitterText.parseTweet(text).weightedLength), { numRuns: 1000 })
  })

  it("a bounded count is exact up to its bound and above it past the bound", () => {
    fc.assert(fc.property(anyText, fc.integer({ min: 0, max: 300 }), (text, bound) => {
      for (const counting of ["graphemes", "threads"] as const) {
        const exact = counting === "graphemes" ? referenceGraphemes(text) : referenceThreads(text)
        const counted = TextCount.count(text, counting, bound)
        if (exact <= bound) assert.strictEqual(counted, exact, counting)
        else assert.isAbove(counted, bound, counting)
      }
    }), { numRuns: 500 })
  })
})

describe("TextCount: long runs without white space", () => {
  it("a URL glued to a long run of CJK before it counts 23, as twitter-text counts it", () => {
    for (const text of [
      `${"記".repeat(300)}https://example.com/${"a".repeat(150)}`,
      `${"記".repeat(300)}https://example.com/${"a".repeat(150)}${"事".repeat(300)}`,
      `見て ${"記".repeat(140)}http://例え.テスト/path ${"a.".repeat(200)}`
    ]) {
      assert.strictEqual(TextCount.twitter(text), twitterText.parseTweet(text).weightedLength)
      assert.deepStrictEqual(TextCount.urls(text), twitterText.extractUrls(text))
    }
  })

  it("a bounded count of a long run without a dot is exact up to its bound (grapheme windows)", () => {
    const wall = `${family}${"中".repeat(3000)}${flag}${"😀".repeat(3000)}${cafeCombining}`
    const exact = twitterText.parseTweet(wall).weightedLength
    assert.strictEqual(TextCount.count(wall, "twitter", exact), exact)
    assert.strictEqual(TextCount.twitter(wall), exact)
  })
})

describe("TextCount: links found as before, without running twitter-text where no URL can be", () => {
  // The path before the pre-scan: twitter-text's extractUrls on every piece.
  const normalise = (url: string) => url.replace(/^https?:\/\//i, "").replace(/\/$/, "").toLowerCase()
  const previousLinks = (text: string, atMost = Infinity): ReadonlyArray<string> => {
    const seen = new Map<string, string>()
    for (const piece of text.includes(".") ? TextCount.twitterPieces(text) : []) {
      for (const url of twitterText.extractUrls(piece)) if (!seen.has(normalise(url))) seen.set(normalise(url), url)
      if (seen.size > atMost + 1) break
    }
    return [...seen.values()]
  }
  // Fragments of domains and their neighbours: top-level domains in both cases and scripts, near misses
  // (`a`, `co` before a letter), what may and may not follow one, punycode, schemes, characters whose case folds oddly.
  const fragment = fc.constantFrom(
    ".", ".", ".", "a", "b", "co", "com", "COM", "Com", "org", "io", "xn--", "XN--p1ai", "xn--", "-", "_", "@", "+", "/", "?", "#", ":",
    "0", "9", "中", "中国", "中國", "рф", "РФ", "みんな", "삼성", "ελ", "ΕΛ", "ſ", "\u212A", "ß", "İ", "ı", "Ａ", "。", " ", "\n",
    "http://", "https://", "HTTPS://", "t.co/x", "example.com", "e\u0301", "😀", "localhost", "1.2.3.4"
  )
  const mixed = fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join(""))
  // Long walls without white space, cut into windows by twitterPieces: dotted, dot-dense with and without real TLDs.
  const wall = fc.tuple(fc.array(fragment, { minLength: 1, maxLength: 8 }).map((parts) => parts.join("").replace(/\s/g, "")), fc.integer({ min: 300, max: 3000 }))
    .map(([unit, length]) => unit.length === 0 ? "a." : unit.repeat(Math.ceil(length / unit.length)).slice(0, length))
  const anyText = fc.oneof(mixed, wall, fc.string({ unit: "binary", maxLength: 300 }), fc.string({ unit: "grapheme", maxLength: 200 }))

  it("twitter-text finds no URL where the pre-scan says none can be", () => {
    fc.assert(
      fc.property(fc.oneof(mixed, fc.string({ unit: "binary", maxLength: 200 })), (text) =>
        TextCount.mayHoldUrl(text) || twitterText.extractUrls(text).length === 0),
      { numRuns: 3000 }
    )
  })

  it("distinct links equal the previous path's, with and without a bound", () => {
    fc.assert(
      fc.property(anyText, fc.constantFrom(Infinity, 0, 1, 5), (text, atMost) => {
        assert.deepStrictEqual(TextCount.distinctLinks(text, undefined, atMost), previousLinks(text, atMost))
      }),
      { numRuns: 600 }
    )
  })

  it("adversarial walls of 100,000 characters: the same links", () => {
    const fill = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
    for (const unit of ["a.", "a.com.", "a.com/", "中".repeat(99) + ".", "x.中国", ".co.", "a.xn--b", "1.2."]) {
      const text = fill(unit, 100_000)
      for (const atMost of [Infinity, 5]) assert.deepStrictEqual(TextCount.distinctLinks(text, undefined, atMost), previousLinks(text, atMost), unit)
    }
  })

  it("pieces are cut before schemes as split(/(?=https?:\/\/)/i) cut them", () => {
    const part = fc.constantFrom("http://", "https://", "HTTP://", "hTtPs://", "http:/", "https:", "://", "h", "s", "x", "中", ".", "/", ":")
    fc.assert(
      fc.property(fc.array(part, { maxLength: 30 }).map((parts) => parts.join("")), (text) => {
        assert.deepStrictEqual(TextCount.splitBeforeSchemes(text), text.split(/(?=https?:\/\/)/i))
      }),
      { numRuns: 2000 }
    )
  })

  it("the pre-scan reads twitter-text's own top-level domains", () => {
    assert.isTrue(TextCount.mayHoldUrl("see example.com"))
    assert.isTrue(TextCount.mayHoldUrl("EXAMPLE.COM."))
    assert.isTrue(TextCount.mayHoldUrl("x.中国"))
    assert.isTrue(TextCount.mayHoldUrl("x.xn--p1ai"))
    assert.isFalse(TextCount.mayHoldUrl("a.a.a.a"))
    assert.isFalse(TextCount.mayHoldUrl("example.comx"), "a letter after the TLD")
    assert.isFalse(TextCount.mayHoldUrl("中中中.中中中"))
    assert.isFalse(TextCount.mayHoldUrl("no dots at all"))
  })
})
