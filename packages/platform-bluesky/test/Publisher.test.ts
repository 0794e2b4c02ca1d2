import { Faults } from "@omnipost/platform-kit/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { PublishError } from "@omnipost/core"
import { image, mediaOf, part, publishRequest, utf8Slice, withFake } from "./fixtures.js"

const tid = /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/

describe("publish: text and facets", () => {
  it.live("posts text with mention, link and hashtag facets at UTF-8 byte offsets", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const bob = fake.createAccount({ handle: "bob.bsky.social", password: "bobb-bobb-bobb-bobb" })
        const text = "Grüße 🦋👩🏽‍💻 @bob.bsky.social and @nobody.bsky.social: https://example.com/a?b=1. #atproto_dev ok"
        const result = yield* publisher.publish(
          publishRequest(fake.credentials(), [part(text)], { langs: ["de", "en"], linkCard: false })
        )

        const [post] = fake.posts()
        assert.isDefined(post)
        assert.strictEqual(result.platformPostId, post!.uri)
        assert.match(post!.rkey, tid)
        assert.strictEqual(result.url, `https://bsky.app/profile/alice.bsky.social/post/${post!.rkey}`)
        assert.deepStrictEqual(result.parts, [{ platformPostId: post!.uri, url: result.url, replyRef: post!.cid }])

        const value = post!.value as {
          text: string
          langs: Array<string>
          createdAt: string
          facets: Array<{ index: { byteStart: number; byteEnd: number }; features: Array<Record<string, string>> }>
        }
        assert.strictEqual(value.text, text)
        assert.deepStrictEqual(value.langs, ["de", "en"])
        assert.strictEqual(value.createdAt, result.publishedAt)
        assert.isBelow(Math.abs(Date.parse(value.createdAt) - Date.now()), 60_000)

        const spans = value.facets.map((facet) => ({
          text: utf8Slice(text, facet.index.byteStart, facet.index.byteEnd),
          feature: facet.features[0]
        }))
        // The emoji before the mention take 4 + 15 UTF-8 bytes but 2 + 7 UTF-16 units: JS indices would be off.
        assert.deepStrictEqual(spans, [
          { text: "@bob.bsky.social", feature: { $type: "app.bsky.richtext.facet#mention", did: bob.did } },
          { text: "https://example.com/a?b=1", feature: { $type: "app.bsky.richtext.facet#link", uri: "https://example.com/a?b=1" } },
          { text: "#atproto_dev", feature: { $type: "app.bsky.richtext.facet#tag", tag: "atproto_dev" } }
        ])
        assert.strictEqual(value.facets[0]!.index.byteStart, Buffer.byteLength("Grüße 🦋👩🏽‍💻 "))
        // The unknown handle stayed plain text, and was looked up once.
        assert.strictEqual(fake.callCount("com.atproto.identity.resolveHandle"), 2)
      })
    ))

  it.live("logs in once and reuses the session it saved", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const saved: Array<import("@omnipost/platform-bluesky").BlueskyCredentials> = []
        yield* publisher.publish(publishRequest(fake.credentials(), [part("first")], {}, saved))
        assert.strictEqual(saved.length, 1)
        assert.isDefined(saved[0]!.session)
        assert.strictEqual(saved[0]!.session!.handle, "alice.bsky.social")
        assert.strictEqual(saved[0]!.session!.pdsUrl, fake.url)

        yield* publisher.publish(publishRequest(saved[0]!, [part("second")], {}, saved))
        yield* publisher.publish(publishRequest(saved[0]!, [part("third")], {}, saved))
        assert.strictEqual(fake.callCount("com.atproto.server.createSession"), 1)
        assert.strictEqual(saved.length, 1)
        assert.deepStrictEqual(fake.posts().map((post) => (post.value as { text: string }).text), ["first", "second", "third"])
        // Every XRPC answer carries rate-limit headers; every authenticated call sent the access token.
        const creates = fake.requests.filter((request) => request.nsid === "com.atproto.repo.createRecord")
        assert.isTrue(creates.every((request) => request.authorization === `Bearer ${saved[0]!.session!.accessJwt}`))
      })
    ))

  it.live("writes self-labels and extra tags from the settings on every part", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        yield* publisher.publish(publishRequest(fake.credentials(), [part("one"), part("two")], {
          labels: ["graphic-media"],
          tags: ["kites", "wind"]
        }))
        for (const post of fake.posts()) {
          const value = post.value as { labels: unknown; tags: unknown; langs?: unknown }
          assert.deepStrictEqual(value.labels, { $type: "com.atproto.label.defs#selfLabels", values: [{ val: "graphic-media" }] })
          assert.deepStrictEqual(value.tags, ["kites", "wind"])
          assert.isUndefined(value.langs)
        }
      })
    ))

  it.live("refuses text over 300 graphemes before calling Bluesky", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("é".repeat(301))])))
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual(error._tag === "Rejected" ? error.code : undefined, "CONTENT_TOO_LONG")
        assert.strictEqual(fake.requests.length, 0)
        // 300 two-byte graphemes are fine.
        yield* publisher.publish(publishRequest(fake.credentials(), [part("é".repeat(300))]))
        assert.strictEqual(fake.posts().length, 1)
      })
    ))
})

