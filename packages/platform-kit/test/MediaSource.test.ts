/**
 * Opening media sources: bytes, files, stored media (through the hook) and
 * URLs (statuses, redirects, the URL guard at every hop), the size cap, the
 * type judged from the head before anything is posted, and a large source
 * streamed whole with flat memory.
 */
import { assert, describe, it } from "@effect/vitest"
import type { Media as CoreMedia } from "@omnipost/core"
import { PublishError } from "@omnipost/core"
import { MediaSource, UrlGuard } from "@omnipost/platform-kit"
import { FakeMedia, FakeServer, Faults, gate } from "@omnipost/platform-kit/testing"
import { Effect, Layer, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { createHash } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const be32 = (n: number) => [n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255]
const png = (extra = 0) => {
  const header = [0x89, ...Buffer.from("PNG\r\n\x1a\n"), ...be32(13), ...Buffer.from("IHDR"), ...be32(64), ...be32(48), 8, 6, 0, 0, 0]
  const out = new Uint8Array(header.length + extra).fill(7)
  out.set(header)
  return out
}
const html = new TextEncoder().encode("<!doctype html><html><body>internal admin page</body></html>")

const collect = (stream: Stream.Stream<Uint8Array, PublishError.PublishError>) =>
  Effect.map(Stream.runCollect(stream), (chunks) => new Uint8Array(Buffer.concat(chunks)))

/** Opens a source and reads it all, in one scope, with a guarded client. */
const read = (source: CoreMedia.MediaSource, options: Partial<MediaSource.OpenOptions> = {}, guard: UrlGuard.Options = {}) =>
  Effect.scoped(Effect.gen(function*() {
    const opened = yield* MediaSource.open(source, { platform: "test", ...options })
    const bytes = yield* collect(opened.stream)
    return { opened, bytes }
  })).pipe(Effect.provide(Layer.fresh(UrlGuard.layerHttpClient(guard))))

const failure = <A, R>(effect: Effect.Effect<A, PublishError.PublishError, R>) => Effect.flip(effect)

/** A media host: serves `files` by path; the guard trusts exactly this host and port. */
const mediaHost = Effect.gen(function*() {
  const server = yield* FakeServer.make()
  const files = new Map<string, { readonly body: Uint8Array; readonly type: string }>()
  server.route("GET", "/m/:name", (request) => {
    const file = files.get(request.params.name!)
    return file === undefined ? { status: 404, body: "not found" } : { status: 200, headers: { "content-type": file.type }, body: file.body }
  })
  const trusted: UrlGuard.Options = { allowHosts: [`127.0.0.1:${server.port}`] }
  return { server, files, trusted, url: (name: string) => `${server.url}/m/${name}` }
})

describe("MediaSource.open: bytes, file, stored", () => {
  it.effect("bytes: the type from the head, the bytes whole", () =>
    Effect.gen(function*() {
      const data = png(1000)
      const { opened, bytes } = yield* read({ _tag: "bytes", data }, { declaredMimeType: "image/png" })
      assert.strictEqual(opened.mimeType, "image/png")
      assert.strictEqual(opened.sizeBytes, data.byteLength)
      assert.strictEqual(opened.sniffed?.width, 64)
      assert.deepStrictEqual(bytes, data)
    }))

  it.effect("bytes that contradict the declared type are refused, naming both", () =>
    Effect.gen(function*() {
      const error = yield* failure(read({ _tag: "bytes", data: png() }, { declaredMimeType: "image/jpeg" }))
      assert.strictEqual(error._tag, "Rejected")
      assert.strictEqual(error._tag === "Rejected" ? error.code : "", "MEDIA_TYPE_MISMATCH")
      assert.include(error.message, "declared as image/jpeg but its bytes are image/png")
      assert.strictEqual(error.platform, "test")
    }))

  it.effect("file: its size from the file system, its bytes streamed", () =>
    Effect.gen(function*() {
      const dir = mkdtempSync(join(tmpdir(), "kit-media-"))
      const data = png(3 * 1024 * 1024)
      writeFileSync(join(dir, "a.png"), data)
      const { opened, bytes } = yield* read({ _tag: "file", path: join(dir, "a.png") }, { declaredMimeType: "image/png" })
      assert.strictEqual(opened.sizeBytes, data.byteLength)
      assert.strictEqual(createHash("sha256").update(bytes).digest("hex"), createHash("sha256").update(data).digest("hex"))
      const missing = yield* failure(read({ _tag: "file", path: join(dir, "missing.png") }))
      assert.strictEqual(missing._tag === "Rejected" ? missing.code : missing._tag, "MEDIA_UNAVAILABLE")
      const directory = yield* failure(read({ _tag: "file", path: dir }))
      assert.include(directory.message, "is not a file")
    }))

  it.effect("stored: through the one hook; without it, refused", () =>
    Effect.gen(function*() {
      const data = png(10)
      const resolveStoredMedia: MediaSource.ResolveStoredMedia = (mediaId) =>
        mediaId === "med_1"
          ? Effect.succeed({ stream: Stream.make(data.subarray(0, 5), data.subarray(5)), sizeBytes: data.byteLength, mimeType: "image/png" })
          : Effect.fail(new PublishError.Rejected({ platform: "omnipost", code: "MEDIA_NOT_FOUND", message: `media ${mediaId} no longer exists` }))
      const { opened, bytes } = yield* read({ _tag: "stored", mediaId: "med_1" }, { resolveStoredMedia, declaredMimeType: "image/png" })
      assert.strictEqual(opened.sizeBytes, data.byteLength)
      assert.deepStrictEqual(bytes, data)
      const gone = yield* failure(read({ _tag: "stored", mediaId: "med_2" }, { resolveStoredMedia }))
      assert.strictEqual(gone._tag === "Rejected" ? gone.code : gone._tag, "MEDIA_NOT_FOUND")
      const noHook = yield* failure(read({ _tag: "stored", mediaId: "med_1" }))
      assert.include(noHook.message, "no resolveStoredMedia hook")
    }))

  it.effect("a stored medium shorter than announced fails instead of passing short", () =>
    Effect.gen(function*() {
      const resolveStoredMedia: MediaSource.ResolveStoredMedia = () =>
        Effect.succeed({ stream: Stream.make(png(10)), sizeBytes: 1000, mimeType: "image/png" })
      const error = yield* failure(read({ _tag: "stored", mediaId: "x" }, { resolveStoredMedia }))
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "1000 were announced")
    }))
})

