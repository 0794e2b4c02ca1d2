/**
 * YouTube's resumable upload (`videos.insert?uploadType=resumable`), streamed
 * from a media source with one chunk in memory whatever the video's size:
 *
 * 1. `POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`
 *    with the metadata as JSON, `X-Upload-Content-Length` and
 *    `X-Upload-Content-Type`; the `Location` header is the session URI.
 * 2. The bytes in chunks, each a `PUT <session URI>` with
 *    `Content-Range: bytes first-last/total`; every chunk but the last is a
 *    multiple of 256 KiB. An intermediate chunk answers 308 with
 *    `Range: bytes=0-<last byte kept>`; the last one answers 200/201 with
 *    the video resource.
 * 3. When a chunk gets no answer (a cut connection) or a 5xx, a status query
 *    (`PUT` with `Content-Range: bytes *\/total` and no body) says what the
 *    server kept (its 308's `Range`; none: nothing), and the chunk goes on
 *    from the byte after: nothing that arrived is sent again. The chunk is
 *    still in memory, and the server never keeps more than what was sent, so
 *    the rest of it is always at hand.
 * 4. A session that expired (404 or 410) starts over: the source is opened
 *    again and a new session started (at most `maxSessions` times).
 *
 * Sources: https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol,
 * https://developers.google.com/youtube/v3/docs/videos/insert, platform-specs §4.2.
 */
import { PublishError } from "@omnipost/core"
import type { MediaSource } from "@omnipost/platform-kit"
import { Data, Duration, Effect, Schedule, Stream, type Scope } from "effect"
import * as Errors from "./Errors.js"
import * as Api from "./internal/Api.js"

/** The chunk granularity: every chunk but the last is a multiple of it. */
export const chunkUnit = 256 * 1024

/** Default chunk size: 8 MiB (32 units), one chunk in memory at a time. */
export const defaultChunkBytes = 32 * chunkUnit

export interface UploadOptions {
  /** A multiple of 256 KiB; `defaultChunkBytes` unless given. */
  readonly chunkBytes?: number | undefined
  /** How many times one chunk may be resumed after a cut or a 5xx before the upload gives up. Default 5. */
  readonly maxResumes?: number | undefined
  /** How many sessions may be started in all (an expired session starts over). Default 3. */
  readonly maxSessions?: number | undefined
  /** Wait before the second and later status queries of one interruption (doubling). Default 1 second. */
  readonly retryDelay?: Duration.Input | undefined
}

export interface Upload {
  /** Opens the video (again, for a new session): the kit's `MediaSource.open`. */
  readonly open: Effect.Effect<MediaSource.Opened, PublishError.PublishError, Scope.Scope>
  /** The `video` resource's `snippet` and `status`, sent when the session starts. */
  readonly metadata: unknown
  /** Runs before each session is started (the quota ledger counts `videos.insert`). */
  readonly onSessionStart?: Effect.Effect<void> | undefined
  /** `notifySubscribers=false` when false. */
  readonly notifySubscribers?: boolean | undefined
}

/** The session URI answered 404 or 410: start over. */
class SessionExpired extends Data.TaggedError("SessionExpired")<{ readonly status: number }> {}

const rejected = (code: string, message: string) => new PublishError.Rejected({ platform: Errors.platform, code, message })

const transient = (message: string) => new PublishError.Transient({ platform: Errors.platform, message })

/** The last byte the server kept, from a 308's `Range: bytes=0-N`; -1 when it kept nothing. */
export const keptThrough = (range: string | undefined): number => {
  const match = /^bytes=0-(\d+)$/.exec((range ?? "").trim())
  return match === null ? -1 : Number(match[1])
}

