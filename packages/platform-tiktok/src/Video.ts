/**
 * A Direct Post video by FILE_UPLOAD (platform-specs §5.2, §5.3, §5.5):
 *
 * 1. `creator_info/query`, and the post checked against it (`Creator.check`)
 *    before anything is uploaded;
 * 2. `video/init` with the chunk plan (`Chunks.plan`);
 * 3. each chunk `PUT` in order with its `Content-Range`, filled from the
 *    media stream one chunk at a time (memory stays at one chunk, whatever
 *    the file's size);
 * 4. `status/fetch` polled until `PUBLISH_COMPLETE`, or `FAILED` with its
 *    `fail_reason` (`Errors.fromFailReason`).
 */
import { PublishError } from "@omnipost/core"
import { Poll } from "@omnipost/platform-kit"
import { Duration, Effect, Schedule, Stream } from "effect"
import * as Chunks from "./Chunks.js"
import * as Creator from "./Creator.js"
import * as Errors from "./Errors.js"
import * as Api from "./internal/Api.js"

export interface PostInfo {
  readonly title: string
  readonly privacyLevel: string
  readonly disableComment: boolean
  readonly disableDuet: boolean
  readonly disableStitch: boolean
  /** More `post_info` fields as TikTok names them (`brand_content_toggle`, `is_aigc`, `video_cover_timestamp_ms`…). */
  readonly extra?: Readonly<Record<string, unknown>> | undefined
}

export interface VideoSource {
  readonly stream: Api.ByteStream
  readonly sizeBytes: number
  readonly mimeType: string
  readonly durationSeconds?: number | undefined
}

export interface Options {
  /**
   * `direct` (default, scope video.publish): `video/init` posts it. `inbox`
   * (scope video.upload): `inbox/video/init` takes the source only and the
   * creator finishes the post in the app; `SEND_TO_USER_INBOX` ends it.
   */
  readonly mode?: "direct" | "inbox" | undefined
  /** Preferred chunk size (clamped to 5–64 MB). */
  readonly chunkBytes?: number | undefined
  /** Wait between status polls. Default 5 s. */
  readonly pollInterval?: Duration.Input | undefined
  /** Most status polls before giving up (`Transient`). Default 360 (30 min at 5 s). */
  readonly maxPolls?: number | undefined
  /**
   * Creator info already queried and checked for this post (the publisher
   * does it, to name the creator): not asked again.
   */
  readonly creator?: Creator.CreatorInfo | undefined
  /**
   * What a failed status call (or running out of polls) becomes: TikTok has
   * the post by then, so the publisher marks the error with the publish id (a
   * retry polls again, never posts again). A FAILED status is final and
   * passes unmarked.
   */
  readonly pollFailed?: ((error: PublishError.PublishError, publishId: string) => PublishError.PublishError) | undefined
  /** Runs once TikTok answered init, before the first status call: the publisher keeps the publish id there. */
  readonly beforePoll?: ((publishId: string) => Effect.Effect<void>) | undefined
}

export interface Published {
  readonly publishId: string
  /** TikTok's `publicaly_available_post_id`: empty until moderation, and for SELF_ONLY posts. */
  readonly postIds: ReadonlyArray<string>
}

const asRecord = (u: unknown): Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : {}

const unexpected = (message: string) => new PublishError.Transient({ platform: Errors.platform, message: `TikTok: ${message}` })

/** Runs the whole post; fails with a publish error, never a defect. */
export const postFileVideo = (
  connection: Api.Connection,
  info: PostInfo,
  video: VideoSource,
  options: Options = {}
): Effect.Effect<Published, PublishError.PublishError> =>
  Effect.gen(function*() {
    const plan = Chunks.plan(video.sizeBytes, options.chunkBytes)
    const sourceInfo = {
      source: "FILE_UPLOAD",
      video_size: plan.videoSize,
      chunk_size: plan.chunkSize,
      total_chunk_count: plan.totalChunkCount
    }
    if (options.mode === "inbox") {
      const inbox = yield* Api.post(connection, "/v2/post/publish/inbox/video/init/", { source_info: sourceInfo }, true)
      return yield* uploadAndPoll(connection, inbox.body, plan, video, options)
    }
    const creator = options.creator ?? (yield* queryCreator(connection))
    const refused = options.creator !== undefined ? undefined : Creator.check(creator, {
      privacyLevel: info.privacyLevel,
      allowComment: !info.disableComment,
      allowDuet: !info.disableDuet,
      allowStitch: !info.disableStitch,
      durationSeconds: video.durationSeconds
    })
    if (refused !== undefined) return yield* refused

    const init = yield* Api.post(connection, "/v2/post/publish/video/init/", {
      post_info: postInfoBody(info),
      source_info: sourceInfo
    }, true)
    return yield* uploadAndPoll(connection, init.body, plan, video, options)
  })

