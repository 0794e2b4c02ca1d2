/**
 * TikTok through the API against FakeTiktok: the OAuth connect flow end to
 * end (start → the creator consents at TikTok → callback → account, showing
 * when the connection ends), then a video uploaded to the media library and
 * posted by the scheduler (creator_info, FILE_UPLOAD in chunks, status
 * polled), the destination's result read back. With a verified domain
 * (OMNIPOST_TIKTOK_VERIFIED_URL_PREFIXES over OMNIPOST_PUBLIC_URL), stored
 * videos and photos reach TikTok as the worker's signed media URLs
 * (PULL_FROM_URL); a status call that fails is retried by polling the kept
 * publish id, never by posting again.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Faults, Samples } from "@omnipost/platform-kit/testing"
import { FakeTiktok } from "@omnipost/platform-tiktok/testing"
import { Effect, Layer } from "effect"
import { testKinds } from "./fixtures.js"
import { type ApiServer, apiLayer, connectOAuth, request, TestApi, waitFor } from "./apiHarness.js"
import { FakeTiktokService, withFakeTiktok } from "./tiktokHarness.js"

const withFake = (kind: "pglite" | "postgres") => withFakeTiktok(kind)

for (const kind of testKinds) {
  describe(`TikTok over the API (${kind})`, () => {
    layer(withFake(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("OAuth connect, then a video posted through the media library and the scheduler publishes with its URL", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* FakeTiktokService
          const callback = yield* connectOAuth(api, "tiktok")
          assert.strictEqual(callback.body.platform, "tiktok")
          assert.strictEqual(callback.body.platformAccountId, fake.user.openId)
          assert.strictEqual(callback.body.username, "ana")
          assert.strictEqual(callback.body.avatarUrl, fake.user.avatarUrl)
          const accountId = callback.body.id as string
          const account = yield* request(api, "GET", `/v1/accounts/${accountId}`)
          // The connection ends with the refresh token, a year away.
          const ends = Date.parse(account.body.tokenExpiresAt) - Date.now()
          assert.isTrue(ends > 364 * 86_400_000 && ends <= 365 * 86_400_000, account.body.tokenExpiresAt)

          const clip = Samples.mp4(700_000, 9)
          const uploaded = yield* request(api, "POST", "/v1/media?fileName=clip.mp4", {
            raw: Buffer.from(clip),
            headers: { "content-type": "application/octet-stream" }
          })
          assert.strictEqual(uploaded.status, 201, JSON.stringify(uploaded.body))
          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "Launch day #tiktok", media: [{ mediaId: uploaded.body.id }] },
              destinations: [{ accountId, settings: { privacyLevel: "PUBLIC_TO_EVERYONE", disableDuet: true } }]
            }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const result = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) => ["published", "partially_failed", "failed"].includes(r.body.status) ? r.body : undefined),
            60_000,
            "the TikTok post"
          )
          assert.strictEqual(result.status, "published", JSON.stringify(result.destinations))
          const upload = [...fake.uploads.values()][0]!
          assert.strictEqual(upload.received, clip.byteLength)
          assert.strictEqual(upload.postInfo.title, "Launch day #tiktok")
          assert.strictEqual(upload.postInfo.privacy_level, "PUBLIC_TO_EVERYONE")
          const postId = result.destinations[0].platformPostId
          assert.match(postId, /^7/)
          assert.strictEqual(result.destinations[0].url, `https://www.tiktok.com/@ana/video/${postId}`)
          assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length >= 1, true)
        }))

      it.effect("a privacy level the creator cannot use fails the destination naming their options, nothing uploaded", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* FakeTiktokService
          fake.creator.privacyLevelOptions = ["SELF_ONLY"]
          const accounts = yield* request(api, "GET", "/v1/accounts?platform=tiktok")
          const accountId = accounts.body[0].id as string
          const uploads = fake.uploads.size
          const uploaded = yield* request(api, "POST", "/v1/media?fileName=clip.mp4", {
            raw: Buffer.from(Samples.mp4(100_000, 3)),
            headers: { "content-type": "application/octet-stream" }
          })
          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "public?", media: [{ mediaId: uploaded.body.id }] },
              destinations: [{ accountId, settings: { privacyLevel: "FOLLOWER_OF_CREATOR" } }]
            }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const result = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) => ["published", "partially_failed", "failed"].includes(r.body.status) ? r.body : undefined),
            60_000,
            "the refused TikTok post"
          )
          assert.strictEqual(result.status, "failed")
          assert.strictEqual(result.destinations[0].lastError.code, "PRIVACY_LEVEL_NOT_ALLOWED", JSON.stringify(result.destinations[0].lastError))
          assert.include(result.destinations[0].lastError.message, "their options are SELF_ONLY")
          assert.strictEqual(fake.uploads.size, uploads)
        }))
    })
  })
}

const publicUrl = "https://omnipost.example.com"

const withVerifiedDomain = (kind: "pglite" | "postgres") =>
  Layer.unwrap(Effect.gen(function*() {
    const fake = yield* Effect.acquireRelease(Effect.promise(() => FakeTiktok.start()), (fake) => Effect.promise(() => fake.close()))
    fake.processingPolls = 0
    fake.verifiedPrefixes = [`${publicUrl}/media/`]
    return apiLayer(kind, { platformBaseUrls: { tiktok: fake.url }, publicUrl, publicUrlConfigured: true }, {
      env: {
        OMNIPOST_TIKTOK_CLIENT_KEY: fake.client.clientKey,
        OMNIPOST_TIKTOK_CLIENT_SECRET: fake.client.clientSecret,
        OMNIPOST_TIKTOK_VERIFIED_URL_PREFIXES: `${publicUrl}/media/`
      }
    }).pipe(Layer.merge(Layer.succeed(FakeTiktokService, fake)))
  }))

/** The creator's browser: start, TikTok's authorize page, the callback (its path on this server). */
const connect = (api: ApiServer) =>
  Effect.gen(function*() {
    const started = yield* request(api, "POST", "/v1/accounts/oauth/tiktok/start", { body: {} })
    const consent = yield* Effect.promise(() => fetch(started.body.authorizationUrl, { redirect: "manual" }))
    const back = new URL(consent.headers.get("location")!)
    const callback = yield* request(api, "GET", `${back.pathname}${back.search}`, { key: null })
    assert.strictEqual(callback.status, 200, JSON.stringify(callback.body))
    return callback.body.id as string
  })