/** Starts a session; its URI. */
const start = (connection: Api.Connection, upload: Upload, size: number | undefined, mimeType: string) =>
  Effect.gen(function*() {
    if (upload.onSessionStart !== undefined) yield* upload.onSessionStart
    const answer = yield* Api.ok(connection, {
      method: "POST",
      path: "/upload/youtube/v3/videos",
      query: {
        uploadType: "resumable",
        part: "snippet,status",
        ...(upload.notifySubscribers === false ? { notifySubscribers: "false" } : {})
      },
      headers: {
        "x-upload-content-type": mimeType,
        ...(size !== undefined ? { "x-upload-content-length": String(size) } : {})
      },
      json: upload.metadata,
      operation: "videos.insert (start a resumable session)",
      write: false
    })
    const location = answer.headers["location"]
    if (location === undefined || location === "") {
      return yield* transient("videos.insert answered without a session URI (no Location header)")
    }
    return location
  })

/** What one PUT to the session told. */
type Progress =
  | { readonly _tag: "Kept"; readonly through: number }
  | { readonly _tag: "Done"; readonly video: unknown }

const progressOf = (answer: Api.Answer, operation: string): Effect.Effect<Progress, PublishError.PublishError | SessionExpired> => {
  if (answer.status === 308) return Effect.succeed<Progress>({ _tag: "Kept", through: keptThrough(answer.headers["range"]) })
  if (answer.status === 200 || answer.status === 201) return Effect.succeed<Progress>({ _tag: "Done", video: answer.body })
  if (answer.status === 404 || answer.status === 410) return Effect.fail(new SessionExpired({ status: answer.status }))
  return Api.failure(answer, operation)
}

const interrupted = (error: PublishError.PublishError | SessionExpired) =>
  error._tag === "Transient" || error._tag === "OutcomeUnknown"

/**
 * Sends `data` (the file's bytes from `first`) to the session, resuming after
 * cuts from what the server reports. The final chunk gives the video.
 */
const sendChunk = (
  connection: Api.Connection,
  session: string,
  data: Uint8Array,
  first: number,
  total: number | undefined,
  options: Required<Pick<UploadOptions, "maxResumes">> & { readonly retryDelay: Duration.Input }
): Effect.Effect<Progress, PublishError.PublishError | SessionExpired> =>
  Effect.gen(function*() {
    const last = first + data.byteLength - 1
    const totalText = total === undefined ? "*" : String(total)
    const operation = `upload bytes ${first}-${last}/${totalText}`
    let from = first
    for (let resumes = 0;; resumes++) {
      const put = Api.call(connection, {
        method: "PUT",
        path: session,
        headers: { "content-range": `bytes ${from}-${last}/${totalText}` },
        bytes: { data: data.subarray(from - first), contentType: "application/octet-stream" },
        operation,
        // A cut chunk is resumed from what the server kept; nothing is posted twice.
        write: false
      }).pipe(Effect.flatMap((answer) => progressOf(answer, operation)))
      const result = yield* put.pipe(
        Effect.map((progress) => ({ progress, error: undefined })),
        Effect.catch((error) => interrupted(error) ? Effect.succeed({ progress: undefined, error }) : Effect.fail(error))
      )
      let progress = result.progress
      if (progress === undefined) {
        if (resumes >= options.maxResumes) {
          return yield* transient(`${operation} was interrupted ${resumes + 1} times; the upload gives up for now (${result.error!.message})`)
        }
        progress = yield* status(connection, session, totalText, options, resumes)
      }
      if (progress._tag === "Done") return progress
      const kept = progress.through
      if (kept >= last) return progress
      if (kept + 1 < first) {
        // The server lost bytes of an earlier chunk, no longer in memory: start over.
        return yield* new SessionExpired({ status: 308 })
      }
      from = kept + 1
    }
  })

