import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Media } from "@omnipost/core"
import { type FacebookCredentials, makeFacebookPublisher } from "@omnipost/platform-meta"
import type { FakeMetaServer } from "@omnipost/platform-meta/testing"
import { Faults } from "@omnipost/platform-kit/testing"
import { bytesVideo, hostedImage, hostedVideo, part, publisherOptions, request, withFake } from "./fixtures.js"

const setup = (fake: FakeMetaServer) =>
  Effect.gen(function*() {
    const page = fake.addFacebookPage({ name: "Kite Club" })
    const publisher = yield* makeFacebookPublisher(publisherOptions(fake))
    return { page, publisher, credentials: page.credentials as FacebookCredentials }
  })

const reelVideo = (fake: FakeMetaServer): Media.Media => ({ ...hostedVideo(fake), width: 1080, height: 1920, durationSeconds: 30 })

describe("Facebook Pages: publishing", () => {
  it.live("a text post with a link: POST /{page-id}/feed", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, page, publisher } = yield* setup(fake)
        const result = yield* publisher.publish(request("facebook", credentials, [part("Meet-up on Sunday", [], "https://example.com/meet")]))
        const post = fake.pagePosts.get(result.platformPostId)!
        assert.strictEqual(post.message, "Meet-up on Sunday")
        assert.strictEqual(post.link, "https://example.com/meet")
        assert.isTrue(result.platformPostId.startsWith(`${page.profile.id}_`))
        assert.strictEqual(result.url, `https://www.facebook.com/${result.platformPostId}`)
      })))

  it.live("one photo through /photos; several as unpublished photos attached to one feed post, in order", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const one = yield* publisher.publish(request("facebook", credentials, [part("one", [hostedImage(fake, { bytesType: "image/png" })])]))
        assert.strictEqual(fake.pagePosts.get(one.platformPostId)!.kind, "photo")
        const three = [1, 2, 3].map((seed) => hostedImage(fake, { seed }))
        const many = yield* publisher.publish(request("facebook", credentials, [part("three", three)]))
        const post = fake.pagePosts.get(many.platformPostId)!
        assert.strictEqual(post.kind, "feed")
        assert.strictEqual(post.photos.length, 3)
        assert.isTrue(post.photos.every((id) => !fake.photos.get(id)!.published && fake.photos.get(id)!.used))
        const created = fake.server.requestsOf("POST /{page-id}/photos")
        assert.strictEqual(created.length, 4)
      })))

  it.live("a video: POST /{page-id}/videos with file_url and the title setting", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const result = yield* publisher.publish(
          request("facebook", credentials, [part("watch", [hostedVideo(fake)])], { settings: { videoTitle: "Kites" } })
        )
        const video = fake.videos.get(result.platformPostId)!
        assert.strictEqual(video.kind, "video")
        assert.match(result.url, /\/videos\//)
        const [sent] = fake.server.requestsOf("POST /{page-id}/videos")
        assert.strictEqual(sent!.status, 200)
      })))

  it.live("a Reel: start, upload by file_url, finish, status polled until published", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const result = yield* publisher.publish(request("facebook", credentials, [part("reel!", [reelVideo(fake)])], { placement: "reel" }))
        const video = fake.videos.get(result.platformPostId)!
        assert.strictEqual(video.kind, "reel")
        assert.strictEqual(video.state, "PUBLISHED")
        assert.strictEqual(video.description, "reel!")
        assert.strictEqual(result.url, `https://www.facebook.com/reel/${video.id}`)
        const [upload] = fake.server.requestsOf("POST /video-upload/{video-id}")
        assert.isString(upload!.headers.file_url)
        assert.isAtLeast(fake.server.requestsOf("GET /{id}").length, 3)
      }), { videoPolls: 2 }))

  it.live("a Reel from bytes: every byte to rupload with offset and file_size", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const result = yield* publisher.publish(request("facebook", credentials, [part("", [bytesVideo(250_000)])], { placement: "reel" }))
        const [upload] = fake.server.requestsOf("POST /video-upload/{video-id}")
        assert.strictEqual(upload!.bodyBytes, 250_000)
        assert.strictEqual(upload!.headers.file_size, "250000")
        assert.strictEqual(fake.videos.get(result.platformPostId)!.state, "PUBLISHED")
      })))

  it.live("a Reel that fails processing is Rejected with Facebook's reason", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        fake.nextProcessingError = "The video's aspect ratio is not supported"
        const error = yield* Effect.flip(publisher.publish(request("facebook", credentials, [part("x", [reelVideo(fake)])], { placement: "reel" })))
        assert.strictEqual((error as { code?: string }).code, "MEDIA_PROCESSING_FAILED")
        assert.strictEqual(error.platformMessage, "The video's aspect ratio is not supported")
      })))

  it.live("stories: a photo (unpublished photo, then photo_stories) and a video (video_stories phases)", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const photo = yield* publisher.publish(request("facebook", credentials, [part("", [hostedImage(fake)])], { placement: "story" }))
        assert.strictEqual(fake.pagePosts.get(photo.platformPostId)!.kind, "story")
        const story = { ...reelVideo(fake), durationSeconds: 20 }
        const video = yield* publisher.publish(request("facebook", credentials, [part("", [story])], { placement: "story" }))
        assert.strictEqual(fake.pagePosts.get(video.platformPostId)!.kind, "story")
        assert.strictEqual(fake.server.requestsOf("POST /{page-id}/video_stories").length, 2)
      })))
})

