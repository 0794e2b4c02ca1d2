/**
 * The publish id outlives a failed poll: once TikTok has the post, a status
 * call that fails (or polls that run out) carries the publish id as a posted
 * part, and the retry (`postedParts`) or the unknown-outcome look-up
 * (`findPublished`) polls that id: creator_info and init are not called
 * again, so nothing is posted twice.
 */
import { assert, describe, it } from "@effect/vitest"
import { Faults, Samples } from "@omnipost/platform-kit/testing"
import { Publisher } from "@omnipost/platform-tiktok"
import { Effect } from "effect"
import { bytesVideo, request, urlVideo, withFake } from "./fixtures.js"

const init = "POST /v2/post/publish/video/init/"
const creatorInfo = "POST /v2/post/publish/creator_info/query/"
const status = "POST /v2/post/publish/status/fetch/"

describe("status polling resumes, never posts again", () => {
  it.live("a failed status call is Transient carrying the publish id; the retry polls it and publishes, init called once", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        fake.server.inject(status, Faults.status(503), { times: 1 })
        const first = yield* Effect.flip(publisher.publish(request(credentials, "once", [bytesVideo(Samples.mp4(80_000))], { privacyLevel: "PUBLIC_TO_EVERYONE" })))
        assert.strictEqual(first._tag, "Transient")
        const publishId = [...fake.uploads.keys()][0]!
        assert.deepStrictEqual(first.postedParts?.map((p) => [p.platformPostId, p.replyRef]), [[publishId, Publisher.publishIdRef]])
        assert.include(first.message, publishId)
        const retried = yield* publisher.publish(request(credentials, "once", [bytesVideo(Samples.mp4(80_000))], { privacyLevel: "PUBLIC_TO_EVERYONE" }, {
          postedParts: first.postedParts
        }))
        assert.match(retried.platformPostId, /^7/)
        assert.strictEqual(retried.url, `https://www.tiktok.com/@ana/video/${retried.platformPostId}`)
        assert.strictEqual(fake.uploads.size, 1)
        assert.strictEqual(fake.server.requestsOf(init).length, 1)
        assert.strictEqual(fake.server.requestsOf(creatorInfo).length, 1)
      })))

  it.live("polls that run out carry the publish id; findPublished (an unknown outcome) polls it to the post", () =>
    withFake(({ credentials, fake, make }) =>
      Effect.gen(function*() {
        const publisher = yield* make({ verifiedUrlPrefixes: ["https://media.example.com/"], video: { pollInterval: 0, maxPolls: 2 } })
        fake.processingPolls = 3
        const req = request(credentials, "pulled", [urlVideo("https://media.example.com/v.mp4")])
        const first = yield* Effect.flip(publisher.publish(req))
        assert.strictEqual(first._tag, "Transient")
        assert.strictEqual(first.postedParts?.[0]?.replyRef, Publisher.publishIdRef)
        fake.processingPolls = 0
        const found = yield* publisher.findPublished!({ ...req, postedParts: first.postedParts, sentAt: new Date().toISOString() })
        // SELF_ONLY: TikTok gives no public id, the publish id stands for the post.
        assert.strictEqual(found!.platformPostId, first.postedParts![0]!.platformPostId)
        assert.strictEqual(found!.url, "https://www.tiktok.com/@ana")
        assert.strictEqual(fake.server.requestsOf(init).length, 1)
        // Without a kept publish id TikTok has nothing to look up by: the outcome stays unknown.
        const unknown = yield* Effect.flip(publisher.findPublished!({ ...req, sentAt: new Date().toISOString() }))
        assert.strictEqual(unknown._tag, "OutcomeUnknown")
      })))

  it.live("FAILED is final: not marked, so a retry posts anew", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        fake.failReason = "duration_check_failed"
        const failed = yield* Effect.flip(publisher.publish(request(credentials, "x", [bytesVideo(Samples.mp4(1000))])))
        assert.strictEqual(failed._tag === "Rejected" ? failed.code : failed._tag, "VIDEO_TOO_LONG")
        assert.strictEqual(failed.platformCode, "duration_check_failed")
        assert.isUndefined(failed.postedParts)
      })))
})

describe("the publish id is kept before polling", () => {
  it.live("keepPostedParts gets the publish id after init and before the first status call; a kept id that FAILED posts anew", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const kept: Array<{ readonly parts: ReadonlyArray<{ readonly platformPostId: string; readonly replyRef?: string | undefined }>; readonly statusCalls: number; readonly inits: number }> = []
        const keepPostedParts = (parts: ReadonlyArray<{ readonly platformPostId: string; readonly url: string; readonly replyRef?: string | undefined }>) =>
          Effect.sync(() => void kept.push({ parts, statusCalls: fake.server.requestsOf(status).length, inits: fake.server.requestsOf(init).length }))
        fake.failReason = "video_pull_failed"
        const failed = yield* Effect.flip(publisher.publish(request(credentials, "x", [bytesVideo(Samples.mp4(40_000))], undefined, { keepPostedParts })))
        assert.strictEqual(failed._tag === "Rejected" ? failed.code : failed._tag, "MEDIA_NOT_FOUND")
        const publishId = [...fake.uploads.keys()][0]!
        assert.deepStrictEqual(kept.map((k) => [k.parts.map((p) => [p.platformPostId, p.replyRef]), k.statusCalls, k.inits]), [[[[publishId, Publisher.publishIdRef]], 0, 1]])
        // The host kept that id; the manual retry resumes it, TikTok says FAILED: nothing is live, so it posts anew.
        fake.failReason = undefined
        const retried = yield* publisher.publish(request(credentials, "x", [bytesVideo(Samples.mp4(40_000))], undefined, { postedParts: kept[0]!.parts.map((p) => ({ ...p, url: "" })) }))
        assert.notStrictEqual(retried.platformPostId, publishId)
        assert.strictEqual(fake.server.requestsOf(init).length, 2)
        // findPublished with an id TikTok failed: not there (the worker then posts it anew).
        const found = yield* publisher.findPublished!({
          ...request(credentials, "x", []),
          postedParts: [{ platformPostId: "v_pub_file~v2-1.404", url: "", replyRef: Publisher.publishIdRef }],
          sentAt: new Date().toISOString()
        })
        assert.isUndefined(found)
      })))
})

