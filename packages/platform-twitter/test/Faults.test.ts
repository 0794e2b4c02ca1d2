import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import type { Media, Post, Publisher } from "@omnipost/core"
import { PublishError } from "@omnipost/core"
import { type Auth, makeXPublisher, type Settings } from "@omnipost/platform-twitter"
import { FakeX, FakeXServer, Faults, gate } from "@omnipost/platform-twitter/testing"
import { UrlGuard } from "@omnipost/platform-kit"
import { Effect, Layer } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { Samples as Fixtures } from "@omnipost/platform-kit/testing"

const image = (sizeBytes: number): Media.Media => ({
  kind: "image",
  mimeType: "image/png",
  sizeBytes,
  source: { _tag: "bytes", data: Fixtures.png(sizeBytes) }
})

const request = (
  parts: readonly [Post.ResolvedPart, ...Array<Post.ResolvedPart>],
  credentials: Auth.XCredentials
): Publisher.PublishRequest<Settings.XSettings, Auth.XCredentials> => ({
  postId: "post-1",
  destinationId: "destination-1",
  attemptId: "attempt-1",
  destination: { platform: "x", accountId: "account-1", settings: {}, parts },
  credentials
})

const text = (value: string): Post.ResolvedPart => ({ text: value, media: [] })

const environment = Layer.mergeAll(
  FakeX.layer({ processing: { checkAfterSecs: 1, pollsUntilDone: 1 } }),
  NodeHttpClient.layerUndici,
  // The media hosts of these tests are on loopback.
  UrlGuard.UrlGuard.layer({ allowPrivate: true })
)

