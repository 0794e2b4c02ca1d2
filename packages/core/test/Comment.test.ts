import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { Comment, Credentials, FanOut, Post, PublishError, Registry, Rules, Validation } from "@omnipost/core"
import type { Publisher } from "@omnipost/core"
import { credentialsFor, makePost, scripted } from "./fixtures/TestPublishers.js"

/** A scripted publisher that can also comment, answering its comment calls from `steps` (the last repeats). */
const commenting = (platform: string, steps: ReadonlyArray<PublishError.PublishError | "ok" | "throw">) => {
  const base = scripted(platform, ["ok"])
  const comments: Array<Publisher.CommentRequest> = []
  const publisher: Publisher.PlatformPublisher = {
    ...base.publisher,
    rules: { ...base.publisher.rules, firstComment: { text: [{ max: 10, counting: "graphemes", source: "test" }], source: "test" } },
    comment: (request) =>
      Effect.suspend(() => {
        const step = steps[Math.min(comments.length, steps.length - 1)]!
        comments.push(request)
        if (step === "throw") throw new Error("comment bug")
        if (step !== "ok") return Effect.fail(step)
        return Effect.succeed({ platformCommentId: `c-${comments.length}`, url: `https://${platform}.example/c-${comments.length}`, postedAt: new Date(0).toISOString() })
      })
  }
  return { publisher, calls: base.calls, comments }
}

const environment = (publishers: ReadonlyArray<Publisher.PlatformPublisher>) =>
  Layer.mergeAll(Registry.PublisherRegistry.layer(publishers), Credentials.CredentialsProvider.layer(Credentials.fromRecord(credentialsFor(["a1", "a2"]))))

const publishAndWait = (post: Parameters<typeof FanOut.publish>[0], options: FanOut.PublishOptions = {}) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(FanOut.publish(post, options))
    yield* TestClock.adjust("1 hour")
    return yield* Fiber.join(fiber)
  })

describe("first comment: the model and validation", () => {
  it("overrides set and clear it: the destination's override, then the platform's, then the content's; blank clears", () => {
    const post = { content: { text: "hi", comment: "first" }, platformOverrides: { x: { comment: "" }, bluesky: { comment: "on bluesky" } } }
    assert.strictEqual(Post.resolveDestination(post, { platform: "linkedin", accountId: "1" }).comment, "first")
    assert.strictEqual(Post.resolveDestination(post, { platform: "x", accountId: "1" }).comment, undefined)
    assert.strictEqual(Post.resolveDestination(post, { platform: "bluesky", accountId: "1" }).comment, "on bluesky")
    assert.strictEqual(Post.resolveDestination(post, { platform: "bluesky", accountId: "1", override: { comment: "mine" } }).comment, "mine")
    assert.strictEqual(Post.resolveDestination({ content: { text: "hi", comment: "  " } }, { platform: "x", accountId: "1" }).comment, undefined)
  })

  it("counts it the platform's way: at the limit valid, one past it CONTENT_TOO_LONG at its path", () => {
    const rows: ReadonlyArray<readonly [string, string, number]> = [
      ["x", "a", Rules.x.firstComment!.text[0]!.max],
      ["bluesky", "é", Rules.bluesky.firstComment!.text[0]!.max],
      ["threads", "a", Rules.threads.firstComment!.text[0]!.max]
    ]
    for (const [platform, unit, max] of rows) {
      const at = Validation.validatePost({ content: { text: "hi", comment: unit.repeat(max) }, destinations: [{ platform, accountId: "1" }] })
      assert.isTrue(at.valid, `${platform} at ${max}: ${JSON.stringify(at.issues)}`)
      const past = Validation.validatePost({ content: { text: "hi", comment: unit.repeat(max + 1) }, destinations: [{ platform, accountId: "1" }] })
      assert.deepStrictEqual(past.issues.map((i) => [i.code, i.path, i.limit, i.actual]), [["CONTENT_TOO_LONG", ["content", "comment"], max, max + 1]])
    }
    // The override that carries it is the path.
    const over = Validation.validatePost({
      content: { text: "hi" },
      platformOverrides: { x: { comment: "a".repeat(281) } },
      destinations: [{ platform: "x", accountId: "1" }]
    })
    assert.deepStrictEqual(over.issues.map((i) => i.path), [["platformOverrides", "x", "comment"]])
  })

  it("a platform without comments refuses it with COMMENT_NOT_SUPPORTED; an override clearing it there makes the post valid", () => {
    const post = { content: { text: "hi", comment: "first" }, destinations: [{ platform: "tiktok", accountId: "1", placement: "video" }] }
    const refused = Validation.validatePost(post)
    assert.includeMembers(refused.issues.map((i) => i.code), ["COMMENT_NOT_SUPPORTED"])
    const issue = refused.issues.find((i) => i.code === "COMMENT_NOT_SUPPORTED")!
    assert.deepStrictEqual([issue.path, issue.platform], [["content", "comment"], "tiktok"])
    const cleared = Validation.validatePost({ ...post, platformOverrides: { tiktok: { comment: "" } } })
    assert.notInclude(cleared.issues.map((i) => i.code), "COMMENT_NOT_SUPPORTED")
  })

  it("through the registry, a publisher without the comment capability refuses it even when its rules have a row", () => {
    const plain = scripted("plain", ["ok"])
    const withRow = { ...plain.publisher, rules: { ...plain.publisher.rules, firstComment: { text: [], source: "test" } } }
    const able = commenting("able", ["ok"])
    const registry = Registry.fromPublishers([withRow, able.publisher])
    assert.strictEqual(registry._tag, "Success")
    if (registry._tag !== "Success") return
    const result = registry.success.validate({
      content: { text: "hi", comment: "first" },
      destinations: [{ platform: "plain", accountId: "1" }, { platform: "able", accountId: "1" }]
    })
    assert.deepStrictEqual(result.issues.map((i) => [i.code, i.platform]), [["COMMENT_NOT_SUPPORTED", "plain"]])
  })
})

