import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeThreadsPublisher, type ThreadsCredentials } from "@omnipost/platform-meta"
import { FakeMeta, type FakeMetaServer, threadsLength } from "@omnipost/platform-meta/testing"
import { Faults } from "@omnipost/platform-kit/testing"
import { hostedImage, hostedVideo, part, publisherOptions, request, withFake } from "./fixtures.js"

const setup = (fake: FakeMetaServer, quotaTotal?: number) =>
  Effect.gen(function*() {
    const account = fake.addThreadsAccount({ username: "kites", ...(quotaTotal !== undefined ? { quotaTotal } : {}) })
    const publisher = yield* makeThreadsPublisher(publisherOptions(fake))
    return { account, publisher, credentials: account.credentials as ThreadsCredentials }
  })

describe("Threads: create, poll, publish", () => {
  it.live("a text post with a link attachment: TEXT container, published, permalink read", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const result = yield* publisher.publish(
          request("threads", credentials, [part("hello threads", [], "https://example.com/a")], { settings: { topicTag: "kites" } })
        )
        const [published] = fake.publishedBy(account.profile.id)
        assert.strictEqual(result.platformPostId, published!.id)
        assert.strictEqual(result.url, published!.permalink)
        assert.strictEqual(published!.params.media_type, "TEXT")
        assert.strictEqual(published!.params.link_attachment, "https://example.com/a")
        assert.strictEqual(published!.params.topic_tag, "kites")
        assert.strictEqual(fake.server.requestsOf("GET /{threads-user-id}/threads_publishing_limit").length, 1)
      })))

  it.live("an image, a video (polled through IN_PROGRESS) and a carousel of mixed children, created first", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        yield* publisher.publish(request("threads", credentials, [part("image", [hostedImage(fake, { bytesType: "image/png" })])]))
        yield* publisher.publish(request("threads", credentials, [part("video", [hostedVideo(fake)])]))
        yield* publisher.publish(request("threads", credentials, [part("carousel", [hostedImage(fake), hostedVideo(fake, { seed: 4 })])]))
        const [carousel, video, image] = fake.publishedBy(account.profile.id)
        assert.strictEqual(image!.params.media_type, "IMAGE")
        assert.strictEqual(video!.params.media_type, "VIDEO")
        assert.strictEqual(carousel!.productType, "CAROUSEL_ALBUM")
        assert.deepStrictEqual(carousel!.children.map((id) => fake.containers.get(id)!.mediaType), ["IMAGE", "VIDEO"])
        assert.strictEqual(carousel!.text, "carousel")
      }), { videoPolls: 3 }))

  it.live("a reply chain: parts posted in order, each replying to the one before", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const result = yield* publisher.publish(
          request("threads", credentials, [part("1/3 lead"), part("2/3", [hostedImage(fake)]), part("3/3 end")])
        )
        assert.strictEqual(result.parts.length, 3)
        const byId = (id: string) => fake.media.get(id)!
        const [one, two, three] = result.parts.map((p) => byId(p.platformPostId))
        assert.strictEqual(one!.text, "1/3 lead")
        assert.isUndefined(one!.replyToId)
        assert.strictEqual(two!.replyToId, one!.id)
        assert.strictEqual(three!.replyToId, two!.id)
        assert.isTrue(one!.timestampMs <= two!.timestampMs && two!.timestampMs <= three!.timestampMs)
        assert.strictEqual(fake.publishedBy(account.profile.id).length, 3)
      })))

  it.live("a part failing after the lead is live carries the live parts; the retry resumes at that part, replying to the lead", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const sentAt = new Date().toISOString()
        fake.failNext("POST /{threads-user-id}/threads_publish", FakeMeta.graphError(500, 2, "Service temporarily unavailable"), { after: 1 })
        const thread = request("threads", credentials, [part("lead"), part("second"), part("third")])
        const error = yield* Effect.flip(publisher.publish(thread))
        assert.strictEqual(error._tag, "Transient")
        assert.strictEqual(error.platformCode, "2")
        const live = error.postedParts ?? []
        assert.strictEqual(live.length, 1)
        assert.strictEqual(fake.media.get(live[0]!.platformPostId)!.text, "lead")
        // Reconciling finds the lead only: retryable, carrying it.
        const partial = yield* Effect.flip(publisher.findPublished!({ ...thread, sentAt }))
        assert.strictEqual(partial._tag, "Transient")
        assert.deepStrictEqual(partial.postedParts, live)
        // The retry posts parts 2 and 3 only, the second replying to the lead.
        const resumed = yield* publisher.publish({ ...thread, postedParts: live })
        assert.strictEqual(resumed.parts.length, 3)
        assert.deepStrictEqual(resumed.parts[0], live[0])
        const [two, three] = resumed.parts.slice(1).map((p) => fake.media.get(p.platformPostId)!)
        assert.strictEqual(two!.replyToId, live[0]!.platformPostId)
        assert.strictEqual(three!.replyToId, two!.id)
        assert.deepStrictEqual(fake.publishedBy(account.profile.id).map((m) => m.text).sort(), ["lead", "second", "third"])
      })))

  it.live("a carousel part's children are created before the lead is posted: a bad one posts nothing", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        fake.nextProcessingError = "FAILED_PROCESSING_VIDEO"
        const error = yield* Effect.flip(publisher.publish(
          request("threads", credentials, [part("lead"), part("two", [hostedImage(fake), hostedVideo(fake)])])
        ))
        assert.strictEqual((error as { code?: string }).code, "MEDIA_PROCESSING_FAILED")
        assert.strictEqual(fake.publishedBy(account.profile.id).length, 0)
      })))

  it.live("findPublished finds a whole thread after an unanswered publish of its last part", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const sentAt = new Date().toISOString()
        fake.server.inject("POST /{threads-user-id}/threads_publish", Faults.dropAfterApply(), { after: 1 })
        const thread = request("threads", credentials, [part("first"), part("last")])
        const error = yield* Effect.flip(publisher.publish(thread))
        assert.strictEqual(error._tag, "OutcomeUnknown")
        const found = yield* publisher.findPublished!({ ...thread, sentAt })
        assert.strictEqual(found?.parts.length, 2)
        assert.strictEqual(fake.media.get(found!.parts[1]!.platformPostId)!.replyToId, found!.platformPostId)
        assert.isUndefined(yield* publisher.findPublished!({ ...request("threads", credentials, [part("nope")]), sentAt }))
      })))
})

