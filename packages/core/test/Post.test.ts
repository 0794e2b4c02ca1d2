import { assert, describe, it } from "@effect/vitest"
import { Post } from "@omnipost/core"
import type { Media } from "@omnipost/core"

const image = (url: string): Media.Media => ({ kind: "image", mimeType: "image/png", sizeBytes: 1000, source: { _tag: "url", url } })

describe("Post.resolveDestination", () => {
  const contentImage = image("https://example.com/content.png")
  const platformImage = image("https://example.com/platform.png")
  const destinationImage = image("https://example.com/destination.png")
  const post = {
    content: { text: "content", media: [contentImage], link: "https://content.example", thread: [{ text: "c2" }] },
    platformOverrides: {
      x: { text: "platform", media: [platformImage], settings: { replySettings: "following", a: 1 } },
      bluesky: { link: "https://platform.example" }
    }
  }

  it("a destination override wins over the platform override, which wins over the content", () => {
    const resolved = Post.resolveDestination(post, {
      platform: "x",
      accountId: "1",
      settings: { a: 2, b: 2 },
      override: { text: "destination", settings: { b: 3 } }
    })
    assert.strictEqual(resolved.parts[0].text, "destination")
    assert.deepStrictEqual(resolved.parts[0].media, [platformImage])
    assert.strictEqual(resolved.parts[0].link, "https://content.example")
    assert.deepStrictEqual(resolved.settings, { replySettings: "following", a: 2, b: 3 })
  })

  it("the platform override applies to that platform only", () => {
    const onX = Post.resolveDestination(post, { platform: "x", accountId: "1" })
    assert.strictEqual(onX.parts[0].text, "platform")
    const onBluesky = Post.resolveDestination(post, { platform: "bluesky", accountId: "2" })
    assert.strictEqual(onBluesky.parts[0].text, "content")
    assert.deepStrictEqual(onBluesky.parts[0].media, [contentImage])
    assert.strictEqual(onBluesky.parts[0].link, "https://platform.example")
    assert.deepStrictEqual(onBluesky.settings, {})
  })

  it("a destination's media override replaces the platform's and the content's", () => {
    const resolved = Post.resolveDestination(post, { platform: "x", accountId: "1", override: { media: [destinationImage] } })
    assert.deepStrictEqual(resolved.parts[0].media, [destinationImage])
  })

  it("an override's thread replaces the whole thread; otherwise the content's thread follows the first part", () => {
    const inherited = Post.resolveDestination(post, { platform: "x", accountId: "1" })
    assert.deepStrictEqual(inherited.parts.map((p) => p.text), ["platform", "c2"])
    const replaced = Post.resolveDestination(post, {
      platform: "x",
      accountId: "1",
      override: { thread: [{ text: "d2" }, { text: "d3" }] }
    })
    assert.deepStrictEqual(replaced.parts.map((p) => p.text), ["platform", "d2", "d3"])
  })

  it("always yields a first part, with empty text and media when the post has none", () => {
    const resolved = Post.resolveDestination({ content: {} }, { platform: "x", accountId: "1", placement: "feed" })
    assert.deepStrictEqual(resolved.parts, [{ text: "", media: [], link: undefined }])
    assert.strictEqual(resolved.placement, "feed")
    assert.strictEqual(resolved.accountId, "1")
  })
})
