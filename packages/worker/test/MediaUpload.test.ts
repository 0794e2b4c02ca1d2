/**
 * Multipart `POST /v1/media` over real HTTP with bodies streamed from a
 * generator (never held in memory): 1 KB, 150 KB, 10 MB and 1 GB files are
 * stored whole, a body over the configured limit gets a 413 without being
 * read to its end, and a client that goes away mid-upload leaves no request
 * running and no partial file behind.
 *
 * The upload path does not depend on the database, so these suites run on
 * PGlite only (a 1 GB upload per database kind would double the slowest test);
 * they run on each media store: the local files and an S3-compatible server
 * (s3rver), where a large file goes up as a multipart upload and an abandoned
 * one is aborted on the store with no parts left.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { request as httpRequest } from "node:http"
import { Readable } from "node:stream"
import { RequestsInFlight } from "../src/api/InFlight.js"
import { type ApiServer, apiLayer, errorCode, type MediaStoreKind, png1x1, TestApi, waitFor } from "./apiHarness.js"

const boundary = "----omnipost-test-boundary-7f3a9c"
const head = Buffer.from(
  `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n` +
    `Content-Type: image/png\r\n\r\n`
)
const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
/** One reused chunk of filler: the generator allocates nothing per chunk. */
const filler = Buffer.alloc(256 * 1024, 0x5a)

/** The file's bytes (a PNG header, then filler up to `size`), chunk by chunk; `hash` sees every byte. */
function* fileBytes(size: number, hash: ReturnType<typeof createHash>): Generator<Buffer> {
  const first = png1x1.subarray(0, Math.min(size, png1x1.length))
  hash.update(first)
  yield first
  let left = size - first.length
  while (left > 0) {
    const chunk = left >= filler.length ? filler : filler.subarray(0, left)
    hash.update(chunk)
    yield chunk
    left -= chunk.length
  }
}

interface Sent {
  readonly status: number
  readonly body: any
  readonly sha256: string
  /** The largest growth of this process's heap + buffers seen while sending, in bytes. */
  readonly peakGrowthBytes: number
}

/**
 * Sends a multipart upload of a `size`-byte file streamed from a generator.
 * The server runs in this process, so the memory sampled here is the server's too.
 */
const upload = (api: ApiServer, size: number) =>
  Effect.promise(() =>
    new Promise<Sent>((resolve, reject) => {
      const hash = createHash("sha256")
      const memory = () => {
        const usage = process.memoryUsage()
        return usage.heapUsed + usage.arrayBuffers
      }
      const baseline = memory()
      let peak = 0
      let chunks = 0
      function* body() {
        yield head
        for (const chunk of fileBytes(size, hash)) {
          if (++chunks % 64 === 0) peak = Math.max(peak, memory() - baseline)
          yield chunk
        }
        yield tail
      }
      const req = httpRequest(`${api.url}/v1/media`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${api.key}`,
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "content-length": String(head.length + size + tail.length)
        }
      }, (res) => {
        answered = true
        const parts: Array<Buffer> = []
        res.on("data", (chunk: Buffer) => parts.push(chunk))
        res.on("end", () => {
          const text = Buffer.concat(parts).toString("utf8")
          resolve({
            status: res.statusCode ?? 0,
            body: text === "" ? undefined : JSON.parse(text),
            sha256: hash.digest("hex"),
            peakGrowthBytes: peak
          })
        })
        res.on("error", reject)
      })
      let answered = false
      // A server that answers before reading the whole body closes the connection under the sender:
      // the answer counts, the write error does not.
      let failure: unknown
      req.on("error", (error) => {
        failure = error
      })
      req.on("close", () => answered ? undefined : reject(failure ?? new Error("closed without an answer")))
      Readable.from(body()).pipe(req)
    })
  )

/** Files in the media store (committed and partial; on S3, objects and multipart uploads in progress). */
const mediaFiles = (api: ApiServer) =>
  Effect.promise(async () => [
    ...await api.storedMedia(),
    ...(api.s3?.pendingUploads() ?? []).map((upload) => ({ name: `upload ${upload}`, size: 0 }))
  ])

/** Waits until no request is in flight on the server. */
const noRequestInFlight = (what: string) =>
  Effect.gen(function*() {
    const requests = yield* RequestsInFlight
    yield* waitFor(Effect.map(requests.count, (n) => n === 0 ? true : undefined), 20_000, what)
  })

/**
 * Sends the first `bytes` of a multipart upload of a file twice as large,
 * then destroys the connection (`disconnect`) or sends nothing more (`stall`);
 * resolves when the connection is closed.
 */
const sendPart = (api: ApiServer, bytes: number, then: "disconnect" | "stall") =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      const req = httpRequest(`${api.url}/v1/media`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${api.key}`,
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "content-length": String(head.length + 2 * bytes + tail.length)
        }
      })
      req.on("error", () => undefined)
      req.on("close", () => resolve())
      req.write(head)
      const chunks = fileBytes(bytes, createHash("sha256"))
      const pump = () => {
        for (let next = chunks.next(); !next.done; next = chunks.next()) {
          if (!req.write(next.value)) return req.once("drain", pump)
        }
        // Everything written was flushed to the socket.
        if (then === "disconnect") req.destroy()
      }
      pump()
    })
  )

