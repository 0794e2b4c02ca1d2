import { NodeHttpClient } from "@effect/platform-node"
import { Samples } from "@omnipost/platform-kit/testing"
import { Chunks, Video } from "@omnipost/platform-tiktok"
import { FakeTiktok } from "@omnipost/platform-tiktok/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { HttpClient } from "effect/http"
import { createHash } from "node:crypto"

const MB = Chunks.MB

const withFake = <A, E>(f: (fake: FakeTiktok, connection: (token?: string) => Parameters<typeof Video.postFileVideo>[0]) => Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fake = yield* Effect.acquireRelease(Effect.promise(() => FakeTiktok.start()), (fake) => Effect.promise(() => fake.close()))
    const client = yield* HttpClient.HttpClient
    return yield* f(fake, (token = "tok-1") => ({ client, apiBaseUrl: fake.url, accessToken: token, timeout: "30 seconds" }))
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

const info: Video.PostInfo = { title: "Hello #tiktok", privacyLevel: "SELF_ONLY", disableComment: false, disableDuet: false, disableStitch: false }

/** The bytes as a stream of small pieces, as a file or download gives them. */
const source = (bytes: Uint8Array, durationSeconds = 30): Video.VideoSource => ({
  stream: Stream.fromIterable(Array.from({ length: Math.ceil(bytes.byteLength / 65536) }, (_, i) => bytes.subarray(i * 65536, (i + 1) * 65536))),
  sizeBytes: bytes.byteLength,
  mimeType: "video/mp4",
  durationSeconds
})

const options = { pollInterval: 0, chunkBytes: 5 * MB }

describe("FILE_UPLOAD video through the fake", () => {
  it.live("creator_info, init with the chunk plan, chunks PUT in order (last one absorbing the rest), polled to PUBLISH_COMPLETE", () =>
    withFake((fake, connection) =>
      Effect.gen(function*() {
        const bytes = Samples.mp4(12 * MB + 4321, 3)
        const published = yield* Video.postFileVideo(connection(), info, source(bytes), options)
        const upload = fake.uploads.get(published.publishId)!
        assert.strictEqual(upload.totalChunkCount, 2)
        assert.strictEqual(upload.chunkSize, 5 * MB)
        assert.strictEqual(upload.largestChunk, 7 * MB + 4321)
        assert.strictEqual(upload.sha256, createHash("sha256").update(bytes).digest("hex"))
        assert.deepStrictEqual(published.postIds, [])
        assert.strictEqual(upload.postInfo.title, "Hello #tiktok")
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, 1)
        // The fake says PROCESSING_UPLOAD once after the last byte: the publisher asked again.
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/status/fetch/").length, 2)
      })))

  it.live("a small video goes as one chunk", () =>
    withFake((fake, connection) =>
      Effect.gen(function*() {
        const published = yield* Video.postFileVideo(connection(), { ...info, privacyLevel: "PUBLIC_TO_EVERYONE" }, source(Samples.mp4(300_000)), options)
        const upload = fake.uploads.get(published.publishId)!
        assert.strictEqual(upload.totalChunkCount, 1)
        assert.strictEqual(upload.chunkSize, 300_000)
        assert.strictEqual(published.postIds.length, 1)
      })))

  it.live("a privacy level, duration or duet the creator cannot use is refused before init, naming their options", () =>
    withFake((fake, connection) =>
      Effect.gen(function*() {
        fake.creator.privacyLevelOptions = ["SELF_ONLY"]
        fake.creator.maxVideoPostDurationSec = 60
        fake.creator.duetDisabled = true
        const run = (i: Video.PostInfo, seconds: number) => Effect.flip(Video.postFileVideo(connection(), i, source(Samples.mp4(1000), seconds), options))
        const privacy = yield* run({ ...info, privacyLevel: "PUBLIC_TO_EVERYONE", disableDuet: true }, 30)
        assert.strictEqual(privacy._tag === "Rejected" ? privacy.code : privacy._tag, "PRIVACY_LEVEL_NOT_ALLOWED")
        assert.include(privacy.message, "SELF_ONLY")
        const long = yield* run({ ...info, disableDuet: true }, 61)
        assert.strictEqual(long._tag === "Rejected" ? long.code : long._tag, "VIDEO_TOO_LONG")
        const duet = yield* run(info, 30)
        assert.strictEqual(duet._tag === "Rejected" ? duet.code : duet._tag, "INTERACTION_DISABLED")
        assert.include(duet.message, "duets")
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/video/init/").length, 0)
        assert.strictEqual(fake.uploads.size, 0)
      })))

  it.live("inbox mode: inbox/video/init with the source only, no creator_info, ends at SEND_TO_USER_INBOX", () =>
    withFake((fake, connection) =>
      Effect.gen(function*() {
        fake.creator.privacyLevelOptions = []
        const published = yield* Video.postFileVideo(connection(), info, source(Samples.mp4(6 * MB)), { ...options, mode: "inbox" })
        const upload = fake.uploads.get(published.publishId)!
        assert.isTrue(upload.inbox)
        assert.strictEqual(upload.totalChunkCount, 1)
        assert.isString(upload.sha256)
        assert.deepStrictEqual(published.postIds, [])
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, 0)
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/video/init/").length, 0)
      })))

  it.live("PULL_FROM_URL: creator info checked, init with the URL, nothing uploaded; an unverified URL is URL_NOT_VERIFIED", () =>
    withFake((fake, connection) =>
      Effect.gen(function*() {
        const published = yield* Video.postVideoByUrl(connection(), info, "https://media.example.com/v.mp4", 30, options)
        assert.strictEqual(fake.uploads.get(published.publishId)!.videoUrl, "https://media.example.com/v.mp4")
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, 1)
        const error = yield* Effect.flip(Video.postVideoByUrl(connection(), info, "https://elsewhere.example.org/v.mp4", 30, options))
        assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "URL_NOT_VERIFIED")
        assert.strictEqual(error.platformCode, "url_ownership_unverified")
        const http = yield* Effect.flip(Video.postVideoByUrl(connection(), info, "http://media.example.com/v.mp4", 30, options))
        assert.strictEqual(http._tag === "Rejected" ? http.code : http._tag, "URL_NOT_VERIFIED")
        fake.creator.maxVideoPostDurationSec = 10
        const long = yield* Effect.flip(Video.postVideoByUrl(connection(), info, "https://media.example.com/v.mp4", 30, options))
        assert.strictEqual(long._tag === "Rejected" ? long.code : long._tag, "VIDEO_TOO_LONG")
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/video/init/").length, 2)
      })))

  it.live("FAILED with fail_reason is the mapped error", () =>
    withFake((fake, connection) =>
      Effect.gen(function*() {
        fake.failReason = "file_format_check_failed"
        const error = yield* Effect.flip(Video.postFileVideo(connection(), info, source(Samples.mp4(1000)), options))
        assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "UNSUPPORTED_MEDIA_FORMAT")
        assert.include(error.message, "file_format_check_failed")
      })))

  it.live("an invalid token is AuthFailed with TikTok's code and log_id; a short stream is refused", () =>
    withFake((fake, connection) =>
      Effect.gen(function*() {
        const auth = yield* Effect.flip(Video.postFileVideo(connection("nope"), info, source(Samples.mp4(1000)), options))
        assert.strictEqual(auth._tag, "AuthFailed")
        assert.strictEqual(auth.platformCode, "access_token_invalid")
        assert.include(auth.message, "log_id")
        const short = yield* Effect.flip(Video.postFileVideo(connection(), info, { ...source(Samples.mp4(1000)), sizeBytes: 2000 }, options))
        assert.strictEqual(short._tag === "Rejected" ? short.code : short._tag, "MEDIA_SIZE_MISMATCH")
        assert.strictEqual(fake.uploads.size, 1)
      })))

  it.live("the fake refuses a chunk plan that breaks the rules", () =>
    withFake((fake) =>
      Effect.promise(async () => {
        const headers = { authorization: "Bearer tok-1", "content-type": "application/json; charset=UTF-8" }
        await fetch(`${fake.url}/v2/post/publish/creator_info/query/`, { method: "POST", headers })
        const response = await fetch(`${fake.url}/v2/post/publish/video/init/`, {
          method: "POST",
          headers,
          body: JSON.stringify({
            post_info: { title: "", privacy_level: "SELF_ONLY" },
            source_info: { source: "FILE_UPLOAD", video_size: 100 * MB, chunk_size: 10 * MB, total_chunk_count: 11 }
          })
        })
        const body = (await response.json()) as { error: { code: string; message: string } }
        assert.strictEqual(response.status, 400)
        assert.strictEqual(body.error.code, "invalid_param")
        assert.match(body.error.message, /floor/)
      })))
})
