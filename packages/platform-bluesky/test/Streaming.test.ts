import { Samples } from "@omnipost/platform-kit/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { part, publishRequest, withFake } from "./fixtures.js"

const MB = 1024 * 1024

describe("streaming", () => {
  it.live("uploads a 160 MB video from a file without holding it in memory", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const { mkdtemp, open, rm } = yield* Effect.promise(() => import("node:fs/promises"))
        const { tmpdir } = yield* Effect.promise(() => import("node:os"))
        const dir = yield* Effect.promise(() => mkdtemp(`${tmpdir()}/bsky-video-`))
        const path = `${dir}/big.mp4`
        const size = 160 * MB
        // Written in 1 MB blocks, so the test itself never holds the file either.
        yield* Effect.promise(async () => {
          const handle = await open(path, "w")
          const block = new Uint8Array(MB).map((_, index) => index % 251)
          for (let written = 0; written < size; written += MB) await handle.write(written === 0 ? Samples.mp4(MB) : block)
          await handle.close()
        })

        globalThis.gc?.()
        const baseline = process.memoryUsage()
        let peakExternal = 0
        const sampler = setInterval(() => {
          const usage = process.memoryUsage()
          peakExternal = Math.max(peakExternal, usage.arrayBuffers + usage.heapUsed - baseline.arrayBuffers - baseline.heapUsed)
        }, 5)
        yield* publisher.publish(publishRequest(fake.credentials(), [part("a long clip", [{
          kind: "video",
          mimeType: "video/mp4",
          sizeBytes: size,
          source: { _tag: "file", path }
        }])])).pipe(Effect.ensuring(Effect.sync(() => clearInterval(sampler))))
        yield* Effect.promise(() => rm(dir, { recursive: true, force: true }))

        const upload = fake.requests.find((request) => request.nsid === "app.bsky.video.uploadVideo")!
        assert.strictEqual(upload.bodyBytes, size)
        const embed = (fake.posts()[0]!.value as { embed: { video: { size: number } } }).embed
        assert.strictEqual(embed.video.size, size)
        // Client and fake share this process; both stream, so the growth stays far below the file's size.
        console.log(`bluesky 160 MB video upload: peak heap+buffer growth ${(peakExternal / MB).toFixed(1)} MB`)
        assert.isBelow(peakExternal, size / 3)
      }), { fake: { videoProcessingPolls: 0 } }), 60_000)
})
