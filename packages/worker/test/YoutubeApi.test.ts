/**
 * YouTube through the API against FakeYoutube: the OAuth connect flow end to
 * end (start → the channel owner consents at Google → callback → account),
 * then a video uploaded to the media library and posted with the resumable
 * protocol, the destination's result read back.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { FakeYoutube } from "@omnipost/platform-youtube/testing"
import { Context, Effect, Layer } from "effect"
import { testKinds } from "./fixtures.js"
import { apiLayer, connectOAuth, request, TestApi, waitFor } from "./apiHarness.js"

class Fake extends Context.Service<Fake, FakeYoutube>()("test/FakeYoutube") {}

const withFake = (kind: "pglite" | "postgres") =>
  Layer.unwrap(Effect.gen(function*() {
    const fake = yield* FakeYoutube.make()
    fake.addChannel({ title: "Ada Lovelace" })
    return apiLayer(kind, { platformBaseUrls: { youtube: fake.url } }, {
      env: { OMNIPOST_YOUTUBE_CLIENT_ID: fake.client.clientId, OMNIPOST_YOUTUBE_CLIENT_SECRET: fake.client.clientSecret }
    }).pipe(Layer.merge(Layer.succeed(Fake, fake)))
  }))

for (const kind of testKinds) {
  describe(`YouTube over the API (${kind})`, () => {
    layer(withFake(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("OAuth connect, then a video posted through the media library publishes with its watch URL", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* Fake
          const callback = yield* connectOAuth(api, "youtube")
          assert.strictEqual(callback.body.platform, "youtube")
          const channel = [...fake.channels.values()][0]!
          assert.strictEqual(callback.body.platformAccountId, channel.id)
          const accountId = callback.body.id as string

          const clip = Samples.mp4(600_000, 7)
          const uploaded = yield* request(api, "POST", "/v1/media?fileName=clip.mp4", {
            raw: Buffer.from(clip),
            headers: { "content-type": "application/octet-stream" }
          })
          assert.strictEqual(uploaded.status, 201, JSON.stringify(uploaded.body))
          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "Launch day", media: [{ mediaId: uploaded.body.id }] },
              destinations: [{ accountId, settings: { privacyStatus: "private", madeForKids: false, tags: ["launch"] } }]
            }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const result = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) => ["published", "partially_failed", "failed"].includes(r.body.status) ? r.body : undefined),
            60_000,
            "the YouTube post"
          )
          assert.strictEqual(result.status, "published", JSON.stringify(result.destinations))
          const video = [...fake.videos.values()][0]!
          assert.strictEqual(result.destinations[0].platformPostId, video.id)
          assert.strictEqual(result.destinations[0].url, `https://www.youtube.com/watch?v=${video.id}`)
          assert.strictEqual(video.sizeBytes, clip.byteLength)
          assert.strictEqual(video.snippet.title, "Launch day")
          assert.strictEqual(video.channelId, channel.id)
        }))
    })
  })
}
