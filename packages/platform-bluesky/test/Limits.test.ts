/**
 * Limits the publisher reads from the rules table (core's `Rules.bluesky`,
 * or the rules it is given) and checks before anything is sent: media sizes
 * and hashtag lengths, as the lexicons set them.
 */
import { RichText } from "@atproto/api"
import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { Effect } from "effect"
import { Rules, TextCount } from "@omnipost/core"
import { image, mediaOf, part, publishRequest, withFake } from "./fixtures.js"

const scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}"

const codeOf = (error: { readonly _tag: string; readonly code?: string | undefined }) => (error._tag === "Rejected" ? error.code : error._tag)

describe("media limits come from the rules", () => {
  it.live("an image of 2,000,000 bytes is posted (lexicon app.bsky.embed.images since April 2026)", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        yield* publisher.publish(publishRequest(fake.credentials(), [part("big picture", [image(2_000_000, "large", 7)])]))
        const embed = (fake.posts()[0]!.value as { embed: { images: Array<{ image: { size: number } }> } }).embed
        assert.strictEqual(embed.images[0]!.image.size, 2_000_000)
      })
    ))

  it.live("a video over the rules' 300,000,000 bytes is refused before anything is sent", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const data = mediaOf("video/mp4", 1000)
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("huge", [{
          kind: "video",
          mimeType: "video/mp4",
          sizeBytes: 300_000_001,
          source: { _tag: "bytes", data }
        }])])))
        assert.strictEqual(codeOf(error), "MEDIA_TOO_LARGE")
        assert.include(error.message, "300000000")
        assert.isFalse(fake.requests.some((request) => request.server === "video"))
      })
    ))

  it.live("rules given to the publisher are the ones it checks and reports", () => {
    const feed = Rules.bluesky.placements[0]!
    const strict: Rules.PlatformRules = {
      ...Rules.bluesky,
      placements: [{ ...feed, media: { ...feed.media, video: { ...feed.media.video!, maxSizeBytes: 1000 } } }]
    }
    return withFake((fake, publisher) =>
      Effect.gen(function*() {
        assert.strictEqual(publisher.rules, strict)
        const data = mediaOf("video/mp4", 1001)
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("clip", [{
          kind: "video",
          mimeType: "video/mp4",
          sizeBytes: data.byteLength,
          source: { _tag: "bytes", data }
        }])])))
        assert.strictEqual(codeOf(error), "MEDIA_TOO_LARGE")
        assert.strictEqual(fake.requests.filter((request) => request.server === "video").length, 0)
      }), { publisher: { rules: strict } })
  })
})

describe("hashtags the PDS would refuse are refused before anything is sent", () => {
  const refusals: ReadonlyArray<readonly [string, ReadonlyArray<string>, ReadonlyArray<string> | undefined]> = [
    ["a tags entry of 65 graphemes", ["hello"], ["a".repeat(65)]],
    ["a tags entry of 644 bytes in 23 graphemes", ["hello"], [`#${scotland.repeat(23)}`]],
    ["a hashtag of 644 bytes in the text (RichText makes it a facet)", [`Go #${scotland.repeat(23)}`], undefined],
    ["a hashtag of 65 graphemes in a later thread part", ["first", `second #${"b".repeat(65)}`], undefined]
  ]
  for (const [name, texts, tags] of refusals) {
    it.live(name, () =>
      withFake((fake, publisher) =>
        Effect.gen(function*() {
          const parts = texts.map((text) => part(text))
          const error = yield* Effect.flip(
            publisher.publish(publishRequest(fake.credentials(), [parts[0]!, ...parts.slice(1)], tags !== undefined ? { tags } : {}))
          )
          assert.strictEqual(codeOf(error), "CONTENT_TOO_LONG")
          assert.include(error.message, "hashtag")
          assert.deepStrictEqual(fake.requests, [])
        })
      ))
  }

  it.live("tags at the limits are posted, without their #", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const tags = ["a".repeat(64), `#${scotland.repeat(22)}`]
        yield* publisher.publish(publishRequest(fake.credentials(), [part(`Go #${"c".repeat(64)}`)], { tags }))
        const record = fake.posts()[0]!.value as { tags: Array<string>; facets: Array<{ features: Array<{ tag?: string }> }> }
        assert.deepStrictEqual(record.tags, ["a".repeat(64), scotland.repeat(22)])
        assert.strictEqual(record.facets[0]!.features[0]!.tag, "c".repeat(64))
      })
    ))
})

describe("core's atproto hashtag detection", () => {
  const piece = fc.oneof(
    fc.constantFrom("#", "＃", " ", "\n", ".", "!", "#1", "##", "#️⃣", "\u200B", "\u00AD", "\u2060", "1", "-", "_"),
    fc.constantFrom("kite", "Grüße", "日本語", "🦋", "👩🏽‍💻", "🇩🇪", "e\u0301", scotland, "$AAPL"),
    fc.string({ maxLength: 4 })
  )
  const text = fc.array(piece, { maxLength: 30 }).map((pieces) => pieces.join(""))

  it("finds the tags @atproto/api's RichText makes facets of (those within its 64 graphemes)", () => {
    fc.assert(
      fc.property(text, (value) => {
        const richText = new RichText({ text: value })
        richText.detectFacetsWithoutResolution()
        const bytes = Buffer.from(value, "utf8")
        const fromRichText = (richText.facets ?? [])
          // Cashtags ($AAPL, at most 6 characters) are tag facets too, over text that starts with "$", not "#".
          .filter((facet) => /^[#＃]/.test(bytes.subarray(facet.index.byteStart, facet.index.byteEnd).toString("utf8")))
          .flatMap((facet) => facet.features)
          .flatMap((feature) => (feature.$type === "app.bsky.richtext.facet#tag" ? [(feature as { tag: string }).tag] : []))
        const fromCore = TextCount.hashtags(value, "atproto").filter((tag) => TextCount.graphemes(tag) <= 64)
        assert.deepStrictEqual(fromCore, fromRichText, JSON.stringify(value))
      }),
      { numRuns: 2000 }
    )
  })
})
