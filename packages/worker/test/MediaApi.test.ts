/**
 * Media over the HTTP API on every media store: the same upload, URL,
 * publish and delete tests on the local files (each database kind) and on an
 * S3-compatible server (s3rver, started by the suite), with media URLs the
 * worker's signed route or presigned by the store.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { testKinds } from "./fixtures.js"
import { type ApiServer, apiLayer, connectBluesky, errorCode, type MediaStoreKind, png1x1, request, TestApi, waitFor } from "./apiHarness.js"

/** The ids of the stored media files. */
const stored = (api: ApiServer) => Effect.promise(async () => (await api.storedMedia()).map((file) => file.name))

const suites: ReadonlyArray<readonly [Parameters<typeof apiLayer>[0], MediaStoreKind]> = [
  ...testKinds.map((kind) => [kind, "local"] as const),
  ["pglite", "s3"],
  ["pglite", "s3-presigned"]
]

for (const [kind, store] of suites) {
  describe(`media over the HTTP API (${kind}, ${store} store)`, () => {
    layer(apiLayer(kind, {}, { mediaStore: store }), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("media: streamed upload typed by content, signed expiring URLs, limits", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const uploaded = yield* request(api, "POST", "/v1/media?fileName=dot.png", {
            raw: png1x1,
            headers: { "content-type": "application/octet-stream" }
          })
          assert.strictEqual(uploaded.status, 201, JSON.stringify(uploaded.body))
          assert.strictEqual(uploaded.body.kind, "image")
          assert.strictEqual(uploaded.body.mimeType, "image/png")
          assert.strictEqual(uploaded.body.width, 1)
          assert.strictEqual(uploaded.body.height, 1)
          assert.strictEqual(uploaded.body.sizeBytes, png1x1.length)
          assert.strictEqual(uploaded.body.fileName, "dot.png")
          const fetched = yield* Effect.promise(() => fetch(uploaded.body.url).then(async (r) => ({
            status: r.status,
            type: r.headers.get("content-type"),
            bytes: Buffer.from(await r.arrayBuffer())
          })))
          assert.strictEqual(fetched.status, 200)
          assert.strictEqual(fetched.type, "image/png")
          assert.isTrue(fetched.bytes.equals(png1x1))
          if (api.mediaStore === "s3-presigned") {
            // The store's own URL, signed for this object: a changed signature or object is refused by the store.
            assert.isTrue(uploaded.body.url.startsWith(`${api.s3!.endpoint}/`), uploaded.body.url)
            const tampered = uploaded.body.url.replace(/X-Amz-Signature=(.)/, (_: string, c: string) => `X-Amz-Signature=${c === "0" ? "1" : "0"}`)
            assert.strictEqual((yield* Effect.promise(() => fetch(tampered))).status, 403)
            const otherObject = uploaded.body.url.replace(uploaded.body.id, "med_somethingelse")
            assert.strictEqual((yield* Effect.promise(() => fetch(otherObject))).status, 403)
          } else {
            assert.isTrue(uploaded.body.url.startsWith(`${api.url}/media/${uploaded.body.id}?`), uploaded.body.url)
            const tampered = yield* Effect.promise(() =>
              // One character changed (a fixed replacement equals the original one time in 16).
              fetch(uploaded.body.url.replace(/signature=(.)/, (_: string, c: string) => `signature=${c === "0" ? "1" : "0"}`)).then(async (r) => ({ status: r.status, body: await r.json() }))
            )
            assert.strictEqual(tampered.status, 403)
            assert.strictEqual(tampered.body.error.code, "FORBIDDEN")
            const expired = uploaded.body.url.replace(/expires=\d+/, "expires=1000")
            assert.strictEqual((yield* Effect.promise(() => fetch(expired))).status, 403)
          }

          const got = yield* request(api, "GET", `/v1/media/${uploaded.body.id}`)
          assert.strictEqual(got.status, 200)
          assert.strictEqual(got.body.sha256, uploaded.body.sha256)

          const multipart = new FormData()
          multipart.append("file", new Blob([png1x1], { type: "image/png" }), "form.png")
          const viaForm = yield* request(api, "POST", "/v1/media", { raw: multipart })
          assert.strictEqual(viaForm.status, 201, JSON.stringify(viaForm.body))
          assert.strictEqual(viaForm.body.fileName, "form.png")

          const text = yield* request(api, "POST", "/v1/media", {
            raw: Buffer.from("just some text pretending to be an image, long enough to be judged by its bytes"),
            headers: { "content-type": "image/png" }
          })
          assert.strictEqual(text.status, 400)
          assert.strictEqual(errorCode(text), "UNSUPPORTED_MEDIA_TYPE")
          const lying = yield* request(api, "POST", "/v1/media", { raw: png1x1, headers: { "content-type": "video/mp4" } })
          assert.strictEqual(lying.status, 400)
          assert.strictEqual(errorCode(lying), "UNSUPPORTED_MEDIA_TYPE")
          // The harness caps uploads at 1 MB.
          const big = Buffer.concat([png1x1, Buffer.alloc(1_100_000)])
          const tooBig = yield* request(api, "POST", "/v1/media", { raw: big, headers: { "content-type": "image/png" } })
          assert.strictEqual(tooBig.status, 413)
          assert.strictEqual(errorCode(tooBig), "PAYLOAD_TOO_LARGE")

          assert.isTrue((yield* stored(api)).includes(viaForm.body.id))
          const deleted = yield* request(api, "DELETE", `/v1/media/${viaForm.body.id}`)
          assert.strictEqual(deleted.status, 204)
          // The bytes went with the record; the refused uploads left nothing.
          assert.deepStrictEqual((yield* stored(api)).sort(), [uploaded.body.id])
          const missing = yield* request(api, "GET", `/v1/media/${viaForm.body.id}`)
          assert.strictEqual(missing.status, 404)
          assert.strictEqual(errorCode(missing), "MEDIA_NOT_FOUND")
        }))

      it.effect("posts as multipart: inline files become the post's media and publish", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const form = new FormData()
          form.append("post", JSON.stringify({ content: { text: "with a picture" }, destinations: [{ accountId }] }))
          form.append("files", new Blob([png1x1], { type: "image/png" }), "inline.png")
          const created = yield* request(api, "POST", "/v1/posts", { raw: form })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          assert.strictEqual(created.body.content.media.length, 1)
          assert.strictEqual(created.body.content.media[0].source._tag, "stored")
          assert.strictEqual(created.body.content.media[0].mimeType, "image/png")
          const published = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) =>
              r.body.status === "published" || r.body.status === "failed" ? r.body : undefined),
            30_000,
            "the post with media to settle"
          )
          assert.strictEqual(published.status, "published", JSON.stringify(published.destinations[0].lastError))
          // The publisher streamed the stored bytes to the platform.
          const blobs = [...api.bluesky.blobs.values()]
          assert.isTrue(blobs.some((blob) => blob.bytes !== undefined && Buffer.from(blob.bytes).equals(png1x1)), `blobs: ${blobs.length}`)
          const noPost = new FormData()
          noPost.append("files", new Blob([png1x1], { type: "image/png" }), "inline.png")
          const missing = yield* request(api, "POST", "/v1/posts", { raw: noPost })
          assert.strictEqual(missing.status, 400)
          assert.strictEqual(errorCode(missing), "VALIDATION_FAILED")
        }))
    })
  })
}
