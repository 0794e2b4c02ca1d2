/**
 * X media upload: the v2 chunked flow (platform-specs §1.3).
 *
 * 1. `POST /2/media/upload/initialize` with `media_type`, `total_bytes`, `media_category`
 * 2. `POST /2/media/upload/{id}/append`, multipart `segment_index` + `media`, one
 *    segment (≤ 5 MB) at a time, in order
 * 3. `POST /2/media/upload/{id}/finalize`
 * 4. when FINALIZE answers `processing_info` (video, GIF): `GET /2/media/upload?command=STATUS`
 *    every `check_after_secs` until `succeeded` or `failed`, within a time limit
 * 5. alt text with `POST /2/media/metadata`
 *
 * The source is opened by the kit's `MediaSource.open`, the policy every
 * platform shares (guarded redirects, 429/5xx Transient, the type judged
 * from the bytes before anything is sent to X); its bytes are cut into
 * segments as they arrive, so at most one segment is held in memory whatever
 * the size of the video. The same flow serves images, which X accepts
 * chunked too.
 */
import { type Media as CoreMedia, PublishError } from "@omnipost/core"
import { Duration, Effect, Schema, Stream } from "effect"
import { MediaSource, Poll, UrlGuard } from "@omnipost/platform-kit"
import { HttpClient } from "effect/http"
import * as Errors from "./Errors.js"
import type { XApi } from "./internal/Client.js"
import { rules } from "./Rules.js"

/**
 * X asks for segments of at most 5 MB (its server maximum is 8 MB). 4 MiB
 * (4,194,304 bytes) is under 5 MB whether MB means 10^6 or 2^20 bytes.
 */
export const defaultSegmentBytes = 4 * 1024 * 1024

/** The largest segment we send: 5 MB read as 10^6 bytes, the stricter reading. */
export const maxSegmentBytes = 5_000_000

export type MediaCategory = "tweet_image" | "tweet_gif" | "tweet_video"

/** The `media_category` for a media item: animated GIFs and videos are processed server-side. */
export const mediaCategory = (media: CoreMedia.Media): MediaCategory =>
  media.kind === "video" ? "tweet_video" : media.kind === "gif" ? "tweet_gif" : "tweet_image"

export interface UploadOptions {
  /** Segment size in bytes; capped at `maxSegmentBytes`. */
  readonly segmentBytes?: number | undefined
  /** How long to wait for X to process a video or GIF. Default 10 minutes. */
  readonly processingTimeout?: Duration.Input | undefined
  /** Timeout of each upload request (and of a media host's answer). Default 2 minutes. */
  readonly requestTimeout?: Duration.Input | undefined
  /** The one stored-media hook: opens `stored` media sources (the worker's media library). */
  readonly resolveStoredMedia?: MediaSource.ResolveStoredMedia | undefined
  /**
   * How media URLs (and every redirect hop) are guarded. Default: the
   * `UrlGuard` service of the context the publisher was built in, else
   * strict (private and loopback addresses refused). Tests and local
   * development pass `{ allowPrivate: true }`.
   */
  readonly urlGuard?: UrlGuard.Options | undefined
  /** The client and guard media URLs are fetched with (the publisher sets it from `urlGuard` or its context). */
  readonly fetcher?: UrlGuard.Fetcher | undefined
}

const unreadable = (message: string) =>
  new PublishError.Rejected({ platform: Errors.platform, code: "MEDIA_UNREADABLE", message })

/**
 * Cuts a byte stream into segments of exactly `size` bytes (the last one
 * shorter). Only the segment being filled is held.
 */
export const segments = (size: number) => <E, R>(stream: Stream.Stream<Uint8Array, E, R>) =>
  stream.pipe(
    Stream.mapAccum(
      () => ({ buffer: new Uint8Array(size), filled: 0 }),
      (state, chunk: Uint8Array) => {
        const out: Array<Uint8Array> = []
        let { buffer, filled } = state
        let offset = 0
        while (offset < chunk.length) {
          const n = Math.min(size - filled, chunk.length - offset)
          buffer.set(chunk.subarray(offset, offset + n), filled)
          filled += n
          offset += n
          if (filled === size) {
            out.push(buffer)
            buffer = new Uint8Array(size)
            filled = 0
          }
        }
        return [{ buffer, filled }, out] as const
      },
      { onHalt: (state) => (state.filled > 0 ? [state.buffer.subarray(0, state.filled)] : []) }
    )
  )

