import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import * as Facets from "../src/internal/Facets.js"
import { utf8Slice } from "./fixtures.js"

const token = fc.oneof(
  fc.constantFrom("kite", "Grüße", "naïve", "日本語", "🦋", "👩🏽‍💻", "🇩🇪", "e\u0301", "—", "\u00a0"),
  fc.constantFrom("alice.bsky.social", "bob.example.com").map((handle) => `@${handle}`),
  fc.constantFrom("https://example.com/a?b=1", "http://127.0.0.1:8080/x", "https://bsky.app/profile/x").map(String),
  fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/).map((tag) => `#${tag}`)
)
const text = fc.array(token, { maxLength: 20 }).map((tokens) => tokens.join(" "))

describe("facets", () => {
  it("every facet is a UTF-8 byte range inside the text that spells its feature", () => {
    fc.assert(
      fc.property(text, (value) => {
        const size = Facets.utf8Length(value)
        for (const facet of Facets.detect(value)) {
          const { byteEnd, byteStart } = facet.index
          assert.isAtLeast(byteStart, 0)
          assert.isAtMost(byteStart, byteEnd)
          assert.isAtMost(byteEnd, size)
          const span = utf8Slice(value, byteStart, byteEnd)
          for (const feature of facet.features) {
            switch (feature.$type) {
              case "app.bsky.richtext.facet#link":
                assert.strictEqual(span, feature.uri)
                break
              case "app.bsky.richtext.facet#mention":
                // Before resolution the `did` field still holds the handle.
                assert.strictEqual(span, `@${feature.did}`)
                break
              case "app.bsky.richtext.facet#tag":
                assert.strictEqual(span, `#${feature.tag}`)
                break
            }
          }
        }
      }),
      { numRuns: 300 }
    )
  })

  it("counts graphemes, not code units or bytes", () => {
    assert.strictEqual(Facets.graphemeLength("👩🏽‍💻🇩🇪e\u0301"), 3)
    assert.strictEqual(Facets.utf8Length("👩🏽‍💻"), 15)
  })
})