const uploadAndPoll = (connection: Api.Connection, initBody: unknown, plan: Chunks.Plan, video: VideoSource, options: Options) =>
  Effect.gen(function*() {
    const data = asRecord(asRecord(initBody).data)
    const publishId = data.publish_id
    const uploadUrl = data.upload_url
    if (typeof publishId !== "string" || typeof uploadUrl !== "string") {
      return yield* new PublishError.OutcomeUnknown({ platform: Errors.platform, message: "TikTok: video/init answered without publish_id and upload_url" })
    }

    yield* upload(connection, uploadUrl, plan, video).pipe(
      Effect.catchIf((error) => error._tag !== "Rejected", (error) => uploadedAfterAll(connection, publishId, plan.videoSize, error, options))
    )
    return yield* pollAfterInit(connection, publishId, options)
  })

/**
 * A chunk whose answer was lost (a dropped connection, a 5xx) may still have
 * reached TikTok whole, and then TikTok posts the video: before the upload's
 * error stands (and a retry posts anew), `status/fetch` says whether every
 * byte arrived (`uploaded_bytes`, or a status past PROCESSING_UPLOAD); then
 * the post goes on to its polls. When even that cannot be asked, the error
 * keeps the publish id (`pollFailed`) and a retry polls it rather than
 * posting a second time.
 */
const uploadedAfterAll = (
  connection: Api.Connection,
  publishId: string,
  videoSize: number,
  uploadError: PublishError.PublishError,
  options: Options
) =>
  Effect.gen(function*() {
    const progress = yield* uploadProgress(connection, publishId).pipe(
      Effect.retry({ times: 2, schedule: Schedule.spaced(Duration.millis(200)) }),
      Effect.mapError(() => options.pollFailed !== undefined ? options.pollFailed(uploadError, publishId) : uploadError)
    )
    if (!uploadComplete(progress, videoSize)) return yield* uploadError
  })

/** A FILE_UPLOAD post's progress on one `status/fetch`: its status and the bytes TikTok has (`uploaded_bytes`). */
export interface UploadProgress {
  readonly status: string | undefined
  readonly uploadedBytes: number | undefined
}

/** One `status/fetch` of a post, read as upload progress. */
export const uploadProgress = (connection: Api.Connection, publishId: string): Effect.Effect<UploadProgress, PublishError.PublishError> =>
  Effect.map(Api.post(connection, "/v2/post/publish/status/fetch/", { publish_id: publishId }), (answer) => {
    const data = asRecord(asRecord(answer.body).data)
    return {
      status: typeof data.status === "string" ? data.status : undefined,
      uploadedBytes: typeof data.uploaded_bytes === "number" ? data.uploaded_bytes : undefined
    }
  })

/**
 * Whether TikTok has every byte of a `videoSize`-byte upload: a status past
 * PROCESSING_UPLOAD, or `uploaded_bytes` at the size. PROCESSING_UPLOAD with
 * fewer bytes is an upload still waiting for its chunks: nobody but the
 * uploader sends them, and TikTok fails the post once its upload URL expires
 * (an hour, platform-specs §5.3).
 */
export const uploadComplete = (progress: UploadProgress, videoSize: number): boolean =>
  progress.status !== "PROCESSING_UPLOAD" || progress.uploadedBytes === videoSize

/**
 * A Direct Post video TikTok downloads itself (PULL_FROM_URL): the URL must
 * be HTTPS on a domain or URL prefix verified in the developer portal, else
 * `url_ownership_unverified` (`Rejected` `URL_NOT_VERIFIED`). Creator info is
 * checked first, as for an upload; nothing is uploaded.
 */
export const postVideoByUrl = (
  connection: Api.Connection,
  info: PostInfo,
  videoUrl: string,
  durationSeconds: number | undefined,
  options: Options = {}
): Effect.Effect<Published, PublishError.PublishError> =>
  Effect.gen(function*() {
    if (!videoUrl.startsWith("https://")) {
      return yield* new PublishError.Rejected({
        platform: Errors.platform,
        code: "URL_NOT_VERIFIED",
        message: `TikTok pulls videos only over HTTPS from a verified domain; ${videoUrl} is not HTTPS`
      })
    }
    const creator = options.creator ?? (yield* queryCreator(connection))
    const refused = options.creator !== undefined ? undefined : Creator.check(creator, {
      privacyLevel: info.privacyLevel,
      allowComment: !info.disableComment,
      allowDuet: !info.disableDuet,
      allowStitch: !info.disableStitch,
      durationSeconds
    })
    if (refused !== undefined) return yield* refused
    const init = yield* Api.post(connection, "/v2/post/publish/video/init/", {
      post_info: postInfoBody(info),
      source_info: { source: "PULL_FROM_URL", video_url: videoUrl }
    }, true)
    const publishId = asRecord(asRecord(init.body).data).publish_id
    if (typeof publishId !== "string") {
      return yield* new PublishError.OutcomeUnknown({ platform: Errors.platform, message: "TikTok: video/init answered without publish_id" })
    }
    return yield* pollAfterInit(connection, publishId, options)
  })