describe("MediaSource.open: url", () => {
  it.effect("fetches the bytes with their Content-Length", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      const data = png(5000)
      host.files.set("a.png", { body: data, type: "image/png" })
      const { opened, bytes } = yield* read({ _tag: "url", url: host.url("a.png") }, { declaredMimeType: "image/png" }, host.trusted)
      assert.strictEqual(opened.sizeBytes, data.byteLength)
      assert.strictEqual(opened.mimeType, "image/png")
      assert.deepStrictEqual(bytes, data)
    }).pipe(Effect.scoped))

  it.effect("the media host's answers: 429 and 5xx Transient, other 4xx Rejected MEDIA_UNAVAILABLE", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      host.files.set("a.png", { body: png(), type: "image/png" })
      const rows: ReadonlyArray<readonly [number, string, string | undefined]> = [
        [429, "Transient", undefined],
        [500, "Transient", undefined],
        [502, "Transient", undefined],
        [503, "Transient", undefined],
        [400, "Rejected", "MEDIA_UNAVAILABLE"],
        [401, "Rejected", "MEDIA_UNAVAILABLE"],
        [403, "Rejected", "MEDIA_UNAVAILABLE"],
        [404, "Rejected", "MEDIA_UNAVAILABLE"],
        [410, "Rejected", "MEDIA_UNAVAILABLE"]
      ]
      for (const [status, tag, code] of rows) {
        host.server.inject("GET /m/:name", Faults.status(status))
        const error = yield* failure(read({ _tag: "url", url: host.url("a.png") }, {}, host.trusted))
        assert.strictEqual(error._tag, tag, String(status))
        assert.strictEqual(error._tag === "Rejected" ? error.code : undefined, code, String(status))
        assert.strictEqual(error.httpStatus, status)
      }
    }).pipe(Effect.scoped))

  it.effect("follows up to 5 redirects (relative ones too), not 6", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      const data = png(100)
      host.files.set("a.png", { body: data, type: "image/png" })
      host.server.route("GET", "/r/:n", (request) => {
        const n = Number(request.params.n)
        return { status: 302, headers: { location: n === 0 ? "/m/a.png" : `/r/${n - 1}` } }
      })
      const five = yield* read({ _tag: "url", url: `${host.server.url}/r/4` }, {}, host.trusted)
      assert.deepStrictEqual(five.bytes, data)
      const six = yield* failure(read({ _tag: "url", url: `${host.server.url}/r/5` }, {}, host.trusted))
      assert.strictEqual(six._tag === "Rejected" ? six.code : six._tag, "MEDIA_UNAVAILABLE")
      assert.include(six.message, "more than 5 times")
    }).pipe(Effect.scoped))

  it.effect("the attack from issue 11: a loopback URL is refused and never fetched", () =>
    Effect.gen(function*() {
      const admin = yield* FakeServer.make()
      admin.route("GET", "/internal/admin", () => ({ status: 200, body: png() }))
      for (const url of [`http://127.0.0.1:${admin.port}/internal/admin`, `http://0x7f.1:${admin.port}/internal/admin`, `http://[::ffff:127.0.0.1]:${admin.port}/internal/admin`, `http://localhost:${admin.port}/internal/admin`]) {
        const error = yield* failure(read({ _tag: "url", url }, { declaredMimeType: "image/png" }))
        assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "URL_NOT_ALLOWED", url)
        assert.include(error.message, "loopback")
      }
      assert.strictEqual(admin.requests.length, 0)
    }).pipe(Effect.scoped))

  it.effect("a redirect to loopback is refused at the hop", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      const admin = yield* FakeServer.make()
      admin.route("GET", "/internal/admin", () => ({ status: 200, body: png() }))
      host.server.route("GET", "/redirect", () => ({ status: 302, headers: { location: `http://127.0.0.1:${admin.port}/internal/admin` } }))
      const error = yield* failure(read({ _tag: "url", url: `${host.server.url}/redirect` }, {}, host.trusted))
      assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "URL_NOT_ALLOWED")
      assert.include(error.message, `127.0.0.1:${admin.port}/internal/admin`)
      assert.strictEqual(admin.requests.length, 0)
    }).pipe(Effect.scoped))

  it.effect("a name that resolves to a private address is refused by the answer connected to", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      host.files.set("a.png", { body: png(), type: "image/png" })
      const lookup: UrlGuard.LookupFunction = (_host, _options, callback) => callback(null, [{ address: "127.0.0.1", family: 4 }])
      const error = yield* failure(read({ _tag: "url", url: `http://media.example:${host.server.port}/m/a.png` }, {}, { lookup }))
      assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "URL_NOT_ALLOWED")
      assert.include(error.message, "media.example resolves to 127.0.0.1")
      assert.strictEqual(host.server.requests.length, 0)
    }).pipe(Effect.scoped))

  it.effect("an HTML page served for an image is refused before anything is read further", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      host.files.set("login", { body: html, type: "text/html; charset=utf-8" })
      const error = yield* failure(read({ _tag: "url", url: host.url("login") }, { declaredMimeType: "image/jpeg" }, host.trusted))
      assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "MEDIA_TYPE_MISMATCH")
      assert.include(error.message, "declared as image/jpeg")
      assert.include(error.message, "the source said text/html")
    }).pipe(Effect.scoped))

  it.effect("an unreachable media host is Transient", () =>
    Effect.gen(function*() {
      const closed = yield* Effect.promise(() => FakeServer.start())
      const port = closed.port
      yield* Effect.promise(() => closed.close())
      const error = yield* failure(read({ _tag: "url", url: `http://127.0.0.1:${port}/a.png` }, {}, { allowHosts: [`127.0.0.1:${port}`] }))
      assert.strictEqual(error._tag, "Transient")
    }))

  // Real time: the idle timeout runs on the clock (it.effect's TestClock would never fire it).
  it.live("a download that stalls is Transient after the idle timeout", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      const release = gate()
      host.server.route("GET", "/stall", () => ({
        status: 200,
        headers: { "content-type": "image/png" },
        stream: (async function*() {
          yield png(100)
          await release.promise
        })()
      }))
      const error = yield* failure(read({ _tag: "url", url: `${host.server.url}/stall` }, { idleTimeout: "300 millis" }, host.trusted))
      release.open()
      assert.strictEqual(error._tag, "Transient")
      assert.include(error.message, "stalled")
    }).pipe(Effect.scoped))
})