const upload = (api: ApiServer, bytes: Uint8Array, fileName: string) =>
  Effect.map(
    request(api, "POST", `/v1/media?fileName=${fileName}`, { raw: Buffer.from(bytes), headers: { "content-type": "application/octet-stream" } }),
    (r) => r.body.id as string
  )

const settled = (api: ApiServer, postId: string) =>
  waitFor(
    Effect.map(request(api, "GET", `/v1/posts/${postId}`), (r) => ["published", "partially_failed", "failed"].includes(r.body.status) ? r.body : undefined),
    60_000,
    "the TikTok post"
  )

for (const kind of testKinds) {
  describe(`TikTok with a verified domain (${kind})`, () => {
    layer(withVerifiedDomain(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("a stored video and stored photos are pulled from their signed public URLs; nothing is uploaded", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* FakeTiktokService
          const accountId = yield* connect(api)
          const video = yield* upload(api, Samples.mp4(300_000, 4), "clip.mp4")
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "pulled", media: [{ mediaId: video }] }, destinations: [{ accountId, settings: { privacyLevel: "PUBLIC_TO_EVERYONE" } }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const result = yield* settled(api, created.body.id)
          assert.strictEqual(result.status, "published", JSON.stringify(result.destinations))
          const pulled = [...fake.uploads.values()].at(-1)!
          assert.match(pulled.videoUrl!, new RegExp(`^${publicUrl}/media/${video}\\?expires=\\d+&signature=`))
          assert.strictEqual(fake.server.requestsOf("PUT /upload/:id").length, 0)

          const photos = [yield* upload(api, Samples.jpeg(20_000, 1), "a.jpg"), yield* upload(api, Samples.jpeg(20_000, 2), "b.jpg")]
          const album = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "two photos", media: photos.map((mediaId) => ({ mediaId })) },
              destinations: [{ accountId, settings: { privacyLevel: "PUBLIC_TO_EVERYONE", title: "Album" } }]
            }
          })
          assert.strictEqual(album.status, 201, JSON.stringify(album.body))
          const albumResult = yield* settled(api, album.body.id)
          assert.strictEqual(albumResult.status, "published", JSON.stringify(albumResult.destinations))
          const post = [...fake.uploads.values()].at(-1)!
          assert.deepStrictEqual(post.photoImages!.map((url) => new URL(url).pathname), photos.map((id) => `/media/${id}`))
          assert.strictEqual(post.postInfo.title, "Album")
          assert.match(albumResult.destinations[0].url, /^https:\/\/www\.tiktok\.com\/@ana\/photo\/7/)
        }))

      it.effect("a failed status call: the retry polls the kept publish id and publishes; init was called once", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* FakeTiktokService
          const accounts = yield* request(api, "GET", "/v1/accounts?platform=tiktok")
          const accountId = accounts.body[0].id as string
          const inits = fake.server.requestsOf("POST /v2/post/publish/video/init/").length
          fake.server.inject("POST /v2/post/publish/status/fetch/", Faults.status(503), { times: 1 })
          const video = yield* upload(api, Samples.mp4(200_000, 6), "again.mp4")
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "once", media: [{ mediaId: video }] }, destinations: [{ accountId, settings: { privacyLevel: "PUBLIC_TO_EVERYONE" } }] }
          })
          const result = yield* settled(api, created.body.id)
          assert.strictEqual(result.status, "published", JSON.stringify(result.destinations))
          assert.strictEqual(result.destinations[0].attempts, 2)
          assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/video/init/").length, inits + 1)
          assert.match(result.destinations[0].platformPostId, /^7/)
        }))
    })
  })
}