describe("publish: media", () => {
  it.live("uploads up to 4 images with alt text and aspect ratio", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const images = [
          image(200_000, "a red kite", 1, { width: 1600, height: 900 }),
          image(2_000_000, "exactly the cap", 2),
          image(3_000, "", 3),
          image(50_000, "last one", 4, { width: 500, height: 1000 })
        ]
        yield* publisher.publish(publishRequest(fake.credentials(), [part("four pictures", images)]))
        const embed = (fake.posts()[0]!.value as {
          embed: { $type: string; images: Array<{ alt: string; aspectRatio?: { width: number; height: number }; image: { ref: { $link: string }; size: number; mimeType: string } }> }
        }).embed
        assert.strictEqual(embed.$type, "app.bsky.embed.images")
        assert.deepStrictEqual(embed.images.map((entry) => entry.alt), ["a red kite", "exactly the cap", "", "last one"])
        assert.deepStrictEqual(embed.images[0]!.aspectRatio, { width: 1600, height: 900 })
        assert.deepStrictEqual(embed.images[3]!.aspectRatio, { width: 500, height: 1000 })
        for (const [index, entry] of embed.images.entries()) {
          const blob = fake.blobs.get(entry.image.ref.$link)
          assert.isDefined(blob)
          assert.match(entry.image.ref.$link, /^bafkrei[a-z2-7]{52}$/)
          assert.strictEqual(blob!.size, images[index]!.sizeBytes)
          assert.deepStrictEqual(blob!.bytes, (images[index]!.source as { readonly data: Uint8Array }).data)
        }
      })
    ))

  it.live("refuses a fifth image and an image over 2,000,000 bytes", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const five = Array.from({ length: 5 }, (_, index) => image(1000, `image ${index}`, index))
        const tooMany = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("five", five)])))
        assert.strictEqual(tooMany._tag === "Rejected" ? tooMany.code : tooMany._tag, "TOO_MANY_MEDIA")

        const tooBig = yield* Effect.flip(
          publisher.publish(publishRequest(fake.credentials(), [part("big", [image(2_000_001, "big")])]))
        )
        assert.strictEqual(tooBig._tag === "Rejected" ? tooBig.code : tooBig._tag, "MEDIA_TOO_LARGE")
        assert.strictEqual(fake.posts().length, 0)
      })
    ))

  it.live("a file larger than its declared size is stopped at the rules' limit while it streams: nothing is posted", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const lying = { ...image(2_200_000, "big"), sizeBytes: 1_900_000 }
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("big", [lying])])))
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual(error._tag === "Rejected" ? error.code : undefined, "MEDIA_TOO_LARGE")
        assert.include(error.message, "2000000")
        assert.strictEqual(fake.posts().length, 0)
        assert.strictEqual(fake.blobs.size, 0)
      })
    ))

  it.live("streams images from a URL and from a file", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const fromUrl = mediaOf("image/png", 300_000, 7)
        const target = fake.servePage("/media/kite.png", { contentType: "image/png", body: fromUrl, chunked: true })
        const url = fake.serveRedirect("/short/kite", target)
        const { mkdtemp, writeFile } = yield* Effect.promise(() => import("node:fs/promises"))
        const { tmpdir } = yield* Effect.promise(() => import("node:os"))
        const dir = yield* Effect.promise(() => mkdtemp(`${tmpdir()}/bsky-`))
        const fromFile = mediaOf("image/webp", 400_000, 8)
        yield* Effect.promise(() => writeFile(`${dir}/photo.webp`, fromFile))

        yield* publisher.publish(publishRequest(fake.credentials(), [part("from elsewhere", [
          { kind: "image", mimeType: "image/png", sizeBytes: fromUrl.byteLength, altText: "url", source: { _tag: "url", url } },
          { kind: "image", mimeType: "image/webp", sizeBytes: fromFile.byteLength, altText: "file", source: { _tag: "file", path: `${dir}/photo.webp` } }
        ])]))
        const images = (fake.posts()[0]!.value as { embed: { images: Array<{ image: { ref: { $link: string }; mimeType: string } }> } }).embed.images
        assert.deepStrictEqual(fake.blobs.get(images[0]!.image.ref.$link)?.bytes, fromUrl)
        assert.deepStrictEqual(fake.blobs.get(images[1]!.image.ref.$link)?.bytes, fromFile)
        assert.deepStrictEqual(images.map((entry) => entry.image.mimeType), ["image/png", "image/webp"])

        const missing = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("missing", [
          { kind: "image", mimeType: "image/png", sizeBytes: 10, source: { _tag: "file", path: `${dir}/nope.png` } }
        ])])))
        assert.strictEqual(missing._tag === "Rejected" ? missing.code : missing._tag, "MEDIA_UNAVAILABLE")
      })
    ))

  it.live("resolves stored media through resolveStoredMedia", () => {
    const library = new Map([["media-1", mediaOf("image/png", 5_000, 31)]])
    return withFake((fake, publisher) =>
      Effect.gen(function*() {
        const stored = (mediaId: string) => ({
          kind: "image" as const,
          mimeType: "image/png",
          sizeBytes: 5_000,
          altText: mediaId,
          source: { _tag: "stored" as const, mediaId }
        })
        yield* publisher.publish(publishRequest(fake.credentials(), [part("stored", [stored("media-1")])]))
        const [entry] = (fake.posts()[0]!.value as { embed: { images: Array<{ image: { ref: { $link: string } } }> } }).embed.images
        assert.deepStrictEqual(fake.blobs.get(entry!.image.ref.$link)?.bytes, library.get("media-1"))

        const missing = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("gone", [stored("media-2")])])))
        assert.strictEqual(missing._tag === "Rejected" ? missing.code : missing._tag, "MEDIA_UNAVAILABLE")
        assert.strictEqual(fake.posts().length, 1)
      }), {
      publisher: {
        resolveStoredMedia: (mediaId) => {
          const data = library.get(mediaId)
          return data === undefined
            ? Effect.fail(new PublishError.Rejected({ platform: "bluesky", code: "MEDIA_UNAVAILABLE", message: `no media ${mediaId}` }))
            : Effect.succeed({ stream: Stream.succeed(data), sizeBytes: data.byteLength, mimeType: "image/png" })
        }
      }
    })
  })

  it.live("adds a link card with the page's OpenGraph title, description and image", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const thumb = mediaOf("image/jpeg", 20_000, 9)
        const thumbUrl = fake.servePage("/img/card.jpg", { contentType: "image/jpeg", body: thumb })
        const page = fake.servePage("/article", {
          contentType: "text/html; charset=utf-8",
          body: `<html><head><title>Fallback</title>
            <meta property="og:title" content="Kites &amp; Wind">
            <meta content="How kites fly" property="og:description">
            <meta property="og:image" content="${thumbUrl}"></head><body>…</body></html>`
        })
        // Linked through a redirect, as shorteners do; the card keeps the URL as written.
        const article = fake.serveRedirect("/s/abc", page)
        yield* publisher.publish(publishRequest(fake.credentials(), [part(`Read this: ${article}`)]))
        const embed = (fake.posts()[0]!.value as {
          embed: { $type: string; external: { uri: string; title: string; description: string; thumb?: { ref: { $link: string } } } }
        }).embed
        assert.strictEqual(embed.$type, "app.bsky.embed.external")
        assert.strictEqual(embed.external.uri, article)
        assert.strictEqual(embed.external.title, "Kites & Wind")
        assert.strictEqual(embed.external.description, "How kites fly")
        assert.deepStrictEqual(fake.blobs.get(embed.external.thumb!.ref.$link)?.bytes, thumb)
      })
    ))

  it.live("falls back to the URL as the card title when the page cannot be read", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const gone = `${fake.url}/gone`
        yield* publisher.publish(publishRequest(fake.credentials(), [part("a card", [], gone)]))
        const external = (fake.posts()[0]!.value as { embed: { external: Record<string, unknown> } }).embed.external
        assert.deepStrictEqual(external, { uri: gone, title: gone, description: "" })
      })
    ))

  it.live("uploads a video through the video service and waits for processing", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const clip = mediaOf("video/mp4", 3_000_000, 11)
        const result = yield* publisher.publish(publishRequest(fake.credentials(), [part("a clip", [{
          kind: "video",
          mimeType: "video/mp4",
          sizeBytes: clip.byteLength,
          width: 1920,
          height: 1080,
          durationSeconds: 12,
          altText: "waves",
          source: { _tag: "bytes", data: clip }
        }])]))
        const embed = (fake.posts()[0]!.value as {
          embed: { $type: string; alt: string; aspectRatio: unknown; video: { ref: { $link: string }; size: number } }
        }).embed
        assert.strictEqual(embed.$type, "app.bsky.embed.video")
        assert.strictEqual(embed.alt, "waves")
        assert.deepStrictEqual(embed.aspectRatio, { width: 1920, height: 1080 })
        assert.strictEqual(embed.video.size, clip.byteLength)
        const [job] = [...fake.videoJobs.values()]
        assert.strictEqual(job!.state, "JOB_STATE_COMPLETED")
        assert.strictEqual(job!.blobCid, embed.video.ref.$link)
        // Quota check, service auth, upload to the video service, then polls until done.
        const order = fake.requests.map((request) => request.nsid).filter((nsid) => nsid.includes("video") || nsid.includes("ServiceAuth"))
        assert.deepStrictEqual(order, [
          "com.atproto.server.getServiceAuth",
          "app.bsky.video.getUploadLimits",
          "com.atproto.server.getServiceAuth",
          "app.bsky.video.uploadVideo",
          "app.bsky.video.getJobStatus",
          "app.bsky.video.getJobStatus",
          "app.bsky.video.getJobStatus"
        ])
        const upload = fake.requests.find((request) => request.nsid === "app.bsky.video.uploadVideo")!
        assert.strictEqual(upload.server, "video")
        assert.strictEqual(upload.bodyBytes, clip.byteLength)
        assert.strictEqual(upload.query.did, fake.posts()[0]!.repo)
        assert.isTrue(result.url.endsWith(fake.posts()[0]!.rkey))
      })
    ))

  it.live("sends a Content-Length for a video from a URL that answers without one", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const clip = mediaOf("video/mp4", 700_000, 13)
        const url = fake.servePage("/media/clip.mp4", { contentType: "video/mp4", body: clip, chunked: true })
        yield* publisher.publish(publishRequest(fake.credentials(), [part("from a URL", [{
          kind: "video",
          mimeType: "video/mp4",
          sizeBytes: clip.byteLength,
          source: { _tag: "url", url }
        }])]))
        const upload = fake.requests.find((request) => request.nsid === "app.bsky.video.uploadVideo")!
        assert.strictEqual(upload.status, 200)
        assert.strictEqual(upload.bodyBytes, clip.byteLength)
        assert.strictEqual(fake.posts().length, 1)
      })
    ))

  it.live("checks the daily video quota before uploading", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const clip = (seed: number) => ({
          kind: "video" as const,
          mimeType: "video/mp4",
          sizeBytes: 1_000,
          source: { _tag: "bytes" as const, data: mediaOf("video/mp4", 1_000, seed) }
        })
        yield* publisher.publish(publishRequest(fake.credentials(), [part("first clip", [clip(41)])]))
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("second clip", [clip(42)])])))
        assert.strictEqual(error._tag, "RateLimited")
        assert.strictEqual(error._tag === "RateLimited" ? error.scope : undefined, "quota")
        assert.strictEqual(error.platformCode, "UploadLimitExceeded")
        // Refused from the quota answer: the second video was never sent.
        assert.strictEqual(fake.callCount("app.bsky.video.uploadVideo"), 1)
        assert.strictEqual(fake.callCount("app.bsky.video.getUploadLimits"), 2)
        assert.strictEqual(fake.posts().length, 1)
      }), { fake: { videoQuota: { videos: 1, bytes: 1_000_000 } } }))

  it.live("a failed quota check does not block the upload; the service's own refusal is a quota limit", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        fake.inject("app.bsky.video.getUploadLimits", Faults.status(500), { times: 2 })
        const clip = (seed: number) => ({
          kind: "video" as const,
          mimeType: "video/mp4",
          sizeBytes: 1_000,
          source: { _tag: "bytes" as const, data: mediaOf("video/mp4", 1_000, seed) }
        })
        yield* publisher.publish(publishRequest(fake.credentials(), [part("first clip", [clip(51)])]))
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("second clip", [clip(52)])])))
        assert.strictEqual(error._tag, "RateLimited")
        assert.strictEqual(error.httpStatus, 400)
        assert.strictEqual(error.platformCode, "UploadLimitExceeded")
        assert.strictEqual(fake.callCount("app.bsky.video.uploadVideo"), 2)
      }), { fake: { videoQuota: { videos: 1, bytes: 1_000_000 } } }))

  it.live("reports a failed video job as rejected with the service's message", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        fake.failNextVideoJob("Video is corrupt")
        const clip = mediaOf("video/mp4", 10_000, 12)
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("clip", [{
          kind: "video",
          mimeType: "video/mp4",
          sizeBytes: clip.byteLength,
          source: { _tag: "bytes", data: clip }
        }])])))
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual(error._tag === "Rejected" ? error.code : undefined, "MEDIA_PROCESSING_FAILED")
        assert.strictEqual(error.platformMessage, "Video is corrupt")
        assert.strictEqual(fake.posts().length, 0)
      })
    ))
})

