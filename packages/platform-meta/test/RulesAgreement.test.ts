/**
 * Core's rules for Instagram, Facebook and Threads against the fake, case by
 * case: `validatePost` decides with core's rows, the fake (Meta's documented
 * limits, written on their own in `testing/internal/*`) decides by the
 * request the publisher sends. The publisher runs with a permissive rules
 * row, so the fake, not the publisher's own check, is what refuses. A post
 * that validates must be accepted; one the fake refuses must fail validation.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Media, type Post, type Publisher, Rules, Validation } from "@omnipost/core"
import { makeFacebookPublisher, makeInstagramPublisher, makeThreadsPublisher } from "@omnipost/platform-meta"
import type { FakeMetaServer } from "@omnipost/platform-meta/testing"
import { Samples } from "@omnipost/platform-kit/testing"
import { part, publisherOptions, request, withFake } from "./fixtures.js"

/** The row with every limit the fake checks lifted (placements, kinds and inference kept). */
const permissive = (rules: Rules.PlatformRules): Rules.PlatformRules => ({
  ...rules,
  maxHashtags: undefined,
  maxMentions: undefined,
  maxLinks: undefined,
  placements: rules.placements.map((row) => ({
    ...row,
    text: [],
    maxMedia: row.maxMedia > 1 ? 100 : row.maxMedia,
    media: Object.fromEntries(
      Object.keys(row.media).map((kind) => [kind, { maxCount: 100, mimeTypes: ["image/*", "video/*"], source: "test" }])
    )
  }))
})

interface MediaSpec {
  readonly type: string
  readonly size?: number
  readonly width?: number
  readonly height?: number
  readonly seconds?: number
}

interface Case {
  readonly name: string
  readonly platform: "instagram" | "facebook" | "threads"
  readonly placement?: Post.Placement
  readonly text?: string
  readonly link?: string
  readonly media?: ReadonlyArray<MediaSpec>
  /** What both must say; the test fails when they disagree whatever this says. */
  readonly accepted: boolean
}

const jpeg = (width = 1080, height = 1080, size = 20_000): MediaSpec => ({ type: "image/jpeg", width, height, size })
const png = (width = 1080, height = 1080, size = 20_000): MediaSpec => ({ type: "image/png", width, height, size })
const mp4 = (seconds = 20): MediaSpec => ({ type: "video/mp4", width: 1080, height: 1920, size: 50_000, seconds })
const times = <A>(n: number, value: A): Array<A> => Array.from({ length: n }, () => value)
const MB = 1_000_000

const cases: ReadonlyArray<Case> = [
  // Instagram
  { name: "feed: one JPEG", platform: "instagram", text: "hi", media: [jpeg()], accepted: true },
  { name: "feed: a PNG", platform: "instagram", text: "hi", media: [png()], accepted: false },
  { name: "feed: JPEG of 8 MB exactly", platform: "instagram", media: [jpeg(1080, 1080, 8 * MB)], accepted: true },
  { name: "feed: JPEG of 8 MB + 1", platform: "instagram", media: [jpeg(1080, 1080, 8 * MB + 1)], accepted: false },
  { name: "feed: 4:5", platform: "instagram", media: [jpeg(1080, 1350)], accepted: true },
  { name: "feed: 1.91:1", platform: "instagram", media: [jpeg(1910, 1000)], accepted: true },
  { name: "feed: 9:16", platform: "instagram", media: [jpeg(1080, 1920)], accepted: false },
  { name: "caption of 2200", platform: "instagram", text: "a".repeat(2200), media: [jpeg()], accepted: true },
  { name: "caption of 2201", platform: "instagram", text: "a".repeat(2201), media: [jpeg()], accepted: false },
  { name: "30 hashtags", platform: "instagram", text: times(30, "#tag").join(" "), media: [jpeg()], accepted: true },
  { name: "31 hashtags", platform: "instagram", text: times(31, "#tag").join(" "), media: [jpeg()], accepted: false },
  { name: "20 mentions", platform: "instagram", text: times(20, "@someone").join(" "), media: [jpeg()], accepted: true },
  { name: "21 mentions", platform: "instagram", text: times(21, "@someone").join(" "), media: [jpeg()], accepted: false },
  { name: "carousel of 10", platform: "instagram", placement: "carousel", media: times(10, jpeg()), accepted: true },
  { name: "carousel of 11", platform: "instagram", placement: "carousel", media: times(11, jpeg()), accepted: false },
  { name: "carousel mixed", platform: "instagram", placement: "carousel", media: [jpeg(), mp4()], accepted: true },
  { name: "reel", platform: "instagram", media: [mp4()], accepted: true },
  { name: "reel of 15 min", platform: "instagram", media: [mp4(15 * 60)], accepted: true },
  { name: "reel of 15 min + 1 s", platform: "instagram", media: [mp4(15 * 60 + 1)], accepted: false },
  { name: "reel of 2 s", platform: "instagram", media: [mp4(2)], accepted: false },
  { name: "story: a video of 60 s", platform: "instagram", placement: "story", media: [mp4(60)], accepted: true },
  { name: "story: a video of 61 s", platform: "instagram", placement: "story", media: [mp4(61)], accepted: false },
  { name: "story: a JPEG", platform: "instagram", placement: "story", media: [jpeg(1080, 1920)], accepted: true },
  { name: "story: a PNG", platform: "instagram", placement: "story", media: [png(1080, 1920)], accepted: false },
  // Threads
  { name: "text of 500", platform: "threads", text: "a".repeat(500), accepted: true },
  { name: "text of 501", platform: "threads", text: "a".repeat(501), accepted: false },
  { name: "125 butterflies (4 bytes each)", platform: "threads", text: "🦋".repeat(125), accepted: true },
  { name: "126 butterflies", platform: "threads", text: "🦋".repeat(126), accepted: false },
  { name: "ZWJ emoji counted by bytes", platform: "threads", text: "a".repeat(486) + "👩🏽‍💻", accepted: false },
  { name: "5 links", platform: "threads", text: times(5, 0).map((_, i) => `https://e.com/${i}`).join(" "), accepted: true },
  { name: "6 links", platform: "threads", text: times(6, 0).map((_, i) => `https://e.com/${i}`).join(" "), accepted: false },
  { name: "5 links + another attached", platform: "threads", text: times(5, 0).map((_, i) => `https://e.com/${i}`).join(" "), link: "https://e.com/x", accepted: false },
  { name: "a PNG", platform: "threads", text: "p", media: [png()], accepted: true },
  { name: "a WebP", platform: "threads", text: "w", media: [{ type: "image/webp", width: 100, height: 100, size: 5_000 }], accepted: false },
  { name: "an image of 10:1", platform: "threads", media: [jpeg(2000, 200)], accepted: true },
  { name: "an image of 11:1", platform: "threads", media: [jpeg(2200, 200)], accepted: false },
  { name: "an image of 8 MB + 1", platform: "threads", media: [jpeg(1080, 1080, 8 * MB + 1)], accepted: false },
  { name: "a carousel of 20", platform: "threads", media: times(20, jpeg()), accepted: true },
  { name: "a carousel of 21", platform: "threads", media: times(21, jpeg()), accepted: false },
  // Facebook
  { name: "text of 63206", platform: "facebook", text: "a".repeat(63_206), accepted: true },
  { name: "text of 63207", platform: "facebook", text: "a".repeat(63_207), accepted: false },
  { name: "10 photos", platform: "facebook", text: "p", media: times(10, jpeg()), accepted: true },
  { name: "11 photos", platform: "facebook", text: "p", media: times(11, jpeg()), accepted: false },
  { name: "a photo of 10 MB + 1", platform: "facebook", media: [png(100, 100, 10 * MB + 1)], accepted: false },
  { name: "a video", platform: "facebook", media: [mp4()], accepted: true }
]