/** X's size limit for this kind of media, from the rules table (the feed placement). */
const maxBytesFor = (media: CoreMedia.Media): number | undefined => {
  const placement = rules.placements.find((p) => p.placement === rules.defaultPlacement) ?? rules.placements[0]
  const limits = placement?.media[media.kind as keyof typeof placement.media]
  return limits?.maxSizeBytes
}

const decodeOrTransient = <S extends Schema.Top>(schema: S, operation: string) => (body: unknown) =>
  (Schema.decodeUnknownEffect(schema)(body) as Effect.Effect<S["Type"], Schema.SchemaError>).pipe(
    Effect.mapError(() =>
      new PublishError.Transient({ platform: Errors.platform, message: `${operation}: unexpected answer from X` })
    )
  )

const ProcessingInfo = Schema.Struct({
  state: Schema.Literals(["pending", "in_progress", "succeeded", "failed"]),
  check_after_secs: Schema.optional(Schema.Number),
  progress_percent: Schema.optional(Schema.Number),
  error: Schema.optional(Schema.Struct({
    code: Schema.optional(Schema.Number),
    name: Schema.optional(Schema.String),
    message: Schema.optional(Schema.String)
  }))
})
type ProcessingInfo = typeof ProcessingInfo.Type

const MediaAnswer = Schema.Struct({
  data: Schema.Struct({
    id: Schema.String,
    media_key: Schema.optional(Schema.String),
    expires_after_secs: Schema.optional(Schema.Number),
    processing_info: Schema.optional(ProcessingInfo)
  })
})

const processingFailed = (info: ProcessingInfo) =>
  new PublishError.Rejected({
    platform: Errors.platform,
    code: "MEDIA_PROCESSING_FAILED",
    message: `X could not process the media${info.error?.message !== undefined ? `: ${info.error.message}` : ""}`,
    platformCode: info.error?.name ?? (info.error?.code !== undefined ? String(info.error.code) : undefined),
    platformMessage: info.error?.message
  })

/** Polls STATUS (kit `Poll`) until X has processed the media, waiting `check_after_secs` between polls (at least 1 s). */
const awaitProcessing = (api: XApi, mediaId: string, first: ProcessingInfo, options?: UploadOptions) => {
  const timeout = options?.processingTimeout ?? "10 minutes"
  let info: ProcessingInfo | undefined = first
  // The first state came with FINALIZE: the first check reads it, the others ask STATUS.
  const check = Effect.suspend(() =>
    info !== undefined
      ? Effect.succeed(info)
      : api.request({
        method: "GET",
        path: "/2/media/upload",
        query: { command: "STATUS", media_id: mediaId },
        operation: "GET /2/media/upload (STATUS)",
        timeout: options?.requestTimeout ?? "2 minutes"
      }).pipe(
        Effect.flatMap((response) => decodeOrTransient(MediaAnswer, "STATUS")(response.body)),
        Effect.map((answer): ProcessingInfo => answer.data.processing_info ?? { state: "succeeded" })
      )
  ).pipe(Effect.flatMap((state): Effect.Effect<Poll.Check<void>, Errors.XPublishError> => {
    info = undefined
    if (state.state === "succeeded") return Effect.succeed(Poll.done(undefined))
    if (state.state === "failed") return Effect.fail(processingFailed(state))
    // X says when to ask again; 1 s when it does not, and never faster.
    return Effect.succeed(Poll.pending(Duration.seconds(state.check_after_secs ?? 1)))
  }))
  return Poll.until(check, { interval: "1 second", timeout }, () =>
    new PublishError.Transient({
      platform: Errors.platform,
      message: `X did not finish processing media ${mediaId} within ${Duration.format(Duration.fromInputUnsafe(timeout))}`
    }))
}