describe("first comment", () => {
  it.live("a reply whose root and parent are the post's first part (strong refs with the CID), under a thread too", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const request = publishRequest(fake.credentials(), [part("the post"), part("its second part")], { langs: ["en"] })
        const result = yield* publisher.publish(request)
        const comment = yield* publisher.comment!({
          ...request,
          attemptId: "comment-1",
          published: { platformPostId: result.platformPostId, url: result.url, parts: result.parts },
          text: "first comment https://example.com"
        })
        const posts = fake.posts()
        assert.strictEqual(posts.length, 3)
        const [first, , reply] = posts as [typeof posts[0], typeof posts[0], typeof posts[0]]
        const value = reply.value as { text: string; langs: Array<string>; reply: unknown; facets: Array<unknown> }
        assert.strictEqual(value.text, "first comment https://example.com")
        assert.deepStrictEqual(value.reply, { root: { uri: first.uri, cid: first.cid }, parent: { uri: first.uri, cid: first.cid } })
        assert.deepStrictEqual(value.langs, ["en"])
        assert.strictEqual(value.facets.length, 1)
        assert.strictEqual(comment.platformCommentId, reply.uri)
        assert.strictEqual(comment.url, `https://bsky.app/profile/alice.bsky.social/post/${reply.rkey}`)
        // Without the CID of the post (parts from elsewhere) nothing is sent; a stale CID is refused by the PDS.
        const creates = fake.callCount("com.atproto.repo.createRecord")
        const noCid = yield* Effect.flip(publisher.comment!({
          ...request,
          attemptId: "comment-2",
          published: { platformPostId: first.uri, url: result.url, parts: [{ platformPostId: first.uri, url: result.url }] },
          text: "again"
        }))
        assert.strictEqual(noCid._tag, "Rejected")
        assert.strictEqual(fake.callCount("com.atproto.repo.createRecord"), creates)
        const stale = yield* Effect.flip(publisher.comment!({
          ...request,
          attemptId: "comment-3",
          published: { platformPostId: first.uri, url: result.url, parts: [{ platformPostId: first.uri, url: result.url, replyRef: reply.cid }] },
          text: "again"
        }))
        assert.strictEqual(stale._tag, "Rejected")
        assert.include(stale.message, "cid")
        assert.strictEqual(fake.posts().length, 3)
      })
    ))
})