const stores: ReadonlyArray<MediaStoreKind> = ["local", "s3"]

for (const store of stores) {
  describe(`multipart media uploads (${store} store)`, () => {
    layer(apiLayer("pglite", { maxUploadBytes: 2 * 1024 * 1024 * 1024 }, { scheduler: false, mediaStore: store }), {
      timeout: 180_000,
      excludeTestServices: true
    })((it) => {
      for (const [label, size] of [["1 KB", 1024], ["150 KB", 150 * 1024], ["10 MB", 10 * 1024 * 1024]] as const) {
        it.effect(`a ${label} file is stored whole`, () =>
          Effect.gen(function*() {
            const api = yield* TestApi
            const sent = yield* upload(api, size)
            assert.strictEqual(sent.status, 201, JSON.stringify(sent.body))
            assert.strictEqual(sent.body.sizeBytes, size)
            assert.strictEqual(sent.body.sha256, sent.sha256)
            assert.strictEqual(sent.body.mimeType, "image/png")
            assert.strictEqual(sent.body.fileName, "big.png")
            assert.deepStrictEqual((yield* mediaFiles(api)).filter((f) => f.name === sent.body.id), [{ name: sent.body.id, size }])
          }), 60_000)
      }

      it.effect("a 1 GB file is stored streaming, with flat memory", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const size = 1024 * 1024 * 1024
          const sent = yield* upload(api, size)
          assert.strictEqual(sent.status, 201, JSON.stringify(sent.body))
          assert.strictEqual(sent.body.sizeBytes, size)
          assert.strictEqual(sent.body.sha256, sent.sha256)
          assert.deepStrictEqual((yield* mediaFiles(api)).filter((f) => f.name === sent.body.id), [{ name: sent.body.id, size }])
          // Holding the body would grow memory by a gigabyte; streaming keeps it to chunks in flight and GC slack.
          assert.isBelow(sent.peakGrowthBytes, 384 * 1024 * 1024, `peak growth ${sent.peakGrowthBytes} bytes`)
        }), 170_000)

      it.effect("a client that disconnects mid-upload leaves no request running and no partial file", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const before = (yield* mediaFiles(api)).map((f) => f.name)
          const abortsBefore = api.s3?.aborts() ?? 0
          // Half of a 40 MB file (more than one 8 MiB part on S3), then the connection is destroyed.
          yield* sendPart(api, 20 * 1024 * 1024, "disconnect")
          yield* noRequestInFlight("the aborted request to end")
          yield* waitFor(
            Effect.map(mediaFiles(api), (files) => files.every((f) => before.includes(f.name)) ? true : undefined),
            20_000,
            "the partial file to be removed"
          )
          assert.deepStrictEqual((yield* mediaFiles(api)).map((f) => f.name).sort(), [...before].sort())
          // On S3 the parts already sent went into a multipart upload, aborted on the store.
          if (api.s3 !== undefined) assert.strictEqual(api.s3.aborts(), abortsBefore + 1)
        }), 60_000)
    })
  })

  describe(`multipart media uploads over the limit, or stalled (${store} store)`, () => {
    layer(apiLayer("pglite", { maxUploadBytes: 1024 * 1024, requestIdleTimeoutMs: 1000 }, { scheduler: false, mediaStore: store }), {
      timeout: 180_000,
      excludeTestServices: true
    })((it) => {
      it.effect("a 1 GB body over a 1 MB limit is a 413 as soon as it passes the limit, and nothing is kept", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const sent = yield* upload(api, 1024 * 1024 * 1024)
          assert.strictEqual(sent.status, 413, JSON.stringify(sent.body))
          assert.strictEqual(errorCode({ status: sent.status, headers: new Headers(), body: sent.body }), "PAYLOAD_TOO_LARGE")
          assert.strictEqual(sent.body.error.details.limitBytes, 1024 * 1024)
          yield* noRequestInFlight("the refused request to end")
          assert.deepStrictEqual(yield* mediaFiles(api), [])
        }), 60_000)

      it.effect("a client that stops sending mid-upload is cut after the idle timeout: no request left, no partial file", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          // Resolves when the server closes the connection: nothing was sent for the idle timeout.
          yield* sendPart(api, 256 * 1024, "stall")
          yield* noRequestInFlight("the stalled request to end")
          // /readyz reports the count too (itself included).
          const ready = yield* Effect.promise(() => fetch(`${api.url}/readyz`).then((r) => r.json()))
          assert.strictEqual(ready.requestsInFlight, 1)
          yield* waitFor(Effect.map(mediaFiles(api), (files) => files.length === 0 ? true : undefined), 20_000, "the partial file to be removed")
        }), 60_000)
    })
  })
}
