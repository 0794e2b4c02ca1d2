/**
 * LinkedIn's upload protocols. Every medium is opened through the platform
 * kit's `MediaSource` (guarded URLs, stored media, the size cap from the
 * rules table, the type judged from the bytes) before LinkedIn is asked for
 * anything, and uploaded with the type the bytes have.
 *
 * - **Images** (`/rest/images`) and **documents** (`/rest/documents`):
 *   `POST ?action=initializeUpload` with the owner (the post's author) gives
 *   an upload URL and the URN; `PUT` the bytes there; then `GET` the URN
 *   until its `status` is `AVAILABLE` (`PROCESSING_FAILED` is final).
 * - **Videos** (`/rest/videos`): `POST ?action=initializeUpload` with the
 *   size gives upload instructions (byte ranges); each range is `PUT`, in
 *   order, exactly `firstByte..lastByte`, and its `ETag` kept; `POST
 *   ?action=finalizeUpload` with the ETags in order; then `GET` until
 *   `AVAILABLE`. The video streams through: one part (4 MiB) is held at a time.
 *
 * Sources: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/images-api,
 * .../videos-api, .../documents-api; platform-specs §3.3–§3.4.
 */
import { PublishError, Rules } from "@omnipost/core"
import type { Media as CoreMedia, Plugin } from "@omnipost/core"
import { MediaSource, type UrlGuard } from "@omnipost/platform-kit"
import { type Duration, Effect, Layer, Schedule, Schema, Stream } from "effect"
import { HttpClient } from "effect/http"
import * as Errors from "./Errors.js"
import * as Rest from "./internal/Rest.js"

export interface UploadContext {
  readonly connection: Rest.Connection
  readonly fetcher: UrlGuard.Fetcher
  readonly resolveStoredMedia?: Plugin.ResolveStoredMedia | undefined
  /** How often an asset's status is asked while LinkedIn processes it. Default 2 seconds. */
  readonly pollInterval?: Duration.Input | undefined
  /** How many times it is asked before giving up (`Transient`). Default 300 (10 minutes at 2 s). */
  readonly maxPolls?: number | undefined
}

/** A medium to upload: its source and declared type (a post's media item, or a thumbnail). */
export interface Upload {
  readonly source: CoreMedia.MediaSource
  readonly mimeType: string
}

export type AssetKind = "image" | "document" | "video"

const rejected = (code: string, message: string) => new PublishError.Rejected({ platform: Errors.platform, code, message })

const InitializeAnswer = Schema.Struct({
  value: Schema.Struct({
    uploadUrl: Schema.String,
    image: Schema.optional(Schema.String),
    document: Schema.optional(Schema.String)
  })
})

const VideoInitializeAnswer = Schema.Struct({
  value: Schema.Struct({
    video: Schema.String,
    uploadToken: Schema.optional(Schema.String),
    uploadInstructions: Schema.Array(Schema.Struct({ uploadUrl: Schema.String, firstByte: Schema.Number, lastByte: Schema.Number }))
  })
})

const StatusAnswer = Schema.Struct({ status: Schema.optional(Schema.String) })

const unexpected = (operation: string) =>
  new PublishError.Transient({ platform: Errors.platform, message: `${operation}: unexpected answer from LinkedIn` })

const decode = <S extends Schema.Top>(schema: S, operation: string) => (answer: Rest.Answer) =>
  Schema.decodeUnknownEffect(schema)(answer.body).pipe(Effect.mapError(() => unexpected(operation)))

/** Opens a medium and checks its type (from the bytes) and size against a rules row. */
const open = (context: UploadContext, upload: Upload, rule: Rules.MediaKindRule, what: string) =>
  Effect.gen(function*() {
    const opened = yield* MediaSource.open(upload.source, {
      platform: Errors.platform,
      declaredMimeType: upload.mimeType,
      maxBytes: rule.maxSizeBytes,
      resolveStoredMedia: context.resolveStoredMedia,
      fetcher: context.fetcher
    })
    if (!Rules.mimeTypeAllowed(rule.mimeTypes, opened.mimeType)) {
      return yield* rejected("UNSUPPORTED_MEDIA_TYPE", `LinkedIn does not take ${opened.mimeType} as ${what} (it takes ${rule.mimeTypes.join(", ")})`)
    }
    const { height, width } = opened.sniffed ?? {}
    if (rule.maxPixels !== undefined && width !== undefined && height !== undefined && width * height > rule.maxPixels) {
      return yield* rejected("DIMENSIONS_OUT_OF_RANGE", `${what} is ${width}×${height} pixels; LinkedIn takes fewer than ${rule.maxPixels + 1}`)
    }
    if (rule.minSizeBytes !== undefined && opened.sizeBytes !== undefined && opened.sizeBytes < rule.minSizeBytes) {
      return yield* rejected("MEDIA_TOO_SMALL", `${what} is ${opened.sizeBytes} bytes; LinkedIn takes at least ${rule.minSizeBytes}`)
    }
    return opened
  })

