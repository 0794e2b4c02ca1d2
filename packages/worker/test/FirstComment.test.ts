/**
 * First comments through the worker's HTTP API (issue 17), against FakeX and
 * FakeBluesky: posted under the published post as replies, each with its own
 * result on the destination; a refused comment leaves the destination
 * published and the comment failed; a transient failure is retried alone; a
 * worker that stops between the publish and the comment loses nothing, and
 * the comment is posted exactly once.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Registry } from "@omnipost/core"
import { FakeX, Faults } from "@omnipost/platform-twitter/testing"
import { Effect, Layer } from "effect"
import { Leases } from "../src/storage/Leases.js"
import { Scheduler } from "../src/scheduler/Scheduler.js"
import { testKinds } from "./fixtures.js"
import { apiLayer, connectBluesky, request, TestApi, waitFor } from "./apiHarness.js"

const clientId = "omnipost-test-client"

const withFakeX = (kind: "pglite" | "postgres", options: { readonly scheduler?: boolean } = {}) =>
  Layer.unwrap(Effect.gen(function*() {
    const fakeX = yield* FakeX.make()
    fakeX.registerClient({ clientId })
    return apiLayer(kind, { platformBaseUrls: { x: fakeX.url } }, { env: { OMNIPOST_X_CLIENT_ID: clientId }, ...options }).pipe(
      Layer.merge(Layer.succeed(FakeX, fakeX))
    )
  }))

const settledPost = (api: TestApi["Service"], id: string, what: string, done: (post: any) => boolean) =>
  waitFor(Effect.map(request(api, "GET", `/v1/posts/${id}`), (r) => (done(r.body) ? r.body : undefined)), 30_000, what)

const commentsSettled = (post: any) =>
  post.status === "published" && post.destinations.every((d: any) => d.comment !== undefined && d.comment.status !== "pending")

const recordOf = (post: { readonly value: unknown }) => post.value as { text: string; reply?: { root: { uri: string; cid: string }; parent: { uri: string; cid: string } } }

for (const kind of testKinds) {
  describe(`first comment over the API (${kind})`, () => {
    layer(withFakeX(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("a post with a comment to X and Bluesky: each comment a reply under its post, shown on the destinations and in /results", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fakeX = yield* FakeX
          const x = yield* request(api, "POST", "/v1/accounts", { body: { platform: "x", credentials: fakeX.issueOAuth2Token({ username: "carol" }) } })
          assert.strictEqual(x.status, 201, JSON.stringify(x.body))
          const bluesky = yield* connectBluesky(api)
          const blueskyBefore = api.bluesky.posts().length
          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "Launch day", comment: "Details: https://example.com/changelog" },
              destinations: [{ accountId: x.body.id }, { accountId: bluesky }],
              platformOverrides: { x: { comment: "Details on X: https://example.com/changelog" } }
            }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          assert.strictEqual(created.body.content.comment, "Details: https://example.com/changelog")
          const post = yield* settledPost(api, created.body.id, "both comments", commentsSettled)
          const byPlatform = Object.fromEntries(post.destinations.map((d: any) => [d.platform, d]))

          // X: the reply points at the post.
          assert.strictEqual(byPlatform.x.status, "published")
          assert.strictEqual(byPlatform.x.comment.status, "published", JSON.stringify(byPlatform.x.comment))
          assert.strictEqual(byPlatform.x.comment.attempts, 1)
          const reply = fakeX.liveTweets.find((t) => t.id === byPlatform.x.comment.platformCommentId)!
          assert.strictEqual(reply.text, "Details on X: https://example.com/changelog")
          assert.strictEqual(reply.inReplyToTweetId, byPlatform.x.platformPostId)
          assert.strictEqual(byPlatform.x.comment.url, `https://x.com/carol/status/${reply.id}`)

          // Bluesky: a reply record with strong refs to the post.
          const records = api.bluesky.posts().slice(blueskyBefore)
          assert.strictEqual(records.length, 2)
          const [root, comment] = records as [typeof records[0], typeof records[0]]
          assert.strictEqual(recordOf(comment).text, "Details: https://example.com/changelog")
          assert.deepStrictEqual(recordOf(comment).reply, { root: { uri: root.uri, cid: root.cid }, parent: { uri: root.uri, cid: root.cid } })
          assert.strictEqual(byPlatform.bluesky.comment.platformCommentId, comment.uri)
          assert.strictEqual(byPlatform.bluesky.platformPostId, root.uri)

          const results = yield* request(api, "GET", `/v1/posts/${created.body.id}/results`)
          assert.strictEqual(results.status, 200)
          assert.deepStrictEqual(results.body.destinations.map((d: any) => d.comment.status), ["published", "published"])
        }))

      it.effect("a comment the platform refuses: the destination stays published, the comment failed, nothing re-posted; a transient failure is retried alone", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fakeX = yield* FakeX
          const x = yield* request(api, "POST", "/v1/accounts", { body: { platform: "x", credentials: fakeX.issueOAuth2Token({ username: "dora" }) } })
          const bluesky = yield* connectBluesky(api)
          const blueskyBefore = api.bluesky.posts().length
          const xBefore = fakeX.liveTweets.length
          // Bluesky: the post's createRecord passes, the comment's is refused. X: the comment meets a 503 once.
          api.bluesky.inject("com.atproto.repo.createRecord", api.bluesky.xrpcError(400, "InvalidRequest", "Replies are not allowed"), { after: 1 })
          fakeX.inject("POST /2/tweets", Faults.status(503), { after: 1 })
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "Refused below", comment: "first!" }, destinations: [{ accountId: bluesky }, { accountId: x.body.id }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const post = yield* settledPost(api, created.body.id, "the comments to settle", commentsSettled)
          assert.strictEqual(post.status, "published")
          const [onBluesky, onX] = post.destinations
          assert.strictEqual(onBluesky.status, "published")
          assert.isUndefined(onBluesky.lastError)
          assert.strictEqual(onBluesky.comment.status, "failed")
          assert.strictEqual(onBluesky.comment.attempts, 1)
          assert.include(onBluesky.comment.error.platformMessage ?? onBluesky.comment.error.message, "Replies are not allowed")
          assert.strictEqual(api.bluesky.posts().length - blueskyBefore, 1)
          assert.strictEqual(onX.status, "published")
          assert.strictEqual(onX.attempts, 1)
          assert.deepStrictEqual([onX.comment.status, onX.comment.attempts], ["published", 2])
          // X has the post and one comment: the post was not published again for its comment.
          assert.strictEqual(fakeX.liveTweets.length - xBefore, 2)
        }))

      it.effect("a comment past the platform's limit is refused at creation (CONTENT_TOO_LONG at content.comment); cleared by an override it is accepted", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const bluesky = yield* connectBluesky(api)
          const tooLong = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "hi", comment: "é".repeat(301) }, destinations: [{ accountId: bluesky }] }
          })
          assert.strictEqual(tooLong.status, 400, JSON.stringify(tooLong.body))
          assert.deepStrictEqual(
            tooLong.body.error.details.issues.map((i: any) => [i.code, i.path, i.limit, i.actual]),
            [["CONTENT_TOO_LONG", ["content", "comment"], 300, 301]]
          )
          const cleared = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "hi", comment: "é".repeat(301) }, platformOverrides: { bluesky: { comment: "" } }, destinations: [{ accountId: bluesky }], status: "draft" }
          })
          assert.strictEqual(cleared.status, 201, JSON.stringify(cleared.body))
          assert.isUndefined(cleared.body.destinations[0].comment)
        }))
    })

    layer(withFakeX(kind, { scheduler: false }), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("a worker that stops after publishing, before the comment: the next one posts the comment exactly once", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const registry = yield* Registry.PublisherRegistry
          const bluesky = yield* connectBluesky(api)
          const before = api.bluesky.posts().length
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "Survives a restart", comment: "posted once" }, destinations: [{ accountId: bluesky }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const schedulerLayer = Scheduler.layer({ pollMs: 200, heartbeatMs: 500, backoff: { baseMs: 100, maxMs: 1000 } }).pipe(Layer.provide(Leases.layer))
          // The first worker publishes and stops before it comments (its registry has no comment capability: it never gets there).
          const withoutComments = Registry.PublisherRegistry.layer(registry.publishers.map((p) => ({ ...p, comment: undefined })))
          yield* Effect.scoped(Effect.gen(function*() {
            yield* Layer.build(schedulerLayer.pipe(Layer.provide(withoutComments)))
            const published = yield* settledPost(api, created.body.id, "the publish", (p) => p.status === "published")
            assert.deepStrictEqual(published.destinations[0].comment, { status: "pending", attempts: 0 })
          }))
          assert.strictEqual(api.bluesky.posts().length - before, 1)
          // The next worker posts the comment; a third finds nothing left to post.
          for (const round of [1, 2]) {
            yield* Effect.scoped(Effect.gen(function*() {
              yield* Layer.build(schedulerLayer)
              const post = yield* settledPost(api, created.body.id, "the comment", commentsSettled)
              assert.deepStrictEqual([post.destinations[0].status, post.destinations[0].comment.status, post.destinations[0].comment.attempts], ["published", "published", 1], `round ${round}`)
            }))
          }
          const records = api.bluesky.posts().slice(before)
          assert.deepStrictEqual(records.map((r) => recordOf(r).text), ["Survives a restart", "posted once"])
          assert.strictEqual(recordOf(records[1]!).reply?.root.uri, records[0]!.uri)
        }))
    })
  })
}