describe("Threads: refusals", () => {
  it.live("a video container in ERROR is final with Meta's error_message", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        fake.nextProcessingError = "INVALID_DURATION"
        const error = yield* Effect.flip(publisher.publish(request("threads", credentials, [part("v", [hostedVideo(fake)])])))
        assert.strictEqual((error as { code?: string }).code, "MEDIA_PROCESSING_FAILED")
        assert.strictEqual(error.platformMessage, "INVALID_DURATION")
        assert.strictEqual(fake.publishedBy(account.profile.id).length, 0)
      })))

  it.live("the fake refuses more than 5 links and more than 500 characters, and the publisher refuses them first", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const links = Array.from({ length: 6 }, (_, i) => `https://example.com/${i}`).join(" ")
        const error = yield* Effect.flip(publisher.publish(request("threads", credentials, [part(links)])))
        assert.strictEqual((error as { code?: string }).code, "TOO_MANY_LINKS")
        assert.strictEqual(fake.server.requestsOf("POST /{threads-user-id}/threads").length, 0)
        // The emoji counts its UTF-8 bytes: 496 + 4 is 500, at the limit.
        assert.strictEqual(threadsLength("a".repeat(496) + "🦋"), 500)
        // Past the publisher (rules lifted), the fake refuses with Meta's own words.
        const lax = yield* makeThreadsPublisher({ ...publisherOptions(fake), rules: { ...publisher.rules, maxLinks: undefined } })
        const fromMeta = yield* Effect.flip(lax.publish(request("threads", credentials, [part(links)])))
        assert.strictEqual((fromMeta as { code?: string }).code, "TOO_MANY_LINKS")
        assert.strictEqual(fromMeta.httpStatus, 400)
      })))

  it.live("an exhausted threads_publishing_limit is RateLimited (quota)", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake, 1)
        yield* publisher.publish(request("threads", credentials, [part("one")]))
        const error = yield* Effect.flip(publisher.publish(request("threads", credentials, [part("two")])))
        assert.strictEqual(error._tag, "RateLimited")
        assert.strictEqual((error as { scope?: string }).scope, "quota")
        assert.isAbove((error as { retryAfterSeconds?: number }).retryAfterSeconds!, 86_000)
      })))

  it.live("verifyCredentials reads id, username, name and picture", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        assert.deepStrictEqual(yield* publisher.verifyCredentials!(credentials), {
          accountId: account.profile.id,
          username: "kites",
          displayName: "kites",
          avatarUrl: account.profile.pictureUrl
        })
      })))
})
