import { assert, describe, it } from "@effect/vitest"
import { Chunks } from "@omnipost/platform-tiktok"

const { MB } = Chunks

describe("Chunks: TikTok's FILE_UPLOAD chunk rules", () => {
  const sizes = [1, 4 * MB, 5 * MB - 1, 5 * MB, 10 * MB, 10 * MB + 1, 64 * MB, 64 * MB + 1, 100 * MB + 12345, 1024 * MB, 4 * 1024 * MB]
  for (const size of sizes) {
    it(`${size} bytes: a plan TikTok accepts, chunks covering every byte once`, () => {
      const p = Chunks.plan(size)
      assert.isUndefined(Chunks.violation(p.videoSize, p.chunkSize, p.totalChunkCount))
      const cs = Chunks.chunks(p)
      assert.strictEqual(cs.length, p.totalChunkCount)
      let next = 0
      for (const c of cs) {
        assert.strictEqual(c.first, next)
        const length = c.last - c.first + 1
        if (c.index < cs.length - 1) assert.strictEqual(length, p.chunkSize)
        else assert.isAtMost(length, Chunks.maxLastChunkBytes)
        next = c.last + 1
      }
      assert.strictEqual(next, size)
    })
  }

  it("under 5 MB is one chunk the size of the file; the last chunk absorbs the trailing bytes", () => {
    assert.deepStrictEqual(Chunks.plan(3 * MB), { videoSize: 3 * MB, chunkSize: 3 * MB, totalChunkCount: 1 })
    const p = Chunks.plan(25 * MB + 7, 10 * MB)
    assert.strictEqual(p.totalChunkCount, 2)
    assert.strictEqual(Chunks.contentRange(Chunks.chunks(p)[1]!, p.videoSize), `bytes ${10 * MB}-${25 * MB + 6}/${25 * MB + 7}`)
  })

  it("a preferred size outside 5–64 MB is clamped", () => {
    assert.strictEqual(Chunks.plan(200 * MB, 1 * MB).chunkSize, 5 * MB)
    assert.strictEqual(Chunks.plan(500 * MB, 100 * MB).chunkSize, 64 * MB)
  })

  it("violations say which rule", () => {
    assert.match(Chunks.violation(3 * MB, 1 * MB, 3) ?? "", /one chunk/)
    assert.match(Chunks.violation(100 * MB, 100 * MB, 1) ?? "", /must be chunked/)
    assert.match(Chunks.violation(100 * MB, 4 * MB, 25) ?? "", /between 5 MB and 64 MB/)
    assert.match(Chunks.violation(100 * MB, 10 * MB, 9) ?? "", /floor/)
    assert.match(Chunks.violation(100 * MB, 10 * MB, 1001) ?? "", /between 1 and 1000/)
    assert.throws(() => Chunks.plan(0))
  })
})
