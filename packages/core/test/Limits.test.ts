/**
 * The bounds of `Limits`, enforced by `validatePost`: one row per bound, at
 * the bound (accepted) and one past it (`INVALID_POST` at the field's path).
 */
import { assert, describe, it } from "@effect/vitest"
import { Limits, Validation } from "@omnipost/core"

const image = {
  kind: "image",
  mimeType: "image/jpeg",
  sizeBytes: 1000,
  width: 100,
  height: 100,
  source: { _tag: "url", url: "https://media.example.com/a.jpg" }
}
const facebook = (n: number) => Array.from({ length: n }, (_, i) => ({ platform: "facebook", accountId: `fb-${i}` }))

const rows: ReadonlyArray<readonly [string, (n: number) => unknown, number, ReadonlyArray<string | number>]> = [
  ["text", (n) => ({ content: { text: "a".repeat(n) }, destinations: facebook(1) }), Limits.maxTextLength, ["content", "text"]],
  ["link", (n) => ({ content: { link: `https://e.com/${"a".repeat(n - 14)}` }, destinations: facebook(1) }), Limits.maxTextLength, ["content", "link"]],
  ["alt text", (n) => ({ content: { media: [{ ...image, altText: "a".repeat(n) }] }, destinations: facebook(1) }), Limits.maxTextLength, ["content", "media", 0, "altText"]],
  ["destinations", (n) => ({ content: { text: "hi" }, destinations: facebook(n) }), Limits.maxDestinations, ["destinations"]],
  ["thread parts", (n) => ({ content: { text: "hi", thread: Array.from({ length: n }, () => ({ text: "more" })) }, destinations: [{ platform: "bluesky", accountId: "b" }] }), Limits.maxThreadParts, ["content", "thread"]],
  ["text in all", (n) => ({ content: { text: "a".repeat(Limits.maxTextLength), thread: [{ text: "a".repeat(Limits.maxTextLength) }, { text: "a".repeat(n - 2 * Limits.maxTextLength) }] }, destinations: [{ platform: "bluesky", accountId: "b" }] }), Limits.maxPostTextLength, ["content"]],
  ["media per part", (n) => ({ content: { media: Array.from({ length: n }, () => image) }, destinations: facebook(1) }), Limits.maxMediaPerPart, ["content", "media"]]
]

describe("Limits: validatePost enforces every bound", () => {
  for (const [name, make, bound, path] of rows) {
    it(`${name}: ${bound} passes the bound check, ${bound + 1} is INVALID_POST at ${JSON.stringify(path)}`, () => {
      const at = Validation.validatePost(make(bound))
      assert.isFalse(at.issues.some((issue) => issue.code === "INVALID_POST"), JSON.stringify(at.issues.slice(0, 3)))
      const past = Validation.validatePost(make(bound + 1))
      const refused = past.issues.find((issue) => issue.code === "INVALID_POST")
      assert.isDefined(refused, JSON.stringify(past.issues.slice(0, 3)))
      assert.deepStrictEqual(refused!.path, path)
      assert.match(refused!.message, new RegExp(`${bound.toLocaleString("en-US")}|${bound}`))
    })
  }

  it("the longest accepted text gets a CONTENT_TOO_LONG that says how far it is counted, not a count of it all", () => {
    const wall = `https://example.com/${"中".repeat(Limits.maxTextLength - 20)}`
    const result = Validation.validatePost({ content: { text: wall }, destinations: [{ platform: "x", accountId: "1" }] })
    const tooLong = result.issues.find((issue) => issue.code === "CONTENT_TOO_LONG")
    assert.isDefined(tooLong)
    assert.match(tooLong!.message, /counts more than 1000$/)
  })
})
