import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import type { Media, Post, Publisher } from "@omnipost/core"
import { type Auth, layer as xLayer, makeXPublisher, type Settings, X } from "@omnipost/platform-twitter"
import { authScheme, FakeX, Faults } from "@omnipost/platform-twitter/testing"
import { UrlGuard } from "@omnipost/platform-kit"
import { Effect, Layer, Schema, Stream } from "effect"
import { createHash } from "node:crypto"
import { mkdtemp, rm, writeFile } from "node:fs/promises"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Samples } from "@omnipost/platform-kit/testing"
const { jpeg, mp4, png } = Samples

const image = (sizeBytes: number, altText?: string): Media.Media => ({
  kind: "image",
  mimeType: "image/png",
  sizeBytes,
  ...(altText !== undefined ? { altText } : {}),
  source: { _tag: "bytes", data: png(sizeBytes) }
})

const part = (text: string, media: ReadonlyArray<Media.Media> = []): Post.ResolvedPart => ({ text, media })

const request = (
  parts: readonly [Post.ResolvedPart, ...Array<Post.ResolvedPart>],
  credentials: Auth.XCredentials,
  options?: {
    readonly settings?: Settings.XSettings
    readonly saveCredentials?: (credentials: Auth.XCredentials) => Effect.Effect<void>
  }
): Publisher.PublishRequest<Settings.XSettings, Auth.XCredentials> => ({
  postId: "post-1",
  destinationId: "destination-1",
  attemptId: "attempt-1",
  destination: { platform: "x", accountId: "account-1", settings: options?.settings ?? {}, parts },
  credentials,
  saveCredentials: options?.saveCredentials
})

const environment = Layer.mergeAll(
  FakeX.layer({ processing: { checkAfterSecs: 1, pollsUntilDone: 2 } }),
  NodeHttpClient.layerUndici,
  // The media hosts of these tests are on loopback.
  UrlGuard.UrlGuard.layer({ allowPrivate: true })
)

