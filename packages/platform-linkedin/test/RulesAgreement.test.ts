/**
 * Core's LinkedIn rules against the fake, case by case: `validatePost`
 * decides with core's rows (and the package's settings schema), the fake
 * (LinkedIn's documented limits, written on their own in `testing/internal`)
 * decides by what the publisher sends. The publisher runs with a permissive
 * row, so the fake, not the publisher's own check, is what refuses. A post
 * that validates must be accepted; one the fake refuses must fail
 * validation. Rows marked conservative (a limit LinkedIn does not document,
 * taken low on purpose) only need the first: valid ⇒ accepted.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Media, Rules, Validation } from "@omnipost/core"
import { Samples } from "@omnipost/platform-kit/testing"
import { LinkedinSettings, makeLinkedinPublisher } from "@omnipost/platform-linkedin"
import { Effect } from "effect"
import { part, request, withFake } from "./fixtures.js"

/** Core's row with every limit the fake checks lifted (kinds kept). */
const permissive: Rules.PlatformRules = {
  ...Rules.linkedin,
  placements: Rules.linkedin.placements.map((row) => ({
    ...row,
    text: [],
    maxMedia: 100,
    media: Object.fromEntries(
      Object.keys(row.media).map((kind) => [kind, { maxCount: 100, mimeTypes: ["image/*", "video/*", "application/*"], source: "test" }])
    )
  }))
}

interface MediaSpec {
  readonly kind: Media.MediaKind
  readonly type: string
  readonly size?: number
  readonly width?: number
  readonly height?: number
  readonly altText?: string
}

interface Case {
  readonly name: string
  readonly text?: string
  readonly link?: string
  readonly media?: ReadonlyArray<MediaSpec>
  readonly settings?: Record<string, unknown>
  readonly accepted: boolean
  /** The rule is lower than LinkedIn on purpose (undocumented): only valid ⇒ accepted is required. */
  readonly conservative?: boolean
}

const image = (type = "image/png", extra: Partial<MediaSpec> = {}): MediaSpec => ({ kind: "image", type, width: 100, height: 100, size: 5_000, ...extra })
const times = <A>(n: number, value: A): Array<A> => Array.from({ length: n }, () => value)
const MB = 1_000_000

const cases: ReadonlyArray<Case> = [
  { name: "commentary of 3000", text: "a".repeat(3000), accepted: true },
  { name: "commentary of 3001", text: "a".repeat(3001), accepted: false },
  { name: "3000 reserved characters (counted before escaping)", text: "(".repeat(3000), accepted: true },
  { name: "3001 reserved characters", text: "_".repeat(3001), accepted: false },
  { name: "1500 emoji (3000 UTF-16 units)", text: "😀".repeat(1500), accepted: true },
  { name: "1500 emoji and a letter", text: "😀".repeat(1500) + "a", accepted: false },
  { name: "a PNG", text: "p", media: [image()], accepted: true },
  { name: "a JPEG", media: [image("image/jpeg")], accepted: true },
  { name: "a GIF", media: [{ kind: "gif", type: "image/gif", width: 100, height: 100, size: 5_000 }], accepted: true },
  { name: "a WebP", media: [image("image/webp")], accepted: false },
  { name: "an image of 36,152,319 pixels or fewer", media: [image("image/png", { width: 6016, height: 6009 })], accepted: true },
  { name: "an image of 36,152,320 pixels or more", media: [image("image/png", { width: 6016, height: 6010 })], accepted: false },
  { name: "an image of 5 MB + 1 (no byte cap documented)", media: [image("image/png", { size: 5 * MB + 1 })], accepted: true, conservative: true },
  { name: "20 images", media: times(20, image()), accepted: true },
  { name: "21 images", media: times(21, image()), accepted: false },
  { name: "multi-image alt text of 4086", media: [image("image/png", { altText: "a".repeat(4086) }), image()], accepted: true },
  { name: "multi-image alt text of 4087", media: [image("image/png", { altText: "a".repeat(4087) }), image()], accepted: false },
  { name: "a PDF", media: [{ kind: "document", type: "application/pdf", size: 50_000 }], accepted: true },
  { name: "an image as a document", media: [{ kind: "document", type: "image/png", size: 5_000, width: 10, height: 10 }], accepted: false },
  { name: "an MP4 of 75 KB", media: [{ kind: "video", type: "video/mp4", size: 75_000, width: 640, height: 360 }], accepted: true },
  { name: "an MP4 of 75 KB - 1", media: [{ kind: "video", type: "video/mp4", size: 74_999, width: 640, height: 360 }], accepted: false },
  { name: "a MOV", media: [{ kind: "video", type: "video/quicktime", size: 80_000, width: 640, height: 360 }], accepted: false },
  { name: "an article", text: "read", link: "https://example.com/a", accepted: true },
  { name: "visibility CONNECTIONS", text: "v", settings: { visibility: "CONNECTIONS" }, accepted: true },
  { name: "an unknown visibility", text: "v", settings: { visibility: "EVERYONE" }, accepted: false }
]

const mediaOf = (spec: MediaSpec, seed: number): Media.Media => {
  const size = spec.size ?? 5_000
  const bytes = spec.type === "application/pdf" || spec.type.startsWith("image/") || spec.type.startsWith("video/")
    ? Samples.of(spec.type, size, seed, { width: spec.width ?? 100, height: spec.height ?? 100 })
    : Samples.filler(size, seed)
  return {
    kind: spec.kind,
    mimeType: spec.type,
    sizeBytes: size,
    ...(spec.width !== undefined ? { width: spec.width, height: spec.height } : {}),
    ...(spec.altText !== undefined ? { altText: spec.altText } : {}),
    source: { _tag: "bytes", data: bytes }
  }
}

describe("core's LinkedIn rules agree with the fake", () => {
  it.live("every case: validates ⇔ the fake accepts", () =>
    withFake(({ credentials, fake }) =>
      Effect.gen(function*() {
        const publisher = yield* makeLinkedinPublisher({ ...fake.publisherOptions(), rules: permissive })
        const disagreements: Array<string> = []
        for (const [index, test] of cases.entries()) {
          const media = (test.media ?? []).map((spec, i) => mediaOf(spec, index * 100 + i + 1))
          const content = {
            text: `${index} ${test.text ?? ""}`.slice(0, test.text !== undefined && test.text.length >= 3000 ? 0 : undefined) || test.text || `case ${index}`,
            ...(media.length > 0 ? { media } : {}),
            ...(test.link !== undefined ? { link: test.link } : {})
          }
          const validation = Validation.validatePost(
            { content, destinations: [{ platform: "linkedin", accountId: "a", ...(test.settings !== undefined ? { settings: test.settings } : {}) }] },
            { settingsSchemas: { linkedin: LinkedinSettings } }
          )
          const outcome = yield* Effect.result(
            publisher.publish(request(credentials, [part(content.text, media, test.link)], (test.settings ?? {}) as LinkedinSettings))
          )
          const accepted = outcome._tag === "Success"
          const said = `validatePost ${validation.valid ? "valid" : `invalid (${validation.issues.map((issue) => issue.code).join(", ")})`}, fake ${
            accepted ? "accepted" : `refused (${outcome._tag === "Failure" ? `${outcome.failure._tag} ${outcome.failure.platformCode ?? ""}: ${outcome.failure.message}` : ""})`
          }`
          const agree = test.conservative === true ? !validation.valid || accepted : validation.valid === accepted
          if (!agree || accepted !== test.accepted) disagreements.push(`${test.name}: ${said}`)
        }
        assert.deepStrictEqual(disagreements, [])
      }), { fake: { processingPolls: 0 } }))
})
