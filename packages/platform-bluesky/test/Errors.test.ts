import { Samples, Faults } from "@omnipost/platform-kit/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { Errors } from "@omnipost/platform-bluesky"
import { XrpcFailure } from "../src/internal/Xrpc.js"
import { image, part, publishRequest, withFake } from "./fixtures.js"

describe("fault injection, end to end", () => {
  it.live("429 on createRecord is RateLimited with the reset from ratelimit-reset", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        fake.inject("com.atproto.repo.createRecord", fake.rateLimited(120))
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("limited")])))
        assert.strictEqual(error._tag, "RateLimited")
        if (error._tag !== "RateLimited") return
        assert.strictEqual(error.httpStatus, 429)
        assert.strictEqual(error.platformCode, "RateLimitExceeded")
        assert.strictEqual(error.platformMessage, "Rate Limit Exceeded")
        assert.isAtLeast(error.retryAfterSeconds!, 118)
        assert.isAtMost(error.retryAfterSeconds!, 121)
        assert.isBelow(Math.abs(Date.parse(error.resetAt!) - (Date.now() + 120_000)), 2_000)
        assert.strictEqual(fake.posts().length, 0)
      })
    ))

  it.live("500 on createRecord is Transient, keeping the platform's code", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        fake.inject("com.atproto.repo.createRecord", Faults.status(500))
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("oops")])))
        assert.strictEqual(error._tag, "Transient")
        assert.strictEqual(error.httpStatus, 500)
        assert.strictEqual(error.platformCode, "InternalServerError")
        // Nothing was posted, so the retry the error allows is safe.
        assert.strictEqual(fake.posts().length, 0)
        yield* publisher.publish(publishRequest(fake.credentials(), [part("oops")]))
        assert.strictEqual(fake.posts().length, 1)
      })
    ))

  it.live("a connection dropped during createRecord is OutcomeUnknown", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        fake.inject("com.atproto.repo.createRecord", Faults.dropBeforeApply())
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("lost?")])))
        assert.strictEqual(error._tag, "OutcomeUnknown")
        assert.include(error.message, "com.atproto.repo.createRecord")
        const dropped = fake.requests.find((request) => request.nsid === "com.atproto.repo.createRecord")!
        assert.strictEqual(dropped.status, 0)
        assert.isAbove(dropped.bodyBytes, 0)
      })
    ))

  it.live("a slow createRecord past the time limit is OutcomeUnknown; findPublished finds part 1 of 2, keeps it, and a retry posts part 2 after it", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const sentAt = new Date().toISOString()
        // The answer is held until the test lets it go: past the publisher's time limit, whatever the machine's load.
        let release = () => {}
        const released = new Promise<void>((resolve) => (release = resolve))
        fake.inject("com.atproto.repo.createRecord", Faults.slow({ until: released }))
        const request = publishRequest(fake.credentials(), [part("slow one"), part("slow two")])
        const error = yield* Effect.flip(publisher.publish(request))
        release()
        assert.strictEqual(error._tag, "OutcomeUnknown")
        // The fake applied the call (as a real server would) though its answer never reached the publisher.
        assert.strictEqual(fake.posts().length, 1)
        // Only the first part made it: findPublished says so (neither published nor absent), and keeps it.
        const partial = yield* Effect.flip(publisher.findPublished!({ ...request, sentAt }))
        assert.strictEqual(partial._tag, "Transient")
        assert.include(partial.message, "parts 1-1 of 2")
        const live = fake.posts()[0]!
        assert.deepStrictEqual(partial.postedParts?.map((p) => [p.platformPostId, p.replyRef]), [[live.uri, live.cid]])
        // The retry resumes: part 2 only, as a reply to part 1.
        const done = yield* publisher.publish({ ...request, postedParts: partial.postedParts })
        const posts = fake.posts()
        assert.deepStrictEqual(posts.map((post) => (post.value as { text: string }).text), ["slow one", "slow two"])
        assert.deepStrictEqual((posts[1]!.value as { reply: unknown }).reply, {
          root: { uri: live.uri, cid: live.cid },
          parent: { uri: live.uri, cid: live.cid }
        })
        assert.deepStrictEqual(done.parts.map((p) => p.platformPostId), posts.map((post) => post.uri))
        assert.strictEqual(done.platformPostId, live.uri)
      }), { publisher: { timeouts: { createRecord: "250 millis" } } }))

  it.live("findPublished after a dropped-but-applied createRecord returns the whole thread", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const sentAt = new Date().toISOString()
        yield* publisher.publish(publishRequest(fake.credentials(), [part("unrelated")]))
        const request = publishRequest(fake.credentials(), [part("alpha"), part("beta")])
        const posted = yield* publisher.publish(request)
        const found = yield* publisher.findPublished!({ ...request, sentAt })
        assert.deepStrictEqual(found?.parts, posted.parts)

        fake.inject("com.atproto.repo.createRecord", Faults.dropAfterApply())
        const lost = publishRequest(fake.credentials(), [part("gamma")])
        const error = yield* Effect.flip(publisher.publish(lost))
        assert.strictEqual(error._tag, "OutcomeUnknown")
        const recovered = yield* publisher.findPublished!({ ...lost, sentAt })
        assert.strictEqual(recovered?.platformPostId, fake.posts().at(-1)!.uri)

        const never = yield* publisher.findPublished!({ ...publishRequest(fake.credentials(), [part("never sent")]), sentAt })
        assert.isUndefined(never)
      })
    ))

  it.live("a dropped connection during an upload is Transient: nothing was posted", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        fake.inject("com.atproto.repo.uploadBlob", Faults.dropBeforeApply())
        const error = yield* Effect.flip(
          publisher.publish(publishRequest(fake.credentials(), [part("pic", [image(50_000, "alt")])]))
        )
        assert.strictEqual(error._tag, "Transient")
        assert.strictEqual(fake.callCount("com.atproto.repo.createRecord"), 0)
      })
    ))

  it.live("429 and 502 on uploads are RateLimited and Transient", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        fake.inject("com.atproto.repo.uploadBlob", fake.rateLimited(30))
        const limited = yield* Effect.flip(
          publisher.publish(publishRequest(fake.credentials(), [part("pic", [image(1_000, "alt")])]))
        )
        assert.strictEqual(limited._tag, "RateLimited")
        fake.inject("app.bsky.video.uploadVideo", fake.xrpcError(502, "BadGateway", "upstream"))
        const video = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("clip", [{
          kind: "video",
          mimeType: "video/mp4",
          sizeBytes: 64,
          source: { _tag: "bytes", data: Samples.mp4(64) }
        }])])))
        assert.strictEqual(video._tag, "Transient")
        assert.strictEqual(video.platformCode, "BadGateway")
        assert.strictEqual(video.platformMessage, "upstream")
      })
    ))

  it.live("a refusal keeps Bluesky's error name and message", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        fake.inject("com.atproto.repo.createRecord", fake.xrpcError(400, "InvalidRequest", "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"))
        const error = yield* Effect.flip(publisher.publish(publishRequest(fake.credentials(), [part("x")])))
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual(error._tag === "Rejected" ? error.code : undefined, "CONTENT_TOO_LONG")
        assert.strictEqual(error.platformCode, "InvalidRequest")
        assert.strictEqual(error.platformMessage, "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes")
      })
    ))

  it.live("an unreachable service is Transient", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const credentials = fake.credentials()
        yield* Effect.promise(() => fake.close())
        const error = yield* Effect.flip(publisher.publish(publishRequest(credentials, [part("anyone there?")])))
        assert.strictEqual(error._tag, "Transient")
        assert.include(error.message, "ECONNREFUSED")
      })
    ))

  it.live("delete removes the record; another account's post is refused", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const posted = yield* publisher.publish(publishRequest(fake.credentials(), [part("to be deleted")]))
        yield* publisher.delete!({ platformPostId: posted.platformPostId, credentials: fake.credentials() })
        assert.strictEqual(fake.posts().length, 0)
        assert.strictEqual(fake.callCount("com.atproto.repo.deleteRecord"), 1)

        const foreign = yield* Effect.flip(publisher.delete!({
          platformPostId: "at://did:plc:aaaaaaaaaaaaaaaaaaaaaaaa/app.bsky.feed.post/3k4duaz5vfs2b",
          credentials: fake.credentials()
        }))
        assert.strictEqual(foreign._tag, "Rejected")
        const garbage = yield* Effect.flip(publisher.delete!({ platformPostId: "not an id", credentials: fake.credentials() }))
        assert.strictEqual(garbage._tag, "Rejected")
      })
    ))
})