describe("a chunk whose answer was lost", () => {
  const chunk = "PUT /upload/:id"
  const live = (fake: { uploads: Map<string, { received: number; videoSize: number }> }) =>
    [...fake.uploads.values()].filter((u) => u.videoSize > 0 && u.received === u.videoSize).length

  // Found by test-reliability/FaultsVideo: the retry posted a second video after TikTok had the first whole.
  it.live("reached TikTok whole (dropped after apply): the status says so and the post goes on, posted once", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        fake.server.inject(chunk, Faults.dropAfterApply())
        const published = yield* publisher.publish(request(credentials, "once", [bytesVideo(Samples.mp4(80_000))], { privacyLevel: "PUBLIC_TO_EVERYONE" }))
        assert.match(published.platformPostId, /^7/)
        assert.deepStrictEqual([fake.uploads.size, live(fake), fake.server.requestsOf(init).length], [1, 1, 1])
      })))

  it.live("cut part way (a half-finished upload): the upload's error stands, nothing is live, a retry posts anew once", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        fake.server.inject(chunk, Faults.cutBody(20_000))
        const req = request(credentials, "cut", [bytesVideo(Samples.mp4(80_000))], { privacyLevel: "PUBLIC_TO_EVERYONE" })
        const failed = yield* Effect.flip(publisher.publish(req))
        assert.strictEqual(failed._tag, "Transient")
        assert.isUndefined(failed.postedParts)
        assert.strictEqual(live(fake), 0)
        yield* publisher.publish(req)
        assert.deepStrictEqual([fake.uploads.size, live(fake)], [2, 1])
      })))

  // Found by test-reliability/FaultsVideo at 1,000 posts: the retry polled the cut upload's id for 30 minutes.
  it.live("cut part way and its status unanswered: the retry finds the upload short and posts anew, once; a look-up polls it", () =>
    withFake(({ credentials, fake, make }) =>
      Effect.gen(function*() {
        const publisher = yield* make({ video: { pollInterval: 0, maxPolls: 3 } })
        fake.server.inject(chunk, Faults.cutBody(20_000))
        fake.server.inject(status, Faults.status(503), { times: 3 })
        const req = request(credentials, "cut", [bytesVideo(Samples.mp4(80_000))], { privacyLevel: "PUBLIC_TO_EVERYONE" })
        const failed = yield* Effect.flip(publisher.publish(req))
        // TikTok's answer could not be had: the publish id is kept, as for any status call that failed.
        const cutId = [...fake.uploads.keys()][0]!
        assert.deepStrictEqual(failed.postedParts?.map((p) => [p.platformPostId, p.replyRef]), [[cutId, Publisher.publishIdRef]])
        assert.isBelow(fake.uploads.get(cutId)!.received, fake.uploads.get(cutId)!.videoSize)
        // The unknown-outcome look-up does not post: the attempt may still be uploading elsewhere; it polls, and the polls run out.
        const lookup = yield* Effect.flip(publisher.findPublished!({ ...req, postedParts: failed.postedParts, sentAt: new Date().toISOString() }))
        assert.strictEqual(lookup.postedParts?.[0]?.platformPostId, cutId)
        assert.deepStrictEqual([fake.uploads.size, fake.server.requestsOf(init).length], [1, 1])
        // The retry: one status call says PROCESSING_UPLOAD short of the size, and the post is made anew.
        const statusCalls = fake.server.requestsOf(status).length
        const retried = yield* publisher.publish({ ...req, postedParts: failed.postedParts })
        assert.notStrictEqual(retried.platformPostId, cutId)
        assert.deepStrictEqual([fake.uploads.size, live(fake), fake.server.requestsOf(init).length], [2, 1, 2])
        // Polling the cut id would have spent the 3 polls and failed (as the look-up did): it was asked once.
        assert.isAtMost(fake.server.requestsOf(status).length - statusCalls, 1 + 3)
      })))

  it.live("a kept id whose upload is whole but still processing is polled to its post on a retry, not posted anew", () =>
    withFake(({ credentials, fake, make }) =>
      Effect.gen(function*() {
        const publisher = yield* make({ video: { pollInterval: 0, maxPolls: 2 } })
        fake.processingPolls = 3
        const req = request(credentials, "slow", [bytesVideo(Samples.mp4(80_000))], { privacyLevel: "PUBLIC_TO_EVERYONE" })
        const first = yield* Effect.flip(publisher.publish(req))
        assert.strictEqual(first.postedParts?.[0]?.replyRef, Publisher.publishIdRef)
        const retried = yield* publisher.publish({ ...req, postedParts: first.postedParts })
        assert.match(retried.platformPostId, /^7/)
        assert.deepStrictEqual([fake.uploads.size, live(fake), fake.server.requestsOf(init).length], [1, 1, 1])
      })))
})
