import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Media } from "@omnipost/core"
import { type InstagramCredentials, type InstagramPublisher, makeInstagramPublisher } from "@omnipost/platform-meta"
import { FakeMeta, type FakeMetaServer } from "@omnipost/platform-meta/testing"
import { Faults } from "@omnipost/platform-kit/testing"
import { bytesVideo, hostedImage, hostedVideo, part, publisherOptions, request, withFake } from "./fixtures.js"

const setup = (fake: FakeMetaServer, login: "instagram" | "facebook" = "instagram", quotaTotal?: number) =>
  Effect.gen(function*() {
    const account = fake.addInstagramAccount({ username: "kites", login, ...(quotaTotal !== undefined ? { quotaTotal } : {}) })
    const publisher = yield* makeInstagramPublisher(publisherOptions(fake))
    return { account, publisher, credentials: account.credentials as InstagramCredentials }
  })

const publishOne = (
  publisher: InstagramPublisher,
  credentials: InstagramCredentials,
  text: string,
  media: ReadonlyArray<Media.Media>,
  placement?: "feed" | "carousel" | "reel" | "story"
) => publisher.publish(request("instagram", credentials, [part(text, media)], placement !== undefined ? { placement } : {}))

const operations = (fake: FakeMetaServer) =>
  fake.server.requests.map((entry) => entry.operation).filter((op) => op !== "media host" && op !== undefined)

describe("Instagram: container flow", () => {
  it.live("publishes one feed image: limit read, container created, polled until FINISHED, published, permalink read", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const image = hostedImage(fake)
        const result = yield* publisher.publish(
          request("instagram", credentials, [part("Kites at dawn #wind", [image], "https://example.com/kites")])
        )
        const [published] = fake.publishedBy(account.profile.id)
        assert.isDefined(published)
        assert.strictEqual(result.platformPostId, published!.id)
        assert.strictEqual(result.url, published!.permalink)
        assert.match(result.url, /^https:\/\/www\.instagram\.com\/p\/[\w-]+\/$/)
        // The link has no field on Instagram: it goes in the caption.
        assert.strictEqual(published!.text, "Kites at dawn #wind\n\nhttps://example.com/kites")
        assert.deepStrictEqual(operations(fake), [
          "GET /{ig-user-id}/content_publishing_limit",
          "POST /{ig-user-id}/media",
          "GET /{id}",
          "GET /{id}",
          "POST /{ig-user-id}/media_publish",
          "GET /{id}"
        ])
        // Meta fetched the image from the URL it was given.
        assert.strictEqual(fake.server.requestsOf("media host").length, 1)
      }), { imagePolls: 1 }))

  it.live("polls a container that takes several polls, and through a transient 'media not found' just after creation", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        fake.failNext(
          "GET /{id}",
          FakeMeta.graphError(400, 100, "Unsupported get request. Object does not exist", { subcode: 33, type: "GraphMethodException" })
        )
        yield* publishOne(publisher, credentials, "slow", [hostedImage(fake)])
        const polls = fake.server.requestsOf("GET /{id}").filter((entry) => entry.query.includes("status_code"))
        assert.strictEqual(polls.length, 1 + 4 + 1)
        assert.strictEqual(polls[0]!.status, 400)
      }), { imagePolls: 4 }))

  it.live("carousel: children created (each polled) before the parent, then the parent polled and published", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const media = [hostedImage(fake, { seed: 1 }), hostedVideo(fake, { seed: 2 }), hostedImage(fake, { seed: 3 })]
        const result = yield* publishOne(publisher, credentials, "three", media)
        const [published] = fake.publishedBy(account.profile.id)
        assert.strictEqual(published!.productType, "CAROUSEL_ALBUM")
        assert.strictEqual(published!.children.length, 3)
        const children = published!.children.map((id) => fake.containers.get(id)!)
        assert.deepStrictEqual(children.map((child) => child.mediaType), ["IMAGE", "VIDEO", "IMAGE"])
        assert.isTrue(children.every((child) => child.isCarouselItem && child.params.caption === undefined))
        const parent = fake.containers.get(published!.containerId!)!
        assert.strictEqual(parent.params.caption, "three")
        assert.isTrue(children.every((child) => child.createdAtMs <= parent.createdAtMs))
        assert.strictEqual(result.parts.length, 1)
      })))

  it.live("reel from a URL: REELS container, video polled through IN_PROGRESS, settings sent", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const result = yield* publisher.publish(request("instagram", credentials, [part("reel", [hostedVideo(fake)])], {
          settings: { shareToFeed: true, collaborators: ["friend"], thumbOffsetMs: 1500 }
        }))
        const [published] = fake.publishedBy(account.profile.id)
        assert.strictEqual(published!.productType, "REELS")
        assert.match(result.url, /\/reel\//)
        const container = fake.containers.get(published!.containerId!)!
        assert.strictEqual(container.params.share_to_feed, "true")
        assert.strictEqual(container.params.collaborators, "[\"friend\"]")
        assert.strictEqual(container.params.thumb_offset, "1500")
        assert.isAtLeast(fake.server.requestsOf("GET /{id}").length, 4)
      }), { videoPolls: 3 }))

  it.live("reel from bytes with Facebook Login: resumable upload to rupload, every byte arrives", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake, "facebook")
        const video = bytesVideo(400_000, 9)
        yield* publishOne(publisher, credentials, "uploaded", [video])
        const [upload] = fake.server.requestsOf("POST /ig-api-upload/{container-id}")
        assert.strictEqual(upload!.status, 200)
        assert.strictEqual(upload!.bodyBytes, 400_000)
        assert.strictEqual(upload!.headers.authorization, `OAuth ${credentials.accessToken}`)
        const [published] = fake.publishedBy(account.profile.id)
        assert.strictEqual(published!.productType, "REELS")
        assert.strictEqual(fake.containers.get(published!.containerId!)!.params.upload_type, "resumable")
      })))

  it.live("story: an image as STORIES, no caption", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const result = yield* publishOne(publisher, credentials, "", [hostedImage(fake, { width: 1080, height: 1920 })], "story")
        const [published] = fake.publishedBy(account.profile.id)
        assert.strictEqual(published!.productType, "STORY")
        assert.strictEqual(result.platformPostId, published!.id)
      })))
})