describe("MediaSource.open: size cap", () => {
  it.effect("a Content-Length over the cap is refused before reading", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      host.files.set("big.png", { body: png(10_000), type: "image/png" })
      const error = yield* failure(read({ _tag: "url", url: host.url("big.png") }, { maxBytes: 5000 }, host.trusted))
      assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "MEDIA_TOO_LARGE")
      const bytes = yield* failure(read({ _tag: "bytes", data: png(10_000) }, { maxBytes: 5000 }))
      assert.strictEqual(bytes._tag === "Rejected" ? bytes.code : bytes._tag, "MEDIA_TOO_LARGE")
    }).pipe(Effect.scoped))

  it.effect("an endless body without a length: reading stops past the cap", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      let sent = 0
      host.server.route("GET", "/endless", () => ({
        status: 200,
        headers: { "content-type": "image/png" },
        stream: (async function*() {
          yield png()
          while (true) {
            sent += 65536
            yield new Uint8Array(65536)
          }
        })()
      }))
      const error = yield* failure(read({ _tag: "url", url: `${host.server.url}/endless` }, { maxBytes: 1_000_000 }, host.trusted))
      assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "MEDIA_TOO_LARGE")
      assert.include(error.message, "larger than the limit of 1000000 bytes")
      // Reading stopped: the server got no further than the socket buffers allow.
      assert.isBelow(sent, 64 * 1024 * 1024)
    }).pipe(Effect.scoped))
})

