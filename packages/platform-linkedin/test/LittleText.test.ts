import { assert, describe, it } from "@effect/vitest"
import { LittleText } from "@omnipost/platform-linkedin"
import fc from "fast-check"
import * as Little from "../src/testing/internal/Little.js"

const reservedText = fc.string({ unit: fc.constantFrom(...LittleText.reserved, "a", "b", " ", "1", "é", "\n", "😀", ":", "/", ".") })
const anyText = fc.string({ unit: "grapheme", maxLength: 200 })

describe("LittleText", () => {
  it("a commentary holding every reserved character round-trips exactly (the fake parses it as LinkedIn does)", () => {
    const text = "Every one: ( ) # @ [ ] { } < > * _ ~ | \\ and (nested [brackets] {braces}) <tags> *bold* _under_ ~strike~ a|b C# 100% x\\y"
    const parsed = Little.parse(LittleText.escape(text))
    assert.strictEqual(parsed.truncated, false)
    assert.strictEqual(parsed.text, text)
    assert.deepStrictEqual(parsed.mentions, [])
  })

  it("unescaped, the same text is cut at the first reserved character (what the escaping prevents)", () => {
    const parsed = Little.parse("Launch (draft) today")
    assert.strictEqual(parsed.truncated, true)
    assert.strictEqual(parsed.text, "Launch ")
  })

  it("intended mentions and hashtags stay elements", () => {
    const text = "Thanks @[Ada Lovelace](urn:li:person:abc123) and @[Acme_Co](urn:li:organization:42) for #launch2026 (v2) #ai_ml"
    const escaped = LittleText.escapeWithElements(text)
    assert.deepStrictEqual(escaped.mentions, [{ name: "Ada Lovelace", urn: "urn:li:person:abc123" }, { name: "Acme_Co", urn: "urn:li:organization:42" }])
    assert.deepStrictEqual(escaped.hashtags, ["launch2026", "ai"])
    const parsed = Little.parse(escaped.commentary)
    assert.strictEqual(parsed.truncated, false)
    assert.strictEqual(parsed.text, "Thanks Ada Lovelace and Acme_Co for #launch2026 (v2) #ai_ml")
    assert.deepStrictEqual(parsed.mentions.map((m) => m.urn), ["urn:li:person:abc123", "urn:li:organization:42"])
    assert.deepStrictEqual(parsed.hashtags, ["launch2026", "ai"])
  })

  it("a # inside a word, alone or before digits only is text, not a hashtag", () => {
    for (const text of ["C# rocks", "# heading", "issue #123", "a##b"]) {
      const escaped = LittleText.escapeWithElements(text)
      assert.deepStrictEqual(escaped.hashtags, [], text)
      assert.strictEqual(Little.parse(escaped.commentary).text, text)
    }
  })

  it("property: any text shows exactly as written (mentions as their names), never cut", () => {
    fc.assert(
      fc.property(fc.oneof(reservedText, anyText), (text) => {
        const parsed = Little.parse(LittleText.escape(text))
        return !parsed.truncated && parsed.text === LittleText.shown(text)
      }),
      { numRuns: 2000 }
    )
  })

  it("property: escapeLiteral leaves no element at all", () => {
    fc.assert(
      fc.property(fc.oneof(reservedText, anyText), (text) => {
        const parsed = Little.parse(LittleText.escapeLiteral(text))
        return !parsed.truncated && parsed.text === text && parsed.mentions.length === 0 && parsed.hashtags.length === 0
      }),
      { numRuns: 1000 }
    )
  })
})
