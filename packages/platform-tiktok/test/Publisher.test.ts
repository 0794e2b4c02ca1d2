import { assert, describe, it } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { bytesVideo, MB, request, urlVideo, withFake } from "./fixtures.js"

const code = (error: { readonly _tag: string; readonly code?: string | undefined }) => error._tag === "Rejected" ? error.code : error._tag

describe("the TikTok PlatformPublisher", () => {
  it.live("a video from a MediaSource: creator info, FILE_UPLOAD in chunks, polled; the result names the creator's profile", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const bytes = Samples.mp4(11 * MB + 17, 5)
        const result = yield* publisher.publish(request(credentials, "Hello #tiktok", [bytesVideo(bytes)], {
          privacyLevel: "PUBLIC_TO_EVERYONE",
          disableDuet: true,
          brandOrganicToggle: true,
          isAigc: true,
          videoCoverTimestampMs: 1000
        }))
        const upload = [...fake.uploads.values()][0]!
        assert.strictEqual(upload.sha256, createHash("sha256").update(bytes).digest("hex"))
        assert.strictEqual(upload.totalChunkCount, 2)
        assert.strictEqual(upload.postInfo.title, "Hello #tiktok")
        assert.strictEqual(upload.postInfo.disable_duet, true)
        assert.strictEqual(upload.postInfo.brand_organic_toggle, true)
        assert.strictEqual(upload.postInfo.is_aigc, true)
        assert.strictEqual(upload.postInfo.video_cover_timestamp_ms, 1000)
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, 1)
        assert.match(result.platformPostId, /^7/)
        assert.strictEqual(result.url, `https://www.tiktok.com/@ana/video/${result.platformPostId}`)
      })))

  it.live("SELF_ONLY: no public id, the publish id and the profile URL", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const result = yield* publisher.publish(request(credentials, "private", [bytesVideo(Samples.mp4(100_000))]))
        assert.isTrue(fake.uploads.has(result.platformPostId))
        assert.strictEqual(result.url, "https://www.tiktok.com/@ana")
      })))

  it.live("refusals before any init, naming the creator's options: privacy, duration, comments/duets/stitches", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        fake.creator.privacyLevelOptions = ["FOLLOWER_OF_CREATOR", "SELF_ONLY"]
        fake.creator.maxVideoPostDurationSec = 60
        fake.creator.commentDisabled = true
        fake.creator.stitchDisabled = true
        const video = bytesVideo(Samples.mp4(10_000))
        const privacy = yield* Effect.flip(publisher.publish(request(credentials, "x", [video], { privacyLevel: "PUBLIC_TO_EVERYONE", disableComment: true, disableStitch: true })))
        assert.strictEqual(code(privacy), "PRIVACY_LEVEL_NOT_ALLOWED")
        assert.include(privacy.message, "FOLLOWER_OF_CREATOR, SELF_ONLY")
        const long = yield* Effect.flip(publisher.publish(request(credentials, "x", [bytesVideo(Samples.mp4(10_000), 61)], { privacyLevel: "SELF_ONLY", disableComment: true, disableStitch: true })))
        assert.strictEqual(code(long), "VIDEO_TOO_LONG")
        assert.include(long.message, "at most 60 s")
        const interactions = yield* Effect.flip(publisher.publish(request(credentials, "x", [video], { privacyLevel: "SELF_ONLY" })))
        assert.strictEqual(code(interactions), "INTERACTION_DISABLED")
        assert.include(interactions.message, "comments, stitches")
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/video/init/").length, 0)
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, 3)
      })))

  it.live("inbox mode (postMode inbox): inbox/video/init, no creator_info, ends at SEND_TO_USER_INBOX", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const result = yield* publisher.publish(request(credentials, "draft", [bytesVideo(Samples.mp4(200_000))], { privacyLevel: "PUBLIC_TO_EVERYONE", postMode: "inbox" }))
        const upload = fake.uploads.get(result.platformPostId)!
        assert.isTrue(upload.inbox)
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, 0)
        assert.strictEqual(result.url, "https://www.tiktok.com/@ana")
      })))

  it.live("PULL_FROM_URL: a url source under a verified prefix is pulled, not uploaded; elsewhere it is uploaded", () =>
    withFake(({ credentials, fake, make }) =>
      Effect.gen(function*() {
        const publisher = yield* make({ verifiedUrlPrefixes: ["https://media.example.com/"] })
        const result = yield* publisher.publish(request(credentials, "pulled", [urlVideo("https://media.example.com/v/1.mp4")]))
        assert.strictEqual(fake.uploads.get(result.platformPostId)!.videoUrl, "https://media.example.com/v/1.mp4")
        assert.strictEqual(fake.server.requestsOf("PUT /upload/:id").length, 0)
      })))

  it.live("stored media pulled from the host's signed public URL when it is under a verified prefix", () =>
    withFake(({ credentials, fake, make }) =>
      Effect.gen(function*() {
        const publisher = yield* make({
          verifiedUrlPrefixes: ["https://omnipost.example.com/media/"],
          publicMediaUrl: (id) => Effect.succeed(`https://omnipost.example.com/media/${id}?expires=1&signature=abc`)
        })
        fake.verifiedPrefixes = ["https://omnipost.example.com/media/"]
        const stored = { kind: "video" as const, mimeType: "video/mp4", sizeBytes: 1000, durationSeconds: 10, source: { _tag: "stored" as const, mediaId: "med_1" } }
        const result = yield* publisher.publish(request(credentials, "stored", [stored]))
        assert.strictEqual(fake.uploads.get(result.platformPostId)!.videoUrl, "https://omnipost.example.com/media/med_1?expires=1&signature=abc")
      })))

  it.live("a thread or a video with a photo is refused", () =>
    withFake(({ credentials, publisher }) =>
      Effect.gen(function*() {
        const mixed = yield* Effect.flip(publisher.publish(request(credentials, "x", [
          bytesVideo(Samples.mp4(1000)),
          { kind: "image", mimeType: "image/jpeg", sizeBytes: 10, source: { _tag: "url", url: "https://media.example.com/a.jpg" } }
        ])))
        assert.strictEqual(code(mixed), "MEDIA_REQUIRED")
      })))
})