describe("publish: threads", () => {
  it.live("posts a thread of 3 parts with images as a reply chain, in order", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const result = yield* publisher.publish(publishRequest(fake.credentials(), [
          part("1/3 the start", [image(10_000, "first image", 21)]),
          part("2/3 the middle", [image(20_000, "second image", 22), image(30_000, "third image", 23)]),
          part("3/3 the end", [image(40_000, "fourth image", 24)])
        ]))
        const posts = fake.posts()
        assert.strictEqual(posts.length, 3)
        const [first, second, third] = posts as [typeof posts[0], typeof posts[0], typeof posts[0]]
        type Reply = { root: { uri: string; cid: string }; parent: { uri: string; cid: string } }
        const value = (post: typeof first) => post.value as { text: string; reply?: Reply; embed: { images: Array<{ alt: string }> } }
        assert.deepStrictEqual(posts.map((post) => value(post).text), ["1/3 the start", "2/3 the middle", "3/3 the end"])
        assert.isUndefined(value(first).reply)
        assert.deepStrictEqual(value(second).reply, { root: { uri: first.uri, cid: first.cid }, parent: { uri: first.uri, cid: first.cid } })
        assert.deepStrictEqual(value(third).reply, { root: { uri: first.uri, cid: first.cid }, parent: { uri: second.uri, cid: second.cid } })
        assert.deepStrictEqual(value(second).embed.images.map((entry) => entry.alt), ["second image", "third image"])
        assert.deepStrictEqual(result.parts.map((entry) => entry.platformPostId), [first.uri, second.uri, third.uri])
        assert.strictEqual(result.platformPostId, first.uri)
        // All media is uploaded before the first record, so a failed upload cannot leave half a thread.
        const nsids = fake.requests.map((request) => request.nsid)
        assert.isBelow(nsids.lastIndexOf("com.atproto.repo.uploadBlob"), nsids.indexOf("com.atproto.repo.createRecord"))
        assert.isTrue(posts.every((post, index) => index === 0 || post.rkey > posts[index - 1]!.rkey))
      })
    ))

  it.live("a failure after the first part keeps the live parts on the error, and a retry resumes after them", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        yield* publisher.publish(publishRequest(fake.credentials(), [part("warm-up")]))
        // Of the thread's createRecord calls, the first passes; the second meets a 500.
        fake.inject("com.atproto.repo.createRecord", Faults.status(500), { after: 1 })
        const request = publishRequest(fake.credentials(), [part("one", [image(10_000, "a", 31)]), part("two", [image(20_000, "b", 32)]), part("three")])
        const error = yield* Effect.flip(publisher.publish(request))
        assert.strictEqual(error._tag, "Transient")
        assert.strictEqual(error.httpStatus, 500)
        assert.include(error.message, "part 2 of 3 failed")
        const one = fake.posts()[1]!
        assert.deepStrictEqual(error.postedParts?.map((p) => p.platformPostId), [one.uri])
        assert.deepStrictEqual(fake.posts().map((post) => (post.value as { text: string }).text), ["warm-up", "one"])

        const uploadsBefore = fake.callCount("com.atproto.repo.uploadBlob")
        const result = yield* publisher.publish({ ...request, postedParts: error.postedParts })
        const posts = fake.posts()
        // Part one is never posted again; two and three follow it, in order, as replies.
        assert.deepStrictEqual(posts.map((post) => (post.value as { text: string }).text), ["warm-up", "one", "two", "three"])
        type Reply = { root: { uri: string; cid: string }; parent: { uri: string; cid: string } }
        const reply = (index: number) => (posts[index]!.value as { reply: Reply }).reply
        assert.deepStrictEqual(reply(2), { root: { uri: one.uri, cid: one.cid }, parent: { uri: one.uri, cid: one.cid } })
        assert.deepStrictEqual(reply(3), { root: { uri: one.uri, cid: one.cid }, parent: { uri: posts[2]!.uri, cid: posts[2]!.cid } })
        assert.deepStrictEqual(result.parts.map((p) => p.platformPostId), posts.slice(1).map((post) => post.uri))
        // Only the parts still to post were prepared: one image uploaded, not two.
        assert.strictEqual(fake.callCount("com.atproto.repo.uploadBlob") - uploadsBefore, 1)
      })
    ))

  it.live("a rate limit on a later part keeps the live parts; a retry after the window posts the rest", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        fake.inject("com.atproto.repo.createRecord", fake.rateLimited(3600), { after: 1 })
        const request = publishRequest(fake.credentials(), [part("one"), part("two")])
        const error = yield* Effect.flip(publisher.publish(request))
        assert.strictEqual(error._tag, "RateLimited")
        assert.strictEqual(error.platformCode, "RateLimitExceeded")
        assert.strictEqual(error.postedParts?.length, 1)
        assert.strictEqual(fake.callCount("com.atproto.repo.createRecord"), 2)
        yield* publisher.publish({ ...request, postedParts: error.postedParts })
        assert.deepStrictEqual(fake.posts().map((post) => (post.value as { text: string }).text), ["one", "two"])
      })
    ))
})