const mediaOf = (fake: FakeMetaServer, spec: MediaSpec, seed: number): Media.Media => {
  const width = spec.width ?? 1080
  const height = spec.height ?? 1080
  const size = spec.size ?? 20_000
  const bytes = Samples.of(spec.type, size, seed, { width, height, durationSeconds: spec.seconds })
  return {
    kind: spec.type.startsWith("video/") ? "video" : "image",
    mimeType: spec.type,
    sizeBytes: size,
    width,
    height,
    ...(spec.seconds !== undefined ? { durationSeconds: spec.seconds } : {}),
    source: { _tag: "url", url: fake.hostMedia(bytes) }
  }
}

describe("core's rules agree with the fake", () => {
  it.live("every case: validates ⇔ the fake accepts", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const options = publisherOptions(fake)
        const publishers: Record<Case["platform"], Publisher.PlatformPublisher> = {
          instagram: yield* makeInstagramPublisher({ ...options, rules: permissive(Rules.instagram) }),
          threads: yield* makeThreadsPublisher({ ...options, rules: permissive(Rules.threads) }),
          facebook: yield* makeFacebookPublisher({ ...options, rules: permissive(Rules.facebook) })
        }
        const credentials: Record<Case["platform"], unknown> = {
          instagram: fake.addInstagramAccount({ username: "table", quotaTotal: 1000 }).credentials,
          threads: fake.addThreadsAccount({ username: "table", quotaTotal: 1000 }).credentials,
          facebook: fake.addFacebookPage({ name: "Table" }).credentials
        }
        const disagreements: Array<string> = []
        for (const [index, test] of cases.entries()) {
          const media = (test.media ?? []).map((spec, i) => mediaOf(fake, spec, index * 100 + i))
          const content = {
            ...(test.text !== undefined ? { text: test.text } : {}),
            ...(media.length > 0 ? { media } : {}),
            ...(test.link !== undefined ? { link: test.link } : {})
          }
          const validation = Validation.validatePost({
            content,
            destinations: [{ platform: test.platform, accountId: "a", ...(test.placement !== undefined ? { placement: test.placement } : {}) }]
          })
          const outcome = yield* Effect.result(
            publishers[test.platform].publish(
              request(test.platform, credentials[test.platform], [part(test.text ?? "", media, test.link)], {
                ...(test.placement !== undefined ? { placement: test.placement } : {})
              })
            )
          )
          const accepted = outcome._tag === "Success"
          const said = `validatePost ${validation.valid ? "valid" : `invalid (${validation.issues.map((issue) => issue.code).join(", ")})`}, fake ${
            accepted ? "accepted" : `refused (${outcome._tag === "Failure" ? `${outcome.failure._tag} ${outcome.failure.platformCode ?? ""}: ${outcome.failure.message}` : ""})`
          }`
          if (validation.valid !== accepted || accepted !== test.accepted) disagreements.push(`${test.platform} ${test.name}: ${said}`)
        }
        assert.deepStrictEqual(disagreements, [])
      }), { imagePolls: 0, videoPolls: 0 }), { timeout: 120_000 })
})
