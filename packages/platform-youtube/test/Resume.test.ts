/**
 * The cut connection: the fake drops a chunk's connection part way through
 * its body; the publisher asks the session what it kept and goes on from the
 * byte after. The fake counts every byte received and the bytes that arrived
 * again: nothing kept is sent twice. An expired session starts over.
 */
import { assert, describe, it } from "@effect/vitest"
import { Faults, gate, Samples } from "@omnipost/platform-kit/testing"
import { Effect, Fiber } from "effect"
import { bytesVideo, request, sha256, withFake } from "./fixtures.js"

const unit = 256 * 1024

describe("a cut connection", () => {
  it.live("mid-chunk: a status query, then the rest of the chunk from the range the server reports; nothing re-sent", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const size = 9 * unit + 777
        const clip = Samples.mp4(size, 11)
        fake.cutNextChunk(2 * unit + 5000)
        const result = yield* publisher.publish(request(credentials, "Survives a cut", [bytesVideo(clip)]))
        const video = fake.videos.get(result.platformPostId)!
        assert.strictEqual(video.sha256, sha256(clip))
        assert.strictEqual(fake.videos.size, 1)
        assert.strictEqual(fake.sessions.size, 1)
        const chunks = fake.server.requestsOf("upload chunk")
        assert.strictEqual(chunks[0]!.outcome, "dropped")
        const statusQueries = fake.server.requestsOf("upload status")
        assert.strictEqual(statusQueries.length, 1)
        assert.strictEqual(statusQueries[0]!.status, 308)
        // The first chunk (4 units) was cut after 2 units and some: 2 units kept, the rest of the chunk sent from there.
        assert.strictEqual(chunks[1]!.headers["content-range"], `bytes ${2 * unit}-${4 * unit - 1}/${size}`)
        assert.isTrue(fake.discardedBytes > 0)
        assert.strictEqual(fake.resentBytes, 0)
        assert.strictEqual(fake.receivedBytes, size + fake.discardedBytes)
        assert.deepStrictEqual(chunks.slice(1).map((c) => c.status), [308, 308, 201])
      }), { publisher: { upload: { chunkBytes: 4 * unit } } }))

  it.live("the last chunk cut: the status query finds the rest missing, it is sent, the video made once", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const size = 3 * unit + 10
        const clip = Samples.mp4(size, 12)
        fake.server.inject("upload chunk", Faults.dropBeforeApply(), { after: 0 })
        const result = yield* publisher.publish(request(credentials, "Cut whole", [bytesVideo(clip)]))
        assert.strictEqual(fake.videos.get(result.platformPostId)!.sha256, sha256(clip))
        assert.strictEqual(fake.videos.size, 1)
        assert.strictEqual(fake.resentBytes, 0)
      }), { publisher: { upload: { chunkBytes: 4 * unit } } }))

  it.live("the last chunk applied but its answer lost: the status query answers with the video, made once", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const clip = Samples.mp4(2 * unit + 5, 16)
        fake.server.inject("upload chunk", Faults.dropAfterApply(), { after: 2 })
        const result = yield* publisher.publish(request(credentials, "Lost answer", [bytesVideo(clip)]))
        assert.strictEqual(fake.videos.size, 1)
        assert.strictEqual(fake.videos.get(result.platformPostId)!.sha256, sha256(clip))
        assert.strictEqual(fake.server.requestsOf("upload status")[0]!.status, 200)
        assert.strictEqual(fake.resentBytes, 0)
      }), { publisher: { upload: { chunkBytes: unit } } }))

  it.live("a 503 on a chunk is resumed the same way", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const clip = Samples.mp4(3 * unit, 13)
        fake.server.inject("upload chunk", Faults.status(503), { after: 1 })
        const result = yield* publisher.publish(request(credentials, "503", [bytesVideo(clip)]))
        assert.strictEqual(fake.videos.get(result.platformPostId)!.sha256, sha256(clip))
        assert.strictEqual(fake.server.requestsOf("upload status").length, 1)
      }), { publisher: { upload: { chunkBytes: unit } } }))

  it.live("an expired session starts over: a new session, the source read again from its first byte, one video", () => {
    let clock = 1_000_000
    const held = gate()
    return withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const clip = Samples.mp4(3 * unit, 14)
        fake.server.inject("upload chunk", Faults.slow({ until: held.promise, beforeApply: true }), { after: 1 })
        const fiber = yield* Effect.forkChild(publisher.publish(request(credentials, "Expired", [bytesVideo(clip)])))
        yield* Effect.promise(() => fake.server.waitForRequest("upload chunk", 2))
        clock += 10_000
        held.open()
        const result = yield* Fiber.join(fiber)
        assert.strictEqual(fake.sessions.size, 2)
        assert.strictEqual(fake.videos.size, 1)
        assert.strictEqual(fake.videos.get(result.platformPostId)!.sha256, sha256(clip))
        assert.strictEqual(fake.server.requestsOf("upload chunk")[1]!.status, 404)
        assert.strictEqual(fake.server.requestsOf("videos.insert").length, 2)
      }), { fake: { now: () => clock, sessionTtlMs: 5_000 }, publisher: { upload: { chunkBytes: unit } } })
  })

  it.live("a session that keeps expiring gives up Transient after maxSessions", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        fake.server.inject("upload chunk", Faults.status(404), { times: 10 })
        const error = yield* Effect.flip(publisher.publish(request(credentials, "Never", [bytesVideo(Samples.mp4(unit, 15))])))
        assert.strictEqual(error._tag, "Transient")
        assert.strictEqual(fake.server.requestsOf("videos.insert").length, 2)
        assert.strictEqual(fake.videos.size, 0)
      }), { publisher: { upload: { chunkBytes: unit, maxSessions: 2 } } }))
})