/**
 * Uploads one media item and returns its X media id, ready to attach.
 */
export const uploadMedia = (
  api: XApi,
  client: HttpClient.HttpClient,
  media: CoreMedia.Media,
  options?: UploadOptions
): Effect.Effect<string, Errors.XPublishError> => Effect.scoped(uploadScoped(api, client, media, options))

const uploadScoped = Effect.fn("XMedia.upload")(function*(
  api: XApi,
  client: HttpClient.HttpClient,
  media: CoreMedia.Media,
  options?: UploadOptions
) {
  const segmentBytes = Math.max(1, Math.min(options?.segmentBytes ?? defaultSegmentBytes, maxSegmentBytes))
  const requestTimeout = options?.requestTimeout ?? "2 minutes"
  const category = mediaCategory(media)
  const guard = options?.urlGuard ?? {}
  const fetcher = options?.fetcher ?? { client: UrlGuard.guardClient(client, guard), guard: UrlGuard.UrlGuard.make(guard) }
  // Opened before INIT: a source that cannot be read, or whose bytes are not
  // the declared type, sends nothing to X.
  const opened = yield* MediaSource.openMedia(media, {
    platform: Errors.platform,
    maxBytes: maxBytesFor(media),
    resolveStoredMedia: options?.resolveStoredMedia,
    timeout: requestTimeout,
    idleTimeout: requestTimeout,
    fetcher
  }).pipe(Effect.provideService(HttpClient.HttpClient, fetcher.client))
  // X wants total_bytes up front: a download without Content-Length is taken
  // at its declared size, and a different count is refused after the appends.
  const totalBytes = opened.sizeBytes ?? media.sizeBytes
  const bytes = { totalBytes, stream: opened.stream }

  const init = yield* api.request({
    method: "POST",
    path: "/2/media/upload/initialize",
    body: {
      _tag: "json",
      value: { media_type: opened.mimeType, total_bytes: bytes.totalBytes, media_category: category }
    },
    operation: "POST /2/media/upload/initialize",
    timeout: requestTimeout
  }).pipe(Effect.flatMap((response) => decodeOrTransient(MediaAnswer, "INIT")(response.body)))
  const mediaId = init.data.id

  let segmentIndex = 0
  let sent = 0
  yield* bytes.stream.pipe(
    segments(segmentBytes),
    Stream.runForEach((segment) => {
      const form = new FormData()
      form.append("segment_index", String(segmentIndex))
      form.append("media", new Blob([segment as Uint8Array<ArrayBuffer>], { type: "application/octet-stream" }), "blob")
      const index = segmentIndex
      segmentIndex += 1
      sent += segment.byteLength
      return api.request({
        method: "POST",
        path: `/2/media/upload/${mediaId}/append`,
        body: { _tag: "multipart", form },
        operation: `POST /2/media/upload/{id}/append (segment ${index})`,
        timeout: requestTimeout
      })
    })
  )
  if (sent !== bytes.totalBytes) {
    return yield* unreadable(`The media source gave ${sent} bytes, expected ${bytes.totalBytes}`)
  }

  const finalized = yield* api.request({
    method: "POST",
    path: `/2/media/upload/${mediaId}/finalize`,
    operation: "POST /2/media/upload/{id}/finalize",
    timeout: requestTimeout
  }).pipe(Effect.flatMap((response) => decodeOrTransient(MediaAnswer, "FINALIZE")(response.body)))
  const processing = finalized.data.processing_info
  if (processing !== undefined) yield* awaitProcessing(api, mediaId, processing, options)

  if (media.altText !== undefined && media.altText.length > 0) {
    yield* api.request({
      method: "POST",
      path: "/2/media/metadata",
      body: { _tag: "json", value: { id: mediaId, metadata: { alt_text: { text: media.altText } } } },
      operation: "POST /2/media/metadata",
      timeout: requestTimeout
    })
  }
  return mediaId
})
