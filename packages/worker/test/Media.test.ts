/** File types from their first bytes, one row per type, and the declared-type rule. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { contradicts, sniff } from "../src/internal/sniff.js"
import { RateLimiter } from "../src/RateLimiter.js"

const bytes = (...parts: Array<string | ReadonlyArray<number>>) =>
  Uint8Array.from(parts.flatMap((p) => typeof p === "string" ? [...Buffer.from(p, "latin1")] : [...p]))
const pad = (b: Uint8Array, length = 64) => {
  const out = new Uint8Array(Math.max(length, b.length))
  out.set(b)
  return out
}

const be16 = (n: number) => [n >> 8, n & 255]
const le16 = (n: number) => [n & 255, n >> 8]
const be32 = (n: number) => [n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255]
const le24 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255]

describe("sniff", () => {
  const rows: ReadonlyArray<readonly [string, Uint8Array, string | undefined, string | undefined, number?, number?]> = [
    // JPEG: SOI, an APP0 segment, then SOF0 with height 480 and width 640.
    ["jpeg", pad(bytes([0xff, 0xd8, 0xff, 0xe0], be16(16), "JFIF\0", new Array(9).fill(0), [0xff, 0xc0], be16(17), [8], be16(480), be16(640))), "image/jpeg", "image", 640, 480],
    ["png", pad(bytes([0x89], "PNG\r\n\x1a\n", be32(13), "IHDR", be32(1920), be32(1080))), "image/png", "image", 1920, 1080],
    ["gif", pad(bytes("GIF89a", le16(320), le16(200))), "image/gif", "gif", 320, 200],
    ["webp (VP8X)", pad(bytes("RIFF", [0, 0, 0, 0], "WEBP", "VP8X", [10, 0, 0, 0], [0, 0, 0, 0], le24(799), le24(599))), "image/webp", "image", 800, 600],
    ["mp4", pad(bytes([0, 0, 0, 24], "ftypisom")), "video/mp4", "video"],
    ["mov", pad(bytes([0, 0, 0, 20], "ftypqt  ")), "video/quicktime", "video"],
    ["heic", pad(bytes([0, 0, 0, 24], "ftypheic")), "image/heic", "image"],
    ["webm", pad(bytes([0x1a, 0x45, 0xdf, 0xa3])), "video/webm", "video"],
    ["pdf", pad(bytes("%PDF-1.7\n")), "application/pdf", "document"],
    ["text", pad(bytes("hello, I am definitely a picture")), undefined, undefined],
    ["empty", new Uint8Array(0), undefined, undefined],
    ["exe", pad(bytes("MZ\x90\x00")), undefined, undefined]
  ]
  for (const [name, input, mimeType, kind, width, height] of rows) {
    it(`${name}: ${mimeType ?? "unsupported"}`, () => {
      const found = sniff(input)
      assert.strictEqual(found?.mimeType, mimeType)
      assert.strictEqual(found?.kind, kind)
      if (width !== undefined) {
        assert.strictEqual(found?.width, width)
        assert.strictEqual(found?.height, height)
      }
    })
  }

  it("a declared type contradicts only when it is specific and different", () => {
    assert.isFalse(contradicts(undefined, "image/png"))
    assert.isFalse(contradicts("application/octet-stream", "image/png"))
    assert.isFalse(contradicts("image/*", "image/png"))
    assert.isFalse(contradicts("image/png; charset=binary", "image/png"))
    assert.isFalse(contradicts("image/jpg", "image/jpeg"))
    assert.isTrue(contradicts("image/jpeg", "image/png"))
    assert.isTrue(contradicts("video/mp4", "image/png"))
  })
})

describe("RateLimiter", () => {
  it.effect("a bucket of `limit` per minute, refilled continuously; keys are independent", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimiter
      const limit = 3
      for (let i = 0; i < limit; i++) assert.isTrue((yield* limiter.take("a", limit)).allowed)
      const refused = yield* limiter.take("a", limit)
      assert.isFalse(refused.allowed)
      assert.strictEqual(refused.retryAfterSeconds, 20) // one token every 60 s / 3
      assert.isTrue((yield* limiter.take("b", limit)).allowed)
      yield* TestClock.adjust("19 seconds")
      assert.isFalse((yield* limiter.take("a", limit)).allowed)
      yield* TestClock.adjust("2 seconds")
      assert.isTrue((yield* limiter.take("a", limit)).allowed)
      assert.isFalse((yield* limiter.take("a", limit)).allowed)
    }).pipe(Effect.provide(RateLimiter.layer)))
})