/** `creator_info/query`: the creator's options, asked before every Direct Post. */
export const queryCreator = (connection: Api.Connection): Effect.Effect<Creator.CreatorInfo, PublishError.PublishError> =>
  Effect.gen(function*() {
    const queried = yield* Api.post(connection, "/v2/post/publish/creator_info/query/", undefined)
    const creator = Creator.decode(queried.body)
    if (creator === undefined) return yield* unexpected("creator_info/query gave no creator info")
    return creator
  })

const postInfoBody = (info: PostInfo) => ({
  title: info.title,
  privacy_level: info.privacyLevel,
  disable_comment: info.disableComment,
  disable_duet: info.disableDuet,
  disable_stitch: info.disableStitch,
  ...info.extra
})

/** Fills one chunk at a time from the stream and PUTs it; the last chunk takes the trailing bytes. */
const upload = (connection: Api.Connection, uploadUrl: string, plan: Chunks.Plan, video: VideoSource) =>
  Effect.gen(function*() {
    const chunks = Chunks.chunks(plan)
    let index = 0
    let buffer = new Uint8Array(chunks[0]!.last - chunks[0]!.first + 1)
    let filled = 0
    const send = Effect.suspend(() => {
      const chunk = chunks[index]!
      return Api.putChunk(
        connection,
        uploadUrl,
        buffer,
        video.mimeType,
        Chunks.contentRange(chunk, plan.videoSize),
        `PUT video chunk ${index + 1}/${chunks.length}`
      )
    })
    yield* Stream.runForEach(video.stream, (piece) =>
      Effect.gen(function*() {
        let offset = 0
        while (offset < piece.byteLength) {
          if (index >= chunks.length) return yield* unexpected(`the video gave more bytes than its size ${plan.videoSize}`)
          const take = Math.min(buffer.byteLength - filled, piece.byteLength - offset)
          buffer.set(piece.subarray(offset, offset + take), filled)
          filled += take
          offset += take
          if (filled === buffer.byteLength) {
            yield* send
            index += 1
            filled = 0
            if (index < chunks.length) buffer = new Uint8Array(chunks[index]!.last - chunks[index]!.first + 1)
          }
        }
      }))
    if (index < chunks.length) {
      return yield* new PublishError.Rejected({
        platform: Errors.platform,
        code: "MEDIA_SIZE_MISMATCH",
        message: `TikTok: the video ended after ${chunks[index]!.first + filled} bytes, but its size is ${plan.videoSize}`
      })
    }
  })

/** Polls a post TikTok just accepted, once `beforePoll` has kept its publish id. */
export const pollAfterInit = (connection: Api.Connection, publishId: string, options: Options) =>
  options.beforePoll === undefined
    ? poll(connection, publishId, options)
    : Effect.andThen(options.beforePoll(publishId), poll(connection, publishId, options))

/**
 * Asks `status/fetch` until a terminal status: `PUBLISH_COMPLETE` (or
 * `SEND_TO_USER_INBOX` for drafts) is the post, `FAILED` its `fail_reason`.
 */
export const poll = (
  connection: Api.Connection,
  publishId: string,
  options: Pick<Options, "pollInterval" | "maxPolls" | "pollFailed"> = {}
): Effect.Effect<Published, PublishError.PublishError> =>
  Effect.suspend(() => {
    const maxPolls = options.maxPolls ?? 360
    // A status call that failed, or polls run out: the post may still come; FAILED is final and not marked.
    const marked = (error: PublishError.PublishError) => options.pollFailed !== undefined ? options.pollFailed(error, publishId) : error
    const check = Api.post(connection, "/v2/post/publish/status/fetch/", { publish_id: publishId }).pipe(
      Effect.mapError(marked),
      Effect.flatMap((answer): Effect.Effect<Poll.Check<Published>, PublishError.PublishError> => {
        const data = asRecord(asRecord(answer.body).data)
        const status = data.status
        if (status === "PUBLISH_COMPLETE" || status === "SEND_TO_USER_INBOX") {
          const ids = Array.isArray(data.publicaly_available_post_id) ? data.publicaly_available_post_id : []
          return Effect.succeed(Poll.done({ publishId, postIds: ids.map(String) } satisfies Published))
        }
        if (status === "FAILED") {
          return Errors.fromFailReason(typeof data.fail_reason === "string" ? data.fail_reason : undefined, publishId)
        }
        return Effect.succeed(Poll.pending())
      })
    )
    return Poll.until(
      check,
      { interval: options.pollInterval ?? Duration.seconds(5), maxChecks: maxPolls },
      () => marked(unexpected(`post ${publishId} still processing after ${maxPolls} status checks`))
    )
  })