describe("Errors.toPublishError", () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0)
  const status = (code: number, error?: string, headers?: Record<string, string>) =>
    new XrpcFailure({ nsid: "com.atproto.repo.createRecord", kind: "status", status: code, error, message: `${error ?? code} message`, headers })
  const map = (failure: XrpcFailure, write = false) => Errors.toPublishError(failure, { nowMillis: now, write })

  const rows: ReadonlyArray<readonly [string, XrpcFailure, boolean, string, string | undefined]> = [
    ["429 with reset", status(429, "RateLimitExceeded", { "ratelimit-reset": String(now / 1000 + 90) }), false, "RateLimited", undefined],
    ["500", status(500, "InternalServerError"), true, "Transient", undefined],
    ["503 without a body", status(503), false, "Transient", undefined],
    ["400 ExpiredToken", status(400, "ExpiredToken"), false, "AuthFailed", "expired"],
    ["401 InvalidToken", status(401, "InvalidToken"), false, "AuthFailed", "invalid"],
    ["401 AuthRequired", status(401, "AuthRequired"), false, "AuthFailed", "invalid"],
    ["400 AccountTakedown", status(400, "AccountTakedown"), false, "AuthFailed", "revoked"],
    ["400 InvalidRequest", status(400, "InvalidRequest"), true, "Rejected", undefined],
    ["400 BlobTooLarge", status(400, "BlobTooLarge"), false, "Rejected", "MEDIA_TOO_LARGE"],
    ["413", status(413, "PayloadTooLarge"), false, "Rejected", "MEDIA_TOO_LARGE"],
    ["timeout on a write", new XrpcFailure({ nsid: "x", kind: "timeout", message: "late" }), true, "OutcomeUnknown", undefined],
    ["timeout on a read", new XrpcFailure({ nsid: "x", kind: "timeout", message: "late" }), false, "Transient", undefined],
    [
      "broken connection on a write",
      new XrpcFailure({ nsid: "x", kind: "transport", message: "reset", cause: Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }) }),
      true,
      "OutcomeUnknown",
      undefined
    ],
    [
      "refused connection on a write",
      new XrpcFailure({ nsid: "x", kind: "transport", message: "refused", cause: Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }) }),
      true,
      "Transient",
      undefined
    ],
    [
      "a closed pool on a write (UND_ERR_DESTROYED)",
      new XrpcFailure({ nsid: "x", kind: "transport", message: "destroyed", cause: Object.assign(new Error("The client is destroyed"), { code: "UND_ERR_DESTROYED" }) }),
      true,
      "Transient",
      undefined
    ],
    ["garbled 200 on a write", new XrpcFailure({ nsid: "x", kind: "decode", status: 200, message: "not JSON" }), true, "OutcomeUnknown", undefined]
  ]

  for (const [name, failure, write, tag, detail] of rows) {
    it(`${name} → ${tag}${detail !== undefined ? ` (${detail})` : ""}`, () => {
      const error = map(failure, write)
      assert.strictEqual(error._tag, tag)
      if (error._tag === "AuthFailed") assert.strictEqual(error.reason, detail)
      if (error._tag === "Rejected") assert.strictEqual(error.code, detail)
      if (failure.error !== undefined) assert.strictEqual(error.platformCode, failure.error)
      if (failure.kind === "status") assert.strictEqual(error.platformMessage, failure.message)
    })
  }

  it("turns ratelimit-reset into seconds from now and an ISO instant", () => {
    const error = map(status(429, "RateLimitExceeded", { "ratelimit-reset": String(now / 1000 + 90), "ratelimit-policy": "5000;w=3600" }))
    assert.strictEqual(error._tag, "RateLimited")
    if (error._tag !== "RateLimited") return
    assert.strictEqual(error.retryAfterSeconds, 90)
    assert.strictEqual(error.resetAt, "2026-01-01T12:01:30.000Z")
    assert.include(error.message, "5000;w=3600")
  })

  it("a 429 without headers is still RateLimited, with no invented wait", () => {
    const error = map(status(429))
    assert.strictEqual(error._tag, "RateLimited")
    if (error._tag !== "RateLimited") return
    assert.isUndefined(error.retryAfterSeconds)
    assert.isUndefined(error.resetAt)
  })
})
