/**
 * `MediaStorage` in an S3-compatible object store (AWS S3, Cloudflare R2,
 * MinIO, Ceph…), so every API and scheduler process on every host reads the
 * same media. Configured by `OMNIPOST_MEDIA_STORE=s3://bucket/prefix` (see
 * `MediaStores.layerConfig`).
 *
 * - Uploads stream into a multipart upload (`@aws-sdk/lib-storage`'s
 *   `Upload`): the bytes written go through a small pipe and leave in parts of
 *   `partSizeBytes`, at most `queueSize` parts in flight, so memory stays flat
 *   whatever the file's size. A file smaller than one part is a single
 *   `PutObject`. An aborted writer ends the pipe with an error: the upload
 *   sends `AbortMultipartUpload` and no object appears.
 * - Reads stream the object's body (`GetObject`), cancelled with the reader.
 * - `presignedUrl` (when `presignUrls`): a SigV4 query-signed GET URL of the
 *   object, so platforms that fetch media by URL reach the store directly
 *   instead of the worker's signed route.
 *
 * Request checksums are computed only when an operation requires them
 * (`requestChecksumCalculation: "WHEN_REQUIRED"`): several S3-compatible
 * stores do not accept the SDK's default trailing checksums on streamed bodies.
 */
import { GetObjectCommand, HeadObjectCommand, DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3"
import { Upload } from "@aws-sdk/lib-storage"
import { getSignedUrl } from "@aws-sdk/s3-request-presigner"
import { Config, ConfigProvider, Effect, Layer, Option, Redacted, Stream } from "effect"
import { PassThrough, Readable } from "node:stream"
import { MediaStorage, StorageError, type Writer } from "./MediaStorage.js"

export interface S3Options {
  readonly bucket: string
  /** Prepended to every key (`media/` for `s3://bucket/media`); empty for the bucket's root. */
  readonly prefix: string
  /** The store's URL (`http://127.0.0.1:9000`, `https://<account>.r2.cloudflarestorage.com`); AWS's when absent. */
  readonly endpoint?: string | undefined
  readonly region: string
  /** Static credentials; the SDK's default chain (environment, profile, instance role) when absent. */
  readonly credentials?: {
    readonly accessKeyId: string
    readonly secretAccessKey: Redacted.Redacted<string>
  } | undefined
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, most self-hosted stores). */
  readonly forcePathStyle: boolean
  /** Hand platforms presigned object URLs instead of the worker's signed `/media/:id` URLs. */
  readonly presignUrls: boolean
  /** Multipart part size (at least 5 MiB, S3's minimum), default 8 MiB. */
  readonly partSizeBytes?: number | undefined
  /** Parts uploaded at once, default 4: memory is about (queueSize + 1) × part size per upload. */
  readonly queueSize?: number | undefined
}

const MiB = 1024 * 1024
/** SigV4 presigned URLs live at most 7 days. */
const maxPresignSeconds = 7 * 24 * 3600

/** `s3://bucket/some/prefix` → bucket and prefix (`some/prefix/`). */
export const parseStoreUrl = (url: string): Option.Option<{ readonly bucket: string; readonly prefix: string }> => {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url.trim())
  if (match === null) return Option.none()
  const path = (match[2] ?? "").replace(/^\/+|\/+$/g, "")
  return Option.some({ bucket: match[1]!, prefix: path === "" ? "" : `${path}/` })
}

const fail = (message: string) => (cause: unknown) => new StorageError({ message, cause })

