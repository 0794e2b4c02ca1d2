/**
 * Faults (issue 18), LinkedIn: text, image and video posts through the real
 * worker while FakeLinkedin meets random faults: the kit's vocabulary on
 * post creation and on the upload steps (initialize, the file PUT, each video
 * part, finalize), and half-finished uploads (a file or video part cut part
 * way through its body). Invariants and counts as `Driver.runFaults`.
 */
import { describe, layer } from "@effect/vitest"
import { Faults, Samples } from "@omnipost/platform-kit/testing"
import { FakeLinkedin } from "@omnipost/platform-linkedin/testing"
import { Context, Effect, Layer } from "effect"
import { apiLayer, connectOAuth, request, TestApi } from "../test/apiHarness.js"
import { commonFaults, countBy, created, retryAfterOneSecond, runFaults } from "./Driver.js"
import { postsCount, runTimeoutMs, seedOf } from "./Size.js"

class Fake extends Context.Service<Fake, FakeLinkedin>()("test/FakeLinkedin") {}

const posts = postsCount()
const seed = seedOf()
const kind = process.env.DATABASE_URL ? "postgres" : "pglite"

const withFake = Layer.unwrap(Effect.gen(function*() {
  // Video parts of 128 KiB: a 300 kB video goes up in three parts, each of which may fail.
  const fake = yield* FakeLinkedin.make({ processingPolls: 0, videoPartBytes: 128 * 1024 })
  fake.addAccount({ sub: "rel01", name: "Reliability" })
  return apiLayer(kind, { platformBaseUrls: { linkedin: fake.url } }, {
    env: { OMNIPOST_LINKEDIN_CLIENT_ID: fake.clientId, OMNIPOST_LINKEDIN_CLIENT_SECRET: fake.clientSecret }
  }).pipe(Layer.merge(Layer.succeed(Fake, fake)))
}))

const faults = commonFaults(retryAfterOneSecond)
const operations = [
  "POST /rest/posts",
  "POST /rest/images?action=initializeUpload",
  "PUT /upload/:kind/:urn",
  "POST /rest/videos?action=initializeUpload",
  "PUT /upload/video/:urn/:part",
  "POST /rest/videos?action=finalizeUpload"
]
const uploads = new Set(["PUT /upload/:kind/:urn", "PUT /upload/video/:urn/:part"])

const upload = (api: TestApi["Service"], bytes: Uint8Array, fileName: string) =>
  request(api, "POST", `/v1/media?fileName=${fileName}`, { raw: Buffer.from(bytes), headers: { "content-type": "application/octet-stream" } }).pipe(
    Effect.map(created(`upload ${fileName}`))
  )

describe(`faults: ${posts} posts to LinkedIn, seed ${seed} (${kind})`, () => {
  layer(withFake, { timeout: runTimeoutMs(posts), excludeTestServices: true })((it) => {
    it.effect("each destination published exactly once, failed with a reason, or reported unknown; none stuck", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const fake = yield* Fake
        const account = (yield* connectOAuth(api, "linkedin")).body.id as string
        const image = yield* upload(api, Samples.png(30_000), "chart.png")
        const video = yield* upload(api, Samples.mp4(300_000, 4), "clip.mp4")
        yield* runFaults({
          api,
          seed,
          posts,
          label: kind,
          content: (i) => (i % 3 === 1 ? { media: [{ mediaId: image }] } : i % 3 === 2 ? { media: [{ mediaId: video }] } : {}),
          targets: [{
            platform: "linkedin",
            accounts: [account],
            inject: (pick, random) => {
              const operation = pick(operations)
              if (uploads.has(operation) && random() < 0.5) {
                fake.server.inject(operation, Faults.cutBody(16 * 1024))
                return "half-finished upload"
              }
              const kind = pick(faults)
              fake.server.inject(operation, kind.fault(), { after: Math.floor(random() * 2) })
              return kind.name
            },
            live: () => countBy(fake.posts.map((p) => p.text))
          }]
        })
      }), { timeout: runTimeoutMs(posts) })
  })
})
