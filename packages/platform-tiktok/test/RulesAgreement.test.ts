/**
 * Core's TikTok rules against the fake, case by case: `validatePost` (with
 * the package's settings schema) and the publisher posting to the fake give
 * the same verdict, at each limit and one past it. Cases the fake cannot
 * judge (a video's duration and format, a photo's bytes: TikTok reads them
 * from the media, the fake does not decode media) are left to the rules and
 * the creator's answer, and are not rows here.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Media, Validation } from "@omnipost/core"
import { Samples } from "@omnipost/platform-kit/testing"
import { TiktokSettings } from "@omnipost/platform-tiktok"
import { Effect } from "effect"
import { bytesVideo, request, urlPhoto, withFake } from "./fixtures.js"

interface Case {
  readonly name: string
  readonly text: string
  readonly media: "video" | number
  readonly settings: Record<string, unknown>
  readonly accepted: boolean
}

const prefix = "https://media.example.com/"
const open = { privacyLevel: "PUBLIC_TO_EVERYONE" }

const cases: ReadonlyArray<Case> = [
  { name: "a caption of 2200 UTF-16 units", text: "é".repeat(2200), media: "video", settings: open, accepted: true },
  { name: "a caption of 2201", text: "é".repeat(2201), media: "video", settings: open, accepted: false },
  { name: "a caption of 1100 emoji (2200 units)", text: "😀".repeat(1100), media: "video", settings: open, accepted: true },
  { name: "a caption of 1100 emoji and one letter", text: "😀".repeat(1100) + "a", media: "video", settings: open, accepted: false },
  { name: "an unknown privacy level", text: "x", media: "video", settings: { privacyLevel: "FRIENDS" }, accepted: false },
  { name: "private branded content", text: "x", media: "video", settings: { privacyLevel: "SELF_ONLY", brandContentToggle: true }, accepted: false },
  { name: "public branded content", text: "x", media: "video", settings: { privacyLevel: "PUBLIC_TO_EVERYONE", brandContentToggle: true }, accepted: true },
  { name: "35 photos", text: "x", media: 35, settings: open, accepted: true },
  { name: "36 photos", text: "x", media: 36, settings: open, accepted: false },
  { name: "a photo title of 90", text: "x", media: 1, settings: { ...open, title: "t".repeat(90) }, accepted: true },
  { name: "a photo title of 91", text: "x", media: 1, settings: { ...open, title: "t".repeat(91) }, accepted: false },
  { name: "a photo description of 4000", text: "d".repeat(4000), media: 1, settings: open, accepted: true },
  { name: "a photo description of 4001", text: "d".repeat(4001), media: 1, settings: open, accepted: false }
]

describe("core's TikTok rules agree with the fake", () => {
  it.live("every case: validates ⇔ the fake accepts", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        fake.limits.perMinute.init = 1000
        fake.limits.perMinute.creator_info = 1000
        fake.limits.perMinute.status = 1000
        fake.limits.dailyPostCap = 1000
        const disagreements: Array<string> = []
        for (const [index, test] of cases.entries()) {
          const media: Array<Media.Media> = test.media === "video"
            ? [bytesVideo(Samples.mp4(2000, index + 1), 30)]
            : Array.from({ length: test.media }, (_, i) => urlPhoto(`${prefix}${index}/${i}.jpg`))
          const validation = Validation.validatePost(
            { content: { text: test.text, media }, destinations: [{ platform: "tiktok", accountId: "a", settings: test.settings }] },
            { settingsSchemas: { tiktok: TiktokSettings } }
          )
          const outcome = yield* Effect.result(publisher.publish(request(credentials, test.text, media, test.settings as TiktokSettings)))
          const accepted = outcome._tag === "Success"
          const said = `validatePost ${validation.valid ? "valid" : `invalid (${validation.issues.map((issue) => issue.code).join(", ")})`}, fake ${
            accepted ? "accepted" : `refused (${outcome._tag === "Failure" ? `${outcome.failure._tag} ${outcome.failure.platformCode ?? ""}` : ""})`
          }`
          if (validation.valid !== accepted || accepted !== test.accepted) disagreements.push(`${test.name}: ${said}`)
        }
        assert.deepStrictEqual(disagreements, [])
      }), { verifiedUrlPrefixes: [prefix] }))
})