/** The S3 store's `MediaStorage`, its client closed with the scope. */
export const make = Effect.fnUntraced(function*(options: S3Options) {
  const client = yield* Effect.acquireRelease(
    Effect.sync(() =>
      new S3Client({
        region: options.region,
        endpoint: options.endpoint,
        forcePathStyle: options.forcePathStyle,
        credentials: options.credentials === undefined ? undefined : {
          accessKeyId: options.credentials.accessKeyId,
          secretAccessKey: Redacted.value(options.credentials.secretAccessKey)
        },
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED"
      })
    ),
    (client) => Effect.sync(() => client.destroy())
  )
  const partSize = Math.max(5 * MiB, options.partSizeBytes ?? 8 * MiB)
  const queueSize = Math.max(1, options.queueSize ?? 4)
  const objectKey = (key: string) => {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,200}$/.test(key)) throw new Error(`invalid storage key ${key}`)
    return `${options.prefix}${key}`
  }

  const open = (key: string) =>
    Effect.sync((): Writer => {
      // The upload reads from this pipe; `write` waits while it is full.
      const body = new PassThrough({ highWaterMark: 256 * 1024 })
      const upload = new Upload({
        client,
        params: { Bucket: options.bucket, Key: objectKey(key), Body: body },
        partSize,
        queueSize,
        leavePartsOnError: false
      })
      let failure: unknown
      const done = upload.done().then(
        () => undefined,
        (error: unknown) => {
          failure = error
          body.destroy()
          return Promise.reject(error)
        }
      )
      // Observed here so an upload that fails before `commit`/`abort` is not an unhandled rejection.
      done.catch(() => undefined)
      const drained = () =>
        new Promise<void>((resolve, reject) => {
          const settle = (error?: unknown) => {
            body.off("drain", onDrain)
            body.off("close", onClose)
            error === undefined ? resolve() : reject(error)
          }
          const onDrain = () => settle()
          const onClose = () => settle(failure ?? new Error("the upload stopped"))
          body.once("drain", onDrain)
          body.once("close", onClose)
        })
      return {
        write: (chunk) =>
          Effect.tryPromise({
            try: async () => {
              if (failure !== undefined || body.destroyed) throw failure ?? new Error("the upload stopped")
              if (!body.write(chunk)) await drained()
            },
            catch: fail(`cannot write ${key}`)
          }),
        commit: Effect.tryPromise({
          try: () => {
            body.end()
            return done
          },
          catch: fail(`cannot save ${key}`)
        }),
        // Ending the pipe with an error makes the upload abort its multipart upload; `done` settles after that request.
        abort: Effect.promise(() => {
          if (!body.destroyed) body.destroy(new Error("upload abandoned"))
          return done.catch(() => undefined)
        })
      }
    })

  const read = (key: string) =>
    Stream.unwrap(
      Effect.tryPromise({
        try: (signal) => client.send(new GetObjectCommand({ Bucket: options.bucket, Key: objectKey(key) }), { abortSignal: signal }),
        catch: fail(`cannot read ${key}`)
      }).pipe(Effect.map((output) =>
        Stream.fromReadableStream({
          evaluate: () => Readable.toWeb(output.Body as Readable) as ReadableStream<Uint8Array>,
          onError: fail(`cannot read ${key}`)
        })
      ))
    )

  const size = (key: string) =>
    Effect.tryPromise({
      try: (signal) => client.send(new HeadObjectCommand({ Bucket: options.bucket, Key: objectKey(key) }), { abortSignal: signal }),
      catch: fail(`cannot stat ${key}`)
    }).pipe(Effect.map((head) => head.ContentLength ?? 0))

  const remove = (key: string) =>
    Effect.tryPromise({
      try: (signal) => client.send(new DeleteObjectCommand({ Bucket: options.bucket, Key: objectKey(key) }), { abortSignal: signal }),
      catch: fail(`cannot remove ${key}`)
    }).pipe(Effect.asVoid)

  const presignedUrl = (key: string, url: { readonly expiresInSeconds: number; readonly contentType: string }) =>
    Effect.tryPromise({
      try: () =>
        getSignedUrl(
          client,
          new GetObjectCommand({ Bucket: options.bucket, Key: objectKey(key), ResponseContentType: url.contentType }),
          { expiresIn: Math.max(1, Math.min(maxPresignSeconds, url.expiresInSeconds)) }
        ),
      catch: fail(`cannot presign ${key}`)
    })

  return MediaStorage.of({
    open,
    read,
    size,
    remove,
    localPath: () => undefined,
    presignedUrl: options.presignUrls ? presignedUrl : undefined
  })
})

/** The S3 store from options (code, tests). */
export const layer = (options: S3Options): Layer.Layer<MediaStorage> => Layer.effect(MediaStorage, make(options))

/**
 * The S3 store from the environment, for the store URL `s3://bucket/prefix`:
 * `OMNIPOST_S3_ENDPOINT`, `OMNIPOST_S3_REGION` (default `us-east-1`),
 * `OMNIPOST_S3_ACCESS_KEY_ID` + `OMNIPOST_S3_SECRET_ACCESS_KEY` (else the
 * SDK's default chain), `OMNIPOST_S3_FORCE_PATH_STYLE` (default false),
 * `OMNIPOST_MEDIA_URLS` (`worker`, the default, or `presigned`),
 * `OMNIPOST_S3_PART_SIZE_MB` (default 8) and `OMNIPOST_S3_QUEUE_SIZE` (default 4).
 */
export const layerConfig = (storeUrl: string): Layer.Layer<MediaStorage, Config.ConfigError> =>
  Layer.effect(
    MediaStorage,
    Effect.gen(function*() {
      const target = Option.getOrUndefined(parseStoreUrl(storeUrl))
      if (target === undefined) {
        return yield* Effect.fail(
          new Config.ConfigError(
            new ConfigProvider.SourceError({
              message: `OMNIPOST_MEDIA_STORE: expected s3://bucket/prefix (a valid bucket name), got ${storeUrl}`
            })
          )
        )
      }
      const accessKeyId = yield* Config.option(Config.String("OMNIPOST_S3_ACCESS_KEY_ID"))
      const secretAccessKey = yield* Config.option(Config.Redacted("OMNIPOST_S3_SECRET_ACCESS_KEY"))
      const urls = yield* Config.Literals(["worker", "presigned"], "OMNIPOST_MEDIA_URLS").pipe(Config.withDefault("worker"))
      return yield* make({
        ...target,
        endpoint: Option.getOrUndefined(yield* Config.option(Config.String("OMNIPOST_S3_ENDPOINT"))),
        region: yield* Config.String("OMNIPOST_S3_REGION").pipe(Config.withDefault("us-east-1")),
        credentials: Option.isSome(accessKeyId) && Option.isSome(secretAccessKey)
          ? { accessKeyId: accessKeyId.value, secretAccessKey: secretAccessKey.value }
          : undefined,
        forcePathStyle: yield* Config.Boolean("OMNIPOST_S3_FORCE_PATH_STYLE").pipe(Config.withDefault(false)),
        presignUrls: urls === "presigned",
        partSizeBytes: (yield* Config.Int("OMNIPOST_S3_PART_SIZE_MB").pipe(Config.withDefault(8))) * MiB,
        queueSize: yield* Config.Int("OMNIPOST_S3_QUEUE_SIZE").pipe(Config.withDefault(4))
      })
    })
  )