describe("first comment: Comment.settle", () => {
  const ok = { platformCommentId: "c1", url: "https://example/c1", postedAt: "2026-01-01T00:00:00.000Z" }
  const settle = (error: PublishError.PublishError, attempts = 0, maxAttempts = 3) =>
    Comment.settle({ status: "pending", attempts }, { _tag: "Failure", failure: error } as never, { maxAttempts, now: 0, delayMs: 500 })

  it("published, retried (pending with nextAttemptAt) while attempts remain, failed after, unknown for an unknown outcome", () => {
    const published = Comment.settle(Comment.pending, { _tag: "Success", success: ok } as never, { maxAttempts: 3, now: 0, delayMs: 0 })
    assert.deepStrictEqual(published, { comment: { status: "published", attempts: 1, platformCommentId: "c1", url: "https://example/c1", postedAt: ok.postedAt } })
    const transient = new PublishError.Transient({ platform: "x", message: "503" })
    assert.deepStrictEqual([settle(transient).comment.status, settle(transient).retryAt, settle(transient).comment.nextAttemptAt], ["pending", 500, new Date(500).toISOString()])
    assert.deepStrictEqual([settle(transient, 2).comment.status, settle(transient, 2).retryAt], ["failed", undefined])
    assert.strictEqual(settle(new PublishError.Rejected({ platform: "x", message: "no" })).comment.status, "failed")
    assert.strictEqual(settle(new PublishError.OutcomeUnknown({ platform: "x", message: "?" })).comment.status, "unknown")
  })
})

describe("first comment: FanOut", () => {
  it.effect("posts it after the post, under the published post, with its own result", () => {
    const able = commenting("able", ["ok"])
    return Effect.gen(function*() {
      const post = makePost([{ platform: "able", accountId: "a1" }], { text: "hi", comment: "first!" })
      const outcome = yield* publishAndWait(post)
      assert.strictEqual(outcome.status, "published")
      assert.strictEqual(able.comments.length, 1)
      const request = able.comments[0]!
      assert.strictEqual(request.text, "first!")
      assert.strictEqual(request.published.platformPostId, outcome.destinations[0]!.platformPostId)
      assert.deepStrictEqual(outcome.destinations[0]!.comment, {
        status: "published",
        attempts: 1,
        platformCommentId: "c-1",
        url: "https://able.example/c-1",
        postedAt: new Date(0).toISOString()
      })
      assert.deepStrictEqual(outcome.post.destinations[0]!.comment, outcome.destinations[0]!.comment)
    }).pipe(Effect.provide(environment([able.publisher])))
  })

  it.effect("a refused comment leaves the destination published and the comment failed; the post is never re-posted", () => {
    const able = commenting("able", [new PublishError.Rejected({ platform: "able", message: "comments are off", httpStatus: 403 })])
    return Effect.gen(function*() {
      const post = makePost([{ platform: "able", accountId: "a1" }], { text: "hi", comment: "first!" })
      const outcome = yield* publishAndWait(post)
      assert.strictEqual(outcome.status, "published")
      assert.strictEqual(outcome.destinations[0]!.status, "published")
      assert.strictEqual(outcome.destinations[0]!.lastError, undefined)
      assert.strictEqual(outcome.destinations[0]!.comment!.status, "failed")
      assert.strictEqual(outcome.destinations[0]!.comment!.error!.code, "REJECTED_BY_PLATFORM")
      assert.strictEqual(able.calls.length, 1)
      assert.strictEqual(able.comments.length, 1)
    }).pipe(Effect.provide(environment([able.publisher])))
  })

  it.effect("a transient comment failure is retried alone; a crash is an unknown comment, never retried", () => {
    const flaky = commenting("flaky", [new PublishError.Transient({ platform: "flaky", message: "503" }), "ok"])
    const crashing = commenting("crashing", ["throw"])
    return Effect.gen(function*() {
      const post = makePost([{ platform: "flaky", accountId: "a1" }, { platform: "crashing", accountId: "a2" }], { text: "hi", comment: "first!" })
      const events: Array<FanOut.PublishEvent> = []
      const outcome = yield* publishAndWait(post, { retry: { jitter: 0 }, onEvent: (event) => Effect.sync(() => void events.push(event)) })
      assert.strictEqual(outcome.status, "published")
      assert.deepStrictEqual([flaky.calls.length, flaky.comments.length], [1, 2])
      assert.deepStrictEqual([outcome.destinations[0]!.comment!.status, outcome.destinations[0]!.comment!.attempts], ["published", 2])
      assert.deepStrictEqual([crashing.calls.length, crashing.comments.length], [1, 1])
      assert.deepStrictEqual([outcome.destinations[1]!.status, outcome.destinations[1]!.comment!.status], ["published", "unknown"])
      assert.strictEqual(events.filter((e) => e._tag === "CommentSettled").length, 3)
    }).pipe(Effect.provide(environment([flaky.publisher, crashing.publisher])))
  })

  it.effect("no comment, or one cleared for the platform: no comment call and no comment result", () => {
    const able = commenting("able", ["ok"])
    return Effect.gen(function*() {
      const post = makePost([{ platform: "able", accountId: "a1" }], { text: "hi", comment: "first!" }, { platformOverrides: { able: { comment: "" } } })
      const outcome = yield* publishAndWait(post)
      assert.strictEqual(outcome.status, "published")
      assert.strictEqual(able.comments.length, 0)
      assert.strictEqual(outcome.destinations[0]!.comment, undefined)
    }).pipe(Effect.provide(environment([able.publisher])))
  })
})
