import { assert, describe, it } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bytesVideo, fileVideo, request, sha256, withFake } from "./fixtures.js"

const unit = 256 * 1024

describe("resumable upload", () => {
  it.live("a video from a file: a session, chunks of whole 256 KiB units each answered 308 with its Range, the last 201 with the video", () =>
    withFake(({ channel, credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const size = 5 * unit + 1234
        const clip = Samples.mp4(size, 3)
        const path = join(mkdtempSync(join(tmpdir(), "yt-")), "clip.mp4")
        writeFileSync(path, clip)
        const result = yield* publisher.publish(request(credentials, "My first video", [fileVideo(path, size)]))
        const video = fake.videos.get(result.platformPostId)!
        assert.strictEqual(result.url, `https://www.youtube.com/watch?v=${video.id}`)
        assert.strictEqual(video.channelId, channel.id)
        assert.strictEqual(video.sizeBytes, size)
        assert.strictEqual(video.sha256, sha256(clip))
        assert.strictEqual(video.snippet.title, "My first video")
        assert.strictEqual(video.status.privacyStatus, "private")
        assert.strictEqual(video.status.selfDeclaredMadeForKids, false)
        const start = fake.server.requestsOf("videos.insert")
        assert.strictEqual(start.length, 1)
        assert.strictEqual(start[0]!.headers["x-upload-content-length"], String(size))
        assert.strictEqual(start[0]!.headers["x-upload-content-type"], "video/mp4")
        const chunks = fake.server.requestsOf("upload chunk")
        assert.deepStrictEqual(chunks.map((c) => c.headers["content-range"]), [
          `bytes 0-${2 * unit - 1}/${size}`,
          `bytes ${2 * unit}-${4 * unit - 1}/${size}`,
          `bytes ${4 * unit}-${size - 1}/${size}`
        ])
        assert.deepStrictEqual(chunks.map((c) => c.status), [308, 308, 201])
        assert.strictEqual(fake.receivedBytes, size)
        assert.strictEqual(fake.resentBytes, 0)
      }), { publisher: { upload: { chunkBytes: 2 * unit } } }))

  it.live("a video of exactly whole chunks ends with a full chunk that says the total", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const clip = Samples.mp4(2 * unit, 4)
        yield* publisher.publish(request(credentials, "Even", [bytesVideo(clip)]))
        const chunks = fake.server.requestsOf("upload chunk")
        assert.deepStrictEqual(chunks.map((c) => c.headers["content-range"]), [`bytes 0-${unit - 1}/${2 * unit}`, `bytes ${unit}-${2 * unit - 1}/${2 * unit}`])
        assert.strictEqual([...fake.videos.values()][0]!.sha256, sha256(clip))
      }), { publisher: { upload: { chunkBytes: unit } } }))

  it.live("the fake refuses what YouTube refuses: a chunk not of whole units, a gap, a session it does not know", () =>
    withFake(({ credentials, fake }) =>
      Effect.promise(async () => {
        const start = await fetch(`${fake.url}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`, {
          method: "POST",
          headers: { authorization: `Bearer ${credentials.accessToken}`, "content-type": "application/json", "x-upload-content-length": String(3 * unit), "x-upload-content-type": "video/mp4" },
          body: JSON.stringify({ snippet: { title: "t" }, status: { privacyStatus: "private" } })
        })
        assert.strictEqual(start.status, 200)
        const uri = start.headers.get("location")!
        const put = (range: string, body: Uint8Array) => fetch(uri, { method: "PUT", headers: { "content-range": range }, body: Buffer.from(body) })
        const odd = await put(`bytes 0-99999/${3 * unit}`, new Uint8Array(100000))
        assert.strictEqual(odd.status, 400)
        assert.strictEqual((await odd.json()).error.errors[0].reason, "badContent")
        const gap = await put(`bytes ${unit}-${2 * unit - 1}/${3 * unit}`, new Uint8Array(unit))
        assert.strictEqual(gap.status, 400)
        const query = await fetch(uri, { method: "PUT", headers: { "content-range": `bytes */${3 * unit}` } })
        assert.strictEqual(query.status, 308)
        assert.isNull(query.headers.get("range"))
        const first = await put(`bytes 0-${unit - 1}/${3 * unit}`, new Uint8Array(unit))
        assert.strictEqual(first.status, 308)
        assert.strictEqual(first.headers.get("range"), `bytes=0-${unit - 1}`)
        fake.expireSessions()
        const gone = await fetch(uri, { method: "PUT", headers: { "content-range": `bytes */${3 * unit}` } })
        assert.strictEqual(gone.status, 404)
        const noToken = await fetch(`${fake.url}/upload/youtube/v3/videos?uploadType=resumable&part=snippet`, { method: "POST", body: "{}" })
        assert.strictEqual(noToken.status, 401)
        assert.strictEqual((await noToken.json()).error.errors[0].reason, "authError")
      })))

  it.live("metadata YouTube refuses is Rejected with its reason, before any byte is sent", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(publisher.publish(request(credentials, "a <b> title", [bytesVideo(Samples.mp4(unit, 5))])))
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual(error.platformCode, "invalidTitle")
        assert.strictEqual(fake.receivedBytes, 0)
      })))
})