describe("Instagram: refusals", () => {
  it.live("ERROR is final with Meta's reason: a 'video' whose bytes are not a video", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const error = yield* Effect.flip(publishOne(publisher, credentials, "bad", [hostedVideo(fake, { bytesType: "application/pdf" })]))
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual((error as { code?: string }).code, "MEDIA_PROCESSING_FAILED")
        assert.strictEqual(error.platformCode, "2207026")
        assert.strictEqual(fake.publishedBy(account.profile.id).length, 0)
        assert.strictEqual(fake.server.requestsOf("POST /{ig-user-id}/media_publish").length, 0)
      })))

  it.live("EXPIRED is final: a container unpublished for 24 hours", () => {
    let clock = Date.now()
    return withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        void fake.server.waitForRequest("GET /{id}").then(() => {
          clock += 25 * 3_600_000
        })
        const error = yield* Effect.flip(publishOne(publisher, credentials, "late", [hostedImage(fake)]))
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual((error as { code?: string }).code, "CONTAINER_EXPIRED")
      }), { now: () => clock, imagePolls: 5 })
  })

  it.live("image bytes that are PNG, declared JPEG: Meta's 36001/2207005 as UNSUPPORTED_MEDIA_TYPE", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const error = yield* Effect.flip(
          publishOne(publisher, credentials, "png", [hostedImage(fake, { bytesType: "image/png", mimeType: "image/jpeg" })])
        )
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual((error as { code?: string }).code, "UNSUPPORTED_MEDIA_TYPE")
        assert.strictEqual(error.platformCode, "36001/2207005")
        assert.match(error.message, /fbtrace_id/)
      })))

  it.live("an unreachable media URL: 9004/2207052 as MEDIA_UNAVAILABLE", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const image: Media.Media = { ...hostedImage(fake), source: { _tag: "url", url: `${fake.url}/_media/missing` } }
        const error = yield* Effect.flip(publishOne(publisher, credentials, "gone", [image]))
        assert.strictEqual((error as { code?: string }).code, "MEDIA_UNAVAILABLE")
        assert.strictEqual(error.platformCode, "9004/2207052")
      })))

  it.live("a local media URL is never handed to Meta; stored media without a public URL says to set OMNIPOST_PUBLIC_URL", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const account = fake.addInstagramAccount({ username: "strict" })
        const strict = yield* makeInstagramPublisher({ baseUrl: fake.graphUrl })
        const local = yield* Effect.flip(publishOne(strict, account.credentials, "x", [hostedImage(fake)]))
        assert.strictEqual((local as { code?: string }).code, "URL_NOT_ALLOWED")
        const stored: Media.Media = { ...hostedImage(fake), source: { _tag: "stored", mediaId: "med_1" } }
        const noPublic = yield* Effect.flip(publishOne(strict, account.credentials, "x", [stored]))
        assert.strictEqual((noPublic as { code?: string }).code, "PUBLIC_URL_REQUIRED")
        assert.match(noPublic.message, /OMNIPOST_PUBLIC_URL/)
        // Validation says so first, with core's code, on the medium's path.
        const issues = strict.validate!({
          destination: { platform: "instagram", parts: [{ text: "x", media: [stored] }], settings: {} },
          destinationIndex: 0
        } as never)
        assert.deepStrictEqual(issues.map((issue) => [issue.code, issue.path]), [["PUBLIC_URL_REQUIRED", ["content", "media", 0, "source"]]])
        assert.strictEqual(fake.server.requestsOf("POST /{ig-user-id}/media").length, 0)
      })))

  it.live("an exhausted publishing limit is RateLimited (quota) until the oldest post of the window ages out", () => {
    // The fake's clock runs two hours behind the publisher's, in whole seconds (Graph timestamps have no milliseconds).
    const start = Math.floor(Date.now() / 1000) * 1000 - 2 * 3_600_000
    let clock = start
    return withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake, "instagram", 2)
        yield* publishOne(publisher, credentials, "one", [hostedImage(fake)])
        clock += 3_600_000
        yield* publishOne(publisher, credentials, "two", [hostedImage(fake)])
        clock += 3_600_000
        const error = yield* Effect.flip(publishOne(publisher, credentials, "three", [hostedImage(fake)]))
        assert.strictEqual(error._tag, "RateLimited")
        const limited = error as { scope?: string; resetAt?: string; retryAfterSeconds?: number }
        assert.strictEqual(limited.scope, "quota")
        // The first post (at `start`) leaves the 24-hour window first.
        assert.strictEqual(limited.resetAt, new Date(start + 86_400_000).toISOString())
        assert.strictEqual(fake.server.requestsOf("POST /{ig-user-id}/media").length, 2)
      }), { now: () => clock })
  })

  it.live("the limit reached at media_publish (9/2207042) is RateLimited too", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        fake.failNext(
          "POST /{ig-user-id}/media_publish",
          FakeMeta.graphError(400, 9, "Application request limit reached", { subcode: 2207042 })
        )
        const error = yield* Effect.flip(publishOne(publisher, credentials, "x", [hostedImage(fake)]))
        assert.strictEqual(error._tag, "RateLimited")
        assert.strictEqual(error.platformCode, "9/2207042")
      })))

  it.live("an expired token is AuthFailed expired (190/463)", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        fake.tokens.get(credentials.accessToken)!.expired = true
        const error = yield* Effect.flip(publishOne(publisher, credentials, "x", [hostedImage(fake)]))
        assert.strictEqual(error._tag, "AuthFailed")
        assert.strictEqual((error as { reason?: string }).reason, "expired")
        assert.strictEqual(error.platformCode, "190/463")
      })))
})

