/**
 * YouTube upload memory: one video of BENCH_UPLOAD_MB (default 1024 MB)
 * uploaded through @omnipost/platform-youtube's publisher to FakeYoutube over
 * real HTTP with the resumable protocol (8 MiB chunks), the bytes generated as
 * a stream (nothing on disk), and the connection cut once mid-chunk half way
 * through so the resume path is measured too. Prints the time, the bytes the
 * fake received and re-received, and the peak RSS of this process (the
 * publisher and the fake together).
 *
 *   npm run youtube -w @omnipost/bench
 */
import { NodeHttpClient } from "@effect/platform-node"
import { makeYoutubePublisher } from "@omnipost/platform-youtube"
import { FakeYoutube } from "@omnipost/platform-youtube/testing"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect, Stream } from "effect"

const megabytes = Number(process.env.BENCH_UPLOAD_MB ?? 1024)
const size = megabytes * 1024 * 1024
const piece = 1024 * 1024

/** `size` bytes: an MP4 head, then zeros, one MiB at a time. */
const generated = () => {
  const head = Samples.mp4(piece, 1)
  const zeros = new Uint8Array(piece)
  const count = Math.ceil(size / piece)
  return Stream.range(0, count - 1).pipe(
    Stream.map((i) => i === 0 ? head.subarray(0, Math.min(piece, size)) : zeros.subarray(0, Math.min(piece, size - i * piece)))
  )
}

const program = Effect.gen(function*() {
  const fake = yield* FakeYoutube.make()
  const channel = fake.addChannel({ title: "bench" })
  const publisher = yield* makeYoutubePublisher({
    ...fake.publisherOptions(),
    resolveStoredMedia: () => Effect.succeed({ stream: generated(), sizeBytes: size, mimeType: "video/mp4" })
  })
  fake.cutNextChunk(3 * 1024 * 1024)
  fake.server.inject("upload chunk", { _tag: "DropBeforeApply" }, { after: Math.floor(size / (16 * piece)) })
  const started = performance.now()
  const result = yield* publisher.publish({
    postId: "bench",
    destinationId: "bench",
    attemptId: "bench",
    destination: {
      platform: "youtube",
      accountId: channel.id,
      settings: { privacyStatus: "private", madeForKids: false },
      parts: [{ text: "bench", media: [{ kind: "video", mimeType: "video/mp4", sizeBytes: size, source: { _tag: "stored", mediaId: "bench" } }] }]
    },
    credentials: { accessToken: fake.issueToken(channel) }
  })
  const seconds = (performance.now() - started) / 1000
  const video = fake.videos.get(result.platformPostId)!
  const peakMb = process.resourceUsage().maxRSS / 1024
  console.log(`youtube upload: ${megabytes} MB in ${seconds.toFixed(1)} s (${(megabytes / seconds).toFixed(0)} MB/s), chunks of 8 MiB, one cut mid-chunk and one dropped chunk resumed`)
  console.log(`  fake received ${fake.receivedBytes} bytes for a ${size}-byte video (${fake.discardedBytes} discarded at the cut, ${fake.resentBytes} re-sent); video ${video.sizeBytes} bytes`)
  console.log(`  peak RSS ${peakMb.toFixed(0)} MB (publisher and fake in one process)`)
}).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
