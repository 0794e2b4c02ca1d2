/**
 * Users' URLs on a server with the default policy (private addresses
 * refused): media URLs and webhook targets are refused up front with
 * URL_NOT_ALLOWED, why and how to allow it; a host listed in
 * OMNIPOST_ALLOWED_URL_HOSTS is fetched by the publisher through the
 * guarded client, while a redirect from it to an address that is not listed
 * fails the destination when publishing (the fetch is guarded hop by hop,
 * not only the URL given). Platform APIs (the Bluesky fake on 127.0.0.1)
 * are not users' URLs and are reached as configured.
 */
import { afterAll, assert, describe, layer } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { testKinds } from "./fixtures.js"
import { apiLayer, errorCode, request, TestApi, waitFor, connectBluesky } from "./apiHarness.js"

const listen = (server: Server) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)))

const photo = Samples.png(4_000, 11)
/** A host that is not allowed: what a redirect must not reach. */
const internal = createServer((_, response) => response.writeHead(200, { "content-type": "image/png" }).end(photo))
const internalPort = await listen(internal)
/** The media host the operator allowed. */
const media = createServer((request, response) => {
  if (request.url === "/photo.png") return void response.writeHead(200, { "content-type": "image/png" }).end(photo)
  if (request.url === "/hop") {
    return void response.writeHead(302, { location: `http://127.0.0.1:${internalPort}/secret.png` }).end()
  }
  response.writeHead(404).end()
})
const mediaPort = await listen(media)
afterAll(() => {
  media.close()
  internal.close()
})

const imagePost = (accountId: string, url: string) => ({
  content: { text: "a picture", media: [{ source: { _tag: "url", url }, kind: "image", mimeType: "image/png", sizeBytes: photo.byteLength }] },
  destinations: [{ accountId }]
})

