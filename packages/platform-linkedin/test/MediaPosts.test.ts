import { assert, describe, it } from "@effect/vitest"
import { Rules } from "@omnipost/core"
import { UrlGuard } from "@omnipost/platform-kit"
import { Samples } from "@omnipost/platform-kit/testing"
import { Media } from "@omnipost/platform-linkedin"
import { Effect } from "effect"
import { HttpClient } from "effect/http"
import { bytesMedia, part, request, withFake } from "./fixtures.js"

describe("media posts through the library", () => {
  it.live("one image: initialized with the author as owner, uploaded, AVAILABLE, posted as content.media", () =>
    withFake(({ account, credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const image = bytesMedia("image", "image/png", Samples.png(40_000), { altText: "A chart (Q3)" })
        const result = yield* publisher.publish(request(credentials, [part("Chart:", [image])]))
        const post = fake.posts[0]!
        const id = (post.content as { media: { id: string; altText: string } }).media.id
        const asset = fake.assets.get(id)!
        assert.strictEqual(asset.kind, "image")
        assert.strictEqual(asset.owner, account.personUrn)
        assert.strictEqual(asset.mimeType, "image/png")
        assert.strictEqual(asset.sizeBytes, 40_000)
        assert.strictEqual((post.content as { media: { altText: string } }).media.altText, "A chart (Q3)")
        assert.strictEqual(result.platformPostId, post.id)
        // The status was asked until AVAILABLE (one PROCESSING answer first).
        assert.strictEqual(fake.server.requests.filter((r) => r.path.startsWith("/rest/images/")).length, 2)
      })
    ))

  it.live("several images: a multiImage post in order, each uploaded", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const images = [1, 2, 3].map((seed) => bytesMedia("image", "image/jpeg", Samples.of("image/jpeg", 20_000, seed), { altText: `photo ${seed}` }))
        yield* publisher.publish(request(credentials, [part("Three", images)]))
        const content = fake.posts[0]!.content as { multiImage: { images: ReadonlyArray<{ id: string; altText: string }> } }
        assert.deepStrictEqual(content.multiImage.images.map((i) => i.altText), ["photo 1", "photo 2", "photo 3"])
        assert.deepStrictEqual(content.multiImage.images.map((i) => fake.assets.get(i.id)!.status), ["AVAILABLE", "AVAILABLE", "AVAILABLE"])
      })
    ))

  it.live("a document (PDF) through the Documents API, with its title", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const pdf = bytesMedia("document", "application/pdf", Samples.pdf(120_000))
        yield* publisher.publish(request(credentials, [part("Slides", [pdf])], { documentTitle: "Q3 deck" }))
        const media = (fake.posts[0]!.content as { media: { id: string; title: string } }).media
        assert.match(media.id, /^urn:li:document:/)
        assert.strictEqual(media.title, "Q3 deck")
        assert.strictEqual(fake.assets.get(media.id)!.mimeType, "application/pdf")
      })
    ))

  it.live("a PPTX (a ZIP declared as a presentation) goes through the Documents API", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const zip = Samples.filler(90_000, 3)
        zip.set([0x50, 0x4b, 0x03, 0x04])
        const pptx = bytesMedia("document", "application/vnd.openxmlformats-officedocument.presentationml.presentation", zip)
        yield* publisher.publish(request(credentials, [part("Deck", [pptx])]))
        const media = (fake.posts[0]!.content as { media: { id: string; title: string } }).media
        assert.strictEqual(media.title, "Document")
        assert.strictEqual(fake.assets.get(media.id)!.status, "AVAILABLE")
      })
    ))

  it.live("an article: the link with title, description and an uploaded thumbnail", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        yield* publisher.publish(request(credentials, [part("Read this", [], "https://example.com/post_(1)")], {
          articleTitle: "A title [draft]",
          articleDescription: "What it says",
          articleThumbnail: { mimeType: "image/png", source: { _tag: "bytes", data: Samples.png(10_000) } }
        }))
        const post = fake.posts[0]!
        const article = (post.content as { article: { source: string; title: string; description: string; thumbnail: string } }).article
        assert.strictEqual(article.source, "https://example.com/post_(1)")
        assert.strictEqual(article.title, "A title [draft]")
        assert.strictEqual(article.description, "What it says")
        assert.strictEqual(fake.assets.get(article.thumbnail)!.kind, "image")
        assert.strictEqual(post.text, "Read this")
      })
    ))

  it.live("a link with media is appended to the commentary, shown exactly", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const image = bytesMedia("image", "image/gif", Samples.gif(5_000))
        yield* publisher.publish(request(credentials, [part("See", [image], "https://example.com/a_b?x=(1)")]))
        assert.strictEqual(fake.posts[0]!.text, "See\n\nhttps://example.com/a_b?x=(1)")
      })
    ))

  it.live("media whose bytes are not what they claim, or not a type LinkedIn takes, is refused before anything is posted", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const lying = bytesMedia("image", "image/jpeg", Samples.png(5_000))
        const mismatch = yield* Effect.flip(publisher.publish(request(credentials, [part("x", [lying])])))
        assert.strictEqual(mismatch._tag === "Rejected" ? mismatch.code : mismatch._tag, "MEDIA_TYPE_MISMATCH")
        const webp = bytesMedia("image", "image/webp", Samples.webp(5_000))
        const unsupported = yield* Effect.flip(publisher.publish(request(credentials, [part("x", [webp])])))
        assert.strictEqual(unsupported._tag === "Rejected" ? unsupported.code : unsupported._tag, "UNSUPPORTED_MEDIA_TYPE")
        const huge = bytesMedia("image", "image/png", Samples.png(5_000_001))
        const tooLarge = yield* Effect.flip(publisher.publish(request(credentials, [part("x", [huge])])))
        assert.strictEqual(tooLarge._tag === "Rejected" ? tooLarge.code : tooLarge._tag, "MEDIA_TOO_LARGE")
        assert.strictEqual(fake.server.requests.length, 0)
        assert.strictEqual(fake.posts.length, 0)
      })
    ))

  it.live("an image of 36,152,320 pixels or more is refused from its bytes; LinkedIn's own refusal is MEDIA_PROCESSING_FAILED", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const giant = Samples.of("image/png", 5_000, 1, { width: 7000, height: 6000 })
        const error = yield* Effect.flip(publisher.publish(request(credentials, [part("x", [bytesMedia("image", "image/png", giant)])])))
        assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "DIMENSIONS_OUT_OF_RANGE")
        assert.strictEqual(fake.posts.length, 0)
        // Past our check (a rule without the pixel cap), the fake refuses it as LinkedIn does: processing fails.
        const client = yield* HttpClient.HttpClient
        const failed = yield* Effect.flip(Media.uploadAsset(
          {
            connection: { client, apiBaseUrl: fake.url, version: "202611", accessToken: credentials.accessToken, timeout: "10 seconds" },
            fetcher: { client, guard: UrlGuard.UrlGuard.make({ allowPrivate: true }) },
            pollInterval: "5 millis"
          },
          "image",
          { source: { _tag: "bytes", data: giant }, mimeType: "image/png" },
          credentials.personUrn!,
          { ...Rules.linkedin.placements[0]!.media.image!, maxPixels: undefined }
        ))
        assert.strictEqual(failed._tag === "Rejected" ? failed.code : failed._tag, "MEDIA_PROCESSING_FAILED")
      })
    ))
})