layer(environment, { excludeTestServices: true, timeout: "60 seconds" })("X publisher against FakeX", (it) => {
  it.effect("posts text and returns the id and x.com URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "text_user" })
      const result = yield* publisher.publish(request([part("Hello from Omnipost https://example.com/a/long/path")], credentials))
      const tweet = fake.tweets.find((t) => t.id === result.platformPostId)
      assert.isDefined(tweet)
      assert.strictEqual(tweet!.text, "Hello from Omnipost https://example.com/a/long/path")
      assert.strictEqual(result.url, `https://x.com/text_user/status/${result.platformPostId}`)
      assert.match(result.platformPostId, /^[0-9]{18,19}$/)
      assert.deepStrictEqual(result.parts, [{ platformPostId: result.platformPostId, url: result.url }])
      assert.isFalse(Number.isNaN(Date.parse(result.publishedAt)))
    }))

  it.effect("asks GET /2/users/me once per token for the username", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "cached_user" })
      const before = fake.requests.filter((r) => r.operation === "GET /2/users/me").length
      yield* publisher.publish(request([part("first")], credentials))
      yield* publisher.publish(request([part("second")], credentials))
      const after = fake.requests.filter((r) => r.operation === "GET /2/users/me").length
      assert.strictEqual(after - before, 1)
    }))

  it.effect("uploads images with alt text and attaches them in order", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "image_user" })
      const media = [image(300_000, "A red kite over a hill"), image(120_000, "A blue door")]
      const result = yield* publisher.publish(request([part("Two pictures", media)], credentials))
      const tweet = fake.tweets.find((t) => t.id === result.platformPostId)!
      assert.strictEqual(tweet.mediaIds.length, 2)
      const uploads = tweet.mediaIds.map((id) => fake.uploads.find((u) => u.id === id)!)
      assert.deepStrictEqual(uploads.map((u) => u.altText), ["A red kite over a hill", "A blue door"])
      assert.deepStrictEqual(uploads.map((u) => u.totalBytes), [300_000, 120_000])
      assert.deepStrictEqual(uploads.map((u) => u.mediaCategory), ["tweet_image", "tweet_image"])
      const source = media[0]!.source as { readonly data: Uint8Array }
      assert.strictEqual(uploads[0]!.sha256, createHash("sha256").update(source.data).digest("hex"))
    }))

  it.effect("streams a multi-segment video from a file and waits for processing", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "video_user" })
      const directory = yield* Effect.promise(() => mkdtemp(join(tmpdir(), "omnipost-x-")))
      yield* Effect.addFinalizer(() => Effect.promise(() => rm(directory, { recursive: true, force: true })))
      const bytes = mp4(10 * 1024 * 1024 + 12_345)
      const path = join(directory, "clip.mp4")
      yield* Effect.promise(() => writeFile(path, bytes))
      const video: Media.Media = {
        kind: "video",
        mimeType: "video/mp4",
        sizeBytes: bytes.length,
        durationSeconds: 12,
        source: { _tag: "file", path }
      }
      const result = yield* publisher.publish(request([part("A video", [video])], credentials))
      const tweet = fake.tweets.find((t) => t.id === result.platformPostId)!
      const upload = fake.uploads.find((u) => u.id === tweet.mediaIds[0])!
      assert.strictEqual(upload.mediaCategory, "tweet_video")
      assert.deepStrictEqual(upload.segments.map((s) => s.index), [0, 1, 2])
      assert.isTrue(upload.segments.every((s) => s.size <= 5_000_000))
      assert.strictEqual(upload.segments.reduce((n, s) => n + s.size, 0), bytes.length)
      assert.strictEqual(upload.sha256, createHash("sha256").update(bytes).digest("hex"))
      assert.strictEqual(upload.state, "succeeded")
      // Two polls (in_progress, then succeeded), each after check_after_secs = 1.
      assert.strictEqual(upload.statusPolls.length, 2)
      assert.isAtLeast(upload.statusPolls[1]! - upload.statusPolls[0]!, 950)
    }), 60_000)

  it.effect("streams an image from a URL", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "url_user" })
      const bytes = jpeg(700_000)
      const server = createServer((_, res) => {
        res.writeHead(200, { "content-type": "image/jpeg", "content-length": String(bytes.length) })
        res.end(bytes)
      })
      yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))),
        () => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
      )
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/photo.jpg`
      const media: Media.Media = { kind: "image", mimeType: "image/jpeg", sizeBytes: bytes.length, source: { _tag: "url", url } }
      const result = yield* publisher.publish(request([part("From a URL", [media])], credentials))
      const upload = fake.uploads.find((u) => u.id === fake.tweets.find((t) => t.id === result.platformPostId)!.mediaIds[0])!
      assert.strictEqual(upload.sha256, createHash("sha256").update(bytes).digest("hex"))
    }))

  it.effect("posts a thread of 3 parts with images, each replying to the one before", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "thread_user" })
      const result = yield* publisher.publish(request([
        part("1/3 The start", [image(50_000, "first")]),
        part("2/3 The middle", [image(60_000, "second a"), image(61_000, "second b")]),
        part("3/3 The end", [image(70_000, "third")])
      ], credentials, { settings: { replySettings: "following" } }))
      assert.strictEqual(result.parts.length, 3)
      const tweets = result.parts.map((p) => fake.tweets.find((t) => t.id === p.platformPostId)!)
      assert.deepStrictEqual(tweets.map((t) => t.text), ["1/3 The start", "2/3 The middle", "3/3 The end"])
      assert.strictEqual(tweets[0]!.inReplyToTweetId, undefined)
      assert.strictEqual(tweets[1]!.inReplyToTweetId, tweets[0]!.id)
      assert.strictEqual(tweets[2]!.inReplyToTweetId, tweets[1]!.id)
      assert.deepStrictEqual(tweets.map((t) => t.mediaIds.length), [1, 2, 1])
      assert.deepStrictEqual(
        tweets.flatMap((t) => t.mediaIds.map((id) => fake.uploads.find((u) => u.id === id)!.altText)),
        ["first", "second a", "second b", "third"]
      )
      assert.deepStrictEqual(tweets.map((t) => t.replySettings), ["following", "following", "following"])
      // Posted strictly in order: ids (snowflakes) grow.
      assert.isTrue(BigInt(tweets[0]!.id) < BigInt(tweets[1]!.id) && BigInt(tweets[1]!.id) < BigInt(tweets[2]!.id))
      assert.strictEqual(result.platformPostId, tweets[0]!.id)
      assert.strictEqual(result.parts[2]!.url, `https://x.com/thread_user/status/${tweets[2]!.id}`)
    }))

  it.effect("refreshes an expired token first and saves the new credentials", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "expired_user", expiresInSeconds: -60 })
      const saved: Array<Auth.XCredentials> = []
      const result = yield* publisher.publish(request([part("after a refresh")], credentials, {
        saveCredentials: (c) => Effect.sync(() => void saved.push(c))
      }))
      assert.isDefined(fake.tweets.find((t) => t.id === result.platformPostId))
      assert.strictEqual(saved.length, 1)
      const fresh = saved[0]!
      assert.strictEqual(fresh._tag, "oauth2")
      if (fresh._tag === "oauth2") {
        assert.notStrictEqual(fresh.accessToken, credentials.accessToken)
        assert.isString(fresh.refreshToken)
        assert.isTrue(fresh.refreshToken!.length > 0)
        assert.notStrictEqual(fresh.refreshToken, credentials.refreshToken)
        assert.isTrue(Date.parse(fresh.expiresAt!) > Date.now())
      }
      // The expired token was never sent to the API.
      assert.isFalse(fake.requests.some((r) => r.operation !== "POST /2/oauth2/token" && r.status === 401))
    }))

  it.effect("concurrent publishes of one account refresh once (X rotates refresh tokens)", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "concurrent_user", expiresInSeconds: -60 })
      const before = fake.requests.filter((r) => r.operation === "POST /2/oauth2/token").length
      const saved: Array<Auth.XCredentials> = []
      const results = yield* Effect.all(
        ["a", "b", "c"].map((name) =>
          publisher.publish(request([part(`concurrent ${name}`)], credentials, {
            saveCredentials: (c) => Effect.sync(() => void saved.push(c))
          }))
        ),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(results.length, 3)
      assert.strictEqual(fake.requests.filter((r) => r.operation === "POST /2/oauth2/token").length - before, 1)
      // Every caller saves the same fresh credentials.
      assert.strictEqual(new Set(saved.map((c) => (c._tag === "oauth2" ? c.refreshToken : ""))).size, 1)
    }))

  it.effect("refreshes on a 401 and retries the call once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const issued = fake.issueOAuth2Token({ username: "revoked_early" })
      // The stored credentials do not know the token died early.
      const { expiresAt: _, ...credentials } = issued
      fake.expireAccessToken(issued.accessToken)
      const saved: Array<Auth.XCredentials> = []
      yield* publisher.publish(request([part("after a 401")], credentials, {
        saveCredentials: (c) => Effect.sync(() => void saved.push(c))
      }))
      assert.strictEqual(saved.length, 1)
      assert.isTrue(fake.requests.some((r) => r.operation === "GET /2/users/me" && r.status === 401))
    }))

  it.effect("a transient failure while refreshing keeps the old credentials", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "refresh_down", expiresInSeconds: -60 })
      fake.inject("POST /2/oauth2/token", Faults.status(503))
      let saves = 0
      const error = yield* Effect.flip(publisher.publish(request([part("not yet")], credentials, {
        saveCredentials: () => Effect.sync(() => void saves++)
      })))
      assert.strictEqual(error._tag, "Transient")
      assert.strictEqual(saves, 0)
      // The old refresh token still works afterwards.
      const result = yield* publisher.publish(request([part("now")], credentials, {
        saveCredentials: () => Effect.sync(() => void saves++)
      }))
      assert.isDefined(result.platformPostId)
      assert.strictEqual(saves, 1)
    }))

  it.effect("a revoked refresh token is AuthFailed", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "revoked_user", expiresInSeconds: -60 })
      fake.revokeRefreshToken(credentials.refreshToken!)
      const error = yield* Effect.flip(publisher.publish(request([part("never")], credentials)))
      assert.strictEqual(error._tag, "AuthFailed")
    }))

  it.effect("posts with OAuth 1.0a user tokens, signature checked by the fake", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth1Token({ username: "oauth1_user" })
      const result = yield* publisher.publish(request([part("signed", [image(20_000, "signed alt")])], credentials))
      assert.strictEqual(result.url, `https://x.com/oauth1_user/status/${result.platformPostId}`)
      const tweetRequests = fake.requests.filter((r) => r.operation === "POST /2/tweets" && authScheme(r) === "oauth1")
      assert.isAtLeast(tweetRequests.length, 1)
      // A wrong secret makes the signature wrong: 401, no refresh possible.
      const error = yield* Effect.flip(
        publisher.publish(request([part("bad signature")], { ...credentials, tokenSecret: "wrong" }))
      )
      assert.strictEqual(error._tag, "AuthFailed")
      assert.strictEqual(error.httpStatus, 401)
    }))

  it.effect("verifies credentials and deletes posts", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "profile_user" })
      const profile = yield* publisher.verifyCredentials!(credentials)
      const user = fake.users.find((u) => u.username === "profile_user")!
      assert.deepStrictEqual(profile, {
        accountId: user.id,
        username: "profile_user",
        displayName: "profile_user",
        avatarUrl: user.profileImageUrl
      })
      const result = yield* publisher.publish(request([part("to be deleted")], credentials))
      yield* publisher.delete!({ platformPostId: result.platformPostId, credentials })
      assert.isTrue(fake.tweets.find((t) => t.id === result.platformPostId)!.deleted)
      // Deleting again is not an error.
      yield* publisher.delete!({ platformPostId: result.platformPostId, credentials })
    }))

  it.effect("a token without media.write is a missing permission", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "no_media_scope", scopes: ["tweet.read", "tweet.write", "users.read"] })
      const error = yield* Effect.flip(publisher.publish(request([part("pic", [image(1000)])], credentials)))
      assert.strictEqual(error._tag, "AuthFailed")
      if (error._tag === "AuthFailed") assert.strictEqual(error.reason, "missing_permission")
      assert.strictEqual(fake.tweets.filter((t) => t.text === "pic").length, 0)
    }))

  it.effect("opens stored media through the one resolveStoredMedia hook, in segments of the chosen size", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const bytes = jpeg(2_500_000)
      const publisher = yield* makeXPublisher({
        apiBaseUrl: fake.url,
        upload: {
          segmentBytes: 1_000_000,
          resolveStoredMedia: (mediaId) =>
            mediaId === "stored-1"
              ? Effect.succeed({
                sizeBytes: bytes.length,
                mimeType: "image/jpeg",
                stream: Stream.fromIterable([bytes.subarray(0, 1_234_567), bytes.subarray(1_234_567)])
              })
              : Effect.die("unknown stored media")
        }
      })
      const credentials = fake.issueOAuth2Token({ username: "stored_user" })
      const media: Media.Media = { kind: "image", mimeType: "image/jpeg", sizeBytes: bytes.length, source: { _tag: "stored", mediaId: "stored-1" } }
      const result = yield* publisher.publish(request([part("stored", [media])], credentials))
      const upload = fake.uploads.find((u) => u.id === fake.tweets.find((t) => t.id === result.platformPostId)!.mediaIds[0])!
      assert.deepStrictEqual(upload.segments.map((s) => s.size), [1_000_000, 1_000_000, 500_000])
      assert.strictEqual(upload.sha256, createHash("sha256").update(bytes).digest("hex"))
    }))

  it.effect("validate: a quote with media is an issue; settings decode through the schema", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const destination = (settings: Settings.XSettings, media: ReadonlyArray<Media.Media>) => ({
        platform: "x",
        accountId: "a",
        settings,
        parts: [part("quoted", media)] as const
      })
      const withMedia = publisher.validate!({ destination: destination({ quoteTweetId: "123" }, [image(10)]), destinationIndex: 2 })
      assert.deepStrictEqual(withMedia.map((i) => [i.code, i.destinationIndex]), [["UNSUPPORTED_MEDIA_CONFIG", 2]])
      assert.deepStrictEqual(publisher.validate!({ destination: destination({ quoteTweetId: "123" }, []), destinationIndex: 0 }), [])
      assert.isTrue(Schema.is(publisher.settingsSchema)({ replySettings: "mentionedUsers" }))
      assert.isFalse(Schema.is(publisher.settingsSchema)({ replySettings: "nobody" }))
      assert.isFalse(Schema.is(publisher.credentialsSchema)({ _tag: "oauth2", accessToken: "" , clientId: "c" }))
    }))

  it.effect("quotes and replies to existing posts through settings", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "quote_user" })
      const original = yield* publisher.publish(request([part("the original")], credentials))
      const quote = yield* publisher.publish(request([part("quoting it")], credentials, { settings: { quoteTweetId: original.platformPostId } }))
      const reply = yield* publisher.publish(request([part("replying"), part("and more")], credentials, {
        settings: { inReplyToTweetId: original.platformPostId }
      }))
      assert.strictEqual(fake.tweets.find((t) => t.id === quote.platformPostId)!.quoteTweetId, original.platformPostId)
      assert.strictEqual(fake.tweets.find((t) => t.id === reply.parts[0]!.platformPostId)!.inReplyToTweetId, original.platformPostId)
      assert.strictEqual(fake.tweets.find((t) => t.id === reply.parts[1]!.platformPostId)!.inReplyToTweetId, reply.parts[0]!.platformPostId)
      // Replying to a deleted post is refused with X's message.
      yield* publisher.delete!({ platformPostId: original.platformPostId, credentials })
      const error = yield* Effect.flip(publisher.publish(request([part("too late")], credentials, {
        settings: { inReplyToTweetId: original.platformPostId }
      })))
      assert.strictEqual(error._tag, "Rejected")
      assert.include(error.platformMessage ?? "", "deleted or not visible")
    }))

  it.effect("first comment: a reply to the post's first part (under a thread too); a reply to a deleted post is refused", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const publisher = yield* makeXPublisher({ apiBaseUrl: fake.url })
      const credentials = fake.issueOAuth2Token({ username: "comment_user" })
      const thread = request([part("the post"), part("its second part")], credentials)
      const published = yield* publisher.publish(thread)
      const commentRequest = (on: typeof published, text: string): Publisher.CommentRequest<Settings.XSettings, Auth.XCredentials> => ({
        ...thread,
        attemptId: "comment-1",
        published: { platformPostId: on.platformPostId, url: on.url, parts: on.parts },
        text
      })
      const comment = yield* publisher.comment!(commentRequest(published, "first comment"))
      const reply = fake.tweets.find((t) => t.id === comment.platformCommentId)!
      assert.strictEqual(reply.text, "first comment")
      assert.strictEqual(reply.inReplyToTweetId, published.parts[0]!.platformPostId)
      assert.strictEqual(comment.url, `https://x.com/comment_user/status/${comment.platformCommentId}`)
      // The post itself is untouched: still its two parts, no new one.
      assert.strictEqual(fake.tweets.filter((t) => t.inReplyToTweetId === published.parts[0]!.platformPostId).length, 2)
      yield* publisher.delete!({ platformPostId: published.platformPostId, credentials })
      const error = yield* Effect.flip(publisher.comment!(commentRequest(published, "too late")))
      assert.strictEqual(error._tag, "Rejected")
      assert.include(error.platformMessage ?? "", "deleted or not visible")
    }))

  it.effect("the X service layer gives the same publisher", () =>
    Effect.gen(function*() {
      const fake = yield* FakeX
      const credentials = fake.issueOAuth2Token({ username: "layer_user" })
      const result = yield* Effect.gen(function*() {
        const x = yield* X
        assert.strictEqual(x.platform, "x")
        assert.strictEqual(x.rules.platform, "x")
        return yield* x.publish(request([part("through the layer")], credentials))
      }).pipe(Effect.provide(xLayer({ apiBaseUrl: fake.url })))
      assert.strictEqual(fake.tweets.find((t) => t.id === result.platformPostId)?.text, "through the layer")
    }))
})