/** The bytes with their size: a source of unknown size (a URL without Content-Length) is read into memory (capped by the rule). */
const sized = (opened: MediaSource.Opened) =>
  opened.sizeBytes !== undefined
    ? Effect.succeed({ stream: opened.stream, contentLength: opened.sizeBytes })
    : Effect.map(Stream.runCollect(opened.stream), (chunks) => {
      const total = chunks.reduce((n, chunk) => n + chunk.byteLength, 0)
      const bytes = new Uint8Array(total)
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.byteLength
      }
      return { stream: Stream.succeed(bytes), contentLength: total }
    })

/** Asks for an asset's status until it is `AVAILABLE`. */
const waitAvailable = (context: UploadContext, kind: AssetKind, urn: string) => {
  const operation = `GET /rest/${kind}s/{urn}`
  const once = Rest.call(context.connection, { method: "GET", path: `/rest/${kind}s/${encodeURIComponent(urn)}`, operation }).pipe(
    Effect.flatMap(decode(StatusAnswer, operation)),
    Effect.flatMap((answer) => {
      if (answer.status === "AVAILABLE") return Effect.succeed(true)
      if (answer.status === "PROCESSING_FAILED") {
        return Effect.fail(rejected("MEDIA_PROCESSING_FAILED", `LinkedIn could not process the ${kind} ${urn} (PROCESSING_FAILED)`))
      }
      return Effect.succeed(false)
    })
  )
  const maxPolls = context.maxPolls ?? 300
  return once.pipe(
    Effect.repeat({
      schedule: Schedule.spaced(context.pollInterval ?? "2 seconds"),
      until: (available) => available,
      times: maxPolls - 1
    }),
    Effect.flatMap((available) =>
      available
        ? Effect.void
        : Effect.fail(new PublishError.Transient({
          platform: Errors.platform,
          message: `the ${kind} ${urn} was not AVAILABLE after ${maxPolls} checks; LinkedIn may still be processing it`
        }))
    )
  )
}

/**
 * Uploads an image (or a GIF, or an article's thumbnail) or a document owned
 * by `owner` and waits until it is `AVAILABLE`; gives its URN.
 */
export const uploadAsset = (
  context: UploadContext,
  kind: "image" | "document",
  upload: Upload,
  owner: string,
  rule: Rules.MediaKindRule
): Effect.Effect<string, PublishError.PublishError> =>
  Effect.scoped(Effect.gen(function*() {
    const opened = yield* open(context, upload, rule, `the ${kind}`)
    const bytes = yield* sized(opened)
    const operation = `POST /rest/${kind}s?action=initializeUpload`
    const initialized = yield* Rest.call(context.connection, {
      method: "POST",
      path: `/rest/${kind}s`,
      query: { action: "initializeUpload" },
      json: { initializeUploadRequest: { owner } },
      operation
    }).pipe(Effect.flatMap(decode(InitializeAnswer, operation)))
    const urn = initialized.value[kind]
    if (urn === undefined) return yield* unexpected(operation)
    yield* Rest.call(context.connection, {
      method: "PUT",
      path: initialized.value.uploadUrl,
      bytes,
      operation: `PUT the ${kind} bytes`,
      versioned: false,
      timeout: "10 minutes"
    })
    yield* waitAvailable(context, kind, urn)
    return urn
  })).pipe(Effect.provide(contextLayer(context)))

/** `MediaSource.open` asks for an `HttpClient` in its type; the fetcher given is the one it uses. */
const contextLayer = (context: UploadContext) => Layer.succeed(HttpClient.HttpClient, context.fetcher.client)

