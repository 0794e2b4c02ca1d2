import { Faults } from "@omnipost/platform-kit/testing"
/**
 * The thread policy through the worker (issue "The platform kit", thread
 * policy): a thread that fails part way keeps its live parts on the
 * destination, and the retry, automatic or asked for, posts the rest after
 * them. A live part is never posted twice and never dropped.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { testKinds } from "./fixtures.js"
import { apiLayer, connectBluesky, request, TestApi, waitFor } from "./apiHarness.js"

const texts = (posts: ReadonlyArray<{ readonly value: unknown }>) => posts.map((post) => (post.value as { text: string }).text)

for (const kind of testKinds) {
  describe(`thread resume (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("part 2 meeting a 500 is retried by itself from part 2: each part posted once, in order, as a reply chain", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const before = api.bluesky.posts().length
          // The thread's first createRecord passes; the second meets a 500 once.
          api.bluesky.inject("com.atproto.repo.createRecord", Faults.status(500), { after: 1 })
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "auto 1/3", thread: [{ text: "auto 2/3" }, { text: "auto 3/3" }] }, destinations: [{ accountId }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const post = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) => r.body.status === "published" ? r.body : undefined),
            30_000,
            "the thread to publish"
          )
          const posts = api.bluesky.posts().slice(before)
          assert.deepStrictEqual(texts(posts), ["auto 1/3", "auto 2/3", "auto 3/3"])
          type Reply = { root: { uri: string }; parent: { uri: string } }
          const reply = (index: number) => (posts[index]!.value as { reply: Reply }).reply
          assert.deepStrictEqual([reply(1).root.uri, reply(1).parent.uri], [posts[0]!.uri, posts[0]!.uri])
          assert.deepStrictEqual([reply(2).root.uri, reply(2).parent.uri], [posts[0]!.uri, posts[1]!.uri])
          const destination = post.destinations[0]
          assert.deepStrictEqual(destination.parts.map((p: { platformPostId: string }) => p.platformPostId), posts.map((p) => p.uri))
          assert.strictEqual(destination.platformPostId, posts[0]!.uri)
          // Two calls: the first failed at part 2 (its error kept), the second resumed.
          const detail = yield* request(api, "GET", `/v1/posts/${created.body.id}`)
          assert.deepStrictEqual(detail.body.destinations[0].attemptLog.map((a: { outcome: string }) => a.outcome), ["retry", "published"])
          assert.include(detail.body.destinations[0].attemptLog[0].error.message, "part 2 of 3 failed")
        }))

      it.effect("part 2 refused for good: the destination fails showing part 1 live; a retry after the fix posts parts 2 and 3 only", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const before = api.bluesky.posts().length
          api.bluesky.inject("com.atproto.repo.createRecord", api.bluesky.xrpcError(400, "InvalidRequest", "Invalid app.bsky.feed.post record"), { after: 1 })
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "manual 1/3", thread: [{ text: "manual 2/3" }, { text: "manual 3/3" }] }, destinations: [{ accountId }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const failed = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) => r.body.status === "failed" ? r.body : undefined),
            30_000,
            "the thread to fail"
          )
          const live = api.bluesky.posts().slice(before)
          assert.deepStrictEqual(texts(live), ["manual 1/3"])
          const destination = failed.destinations[0]
          assert.strictEqual(destination.status, "failed")
          assert.deepStrictEqual(destination.parts.map((p: { platformPostId: string }) => p.platformPostId), [live[0]!.uri])
          assert.include(destination.lastError.message, "part 2 of 3 failed")

          const retried = yield* request(api, "POST", `/v1/posts/${created.body.id}/retry`, { body: {} })
          assert.isBelow(retried.status, 300, JSON.stringify(retried.body))
          const published = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) => r.body.status === "published" ? r.body : undefined),
            30_000,
            "the retried thread to publish"
          )
          const posts = api.bluesky.posts().slice(before)
          assert.deepStrictEqual(texts(posts), ["manual 1/3", "manual 2/3", "manual 3/3"])
          assert.deepStrictEqual(published.destinations[0].parts.map((p: { platformPostId: string }) => p.platformPostId), posts.map((p) => p.uri))
        }))
    })
  })
}