describe("MediaSource: flat memory, and nothing posted before the type is known", () => {
  it.effect("a 192 MB source arrives whole while memory stays flat", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      const total = 192 * 1024 * 1024
      const sentHash = createHash("sha256")
      host.server.route("GET", "/large.mp4", () => ({
        status: 200,
        headers: { "content-type": "video/mp4", "content-length": String(total) },
        stream: (async function*() {
          const head = new Uint8Array(65536)
          head.set([0, 0, 0, 24, ...Buffer.from("ftypisom"), 0, 0, 2, 0, ...Buffer.from("isomiso2")])
          sentHash.update(head)
          yield head
          for (let offset = 65536; offset < total; offset += 65536) {
            const chunk = new Uint8Array(65536).fill((offset / 65536) % 256)
            sentHash.update(chunk)
            yield chunk
          }
        })()
      }))
      const before = process.memoryUsage()
      let peak = 0
      const received = yield* Effect.scoped(Effect.gen(function*() {
        const opened = yield* MediaSource.open({ _tag: "url", url: `${host.server.url}/large.mp4` }, { platform: "test", declaredMimeType: "video/mp4" })
        assert.strictEqual(opened.mimeType, "video/mp4")
        assert.strictEqual(opened.sizeBytes, total)
        const hash = createHash("sha256")
        let size = 0
        yield* Stream.runForEach(opened.stream, (chunk) =>
          Effect.sync(() => {
            hash.update(chunk)
            size += chunk.byteLength
            if (size % (8 * 1024 * 1024) < chunk.byteLength) {
              const now = process.memoryUsage()
              peak = Math.max(peak, now.arrayBuffers + now.heapUsed - before.arrayBuffers - before.heapUsed)
            }
          }))
        return { size, sha256: hash.digest("hex") }
      })).pipe(Effect.provide(Layer.fresh(UrlGuard.layerHttpClient(host.trusted))))
      assert.strictEqual(received.size, total)
      assert.strictEqual(received.sha256, sentHash.digest("hex"))
      // Holding the source would take 192 MB; streaming holds a few chunks (and garbage awaiting collection).
      assert.isBelow(peak, 96 * 1024 * 1024)
    }).pipe(Effect.scoped), 120_000)

  it.effect("a platform upload starts only after the type is known: a mismatch posts nothing", () =>
    Effect.gen(function*() {
      const host = yield* mediaHost
      const platform = yield* FakeServer.make()
      platform.route("POST", "/upload", async (request) => {
        const received = await FakeMedia.receive(request.stream)
        const verdict = FakeMedia.check(received, { accept: ["image/*"] })
        return verdict._tag === "Accepted"
          ? { status: 200, body: { mimeType: verdict.mimeType, size: received.size, sha256: received.sha256 } }
          : { status: 400, body: { error: "InvalidMimeType", message: verdict.message } }
      })
      host.files.set("a.png", { body: png(70_000), type: "image/png" })
      host.files.set("page", { body: html, type: "text/html" })
      const upload = (url: string, declared: string) =>
        Effect.scoped(Effect.gen(function*() {
          const opened = yield* MediaSource.open({ _tag: "url", url }, { platform: "test", declaredMimeType: declared })
          const client = yield* HttpClient.HttpClient
          const response = yield* client.execute(
            HttpClientRequest.post(`${platform.url}/upload`).pipe(
              HttpClientRequest.bodyStream(opened.stream, { contentType: opened.mimeType, contentLength: opened.sizeBytes })
            )
          ).pipe(Effect.orDie)
          return yield* response.json.pipe(Effect.orDie)
        })).pipe(Effect.provide(Layer.fresh(UrlGuard.layerHttpClient({ allowHosts: [`127.0.0.1:${host.server.port}`, `127.0.0.1:${platform.port}`] }))))
      const refused = yield* failure(upload(host.url("page"), "image/jpeg"))
      assert.strictEqual(refused._tag === "Rejected" ? refused.code : refused._tag, "MEDIA_TYPE_MISMATCH")
      assert.strictEqual(platform.requests.length, 0)
      const posted = yield* upload(host.url("a.png"), "image/png")
      const data = png(70_000)
      assert.deepStrictEqual(posted, { mimeType: "image/png", size: data.byteLength, sha256: createHash("sha256").update(data).digest("hex") })
    }).pipe(Effect.scoped))
})