describe("Facebook Pages: native scheduling", () => {
  it.live("publishAt 1 hour ahead: published=false and scheduled_publish_time; listed among scheduled posts", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const at = new Date(Math.ceil((Date.now() + 3_600_000) / 1000) * 1000).toISOString()
        const scheduled = request("facebook", credentials, [part("later")], { publishAt: at })
        const sentAt = new Date().toISOString()
        const result = yield* publisher.publish(scheduled)
        const post = fake.pagePosts.get(result.platformPostId)!
        assert.strictEqual(post.scheduledAt, Date.parse(at) / 1000)
        assert.strictEqual(result.publishedAt, at)
        const found = yield* publisher.findPublished!({ ...scheduled, sentAt })
        assert.strictEqual(found?.platformPostId, result.platformPostId)
      })))

  it.live("outside 10 minutes to 30 days, or for a story: refused before anything is sent", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        for (const lead of [5 * 60_000, 31 * 86_400_000]) {
          const error = yield* Effect.flip(publisher.publish(
            request("facebook", credentials, [part("x")], { publishAt: new Date(Date.now() + lead).toISOString() })
          ))
          assert.strictEqual((error as { code?: string }).code, "INVALID_SCHEDULE")
        }
        const story = yield* Effect.flip(publisher.publish(request("facebook", credentials, [part("", [hostedImage(fake)])], {
          placement: "story",
          publishAt: new Date(Date.now() + 3_600_000).toISOString()
        })))
        assert.strictEqual((story as { code?: string }).code, "SCHEDULING_NOT_SUPPORTED")
        assert.strictEqual(fake.server.requests.filter((entry) => entry.method === "POST").length, 0)
      })))
})

describe("Facebook Pages: refusals and reconciliation", () => {
  it.live("a Page whose manager must confirm their identity: AuthFailed (reconnect) saying what to do", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, page, publisher } = yield* setup(fake)
        fake.identityUnconfirmed.add(page.profile.id)
        const error = yield* Effect.flip(publisher.publish(request("facebook", credentials, [part("hello")])))
        assert.strictEqual(error._tag, "AuthFailed")
        assert.strictEqual((error as { reason?: string }).reason, "revoked")
        assert.strictEqual(error.platformCode, "368/1404078")
        assert.match(error.message, /confirm their identity/)
      })))

  it.live("an unanswered feed post is OutcomeUnknown; findPublished finds it", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const sentAt = new Date().toISOString()
        fake.server.inject("POST /{page-id}/feed", Faults.dropAfterApply())
        const lost = request("facebook", credentials, [part("lost")])
        assert.strictEqual((yield* Effect.flip(publisher.publish(lost)))._tag, "OutcomeUnknown")
        const found = yield* publisher.findPublished!({ ...lost, sentAt })
        assert.strictEqual(fake.pagePosts.get(found!.platformPostId)!.message, "lost")
        assert.isUndefined(yield* publisher.findPublished!({ ...request("facebook", credentials, [part("other")]), sentAt }))
      })))

  it.live("an unanswered story is OutcomeUnknown; findPublished finds it in the Page's stories by its media type and time", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const sentAt = new Date(Date.now() - 1_000).toISOString()
        fake.server.inject("POST /{page-id}/photo_stories", Faults.dropAfterApply())
        const lost = request("facebook", credentials, [part("", [hostedImage(fake)])], { placement: "story" })
        assert.strictEqual((yield* Effect.flip(publisher.publish(lost)))._tag, "OutcomeUnknown")
        const found = yield* publisher.findPublished!({ ...lost, sentAt })
        assert.isDefined(found)
        assert.strictEqual(fake.pagePosts.get(found!.platformPostId)!.kind, "story")
        assert.strictEqual(found!.parts[0]!.platformPostId, found!.platformPostId)
        // A video story was not made: none is found (a miss is `undefined`, then re-posted; never a guess).
        const videoStory = request("facebook", credentials, [part("", [{ ...reelVideo(fake), durationSeconds: 20 }])], { placement: "story" })
        assert.isUndefined(yield* publisher.findPublished!({ ...videoStory, sentAt }))
        // Nor a photo story from before the attempt.
        assert.isUndefined(yield* publisher.findPublished!({ ...lost, sentAt: new Date(Date.now() + 120_000).toISOString() }))
      })))

  it.live("verifyCredentials reads the Page's id, name and picture", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, page, publisher } = yield* setup(fake)
        assert.deepStrictEqual(yield* publisher.verifyCredentials!(credentials), {
          accountId: page.profile.id,
          username: "kiteclub",
          displayName: "Kite Club",
          avatarUrl: page.profile.pictureUrl
        })
      })))
})