/** One part of a video upload, as LinkedIn's instructions give it. */
export interface PartInstruction {
  readonly uploadUrl: string
  readonly firstByte: number
  readonly lastByte: number
}

/** ETags arrive quoted (`"abc"`); LinkedIn's finalize wants them bare. */
export const bareEtag = (etag: string): string => etag.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1")

/**
 * Uploads a video owned by `owner`: initialize with its size, each part in
 * order (exactly its byte range), finalize with the ETags, then wait until
 * it is `AVAILABLE`. Gives its URN.
 */
export const uploadVideo = (
  context: UploadContext,
  upload: Upload,
  owner: string,
  rule: Rules.MediaKindRule
): Effect.Effect<string, PublishError.PublishError> =>
  Effect.scoped(Effect.gen(function*() {
    const opened = yield* open(context, upload, rule, "the video")
    const { contentLength, stream } = yield* sized(opened)
    const initOperation = "POST /rest/videos?action=initializeUpload"
    const initialized = yield* Rest.call(context.connection, {
      method: "POST",
      path: "/rest/videos",
      query: { action: "initializeUpload" },
      json: { initializeUploadRequest: { owner, fileSizeBytes: contentLength, uploadCaptions: false, uploadThumbnail: false } },
      operation: initOperation
    }).pipe(Effect.flatMap(decode(VideoInitializeAnswer, initOperation)))
    const { uploadInstructions, uploadToken, video } = initialized.value
    const instructions = [...uploadInstructions].sort((a, b) => a.firstByte - b.firstByte)
    const covered = instructions.every((part, index) =>
      part.lastByte >= part.firstByte && part.firstByte === (index === 0 ? 0 : instructions[index - 1]!.lastByte + 1)
    ) && instructions.at(-1)?.lastByte === contentLength - 1
    if (!covered) return yield* unexpected(`${initOperation} (the upload instructions do not cover the ${contentLength} bytes)`)

    const etags: Array<string> = []
    const sendPart = (index: number, bytes: Uint8Array) =>
      Rest.call(context.connection, {
        method: "PUT",
        path: instructions[index]!.uploadUrl,
        bytes: { stream: Stream.succeed(bytes), contentLength: bytes.byteLength },
        operation: `PUT video part ${index + 1} of ${instructions.length}`,
        versioned: false,
        timeout: "5 minutes"
      }).pipe(
        Effect.flatMap((answer) => {
          const etag = answer.headers["etag"]
          return etag === undefined || etag === ""
            ? Effect.fail(unexpected(`PUT video part ${index + 1} (no ETag)`))
            : Effect.sync(() => void etags.push(bareEtag(etag)))
        })
      )
    // One part in memory at a time: fill it from the stream, send it, go on.
    let index = 0
    let buffer = new Uint8Array(instructions[0]!.lastByte - instructions[0]!.firstByte + 1)
    let filled = 0
    yield* Stream.runForEach(stream, (chunk) =>
      Effect.gen(function*() {
        let offset = 0
        while (offset < chunk.byteLength) {
          const take = Math.min(buffer.byteLength - filled, chunk.byteLength - offset)
          buffer.set(chunk.subarray(offset, offset + take), filled)
          filled += take
          offset += take
          if (filled === buffer.byteLength) {
            yield* sendPart(index, buffer)
            index += 1
            if (index < instructions.length) {
              const next = instructions[index]!
              buffer = new Uint8Array(next.lastByte - next.firstByte + 1)
              filled = 0
            } else if (offset < chunk.byteLength) {
              return yield* new PublishError.Transient({ platform: Errors.platform, message: "the video gave more bytes than its size" })
            }
          }
        }
      }))
    if (index < instructions.length) {
      return yield* new PublishError.Transient({ platform: Errors.platform, message: "the video gave fewer bytes than its size" })
    }
    yield* Rest.call(context.connection, {
      method: "POST",
      path: "/rest/videos",
      query: { action: "finalizeUpload" },
      json: { finalizeUploadRequest: { video, uploadToken: uploadToken ?? "", uploadedPartIds: etags } },
      operation: "POST /rest/videos?action=finalizeUpload"
    })
    yield* waitAvailable(context, "video", video)
    return video
  })).pipe(Effect.provide(contextLayer(context)))