/** The status query: what the session kept. Retried (with a growing wait) while it gets no answer. */
const status = (
  connection: Api.Connection,
  session: string,
  totalText: string,
  options: { readonly maxResumes: number; readonly retryDelay: Duration.Input },
  attempt: number
): Effect.Effect<Progress, PublishError.PublishError | SessionExpired> => {
  const operation = "upload status query"
  const query = Api.call(connection, {
    method: "PUT",
    path: session,
    headers: { "content-range": `bytes */${totalText}` },
    bytes: { data: new Uint8Array(0), contentType: "application/octet-stream" },
    operation,
    write: false
  }).pipe(Effect.flatMap((answer) => progressOf(answer, operation)))
  // Waits of retryDelay × 2^(attempt + n) for the n-th retry: later resumes start from longer waits.
  return query.pipe(Effect.retry({
    while: interrupted,
    schedule: Schedule.exponential(Duration.times(Duration.fromInputUnsafe(options.retryDelay), 2 ** attempt), 2).pipe(
      Schedule.upTo({ times: options.maxResumes })
    )
  }))
}

/** One session: opens the source, starts the session, sends chunk after chunk from one reused buffer. */
const session = (
  connection: Api.Connection,
  upload: Upload,
  chunkBytes: number,
  options: Required<Pick<UploadOptions, "maxResumes">> & { readonly retryDelay: Duration.Input }
): Effect.Effect<unknown, PublishError.PublishError | SessionExpired> =>
  Effect.scoped(Effect.gen(function*() {
    const opened = yield* upload.open
    const total = opened.sizeBytes
    if (total === 0) return yield* rejected("MEDIA_UNAVAILABLE", "the video is empty (0 bytes)")
    const uri = yield* start(connection, upload, total, opened.mimeType)
    const buffer = new Uint8Array(chunkBytes)
    let fill = 0
    let offset = 0
    let video: unknown = undefined
    const flush = (final: boolean) =>
      Effect.map(
        sendChunk(connection, uri, buffer.subarray(0, fill), offset, final ? offset + fill : total, options),
        (progress) => {
          if (progress._tag === "Done") video = progress.video
          offset += fill
          fill = 0
        }
      )
    yield* Stream.runForEach(opened.stream, (bytes) =>
      Effect.gen(function*() {
        let at = 0
        while (at < bytes.byteLength) {
          // Flush a full buffer only when more bytes follow: the last chunk must say the total.
          if (fill === chunkBytes) yield* flush(false)
          const n = Math.min(chunkBytes - fill, bytes.byteLength - at)
          buffer.set(bytes.subarray(at, at + n), fill)
          fill += n
          at += n
        }
      }))
    if (fill === 0 && offset === 0) return yield* rejected("MEDIA_UNAVAILABLE", "the video is empty (0 bytes)")
    yield* flush(true)
    if (video === undefined) return yield* transient("the last chunk of the upload was not answered with the video")
    return video
  }))

/**
 * Uploads one video with the resumable protocol; the `video` resource YouTube
 * answers. An expired session starts over, with the source opened again.
 */
export const uploadVideo = (
  connection: Api.Connection,
  upload: Upload,
  options: UploadOptions = {}
): Effect.Effect<unknown, PublishError.PublishError> =>
  Effect.gen(function*() {
    const chunkBytes = options.chunkBytes ?? defaultChunkBytes
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes <= 0 || chunkBytes % chunkUnit !== 0) {
      return yield* Effect.die(new Error(`chunkBytes must be a positive multiple of ${chunkUnit}, got ${chunkBytes}`))
    }
    const maxSessions = options.maxSessions ?? 3
    const settings = { maxResumes: options.maxResumes ?? 5, retryDelay: options.retryDelay ?? "1 second" }
    for (let attempt = 1;; attempt++) {
      const result = yield* session(connection, upload, chunkBytes, settings).pipe(
        Effect.map((video) => ({ video, expired: undefined })),
        Effect.catchTag("SessionExpired", (expired) => Effect.succeed({ video: undefined, expired }))
      )
      if (result.expired === undefined) return result.video
      if (attempt >= maxSessions) {
        return yield* transient(`the upload session expired (HTTP ${result.expired.status}) ${attempt} times; the upload gives up for now`)
      }
      yield* Effect.logInfo(`YouTube upload session expired (HTTP ${result.expired.status}); starting over`)
    }
  })
