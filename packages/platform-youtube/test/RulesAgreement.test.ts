/**
 * Core's YouTube rules against the fake, case by case: `validatePost` (with
 * the package's settings schema) and the publisher posting to the fake give
 * the same verdict, at each limit and one past it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Validation } from "@omnipost/core"
import { Samples } from "@omnipost/platform-kit/testing"
import { YoutubeSettings } from "@omnipost/platform-youtube"
import { Effect } from "effect"
import { bytesVideo, request, withFake } from "./fixtures.js"

interface Case {
  readonly name: string
  readonly text: string
  readonly settings: Record<string, unknown>
  readonly accepted: boolean
}

const base = { privacyStatus: "private", madeForKids: false }
const tags = (n: number, length: number) => Array.from({ length: n }, (_, i) => String(i % 10).repeat(length))

const cases: ReadonlyArray<Case> = [
  { name: "a title of 100", text: "d", settings: { ...base, title: "t".repeat(100) }, accepted: true },
  { name: "a title of 101", text: "d", settings: { ...base, title: "t".repeat(101) }, accepted: false },
  { name: "a title with <", text: "d", settings: { ...base, title: "a <b" }, accepted: false },
  { name: "a description of 5000 bytes", text: "é".repeat(2500), settings: { ...base, title: "t" }, accepted: true },
  { name: "a description of 5001 bytes", text: "é".repeat(2500) + "a", settings: { ...base, title: "t" }, accepted: false },
  { name: "a description with >", text: "a > b", settings: { ...base, title: "t" }, accepted: false },
  // 50 tags of 9 characters and 49 commas: 499.
  { name: "tags of 499 joined", text: "d", settings: { ...base, title: "t", tags: tags(50, 9) }, accepted: true },
  // A tag with a space counts its quotes: "a b" is 5.
  { name: "tags of 500 joined, one quoted", text: "d", settings: { ...base, title: "t", tags: [...tags(49, 9), "a bcdefg"] }, accepted: true },
  { name: "tags of 501 joined, one quoted", text: "d", settings: { ...base, title: "t", tags: [...tags(49, 9), "a bcdefgh"] }, accepted: false },
  { name: "a category", text: "d", settings: { ...base, title: "t", categoryId: "28" }, accepted: true },
  { name: "a category that is not a number", text: "d", settings: { ...base, title: "t", categoryId: "music" }, accepted: false },
  { name: "an unknown privacy", text: "d", settings: { ...base, title: "t", privacyStatus: "friends" }, accepted: false }
]

describe("core's YouTube rules agree with the fake", () => {
  it.live("every case: validates ⇔ the fake accepts", () =>
    withFake(({ credentials, publisher }) =>
      Effect.gen(function*() {
        const disagreements: Array<string> = []
        for (const [index, test] of cases.entries()) {
          const video = bytesVideo(Samples.mp4(256 * 1024, index + 1))
          const validation = Validation.validatePost(
            { content: { text: test.text, media: [video] }, destinations: [{ platform: "youtube", accountId: "a", settings: test.settings }] },
            { settingsSchemas: { youtube: YoutubeSettings } }
          )
          const outcome = yield* Effect.result(publisher.publish(request(credentials, test.text, [video], test.settings as YoutubeSettings)))
          const accepted = outcome._tag === "Success"
          const said = `validatePost ${validation.valid ? "valid" : `invalid (${validation.issues.map((issue) => issue.code).join(", ")})`}, fake ${
            accepted ? "accepted" : `refused (${outcome._tag === "Failure" ? `${outcome.failure._tag} ${outcome.failure.platformCode ?? ""}` : ""})`
          }`
          if (validation.valid !== accepted || accepted !== test.accepted) disagreements.push(`${test.name}: ${said}`)
        }
        assert.deepStrictEqual(disagreements, [])
      }), { publisher: { quota: { dailyUnits: 1_000_000 } }, fake: { dailyUnits: 1_000_000 } }))
})
