/**
 * The S3 media store on its own, against s3rver: the store URL's parsing and
 * a bad one refused as configuration, a multipart round trip read back
 * whole, an abandoned multipart upload aborted on the store (no object, no
 * parts), and a store that goes away mid-upload failing the writer instead
 * of leaving it waiting.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer, Option, Redacted, Stream } from "effect"
import { randomBytes } from "node:crypto"
import * as MediaStores from "../src/storage/MediaStores.js"
import * as S3Storage from "../src/storage/S3Storage.js"
import { makeS3Fake } from "./s3Harness.js"

const MiB = 1024 * 1024

describe("S3 store URLs", () => {
  const rows: ReadonlyArray<readonly [string, { bucket: string; prefix: string } | undefined]> = [
    ["s3://media", { bucket: "media", prefix: "" }],
    ["s3://media/", { bucket: "media", prefix: "" }],
    ["s3://media/omnipost", { bucket: "media", prefix: "omnipost/" }],
    ["s3://my.bucket-1/a/b/", { bucket: "my.bucket-1", prefix: "a/b/" }],
    ["s3://UPPER/x", undefined],
    ["s3://a", undefined],
    ["https://media/x", undefined],
    ["media", undefined]
  ]
  for (const [url, expected] of rows) {
    it(`${url} → ${expected === undefined ? "refused" : `${expected.bucket} + '${expected.prefix}'`}`, () => {
      assert.deepStrictEqual(Option.getOrUndefined(S3Storage.parseStoreUrl(url)), expected)
    })
  }

  it.effect("a bad OMNIPOST_MEDIA_STORE is a configuration error naming the variable", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(MediaStores.layerConfig("/nonexistent")).pipe(
          Effect.scoped,
          Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: { OMNIPOST_MEDIA_STORE: "s3://No_Such" } })))
        )
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.match(String(Exit.isFailure(exit) ? exit.cause : ""), /OMNIPOST_MEDIA_STORE/)
    }))
})

/** `size` bytes of a repeating pattern, in 256 KiB chunks. */
const chunks = (size: number, seed: number) => {
  const chunk = Buffer.alloc(256 * 1024, seed)
  const out: Array<Uint8Array> = []
  for (let left = size; left > 0; left -= chunk.length) out.push(chunk.subarray(0, Math.min(left, chunk.length)))
  return out
}

/** A fake and a store on it (5 MiB parts, two in flight), for the scope. */
const setup = Effect.gen(function*() {
  const s3 = yield* makeS3Fake()
  const storage = yield* S3Storage.make({
    bucket: s3.bucket,
    prefix: "unit/",
    endpoint: s3.endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: Redacted.make("S3RVER") },
    forcePathStyle: true,
    presignUrls: true,
    partSizeBytes: 5 * MiB,
    queueSize: 2
  })
  return { s3, storage }
})

describe("S3 media store against s3rver", () => {
  it.effect("a multipart upload reads back whole; size, presigned URL and remove", () =>
    Effect.gen(function*() {
      const { s3, storage } = yield* setup
      const key = `med_${randomBytes(6).toString("hex")}`
      const writer = yield* storage.open(key)
      const data = chunks(12 * MiB + 123, 7)
      for (const chunk of data) yield* writer.write(chunk)
      // Nothing is visible before the commit.
      assert.deepStrictEqual(yield* Effect.promise(() => s3.objects("unit")), [])
      yield* writer.commit
      assert.strictEqual(yield* storage.size(key), 12 * MiB + 123)
      const read = yield* Stream.runFold(storage.read(key), () => ({ bytes: 0, ok: true }), (acc, chunk) => ({
        bytes: acc.bytes + chunk.length,
        ok: acc.ok && chunk.every((b) => b === 7)
      }))
      assert.deepStrictEqual(read, { bytes: 12 * MiB + 123, ok: true })
      const url = yield* storage.presignedUrl!(key, { expiresInSeconds: 60, contentType: "video/mp4" })
      const fetched = yield* Effect.promise(() => fetch(url).then((r) => ({ status: r.status, type: r.headers.get("content-type") })))
      assert.deepStrictEqual(fetched, { status: 200, type: "video/mp4" })
      assert.deepStrictEqual(s3.pendingUploads(), [])
      yield* storage.remove(key)
      assert.deepStrictEqual(yield* Effect.promise(() => s3.objects("unit")), [])
      // Removing what is gone is not an error (a retried delete).
      yield* storage.remove(key)
    }).pipe(Effect.scoped), 120_000)

  it.effect("an abandoned multipart upload is aborted on the store: no object, no parts", () =>
    Effect.gen(function*() {
      const { s3, storage } = yield* setup
      const writer = yield* storage.open("med_abandoned")
      for (const chunk of chunks(11 * MiB, 3)) yield* writer.write(chunk)
      yield* writer.abort
      assert.strictEqual(s3.aborts(), 1)
      assert.deepStrictEqual(s3.pendingUploads(), [])
      assert.deepStrictEqual(yield* Effect.promise(() => s3.objects("unit")), [])
      const missing = yield* Effect.exit(storage.size("med_abandoned"))
      assert.isTrue(Exit.isFailure(missing))
    }).pipe(Effect.scoped), 120_000)

  it.effect("a store that goes away mid-upload fails the writer (no hang), and reads fail as StorageError", () =>
    Effect.gen(function*() {
      const storage = yield* Effect.scoped(Effect.gen(function*() {
        const { storage } = yield* setup
        const writer = yield* storage.open("med_lost")
        for (const chunk of chunks(1 * MiB, 1)) yield* writer.write(chunk)
        return { storage, writer }
      }))
      // The fake is closed now: the parts cannot go anywhere.
      const wrote = yield* Effect.exit(Effect.gen(function*() {
        for (const chunk of chunks(40 * MiB, 2)) yield* storage.writer.write(chunk)
        yield* storage.writer.commit
      }))
      assert.isTrue(Exit.isFailure(wrote))
      const read = yield* Effect.exit(Stream.runDrain(storage.storage.read("med_lost")))
      assert.isTrue(Exit.isFailure(read) && String(read.cause).includes("StorageError"), String(Exit.isFailure(read) ? read.cause : ""))
    }), 120_000)
})
