/**
 * A worker that dies while TikTok processes a post: its call kept the publish
 * id on the destination before polling (`PublishRequest.keepPostedParts`),
 * and the worker that takes the orphan over hands it to `findPublished`,
 * which polls that id to the post. Init is never called again.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Publisher } from "@omnipost/platform-tiktok"
import { Effect, Layer } from "effect"
import { Leases } from "../src/storage/Leases.js"
import { PostStore } from "../src/storage/PostStore.js"
import { Scheduler } from "../src/scheduler/Scheduler.js"
import { markPublishing, testKinds } from "./fixtures.js"
import { request, TestApi, waitFor } from "./apiHarness.js"
import { FakeTiktokService, withFakeTiktok } from "./tiktokHarness.js"

// No scheduler: the test plays the dead worker, then starts one.
const withFake = (kind: "pglite" | "postgres") => Leases.layer.pipe(Layer.provideMerge(withFakeTiktok(kind, { scheduler: false })))

for (const kind of testKinds) {
  describe(`TikTok: a crash while polling (${kind})`, () => {
    layer(withFake(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("the orphan's kept publish id is polled to the post; nothing is posted again", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* FakeTiktokService
          const leases = yield* Leases
          const posts = yield* PostStore
          const started = yield* request(api, "POST", "/v1/accounts/oauth/tiktok/start", { body: {} })
          const consent = yield* Effect.promise(() => fetch(started.body.authorizationUrl, { redirect: "manual" }))
          const back = new URL(consent.headers.get("location")!)
          const accountId = (yield* request(api, "GET", `${back.pathname}${back.search}`, { key: null })).body.id as string
          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "crash", media: [{ kind: "video", mimeType: "video/mp4", sizeBytes: 1000, durationSeconds: 10, source: { _tag: "url", url: "https://media.example.com/v.mp4" } }] },
              destinations: [{ accountId, settings: { privacyLevel: "PUBLIC_TO_EVERYONE" } }]
            }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))

          // The dead worker: it claimed and marked the destination, TikTok accepted its init, it kept the
          // publish id (as the publisher does before polling), and it died; its lease ran out long ago.
          // (A lease that ended a minute before it was taken: expired at once, no waiting.)
          const now = new Date()
          const [claim] = yield* leases.claim({ workerId: "wrk_dead", now, leaseMs: -60_000, limit: 10 })
          assert.strictEqual(claim!.postId, created.body.id)
          const marked = yield* markPublishing({ claim: claim!, workerId: "wrk_dead", attemptId: "att_dead", now, leaseMs: -60_000 })
          assert.isDefined(marked)
          const token = [...fake.tokens].at(-1)!
          const headers = { authorization: `Bearer ${token}`, "content-type": "application/json; charset=UTF-8" }
          yield* Effect.promise(() => fetch(`${fake.url}/v2/post/publish/creator_info/query/`, { method: "POST", headers }))
          const init = yield* Effect.promise(() =>
            fetch(`${fake.url}/v2/post/publish/video/init/`, {
              method: "POST",
              headers,
              body: JSON.stringify({ post_info: { title: "crash", privacy_level: "PUBLIC_TO_EVERYONE" }, source_info: { source: "PULL_FROM_URL", video_url: "https://media.example.com/v.mp4" } })
            }).then((r) => r.json() as Promise<{ data: { publish_id: string } }>)
          )
          const publishId = init.data.publish_id
          yield* leases.keepParts(claim!.id, "att_dead", [{ platformPostId: publishId, url: "https://www.tiktok.com/", replyRef: Publisher.publishIdRef }])

          // A live worker takes the orphan over.
          const result = yield* Effect.scoped(Layer.build(Layer.fresh(Scheduler.layer({ pollMs: 100, heartbeatMs: 500, backoff: { baseMs: 100, maxMs: 1000 } }))).pipe(
            Effect.andThen(waitFor(
              Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) => ["published", "partially_failed", "failed"].includes(r.body.status) ? r.body : undefined),
              60_000,
              "the orphaned TikTok post"
            ))
          ))
          assert.strictEqual(result.status, "published", JSON.stringify(result.destinations))
          assert.match(result.destinations[0].platformPostId, /^7/)
          assert.strictEqual(result.destinations[0].url, `https://www.tiktok.com/@ana/video/${result.destinations[0].platformPostId}`)
          assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/video/init/").length, 1)
          assert.strictEqual(fake.uploads.size, 1)
          const attempts = yield* posts.attempts(api.organizationId, created.body.id)
          assert.deepStrictEqual(attempts.map((a) => [a.id, a.outcome]), [["att_dead", "reconciled_published"]])
        }))
    })
  })
}
