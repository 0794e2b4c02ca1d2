import { assert, describe, it } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Media } from "@omnipost/platform-linkedin"
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bytesMedia, part, request, withFake } from "./fixtures.js"

const partBytes = 64 * 1024

/** A raw call to the fake, for the protocol checks the publisher never trips. */
const call = (url: string, token: string, init: { method: string; body?: unknown; bytes?: Uint8Array }) =>
  Effect.promise(async () => {
    const response = await fetch(url, {
      method: init.method,
      headers: {
        authorization: `Bearer ${token}`,
        "linkedin-version": "202611",
        "x-restli-protocol-version": "2.0.0",
        "content-type": init.bytes !== undefined ? "application/octet-stream" : "application/json"
      },
      ...(init.bytes !== undefined ? { body: Buffer.from(init.bytes) } : init.body !== undefined ? { body: JSON.stringify(init.body) } : {})
    })
    const text = await response.text()
    return { status: response.status, etag: response.headers.get("etag"), body: text === "" ? undefined : JSON.parse(text) }
  })

describe("video posts", () => {
  it.live("initialize with the size, each part PUT in order with its exact range, ETags finalized in order, polled until AVAILABLE, posted", () =>
    withFake(({ account, credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const clip = Samples.mp4(200_000, 5)
        yield* publisher.publish(request(credentials, [part("Watch (sound on)", [bytesMedia("video", "video/mp4", clip, { durationSeconds: 10 })])]))
        const id = (fake.posts[0]!.content as { media: { id: string } }).media.id
        const video = fake.assets.get(id)!
        assert.strictEqual(video.owner, account.personUrn)
        assert.strictEqual(video.sizeBytes, 200_000)
        assert.strictEqual(video.finalized, true)
        assert.strictEqual(video.status, "AVAILABLE")
        const puts = fake.server.requests.filter((r) => r.method === "PUT")
        assert.deepStrictEqual(puts.map((r) => r.path.split("/").at(-1)), ["0", "1", "2", "3"])
        assert.deepStrictEqual(puts.map((r) => r.bodyBytes), [partBytes, partBytes, partBytes, 200_000 - 3 * partBytes])
        const finalize = fake.server.requestsOf("POST /rest/videos?action=finalizeUpload")
        assert.strictEqual(finalize.length, 1)
        assert.isTrue(fake.server.requests.indexOf(finalize[0]!) > fake.server.requests.indexOf(puts.at(-1)!))
        assert.strictEqual(fake.server.requests.filter((r) => r.path.startsWith("/rest/videos/")).length, 2)
      }), { fake: { videoPartBytes: partBytes } }))

  it.live("a video from a file streams through, part by part", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const dir = mkdtempSync(join(tmpdir(), "li-video-"))
        const path = join(dir, "clip.mp4")
        const clip = Samples.mp4(3_000_000, 9)
        writeFileSync(path, clip)
        yield* publisher.publish(request(credentials, [part("", [{ kind: "video", mimeType: "video/mp4", sizeBytes: clip.byteLength, source: { _tag: "file", path } }])]))
        const id = (fake.posts[0]!.content as { media: { id: string } }).media.id
        assert.strictEqual(fake.assets.get(id)!.sizeBytes, 3_000_000)
        assert.strictEqual(fake.server.requests.filter((r) => r.method === "PUT").length, Math.ceil(3_000_000 / (1024 * 1024)))
      }), { fake: { videoPartBytes: 1024 * 1024 } }))

  it.live("the fake enforces the protocol: part sizes, part order, finalize after every part with the ETags in order, size range", () =>
    withFake(({ credentials, fake }) =>
      Effect.gen(function*() {
        const token = credentials.accessToken
        const init = (size: number) =>
          call(`${fake.url}/rest/videos?action=initializeUpload`, token, {
            method: "POST",
            body: { initializeUploadRequest: { owner: credentials.personUrn, fileSizeBytes: size } }
          })
        assert.strictEqual((yield* init(1_000)).status, 400)
        assert.strictEqual((yield* init(600_000_000)).status, 400)
        const started = (yield* init(150_000)).body.value
        const [first, second, third] = started.uploadInstructions as Array<{ uploadUrl: string; firstByte: number; lastByte: number }>
        assert.deepStrictEqual([first!.firstByte, first!.lastByte, third!.lastByte], [0, partBytes - 1, 149_999])
        const bytes = Samples.mp4(150_000, 2)
        assert.strictEqual((yield* call(second!.uploadUrl, token, { method: "PUT", bytes: bytes.subarray(partBytes, 2 * partBytes) })).status, 400)
        assert.strictEqual((yield* call(first!.uploadUrl, token, { method: "PUT", bytes: bytes.subarray(0, 1000) })).status, 400)
        const one = yield* call(first!.uploadUrl, token, { method: "PUT", bytes: bytes.subarray(0, partBytes) })
        assert.strictEqual(one.status, 200)
        const finalize = (ids: ReadonlyArray<string>) =>
          call(`${fake.url}/rest/videos?action=finalizeUpload`, token, {
            method: "POST",
            body: { finalizeUploadRequest: { video: started.video, uploadToken: started.uploadToken, uploadedPartIds: ids } }
          })
        assert.strictEqual((yield* finalize([Media.bareEtag(one.etag!)])).status, 400)
        const two = yield* call(second!.uploadUrl, token, { method: "PUT", bytes: bytes.subarray(partBytes, 2 * partBytes) })
        const three = yield* call(third!.uploadUrl, token, { method: "PUT", bytes: bytes.subarray(2 * partBytes) })
        const etags = [one, two, three].map((r) => Media.bareEtag(r.etag!))
        assert.strictEqual((yield* finalize([etags[1]!, etags[0]!, etags[2]!])).status, 400)
        assert.strictEqual((yield* finalize(etags)).status, 200)
        assert.strictEqual((yield* finalize(etags)).status, 400)
      }), { fake: { videoPartBytes: partBytes } }))

  it.live("a video too small for LinkedIn, or not MP4, is refused before anything is sent", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const tiny = yield* Effect.flip(publisher.publish(request(credentials, [part("x", [bytesMedia("video", "video/mp4", Samples.mp4(10_000))])])))
        assert.strictEqual(tiny._tag === "Rejected" ? tiny.code : tiny._tag, "MEDIA_TOO_SMALL")
        const mov = yield* Effect.flip(publisher.publish(request(credentials, [part("x", [bytesMedia("video", "video/quicktime", Samples.of("video/quicktime", 100_000))])])))
        assert.strictEqual(mov._tag === "Rejected" ? mov.code : mov._tag, "UNSUPPORTED_MEDIA_TYPE")
        assert.strictEqual(fake.server.requests.length, 0)
      })
    ))

  it("ETags are sent bare", () => {
    assert.strictEqual(Media.bareEtag("\"abc\""), "abc")
    assert.strictEqual(Media.bareEtag("W/\"abc\""), "abc")
    assert.strictEqual(Media.bareEtag("abc"), "abc")
  })
})
