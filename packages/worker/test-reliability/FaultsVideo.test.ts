/**
 * Faults (issue 18), YouTube and TikTok: video posts (one stored video, sent
 * in chunks) to both through the real worker while the fakes meet random
 * faults: the kit's vocabulary on every call of both upload protocols,
 * half-finished uploads (YouTube's resumable upload cut part way through a
 * chunk, which keeps whole 256 KiB units as Google does; a TikTok chunk cut
 * part way), and TikTok posts whose processing ends FAILED. Invariants and
 * counts as `Driver.runFaults`.
 */
import { describe, layer } from "@effect/vitest"
import { Faults, Samples } from "@omnipost/platform-kit/testing"
import { FakeTiktok } from "@omnipost/platform-tiktok/testing"
import { FakeYoutube } from "@omnipost/platform-youtube/testing"
import { Context, Effect, Layer } from "effect"
import { apiLayer, connectOAuth, request, TestApi } from "../test/apiHarness.js"
import { commonFaults, countBy, created, retryAfterOneSecond, runFaults } from "./Driver.js"
import { postsCount, runTimeoutMs, seedOf } from "./Size.js"

class Fakes extends Context.Service<Fakes, { readonly youtube: FakeYoutube; readonly tiktok: FakeTiktok }>()("test/VideoFakes") {}

const posts = postsCount()
const seed = seedOf()
const kind = process.env.DATABASE_URL ? "postgres" : "pglite"
const videoBytes = 700_000

const withFakes = Layer.unwrap(Effect.gen(function*() {
  // The platforms' quotas (YouTube's 10,000 units a day, TikTok's 6 inits a minute and 15 posts a day)
  // are raised: the run measures faults, not quotas.
  const youtube = yield* FakeYoutube.make({ dailyUnits: 1_000_000_000 })
  youtube.addChannel({ title: "Reliability" })
  const tiktok = yield* Effect.acquireRelease(Effect.promise(() => FakeTiktok.start()), (fake) => Effect.promise(() => fake.close()))
  tiktok.processingPolls = 0
  tiktok.limits.perMinute = { creator_info: 1_000_000, init: 1_000_000, status: 1_000_000 }
  tiktok.limits.dailyPostCap = 1_000_000
  return apiLayer(kind, { platformBaseUrls: { youtube: youtube.url, tiktok: tiktok.url } }, {
    env: {
      OMNIPOST_YOUTUBE_CLIENT_ID: youtube.client.clientId,
      OMNIPOST_YOUTUBE_CLIENT_SECRET: youtube.client.clientSecret,
      OMNIPOST_YOUTUBE_DAILY_QUOTA: "1000000000",
      OMNIPOST_TIKTOK_CLIENT_KEY: tiktok.client.clientKey,
      OMNIPOST_TIKTOK_CLIENT_SECRET: tiktok.client.clientSecret
    }
  }).pipe(Layer.merge(Layer.succeed(Fakes, { youtube, tiktok })))
}))

const faults = commonFaults(retryAfterOneSecond)

describe(`faults: ${posts} video posts to YouTube and TikTok, seed ${seed} (${kind})`, () => {
  layer(withFakes, { timeout: runTimeoutMs(posts), excludeTestServices: true })((it) => {
    it.effect("each destination published exactly once, failed with a reason, or reported unknown; none stuck", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const { tiktok, youtube } = yield* Fakes
        const youtubeAccount = (yield* connectOAuth(api, "youtube")).body.id as string
        const tiktokAccount = (yield* connectOAuth(api, "tiktok")).body.id as string
        const video = yield* request(api, "POST", "/v1/media?fileName=clip.mp4", {
          raw: Buffer.from(Samples.mp4(videoBytes, 7)),
          headers: { "content-type": "application/octet-stream" }
        }).pipe(Effect.map(created("the video")))
        yield* runFaults({
          api,
          seed,
          posts,
          label: kind,
          content: () => ({ media: [{ mediaId: video }] }),
          targets: [
            {
              platform: "youtube",
              accounts: [youtubeAccount],
              settings: { privacyStatus: "private", madeForKids: false },
              inject: (pick, random) => {
                if (random() < 0.25) {
                  youtube.cutNextChunk(Math.floor(random() * videoBytes))
                  return "half-finished upload"
                }
                const kind = pick(faults)
                youtube.server.inject(pick(["videos.insert", "upload chunk", "upload status"]), kind.fault())
                return kind.name
              },
              live: () => countBy([...youtube.videos.values()].map((v) => String(v.snippet.title)))
            },
            {
              platform: "tiktok",
              accounts: [tiktokAccount],
              settings: { privacyLevel: "SELF_ONLY" },
              inject: (pick, random) => {
                const draw = random()
                if (draw < 0.15) {
                  tiktok.failNext.push("video_pull_failed")
                  return "publish FAILED"
                }
                if (draw < 0.3) {
                  tiktok.server.inject("PUT /upload/:id", Faults.cutBody(Math.floor(random() * videoBytes)))
                  return "half-finished upload"
                }
                const kind = pick(faults)
                tiktok.server.inject(
                  pick(["POST /v2/post/publish/creator_info/query/", "POST /v2/post/publish/video/init/", "PUT /upload/:id", "POST /v2/post/publish/status/fetch/"]),
                  kind.fault()
                )
                return kind.name
              },
              // Live: every byte arrived and processing did not end FAILED.
              live: () =>
                countBy([...tiktok.uploads.values()].filter((u) => !u.inbox && u.videoSize > 0 && u.received === u.videoSize && u.failReason === undefined).map((u) => String(u.postInfo.title)))
            }
          ]
        })
      }), { timeout: runTimeoutMs(posts) })
  })
})
