/**
 * Faults (issue 18), Meta: image posts to Instagram, a Facebook Page and
 * Threads through the real worker while FakeMeta meets random faults: the
 * kit's vocabulary on container creation, status polls, publishing and Page
 * photos, and containers whose processing ends in `ERROR`. Invariants and
 * counts as `Driver.runFaults`.
 */
import { describe, layer } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { FakeMeta, type FakeMetaServer } from "@omnipost/platform-meta/testing"
import { Context, Effect, Layer } from "effect"
import { apiLayer, connectOAuth, TestApi } from "../test/apiHarness.js"
import { metaAppEnv } from "../test/fixtures.js"
import { commonFaults, countBy, retryAfterOneSecond, runFaults, type Target } from "./Driver.js"
import { postsCount, runTimeoutMs, seedOf } from "./Size.js"

class Meta extends Context.Service<Meta, FakeMetaServer>()("test/Meta") {}

const posts = postsCount()
const seed = seedOf()
const kind = process.env.DATABASE_URL ? "postgres" : "pglite"

const env = metaAppEnv

// Containers are ready at the first poll (the publishers' default poll interval is 10 s).
const withFake = Layer.unwrap(Effect.gen(function*() {
  const fake = yield* FakeMeta.make({ imagePolls: 0, videoPolls: 0 })
  fake.registerApp({ platform: "instagram", clientId: "ig-app", clientSecret: "ig-secret" })
  fake.registerApp({ platform: "facebook", clientId: "fb-app", clientSecret: "fb-secret" })
  fake.registerApp({ platform: "threads", clientId: "th-app", clientSecret: "th-secret" })
  return apiLayer(kind, { platformBaseUrls: { instagram: fake.graphUrl, facebook: fake.graphUrl, threads: fake.graphUrl } }, { env }).pipe(
    Layer.merge(Layer.succeed(Meta, fake))
  )
}))

const faults = commonFaults(retryAfterOneSecond)

describe(`faults: ${posts} posts to Instagram, Facebook and Threads, seed ${seed} (${kind})`, () => {
  layer(withFake, { timeout: runTimeoutMs(posts), excludeTestServices: true })((it) => {
    it.effect("each destination published exactly once, failed with a reason, or reported unknown; none stuck", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const fake = yield* Meta
        // The publishing limits (Instagram 100, Threads 250 a day) are raised: the run measures faults, not quotas.
        const instagram = fake.addProfile({ kind: "instagram", username: "rel.ig", quotaTotal: 1_000_000 })
        const threads = fake.addProfile({ kind: "threads", username: "rel.th", quotaTotal: 1_000_000 })
        const page = fake.addFacebookPage({ name: "Reliability" })
        const user = fake.addFacebookUser({ name: "Rel", pages: [page.profile.id] })
        fake.approver.instagram = instagram.id
        fake.approver.threads = threads.id
        fake.approver.facebook = user.id
        const accounts = {
          instagram: (yield* connectOAuth(api, "instagram")).body.id as string,
          facebook: (yield* connectOAuth(api, "facebook")).body.id as string,
          threads: (yield* connectOAuth(api, "threads")).body.id as string
        }
        const image = fake.hostMedia(Samples.of("image/jpeg", 60_000, 3, { width: 1080, height: 1080 }), "image/jpeg")
        const media = [{ kind: "image", mimeType: "image/jpeg", sizeBytes: 60_000, width: 1080, height: 1080, source: { _tag: "url", url: image } }]
        const target = (platform: "instagram" | "facebook" | "threads", operations: ReadonlyArray<string>, live: () => ReadonlyMap<string, number>): Target => ({
          platform,
          accounts: [accounts[platform]],
          inject: (pick, random) => {
            // Containers (Instagram, Threads) whose processing ends in ERROR, when none is pending.
            if (platform !== "facebook" && random() < 0.2 && fake.nextProcessingError === undefined) {
              fake.nextProcessingError = platform === "threads" ? "UNKNOWN" : "Error: The image could not be processed. 2207001"
              return "container ERROR"
            }
            const kind = pick(faults)
            fake.server.inject(pick(operations), kind.fault(), { after: Math.floor(random() * 2) })
            return kind.name
          },
          live
        })
        const published = (platform: "instagram" | "threads") => () =>
          countBy([...fake.media.values()].filter((m) => m.platform === platform).map((m) => m.text))
        yield* runFaults({
          api,
          seed,
          posts,
          label: kind,
          content: () => ({ media }),
          targets: [
            target("instagram", ["POST /{ig-user-id}/media", "POST /{ig-user-id}/media_publish", "GET /{id}"], published("instagram")),
            target("facebook", ["POST /{page-id}/photos", "POST /{page-id}/feed"], () => countBy([...fake.pagePosts.values()].map((p) => p.message))),
            target("threads", ["POST /{threads-user-id}/threads", "POST /{threads-user-id}/threads_publish", "GET /{id}"], published("threads"))
          ]
        })
      }), { timeout: runTimeoutMs(posts) })
  })
})
