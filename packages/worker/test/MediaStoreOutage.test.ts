/**
 * A media store that cannot be reached (an S3 endpoint that is down) is the
 * store's outage, not our bug: uploads answer 503 `MEDIA_STORE_UNAVAILABLE`
 * with `Retry-After` and the error shape, never 500.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { apiLayer, errorCode, png1x1, request, TestApi } from "./apiHarness.js"
import { freePort } from "./ports.js"

/** An S3 store whose endpoint is a port nothing listens on. */
const downStore = Layer.unwrap(Effect.promise(async () => {
  const port = await freePort()
  return apiLayer("pglite", {}, {
    scheduler: false,
    env: {
      OMNIPOST_MEDIA_STORE: "s3://omnipost-media/down",
      OMNIPOST_S3_ENDPOINT: `http://127.0.0.1:${port}`,
      OMNIPOST_S3_REGION: "us-east-1",
      OMNIPOST_S3_ACCESS_KEY_ID: "S3RVER",
      OMNIPOST_S3_SECRET_ACCESS_KEY: "S3RVER",
      OMNIPOST_S3_FORCE_PATH_STYLE: "true"
    }
  })
}))

describe("the media store is down", () => {
  layer(downStore, { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect("an upload is a 503 MEDIA_STORE_UNAVAILABLE with Retry-After, and the server goes on", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const raw = yield* request(api, "POST", "/v1/media?fileName=dot.png", {
          raw: png1x1,
          headers: { "content-type": "application/octet-stream" }
        })
        assert.strictEqual(raw.status, 503, JSON.stringify(raw.body))
        assert.strictEqual(errorCode(raw), "MEDIA_STORE_UNAVAILABLE")
        assert.isString(raw.body.error.message)
        assert.strictEqual(raw.headers.get("retry-after"), "5")
        const form = new FormData()
        form.append("file", new Blob([png1x1], { type: "image/png" }), "dot.png")
        const multipart = yield* request(api, "POST", "/v1/media", { raw: form })
        assert.strictEqual(multipart.status, 503, JSON.stringify(multipart.body))
        assert.strictEqual(errorCode(multipart), "MEDIA_STORE_UNAVAILABLE")
        // The server is still well: other requests answer.
        const health = yield* request(api, "GET", "/v1/posts")
        assert.strictEqual(health.status, 200)
      }), 60_000)
  })
})
