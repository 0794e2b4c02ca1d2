import { assert, describe, it } from "@effect/vitest"
import { Sniff } from "@omnipost/platform-kit"
import { FakeMedia, Samples } from "@omnipost/platform-kit/testing"

describe("Samples", () => {
  it("every sample sniffs as its type, with its dimensions for images", () => {
    for (const type of Samples.types) {
      const sample = Samples.of(type, 4096, 3, { width: 640, height: 480 })
      const sniffed = Sniff.sniff(sample)
      assert.strictEqual(sniffed?.mimeType, type, type)
      if (type.startsWith("image/")) {
        assert.strictEqual(sniffed?.width, 640, type)
        assert.strictEqual(sniffed?.height, 480, type)
      }
      assert.strictEqual(Sniff.judge(sample, type)._tag, "Match", type)
    }
  })

  it("the same seed gives the same bytes, another seed other bytes", () => {
    assert.deepStrictEqual(Samples.png(1000, 5), Samples.png(1000, 5))
    assert.notDeepEqual(Samples.png(1000, 5), Samples.png(1000, 6))
    assert.strictEqual(Samples.mp4(10).byteLength, 10)
  })

  it("a video given a duration carries it in its movie header (FakeMedia.durationSeconds reads it); without, none is read", () => {
    const clip = Samples.of("video/mp4", 4096, 3, { width: 1080, height: 1920, durationSeconds: 901 })
    assert.strictEqual(Sniff.sniff(clip)?.mimeType, "video/mp4")
    assert.strictEqual(FakeMedia.durationSeconds(clip), 901)
    assert.strictEqual(FakeMedia.durationSeconds(Samples.of("video/quicktime", 4096, 3, { width: 8, height: 8, durationSeconds: 2.5 })), 2.5)
    assert.isUndefined(FakeMedia.durationSeconds(Samples.mp4(4096)))
    assert.isUndefined(FakeMedia.durationSeconds(Samples.png(4096)))
    assert.isUndefined(FakeMedia.durationSeconds(clip.subarray(0, 50)))
  })

  it("refuses a type it cannot make", () => {
    assert.throws(() => Samples.of("image/x-unknown", 10), /no sample for image\/x-unknown/)
  })
})