layer(environment, { excludeTestServices: true, timeout: "60 seconds" })("X faults, mapped to core's errors", (it) => {
  const setup = (username: string) =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url, postTimeout: "500 millis" })
      const credentials = fake.issueOAuth2Token({ username })
      return { fake, publisher, credentials }
    })

  it.effect("429 on POST /2/tweets → RateLimited with the reset time", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("limited_user")
      fake.inject("POST /2/tweets", Faults.rateLimitWindow({ limit: 0, windowMs: 120_000 }))
      yield* Effect.addFinalizer(() => Effect.sync(() => fake.clearFaults()))
      const before = Math.floor(Date.now() / 1000)
      const error = yield* Effect.flip(publisher.publish(request([text("limited")], credentials)))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag !== "RateLimited") return
      const resetSeconds = Date.parse(error.resetAt!) / 1000
      assert.isAtLeast(resetSeconds, before + 119)
      assert.isAtMost(resetSeconds, before + 122)
      assert.isAtLeast(error.retryAfterSeconds!, 117)
      assert.isAtMost(error.retryAfterSeconds!, 121)
      assert.strictEqual(error.platformCode, "88")
      assert.strictEqual(error.httpStatus, 429)
      assert.isTrue(PublishError.isRetryable(error))
      assert.strictEqual(fake.liveTweets.filter((t) => t.text === "limited").length, 0)
    }))

  it.effect("the fake's own window: the 101st post in 15 minutes is limited", () =>
    Effect.gen(function*() {
      const fake = yield* Effect.promise(() => FakeXServer.start({ rateLimits: { "POST /2/tweets": 2 } }))
      yield* Effect.addFinalizer(() => Effect.promise(() => fake.close()))
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "window_user" })
      yield* publisher.publish(request([text("one")], credentials))
      yield* publisher.publish(request([text("two")], credentials))
      const error = yield* Effect.flip(publisher.publish(request([text("three")], credentials)))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.isAtLeast(error.retryAfterSeconds!, 890)
    }))

  it.effect("500 → Transient", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("five_hundred")
      fake.inject("POST /2/tweets", Faults.status(500))
      const error = yield* Effect.flip(publisher.publish(request([text("server error")], credentials)))
      assert.strictEqual(error._tag, "Transient")
      assert.strictEqual(error.httpStatus, 500)
    }))

  it.effect("500 during an APPEND → Transient, and nothing is posted", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("append_fails")
      fake.inject("POST /2/media/upload/:id/append", Faults.status(503))
      const error = yield* Effect.flip(publisher.publish(request([{ text: "with media", media: [image(10_000)] }], credentials)))
      assert.strictEqual(error._tag, "Transient")
      assert.strictEqual(fake.liveTweets.filter((t) => t.text === "with media").length, 0)
    }))

  it.effect("connection dropped after POST /2/tweets arrived → OutcomeUnknown, never retried", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("dropped_user")
      fake.inject("POST /2/tweets", Faults.dropAfterApply())
      const error = yield* Effect.flip(publisher.publish(request([text("maybe posted")], credentials)))
      assert.strictEqual(error._tag, "OutcomeUnknown")
      assert.isFalse(PublishError.isRetryable(error))
      // The fake did create it, exactly once.
      assert.strictEqual(fake.tweets.filter((t) => t.text === "maybe posted").length, 1)
    }))

  it.effect("a dropped connection on a media call → Transient (nothing can have been posted)", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("dropped_media")
      fake.inject("POST /2/media/upload/initialize", Faults.dropAfterApply())
      const error = yield* Effect.flip(publisher.publish(request([{ text: "drop media", media: [image(5_000)] }], credentials)))
      assert.strictEqual(error._tag, "Transient")
    }))

  it.effect("a slow POST /2/tweets past the timeout → OutcomeUnknown", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("slow_user")
      // Held until the fake closes: the publisher's 500 ms timeout decides.
      fake.inject("POST /2/tweets", Faults.slow({ until: gate().promise }))
      const error = yield* Effect.flip(publisher.publish(request([text("slow one")], credentials)))
      assert.strictEqual(error._tag, "OutcomeUnknown")
      assert.include(error.message, "timed out")
    }))

  it.effect("a slow answer within the timeout is fine", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("slow_ok")
      fake.inject("POST /2/tweets", Faults.slow({ delayMs: 100 }))
      const result = yield* publisher.publish(request([text("slow but fine")], credentials))
      assert.isDefined(fake.tweets.find((t) => t.id === result.platformPostId))
    }))

  it.effect("no server at all (connection refused) → Transient, even for POST /2/tweets", () =>
    Effect.gen(function*() {
      const closed = yield* Effect.promise(() => FakeXServer.start())
      const credentials = closed.issueOAuth2Token({ username: "refused", expiresInSeconds: 3600 })
      const url = closed.url
      yield* Effect.promise(() => closed.close())
      const publisher = yield* makeXPublisher({ apiBaseUrl: url })
      const error = yield* Effect.flip(publisher.publish(request([text("nobody home")], { ...credentials, username: "refused" })))
      assert.strictEqual(error._tag, "Transient")
    }))

  it.effect("403 duplicate content → Rejected with X's message", () =>
    Effect.gen(function*() {
      const { credentials, publisher } = yield* setup("duplicate_user")
      yield* publisher.publish(request([text("the same words")], credentials))
      const error = yield* Effect.flip(publisher.publish(request([text("the same words")], credentials)))
      assert.strictEqual(error._tag, "Rejected")
      if (error._tag !== "Rejected") return
      assert.strictEqual(error.code, "DUPLICATE_CONTENT")
      assert.strictEqual(error.httpStatus, 403)
      assert.strictEqual(error.platformMessage, "You are not allowed to create a Tweet with duplicate content.")
      assert.strictEqual(PublishError.codeOf(error), "DUPLICATE_CONTENT")
    }))

  it.effect("403 video too long → Rejected VIDEO_DURATION_OUT_OF_RANGE", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("long_video")
      fake.inject("POST /2/tweets", Faults.status(403, {
        body: {
          title: "Forbidden",
          type: "about:blank",
          status: 403,
          detail: "This user is not allowed to post a video longer than 2 minutes and 20 seconds."
        }
      }))
      const video: Media.Media = {
        kind: "video",
        mimeType: "video/mp4",
        sizeBytes: 40_000,
        source: { _tag: "bytes", data: Fixtures.mp4(40_000) }
      }
      const error = yield* Effect.flip(publisher.publish(request([{ text: "long", media: [video] }], credentials)))
      assert.strictEqual(error._tag, "Rejected")
      if (error._tag === "Rejected") {
        assert.strictEqual(error.code, "VIDEO_DURATION_OUT_OF_RANGE")
        assert.include(error.platformMessage ?? "", "longer than 2 minutes")
      }
    }))

  it.effect("text over 280 weighted characters → Rejected CONTENT_TOO_LONG (the fake counts with twitter-text)", () =>
    Effect.gen(function*() {
      const { credentials, publisher } = yield* setup("long_text")
      // 141 CJK characters weigh 282.
      const error = yield* Effect.flip(publisher.publish(request([text("漢".repeat(141))], credentials)))
      assert.strictEqual(error._tag, "Rejected")
      if (error._tag === "Rejected") assert.strictEqual(error.code, "CONTENT_TOO_LONG")
      // 140 weigh 280: accepted.
      yield* publisher.publish(request([text("漢".repeat(140))], credentials))
    }))

  it.effect("video processing failed → Rejected MEDIA_PROCESSING_FAILED with X's error", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("bad_video")
      fake.failNextProcessing({ code: 3, name: "InvalidMedia", message: "Invalid or Unsupported media" })
      const video: Media.Media = {
        kind: "video",
        mimeType: "video/mp4",
        sizeBytes: 30_000,
        source: { _tag: "bytes", data: Fixtures.mp4(30_000) }
      }
      const error = yield* Effect.flip(publisher.publish(request([{ text: "bad video", media: [video] }], credentials)))
      assert.strictEqual(error._tag, "Rejected")
      if (error._tag === "Rejected") {
        assert.strictEqual(error.code, "MEDIA_PROCESSING_FAILED")
        assert.strictEqual(error.platformCode, "InvalidMedia")
        assert.strictEqual(error.platformMessage, "Invalid or Unsupported media")
      }
    }))

  it.effect("a failure in the middle of a thread keeps the parts already posted, and a retry resumes after them", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("thread_resume")
      fake.inject("POST /2/tweets", Faults.status(500), { after: 2 })
      const thread = request([text("t1"), text("t2"), text("t3")], credentials)
      const error = yield* Effect.flip(publisher.publish(thread))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "part 3 of 3 failed")
      const live = fake.tweets.filter((t) => ["t1", "t2", "t3"].includes(t.text))
      assert.deepStrictEqual(live.map((t) => [t.text, t.deleted]), [["t1", false], ["t2", false]])
      assert.deepStrictEqual(error.postedParts?.map((p) => p.platformPostId), live.map((t) => t.id))
      // The retry posts part 3 only, as a reply to part 2: nothing is posted twice.
      const result = yield* publisher.publish({ ...thread, postedParts: error.postedParts })
      const all = fake.tweets.filter((t) => ["t1", "t2", "t3"].includes(t.text))
      assert.deepStrictEqual(all.map((t) => t.text), ["t1", "t2", "t3"])
      assert.strictEqual(all[2]!.inReplyToTweetId, all[1]!.id)
      assert.deepStrictEqual(result.parts.map((p) => p.platformPostId), all.map((t) => t.id))
    }))

  it.effect("an unknown outcome in the middle of a thread keeps what was posted; findPublished completes it", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("thread_unknown")
      const sentAt = new Date().toISOString()
      fake.inject("POST /2/tweets", Faults.dropAfterApply(), { after: 1 })
      const thread = request([text("u1"), text("u2")], credentials)
      const error = yield* Effect.flip(publisher.publish(thread))
      assert.strictEqual(error._tag, "OutcomeUnknown")
      const first = fake.tweets.find((t) => t.text === "u1")!
      assert.isFalse(first.deleted)
      assert.deepStrictEqual(error.postedParts?.map((p) => p.platformPostId), [first.id])
      // The dropped request was applied: looking it up after the live part finds part 2, so the thread is published.
      const found = yield* publisher.findPublished!({ ...thread, postedParts: error.postedParts, sentAt })
      const second = fake.tweets.find((t) => t.text === "u2")!
      assert.deepStrictEqual(found?.parts.map((p) => p.platformPostId), [first.id, second.id])
    }))

  it.effect("findPublished that finds only the first parts of a thread keeps them and says the rest will follow", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("thread_partial_found")
      const sentAt = new Date().toISOString()
      fake.inject("POST /2/tweets", Faults.dropBeforeApply(), { after: 1 })
      const thread = request([text("p1"), text("p2")], credentials)
      const error = yield* Effect.flip(publisher.publish(thread))
      assert.strictEqual(error._tag, "OutcomeUnknown")
      // Looked up as a whole (no parts known): part 1 is found, part 2 is not.
      const partial = yield* Effect.flip(publisher.findPublished!({ ...thread, sentAt }))
      assert.strictEqual(partial._tag, "Transient")
      const first = fake.tweets.find((t) => t.text === "p1")!
      assert.deepStrictEqual(partial.postedParts?.map((p) => p.platformPostId), [first.id])
      yield* publisher.publish({ ...thread, postedParts: partial.postedParts })
      assert.deepStrictEqual(fake.tweets.filter((t) => t.text.startsWith("p")).map((t) => [t.text, t.inReplyToTweetId]), [["p1", undefined], ["p2", first.id]])
    }))

  it.effect("mixed media is refused before any request", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("mixed_user")
      const count = fake.requests.length
      const video: Media.Media = { kind: "video", mimeType: "video/mp4", sizeBytes: 10, source: { _tag: "bytes", data: new Uint8Array(10) } }
      const error = yield* Effect.flip(publisher.publish(request([{ text: "mixed", media: [image(10), video] }], credentials)))
      assert.strictEqual(error._tag, "Rejected")
      if (error._tag === "Rejected") assert.strictEqual(error.code, "UNSUPPORTED_MEDIA_CONFIG")
      assert.strictEqual(fake.requests.length, count)
    }))

  it.effect("every answer carries x-rate-limit headers", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const credentials = fake.issueOAuth2Token({ username: "headers_user" })
      const response = yield* Effect.promise(() =>
        fetch(`${fake.url}/2/users/me`, { headers: { authorization: `Bearer ${credentials.accessToken}` } })
      )
      assert.strictEqual(response.status, 200)
      assert.strictEqual(response.headers.get("x-rate-limit-limit"), "75")
      assert.strictEqual(response.headers.get("x-rate-limit-remaining"), "74")
      assert.isAbove(Number(response.headers.get("x-rate-limit-reset")), Date.now() / 1000)
      const unauthorized = yield* Effect.promise(() => fetch(`${fake.url}/2/users/me`))
      assert.strictEqual(unauthorized.status, 401)
      assert.isNotNull(unauthorized.headers.get("x-rate-limit-reset"))
      assert.deepStrictEqual(yield* Effect.promise(() => unauthorized.json()), {
        title: "Unauthorized",
        detail: "Unauthorized",
        type: "about:blank",
        status: 401
      })
    }))

  it.effect("findPublished finds a post whose outcome was unknown (URLs, & and media shown back by X)", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("reconcile_found")
      const sentAt = new Date().toISOString()
      fake.inject("POST /2/tweets", Faults.dropAfterApply())
      const parts = [{ text: "Q&A <today> at example.com/qa and https://example.org/x?y=1", media: [image(2_000)] }] as const
      const error = yield* Effect.flip(publisher.publish(request(parts, credentials)))
      assert.strictEqual(error._tag, "OutcomeUnknown")
      const found = yield* publisher.findPublished!({ ...request(parts, credentials), sentAt })
      const tweet = fake.tweets.find((t) => t.text.startsWith("Q&A"))!
      assert.isDefined(found)
      assert.strictEqual(found!.platformPostId, tweet.id)
      assert.strictEqual(found!.url, `https://x.com/reconcile_found/status/${tweet.id}`)
      assert.strictEqual(found!.publishedAt, tweet.createdAt)
    }))

  it.effect("findPublished says not posted when the request never got handled", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("reconcile_missing")
      const sentAt = new Date().toISOString()
      yield* publisher.publish(request([text("an earlier, different post")], credentials))
      fake.inject("POST /2/tweets", Faults.dropBeforeApply())
      const error = yield* Effect.flip(publisher.publish(request([text("lost in transit")], credentials)))
      assert.strictEqual(error._tag, "OutcomeUnknown")
      const found = yield* publisher.findPublished!({ ...request([text("lost in transit")], credentials), sentAt })
      assert.isUndefined(found)
    }))

  it.effect("findPublished finds a whole thread", () =>
    Effect.gen(function*() {
      const { credentials, publisher } = yield* setup("reconcile_thread")
      const sentAt = new Date().toISOString()
      const thread = [text("r1"), text("r2"), text("r3")] as const
      const posted = yield* publisher.publish(request(thread, credentials))
      const found = yield* publisher.findPublished!({ ...request(thread, credentials), sentAt })
      assert.deepStrictEqual(found?.parts, posted.parts)
    }))

  it.effect("429 during the upload → RateLimited, nothing posted", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("upload_limited")
      fake.inject("POST /2/media/upload/initialize", Faults.rateLimitWindow({ limit: 0, windowMs: 30_000 }))
      yield* Effect.addFinalizer(() => Effect.sync(() => fake.clearFaults()))
      const error = yield* Effect.flip(publisher.publish(request([{ text: "limited upload", media: [image(1_000)] }], credentials)))
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag === "RateLimited") assert.isAtMost(error.retryAfterSeconds!, 31)
      assert.strictEqual(fake.tweets.filter((t) => t.text === "limited upload").length, 0)
    }))

  it.effect("processing that never ends → Transient after the time limit", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX.make({ processing: { checkAfterSecs: 1, pollsUntilDone: 1000 } })
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url, upload: { processingTimeout: "1500 millis" } })
      const credentials = fake.issueOAuth2Token({ username: "stuck_video" })
      const gif: Media.Media = {
        kind: "gif",
        mimeType: "image/gif",
        sizeBytes: 3_000,
        source: { _tag: "bytes", data: Fixtures.gif(3_000) }
      }
      const error = yield* Effect.flip(publisher.publish(request([{ text: "stuck", media: [gif] }], credentials)))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "did not finish processing")
      assert.strictEqual(fake.uploads[0]!.mediaCategory, "tweet_gif")
      assert.strictEqual(fake.tweets.length, 0)
    }))

  it.effect("a file that is not there → Rejected MEDIA_UNAVAILABLE before any upload", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("missing_file")
      const count = fake.uploads.length
      const media: Media.Media = { kind: "image", mimeType: "image/png", sizeBytes: 10, source: { _tag: "file", path: "/nonexistent/omnipost.png" } }
      const error = yield* Effect.flip(publisher.publish(request([{ text: "missing", media: [media] }], credentials)))
      assert.strictEqual(error._tag, "Rejected")
      if (error._tag === "Rejected") assert.strictEqual(error.code, "MEDIA_UNAVAILABLE")
      assert.strictEqual(fake.uploads.length, count)
    }))

  it.effect("a media download that stalls → Transient, nothing posted", () =>
    Effect.gen(function*() {
      const { credentials, fake } = yield* setup("stalled_download")
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url, upload: { requestTimeout: "400 millis" } })
      const server = createServer((_, res) => {
        res.writeHead(200, { "content-type": "image/png", "content-length": "100000" })
        res.write(Buffer.alloc(10_000)) // then nothing more
      })
      yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))),
        () => Effect.promise(() => new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        }))
      )
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow.png`
      const media: Media.Media = { kind: "image", mimeType: "image/png", sizeBytes: 100_000, source: { _tag: "url", url } }
      const error = yield* Effect.flip(publisher.publish(request([{ text: "stalled", media: [media] }], credentials)))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "stalled")
      assert.strictEqual(fake.tweets.filter((t) => t.text === "stalled").length, 0)
    }))

  it.effect("malformed stored credentials → AuthFailed, no request", () =>
    Effect.gen(function*() {
      const { fake, publisher } = yield* setup("malformed_credentials")
      const count = fake.requests.length
      const bad = [{ _tag: "oauth2", clientId: "c" }, { _tag: "oauth1", consumerKey: "k" }, null, "token"]
      for (const credentials of bad) {
        const error = yield* Effect.flip(publisher.publish(request([text("never")], credentials as never)))
        assert.strictEqual(error._tag, "AuthFailed")
        if (error._tag === "AuthFailed") assert.strictEqual(error.reason, "invalid")
      }
      assert.strictEqual(fake.requests.length, count)
    }))

  // One media host for the tests below: paths answer a status, redirect, or serve bytes.
  const mediaHost = (routes: Record<string, (base: string) => { status: number; headers?: Record<string, string>; body?: Uint8Array }>) =>
    Effect.gen(function*() {
      let base = ""
      const hits: Array<string> = []
      const server = createServer((req, res) => {
        hits.push(req.url ?? "")
        const route = routes[req.url ?? ""]
        const answer = route === undefined ? { status: 404 } : route(base)
        res.writeHead(answer.status, {
          ...answer.headers,
          ...(answer.body !== undefined ? { "content-length": String(answer.body.byteLength) } : {})
        })
        res.end(answer.body)
      })
      yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))),
        () => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
      )
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      return { base, hits }
    })

  const fromUrl = (url: string, mimeType = "image/png", sizeBytes = 10): Media.Media => ({
    kind: "image",
    mimeType,
    sizeBytes,
    source: { _tag: "url", url }
  })

  it.effect("a media URL answering 404 is MEDIA_UNAVAILABLE; 429 and 503 are Transient; nothing reaches X", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("media_url_status")
      const host = yield* mediaHost({
        "/busy.png": () => ({ status: 429, headers: { "retry-after": "30" } }),
        "/down.png": () => ({ status: 503 })
      })
      const uploads = fake.uploads.length
      const gone = yield* Effect.flip(publisher.publish(request([{ text: "gone", media: [fromUrl(host.base + "/gone.png")] }], credentials)))
      assert.strictEqual(gone._tag, "Rejected")
      if (gone._tag === "Rejected") assert.strictEqual(gone.code, "MEDIA_UNAVAILABLE")
      const busy = yield* Effect.flip(publisher.publish(request([{ text: "busy", media: [fromUrl(host.base + "/busy.png")] }], credentials)))
      assert.strictEqual(busy._tag, "Transient")
      assert.strictEqual(busy.httpStatus, 429)
      const down = yield* Effect.flip(publisher.publish(request([{ text: "down", media: [fromUrl(host.base + "/down.png")] }], credentials)))
      assert.strictEqual(down._tag, "Transient")
      assert.strictEqual(fake.uploads.length, uploads)
      assert.strictEqual(fake.tweets.filter((t) => ["gone", "busy", "down"].includes(t.text)).length, 0)
    }))

  it.effect("media URL redirects are followed, each hop through the URL guard", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("media_redirects")
      const bytes = Fixtures.png(50_000)
      const host = yield* mediaHost({
        "/a.png": () => ({ status: 301, headers: { location: "/b.png" } }),
        "/b.png": (base) => ({ status: 302, headers: { location: `${base}/real.png` } }),
        "/real.png": () => ({ status: 200, headers: { "content-type": "image/png" }, body: bytes }),
        "/metadata.png": () => ({ status: 302, headers: { location: "http://169.254.169.254/latest/meta-data/" } })
      })
      const result = yield* publisher.publish(request([{ text: "redirected", media: [fromUrl(host.base + "/a.png", "image/png", bytes.byteLength)] }], credentials))
      assert.deepStrictEqual(host.hits.slice(-3), ["/a.png", "/b.png", "/real.png"])
      const upload = fake.uploads.find((u) => u.id === fake.tweets.find((t) => t.id === result.platformPostId)!.mediaIds[0])!
      assert.strictEqual(upload.segments.reduce((n, s) => n + s.size, 0), bytes.byteLength)

      // A hop to the cloud metadata address is refused, even with private addresses allowed.
      const uploads = fake.uploads.length
      const refused = yield* Effect.flip(publisher.publish(request([{ text: "metadata", media: [fromUrl(host.base + "/metadata.png")] }], credentials)))
      assert.strictEqual(refused._tag, "Rejected")
      if (refused._tag === "Rejected") assert.strictEqual(refused.code, "URL_NOT_ALLOWED")
      assert.strictEqual(fake.uploads.length, uploads)

      // Without a guard that allows them, loopback media hosts are refused too.
      const strict = yield* makeXPublisher({ apiBaseUrl: fake.url, upload: { urlGuard: {} } })
      const loopback = yield* Effect.flip(strict.publish(request([{ text: "loopback", media: [fromUrl(host.base + "/real.png")] }], credentials)))
      assert.strictEqual(loopback._tag, "Rejected")
      if (loopback._tag === "Rejected") assert.strictEqual(loopback.code, "URL_NOT_ALLOWED")
      assert.strictEqual(fake.uploads.length, uploads)
    }))

  it.effect("media whose bytes are not the declared type are refused before anything is posted", () =>
    Effect.gen(function*() {
      const { credentials, fake, publisher } = yield* setup("media_mismatch")
      const host = yield* mediaHost({
        // A server that calls a GIF a PNG: the bytes decide.
        "/lying.png": () => ({ status: 200, headers: { "content-type": "image/png" }, body: Fixtures.gif(4_000) })
      })
      const requests = fake.requests.length
      const error = yield* Effect.flip(publisher.publish(request([
        { text: "first part", media: [image(20_000)] },
        { text: "second part", media: [fromUrl(host.base + "/lying.png", "image/png", 4_000)] }
      ], credentials)))
      assert.strictEqual(error._tag, "Rejected")
      if (error._tag === "Rejected") assert.strictEqual(error.code, "MEDIA_TYPE_MISMATCH")
      assert.include(error.message, "image/gif")
      // Part 1's image was uploaded (media come first), but no post was made.
      assert.strictEqual(fake.tweets.filter((t) => t.text === "first part" || t.text === "second part").length, 0)
      assert.isFalse(fake.requests.slice(requests).some((r) => r.path === "/2/tweets"))
      // Bytes in memory are judged the same way.
      const bytesError = yield* Effect.flip(publisher.publish(request([
        { text: "declared video", media: [{ kind: "video", mimeType: "video/mp4", sizeBytes: 3_000, source: { _tag: "bytes", data: Fixtures.png(3_000) } }] }
      ], credentials)))
      assert.strictEqual(bytesError._tag, "Rejected")
      if (bytesError._tag === "Rejected") assert.strictEqual(bytesError.code, "MEDIA_TYPE_MISMATCH")
    }))

  it.effect("the fake judges an upload by its bytes at FINALIZE, as X does, not by media_type", () =>
    Effect.gen(function*() {
      const { credentials, fake } = yield* setup("fake_sniffs")
      const call = (path: string, init: RequestInit) =>
        Effect.promise(async () => {
          const response = await fetch(`${fake.url}${path}`, {
            ...init,
            headers: { ...init.headers, authorization: `Bearer ${credentials.accessToken}` }
          })
          return { status: response.status, body: (await response.json()) as any }
        })
      const upload = (bytes: Uint8Array, mediaType: string) =>
        Effect.gen(function*() {
          const init = yield* call("/2/media/upload/initialize", {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ media_type: mediaType, total_bytes: bytes.byteLength, media_category: "tweet_image" })
          })
          const id = init.body.data.id as string
          const form = new FormData()
          form.append("segment_index", "0")
          form.append("media", new Blob([bytes as Uint8Array<ArrayBuffer>]), "blob")
          yield* call(`/2/media/upload/${id}/append`, { method: "POST", body: form })
          return { id, finalize: yield* call(`/2/media/upload/${id}/finalize`, { method: "POST" }) }
        })
      // An MP4 declared as a PNG image: refused.
      const lying = yield* upload(Fixtures.mp4(2_000), "image/png")
      assert.strictEqual(lying.finalize.status, 400)
      assert.include(JSON.stringify(lying.finalize.body), "video/mp4 is not accepted")
      assert.isFalse(fake.uploads.find((u) => u.id === lying.id)!.finalized)
      // A WebP-declared PNG is still an image X takes; the fake records what the bytes are.
      const honest = yield* upload(Fixtures.png(2_000), "image/webp")
      assert.strictEqual(honest.finalize.status, 200)
      assert.strictEqual(fake.uploads.find((u) => u.id === honest.id)!.sniffedType, "image/png")
    }))
})