describe("Instagram: reconciliation and the account", () => {
  it.live("an unanswered media_publish is OutcomeUnknown, and findPublished finds the post it made", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const sentAt = new Date().toISOString()
        fake.server.inject("POST /{ig-user-id}/media_publish", Faults.dropAfterApply())
        const publishRequest = request("instagram", credentials, [part("lost answer", [hostedImage(fake)])])
        const error = yield* Effect.flip(publisher.publish(publishRequest))
        assert.strictEqual(error._tag, "OutcomeUnknown")
        const found = yield* publisher.findPublished!({ ...publishRequest, sentAt })
        const [published] = fake.publishedBy(account.profile.id)
        assert.strictEqual(found?.platformPostId, published!.id)
        assert.strictEqual(found?.url, published!.permalink)
        const other = yield* publisher.findPublished!({
          ...request("instagram", credentials, [part("never posted", [hostedImage(fake)])]),
          sentAt
        })
        assert.isUndefined(other)
      })))

  it.live("findPublished pages back past a busy account's newer posts (250 made since the attempt), and a miss reads every page", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const sentAt = new Date(Date.now() - 5_000).toISOString()
        fake.server.inject("POST /{ig-user-id}/media_publish", Faults.dropAfterApply())
        const publishRequest = request("instagram", credentials, [part("under the pile", [hostedImage(fake)])])
        assert.strictEqual((yield* Effect.flip(publisher.publish(publishRequest)))._tag, "OutcomeUnknown")
        const [lost] = fake.publishedBy(account.profile.id)
        // Other apps (or the user) post 250 times after it: the post is on the third page of 100.
        for (let i = 0; i < 250; i++) {
          const id = `1790${String(i).padStart(11, "0")}`
          fake.media.set(id, {
            id,
            ownerId: account.profile.id,
            platform: "instagram",
            productType: "FEED",
            text: `newer ${i}`,
            permalink: `https://www.instagram.com/p/newer${i}/`,
            timestampMs: lost!.timestampMs + 1_000 + i,
            children: [],
            params: {}
          })
        }
        const found = yield* publisher.findPublished!({ ...publishRequest, sentAt })
        assert.strictEqual(found?.platformPostId, lost!.id)
        const pages = () => fake.server.requests.filter((r) => r.operation === "GET /{ig-user-id}/media").length
        const before = pages()
        assert.isUndefined(yield* publisher.findPublished!({ ...request("instagram", credentials, [part("never posted", [hostedImage(fake)])]), sentAt }))
        assert.strictEqual(pages() - before, 3, "pages of 100 until one reaches before the attempt")
      })))

  it.live("a story is found among the account's stories; one sent more than 23 hours ago cannot be looked up: OutcomeUnknown, not a miss", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { credentials, publisher } = yield* setup(fake)
        const sentAt = new Date(Date.now() - 1_000).toISOString()
        fake.server.inject("POST /{ig-user-id}/media_publish", Faults.dropAfterApply())
        const story = request("instagram", credentials, [part("", [hostedImage(fake, { width: 1080, height: 1920 })])], { placement: "story" })
        assert.strictEqual((yield* Effect.flip(publisher.publish(story)))._tag, "OutcomeUnknown")
        assert.isDefined(yield* publisher.findPublished!({ ...story, sentAt }))
        const old = yield* Effect.flip(publisher.findPublished!({ ...story, sentAt: new Date(Date.now() - 24 * 3_600_000).toISOString() }))
        assert.strictEqual(old._tag, "OutcomeUnknown")
        assert.match(old.message, /24 hours/)
      })))

  it.live("verifyCredentials reads id, username, name and picture", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const { account, credentials, publisher } = yield* setup(fake)
        const profile = yield* publisher.verifyCredentials!(credentials)
        assert.deepStrictEqual(profile, {
          accountId: account.profile.id,
          username: "kites",
          displayName: "kites",
          avatarUrl: account.profile.pictureUrl
        })
      })))
})