for (const kind of testKinds) {
  describe(`users' URLs are guarded (${kind})`, () => {
    layer(apiLayer(kind, { allowPrivateUrls: false, allowedUrlHosts: [`127.0.0.1:${mediaPort}`] }), {
      timeout: 180_000,
      excludeTestServices: true
    })((it) => {
      it.effect("media URLs to loopback, private and metadata addresses are refused with the reason and how to allow them", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const cases: ReadonlyArray<readonly [string, string, boolean]> = [
            [`http://127.0.0.1:${internalPort}/internal/admin`, "loopback", true],
            ["http://2130706433/admin", "loopback", true],
            ["http://10.1.2.3/photo.png", "private", true],
            ["http://[::1]/photo.png", "loopback", true],
            ["http://169.254.169.254/latest/meta-data/", "metadata", false],
            ["file:///etc/passwd", "scheme", false]
          ]
          for (const [url, reason, allowable] of cases) {
            const answer = yield* request(api, "POST", "/v1/posts", { body: imagePost(accountId, url) })
            assert.strictEqual(answer.status, 400, `${url}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(errorCode(answer), "URL_NOT_ALLOWED", url)
            assert.strictEqual(answer.body.error.details.reason, reason, url)
            assert.strictEqual(answer.body.error.details.allowable, allowable, url)
            assert.strictEqual(answer.body.error.details.path, "content.media[0].source.url")
            if (allowable) assert.include(answer.body.error.message, "OMNIPOST_ALLOW_PRIVATE_URLS", url)
          }
          // The dry run says the same.
          const dry = yield* request(api, "POST", "/v1/posts/validate", { body: imagePost(accountId, "http://192.168.1.1/x.png") })
          assert.strictEqual(errorCode(dry), "URL_NOT_ALLOWED")
        }))

      it.effect("webhook targets on private addresses are refused", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          for (const url of ["http://127.0.0.1:9/hook", "http://172.16.0.5/hook", "http://[fd00::1]/hook"]) {
            const answer = yield* request(api, "POST", "/v1/webhooks", {
              body: { url, secret: "0123456789abcdef0123", events: ["post.published"] }
            })
            assert.strictEqual(answer.status, 400, `${url}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(errorCode(answer), "URL_NOT_ALLOWED", url)
          }
          const listed = yield* request(api, "GET", "/v1/webhooks")
          assert.deepStrictEqual(listed.body.data ?? listed.body, [])
        }))

      it.effect("POST /v1/media/from-url: stores from an allowed host; refuses private addresses, redirects to them, missing files and unknown fields", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const stored = yield* request(api, "POST", "/v1/media/from-url", { body: { url: `http://127.0.0.1:${mediaPort}/photo.png` } })
          assert.strictEqual(stored.status, 201, JSON.stringify(stored.body))
          assert.strictEqual(stored.body.sizeBytes, photo.byteLength)
          assert.strictEqual(stored.body.mimeType, "image/png")
          assert.strictEqual(stored.body.fileName, "photo.png")
          const named = yield* request(api, "POST", "/v1/media/from-url", { body: { url: `http://127.0.0.1:${mediaPort}/photo.png`, fileName: "logo.png" } })
          assert.strictEqual(named.body.fileName, "logo.png")

          const internalUrl = yield* request(api, "POST", "/v1/media/from-url", { body: { url: `http://127.0.0.1:${internalPort}/secret.png` } })
          assert.strictEqual(internalUrl.status, 400, JSON.stringify(internalUrl.body))
          assert.strictEqual(errorCode(internalUrl), "URL_NOT_ALLOWED")
          const hop = yield* request(api, "POST", "/v1/media/from-url", { body: { url: `http://127.0.0.1:${mediaPort}/hop` } })
          assert.strictEqual(hop.status, 400, JSON.stringify(hop.body))
          assert.strictEqual(errorCode(hop), "URL_NOT_ALLOWED")
          const missing = yield* request(api, "POST", "/v1/media/from-url", { body: { url: `http://127.0.0.1:${mediaPort}/nothing.png` } })
          assert.strictEqual(missing.status, 422, JSON.stringify(missing.body))
          assert.strictEqual(errorCode(missing), "MEDIA_UNAVAILABLE")
          const typo = yield* request(api, "POST", "/v1/media/from-url", { body: { uri: `http://127.0.0.1:${mediaPort}/photo.png` } })
          assert.strictEqual(typo.status, 400, JSON.stringify(typo.body))
          assert.include(["UNKNOWN_FIELD", "VALIDATION_FAILED"], errorCode(typo))
          assert.include(JSON.stringify(typo.body), "uri")
        }))

      it.effect("an allowed host is fetched when publishing; its redirect to a host that is not allowed fails the destination", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const settle = (id: string) =>
            waitFor(
              Effect.map(request(api, "GET", `/v1/posts/${id}`), (r) => ["published", "failed"].includes(r.body.status) ? r.body : undefined),
              30_000,
              "the post"
            )
          const allowed = yield* request(api, "POST", "/v1/posts", { body: imagePost(accountId, `http://127.0.0.1:${mediaPort}/photo.png`) })
          assert.strictEqual(allowed.status, 201, JSON.stringify(allowed.body))
          const published = yield* settle(allowed.body.id)
          assert.strictEqual(published.status, "published", JSON.stringify(published.destinations[0].lastError))
          assert.isTrue([...api.bluesky.blobs.values()].some((blob) => blob.size === photo.byteLength))

          const redirected = yield* request(api, "POST", "/v1/posts", { body: imagePost(accountId, `http://127.0.0.1:${mediaPort}/hop`) })
          assert.strictEqual(redirected.status, 201, JSON.stringify(redirected.body))
          const failed = yield* settle(redirected.body.id)
          assert.strictEqual(failed.status, "failed")
          assert.strictEqual(failed.destinations[0].lastError.code, "URL_NOT_ALLOWED", JSON.stringify(failed.destinations[0].lastError))
          assert.include(failed.destinations[0].lastError.message, String(internalPort))
        }))
    })
  })
}
