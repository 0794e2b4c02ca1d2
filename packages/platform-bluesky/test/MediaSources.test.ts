/**
 * Media sources through the platform kit (one policy for every platform):
 * users' URLs are guarded (strict unless the host or the options allow
 * private addresses), a media host's 429 is Transient, and bytes that are not
 * their declared type are found out before any part of a thread is posted.
 */
import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Samples } from "@omnipost/platform-kit/testing"
import { UrlGuard } from "@omnipost/platform-kit"
import { makeBlueskyPublisher } from "@omnipost/platform-bluesky"
import { FakeBluesky } from "@omnipost/platform-bluesky/testing"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { image, part, publishRequest, withFake } from "./fixtures.js"

const codeOf = (error: { readonly _tag: string }) => ("code" in error ? (error as { code: string }).code : error._tag)

/** A media host answering `status` to everything. */
const answering = (status: number) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ url: string; close: () => void; hits: () => number }>((resolve) => {
        let hits = 0
        const server = createServer((_, response) => {
          hits++
          response.writeHead(status, { "retry-after": "5" }).end("slow down")
        })
        server.listen(0, "127.0.0.1", () =>
          resolve({
            url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/photo.png`,
            close: () => server.close(),
            hits: () => hits
          }))
      })
    ),
    (host) => Effect.sync(host.close)
  )

describe("media sources on the kit", () => {
  it.live("without a guard option, a media URL to a private address is refused before anything is sent", () =>
    Effect.gen(function*() {
      const fake = yield* FakeBluesky.make()
      const publisher = yield* makeBlueskyPublisher(fake.publisherOptions())
      const url = fake.servePage("/internal/admin", { contentType: "image/png", body: Samples.png(1000) })
      const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("ssrf", [
        { kind: "image", mimeType: "image/png", sizeBytes: 1000, source: { _tag: "url", url } }
      ])])))
      assert.strictEqual(codeOf(error), "URL_NOT_ALLOWED")
      assert.include(error.message, "127.0.0.1")
      assert.strictEqual(fake.blobs.size, 0)
      assert.strictEqual(fake.posts().length, 0)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.live("the host's guard (UrlGuard.layerFetch) decides when the options do not", () =>
    Effect.gen(function*() {
      const fake = yield* FakeBluesky.make()
      const publisher = yield* makeBlueskyPublisher(fake.publisherOptions())
      const data = Samples.png(1000, 4)
      const url = fake.servePage("/media/ok.png", { contentType: "image/png", body: data })
      yield* publisher.publish(publishRequest(fake.credentials(), [part("allowed by the host", [
        { kind: "image", mimeType: "image/png", sizeBytes: 1000, source: { _tag: "url", url } }
      ])]))
      assert.strictEqual(fake.posts().length, 1)
    }).pipe(
      Effect.scoped,
      Effect.provide(Layer.merge(NodeHttpClient.layerUndici, UrlGuard.layerFetch({ allowPrivate: true })))
    ))

  it.live("a media host answering 429 is Transient (it may answer later), and nothing is posted", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const host = yield* answering(429)
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("later", [
          { kind: "image", mimeType: "image/png", sizeBytes: 1000, source: { _tag: "url", url: host.url } }
        ])])))
        assert.strictEqual(error._tag, "Transient")
        assert.strictEqual(host.hits(), 1)
        assert.strictEqual(fake.posts().length, 0)
      }).pipe(Effect.scoped)
    ))

  it.live("a thread whose third part's image is not what it declares is refused before the first part is posted", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const html = new TextEncoder().encode("<!doctype html><html><body>Not found</body></html>")
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [
          part("one", [image(5_000, "a", 1)]),
          part("two", [image(5_000, "b", 2)]),
          part("three", [{ kind: "image", mimeType: "image/png", sizeBytes: html.byteLength, source: { _tag: "bytes", data: html } }])
        ])))
        assert.strictEqual(codeOf(error), "MEDIA_TYPE_MISMATCH")
        assert.include(error.message, "image/png")
        assert.strictEqual(fake.posts().length, 0)
      })
    ))

  it.live("the blob is uploaded with the type its bytes are, and embedded with it", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        // Declared as image/jpg (an alias), the bytes are JPEG: the upload says image/jpeg.
        const data = Samples.jpeg(3_000, 9)
        yield* publisher.publish(publishRequest(fake.credentials(), [part("alias", [
          { kind: "image", mimeType: "image/jpg", sizeBytes: data.byteLength, source: { _tag: "bytes", data } }
        ])]))
        const upload = fake.requests.find((request) => request.nsid === "com.atproto.repo.uploadBlob")!
        assert.strictEqual(upload.contentType, "image/jpeg")
        const embed = (fake.posts()[0]!.value as { embed: { images: Array<{ image: { mimeType: string } }> } }).embed
        assert.strictEqual(embed.images[0]!.image.mimeType, "image/jpeg")
      })
    ))
})
