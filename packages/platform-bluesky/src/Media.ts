/**
 * Bluesky's upload flows.
 *
 * - Images: `com.atproto.repo.uploadBlob` with the raw bytes.
 * - Video: through the video service (platform-specs §6.3; docs.bsky.app
 *   "Uploading Video"): `com.atproto.server.getServiceAuth` for the user's
 *   PDS → `app.bsky.video.uploadVideo` (raw streamed body) →
 *   `app.bsky.video.getJobStatus` polled with backoff and a time limit until
 *   the job has a blob.
 *
 * Size limits are read from the rules table (core's `Rules.bluesky`, or the
 * rows the publisher was given), never restated here.
 * - Link cards: the page's OpenGraph title, description and image, fetched
 *   best-effort; the URL alone when the page cannot be read.
 *
 * Bodies are streamed from the media source (a URL, a file, bytes): a video
 * is never held whole in memory.
 */
import { Clock, Duration, Effect, Schema, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { type Media as CoreMedia, type Plugin, PublishError, Rules } from "@omnipost/core"
import { MediaSource, Poll, UrlGuard } from "@omnipost/platform-kit"
import { platform, toPublishError } from "./Errors.js"
import { pdsOf, type SessionManager } from "./internal/Session.js"
import * as Xrpc from "./internal/Xrpc.js"

/** Largest HTML read while looking for OpenGraph tags. */
const maxPageBytes = 512 * 1024

/** A blob reference as `uploadBlob` returns it; embedded whole in the record. */
export const BlobRef = Schema.Struct({
  $type: Schema.Literal("blob"),
  ref: Schema.Struct({ $link: Schema.String }),
  mimeType: Schema.String,
  size: Schema.Number
})
export type BlobRef = typeof BlobRef.Type

const UploadBlobAnswer = Schema.Struct({ blob: BlobRef })

export const JobStatus = Schema.Struct({
  jobId: Schema.String,
  did: Schema.optional(Schema.String),
  state: Schema.String,
  progress: Schema.optional(Schema.Number),
  blob: Schema.optional(BlobRef),
  error: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String)
})
export type JobStatus = typeof JobStatus.Type

export interface AspectRatio {
  readonly width: number
  readonly height: number
}

/** Opens a `stored` source: core's one stored-media hook, shared by every platform. */
export type ResolveStoredMedia = Plugin.ResolveStoredMedia

export interface VideoPolling {
  /** First wait between status polls. */
  readonly initialDelay: Duration.Input
  /** Longest wait between polls; each wait is 1.5× the one before. */
  readonly maxDelay: Duration.Input
  /** Give up (as `Transient`: nothing was posted) when processing takes longer. */
  readonly timeout: Duration.Input
}

/** What the upload functions need: built once per publish call by the publisher. */
export interface UploadContext {
  readonly client: HttpClient.HttpClient
  readonly session: SessionManager
  readonly loginService: string
  readonly videoServiceUrl: string
  /** The video service's DID: the audience of the `getUploadLimits` token. */
  readonly videoServiceDid: string
  readonly requestTimeout: Duration.Input
  readonly uploadTimeout: Duration.Input
  readonly videoPolling: VideoPolling
  /** The platform's rules: media size limits are read from them. */
  readonly rules: Rules.PlatformRules
  readonly resolveStoredMedia?: ResolveStoredMedia | undefined
  /** The guarded client and URL guard for users' URLs (media URLs, link pages), taken when the publisher was built. */
  readonly fetcher: UrlGuard.Fetcher
}

/**
 * Opens a media source through the kit's `MediaSource` (one policy for every
 * platform: guarded URLs with redirects, 429/5xx Transient, the size capped
 * at `maxBytes`, the type judged from the bytes before anything is sent).
 */
const open = (context: UploadContext, source: CoreMedia.MediaSource, declaredMimeType: string | undefined, maxBytes: number | undefined) =>
  MediaSource.open(source, {
    platform,
    declaredMimeType,
    maxBytes,
    resolveStoredMedia: context.resolveStoredMedia,
    timeout: context.requestTimeout,
    idleTimeout: context.uploadTimeout,
    fetcher: context.fetcher
  }).pipe(Effect.provideService(HttpClient.HttpClient, context.fetcher.client))

const decodeOr = <S extends Schema.Top>(schema: S, nsid: string) => (body: unknown) =>
  Schema.decodeUnknownEffect(schema)(body).pipe(
    Effect.mapError(() => new Xrpc.XrpcFailure({ nsid, kind: "decode", message: `${nsid}: unexpected answer` }))
  ) as Effect.Effect<S["Type"], Xrpc.XrpcFailure>

/** Uploads one blob (`com.atproto.repo.uploadBlob`) from a source, streamed. */
export const uploadBlob = (
  context: UploadContext,
  source: CoreMedia.MediaSource,
  mimeType: string | undefined,
  maxBytes: number | undefined
): Effect.Effect<BlobRef, PublishError.PublishError> =>
  // The source is opened inside the call: a retry after a token refresh reads it again from the start.
  context.session.run((session) =>
    Effect.scoped(Effect.gen(function*() {
      // The bytes are judged before they are sent: the PDS keeps the type it sniffs, whatever is declared.
      const opened = yield* open(context, source, mimeType, maxBytes)
      const answer = yield* Xrpc.call(context.client, {
        service: pdsOf(session, context.loginService),
        nsid: "com.atproto.repo.uploadBlob",
        method: "POST",
        token: session.accessJwt,
        raw: { stream: opened.stream, contentType: opened.mimeType, contentLength: opened.sizeBytes },
        timeout: context.uploadTimeout
      })
      return (yield* decodeOr(UploadBlobAnswer, "com.atproto.repo.uploadBlob")(answer)).blob
    }))
  )

export interface ImageEmbedImage {
  readonly image: BlobRef
  readonly alt: string
  readonly aspectRatio?: AspectRatio
}

const aspectRatioOf = (media: CoreMedia.Media): AspectRatio | undefined =>
  media.width !== undefined && media.height !== undefined && media.width > 0 && media.height > 0
    ? { width: Math.round(media.width), height: Math.round(media.height) }
    : undefined

/** The rules row the publisher posts to: Bluesky has one placement, the feed. */
const feedRow = (rules: Rules.PlatformRules) => Rules.placementRule(rules, rules.defaultPlacement)

/** A declared size over the rules' limit for its kind: refused before anything is sent. */
const tooLarge = (context: UploadContext, media: CoreMedia.Media): PublishError.Rejected | undefined => {
  const max = feedRow(context.rules)?.media[media.kind]?.maxSizeBytes
  return max !== undefined && media.sizeBytes > max
    ? new PublishError.Rejected({
      platform,
      code: "MEDIA_TOO_LARGE",
      message: `Bluesky ${media.kind === "video" ? "videos" : "images"} are at most ${max} bytes; this one is ${media.sizeBytes}`
    })
    : undefined
}

/** Uploads an image (within the rules' size limit) and returns its `app.bsky.embed.images#image`. */
export const uploadImage = Effect.fn("Bluesky.uploadImage")(function*(context: UploadContext, media: CoreMedia.Media) {
  const refusal = tooLarge(context, media)
  if (refusal !== undefined) return yield* refusal
  const image = yield* uploadBlob(context, media.source, media.mimeType, feedRow(context.rules)?.media.image?.maxSizeBytes)
  const aspectRatio = aspectRatioOf(media)
  return { image, alt: media.altText ?? "", ...(aspectRatio !== undefined ? { aspectRatio } : {}) } satisfies ImageEmbedImage
})

/**
 * The service DID of a server at `url`: `did:web:` and its host name, without
 * the port. The reference PDS names itself so (`did:web:${PDS_HOSTNAME}`,
 * pds/src/config/config.ts) and refuses a service token for any other
 * audience (`BadJwtAudience`); the official app derives the audience the same
 * way (social-app `getServiceAuthAudFromUrl`, `URL.hostname`).
 *
 * @example
 * serviceDidOf("http://localhost:2583") // "did:web:localhost"
 */
export const serviceDidOf = (url: string): string => `did:web:${new URL(url).hostname}`

/** Polls `getJobStatus` (kit `Poll`, waits growing 1.5× up to `maxDelay`) until the job has a blob, failed, or ran out of time. */
const awaitJob = (context: UploadContext, first: JobStatus) => {
  let job = first
  let checked = false
  // The first status came with the upload: the first check reads it, the others ask.
  const check = Effect.suspend(() =>
    !checked
      ? Effect.sync(() => (checked = true, job))
      : Xrpc.call(context.client, {
        service: context.videoServiceUrl,
        nsid: "app.bsky.video.getJobStatus",
        method: "GET",
        params: { jobId: job.jobId },
        timeout: context.requestTimeout
      }).pipe(
        Effect.flatMap(decodeOr(Schema.Struct({ jobStatus: JobStatus }), "app.bsky.video.getJobStatus")),
        Effect.catch((failure) => mapXrpc(failure)),
        Effect.map((answer) => (job = answer.jobStatus))
      )
  ).pipe(Effect.flatMap((status) => {
    if (status.blob !== undefined) return Effect.succeed(Poll.done(status.blob))
    if (status.state === "JOB_STATE_FAILED") {
      return Effect.fail(
        new PublishError.Rejected({
          platform,
          code: "MEDIA_PROCESSING_FAILED",
          message: `Bluesky could not process the video: ${status.message ?? status.error ?? "no reason given"}`,
          ...(status.error !== undefined ? { platformCode: status.error } : {}),
          ...(status.message !== undefined ? { platformMessage: status.message } : {})
        })
      )
    }
    return Effect.succeed(Poll.pending())
  }))
  const { initialDelay, maxDelay, timeout } = context.videoPolling
  return Poll.until(check, { interval: initialDelay, factor: 1.5, maxInterval: maxDelay, timeout }, () =>
    new PublishError.Transient({
      platform,
      message: `Bluesky video processing did not finish within ${Duration.format(Duration.fromInputUnsafe(timeout))} (job ${job.jobId}, state ${job.state})`
    })).pipe(Effect.withSpan("Bluesky.awaitVideoJob"))
}

const mapXrpc = (failure: Xrpc.XrpcFailure) =>
  Effect.flatMap(Clock.currentTimeMillis, (nowMillis) => Effect.fail(toPublishError(failure, { nowMillis, write: false })))

const UploadLimits = Schema.Struct({
  canUpload: Schema.Boolean,
  remainingDailyVideos: Schema.optional(Schema.Number),
  remainingDailyBytes: Schema.optional(Schema.Number),
  error: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String)
})

/**
 * Reads the account's daily video quota (`app.bsky.video.getUploadLimits`)
 * before uploading, as platform-specs §0 advises for live quotas. Best effort:
 * when the check itself fails, the upload goes ahead and the service decides.
 */
const checkVideoQuota = Effect.fn("Bluesky.checkVideoQuota")(function*(context: UploadContext, sizeBytes: number) {
  const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  const limits = yield* context.session.run((current) =>
    Xrpc.call(context.client, {
      service: pdsOf(current, context.loginService),
      nsid: "com.atproto.server.getServiceAuth",
      method: "GET",
      // As the official app asks for it (social-app upload.shared.ts): the video service's DID and this method.
      params: {
        aud: context.videoServiceDid,
        lxm: "app.bsky.video.getUploadLimits",
        exp: nowSeconds + 300
      },
      token: current.accessJwt,
      timeout: context.requestTimeout
    }).pipe(
      Effect.flatMap(decodeOr(Schema.Struct({ token: Schema.String }), "com.atproto.server.getServiceAuth")),
      Effect.flatMap(({ token }) =>
        Xrpc.call(context.client, {
          service: context.videoServiceUrl,
          nsid: "app.bsky.video.getUploadLimits",
          method: "GET",
          token,
          timeout: context.requestTimeout
        })
      ),
      Effect.flatMap(decodeOr(UploadLimits, "app.bsky.video.getUploadLimits"))
    )
  ).pipe(
    Effect.tapError((error) => Effect.logDebug(`Bluesky video quota check skipped: ${error.message}`)),
    Effect.option
  )
  if (limits._tag === "None") return
  const quota = limits.value
  const bytesShort = quota.remainingDailyBytes !== undefined && quota.remainingDailyBytes < sizeBytes
  if (quota.canUpload && !bytesShort) return
  return yield* new PublishError.RateLimited({
    platform,
    scope: "quota",
    message: `Bluesky's daily video quota is used up (${quota.remainingDailyVideos ?? "?"} videos, ${
      quota.remainingDailyBytes ?? "?"
    } bytes left; this video is ${sizeBytes} bytes)${quota.message !== undefined ? `: ${quota.message}` : ""}`,
    ...(quota.error !== undefined ? { platformCode: quota.error } : {}),
    ...(quota.message !== undefined ? { platformMessage: quota.message } : {})
  })
})

/**
 * Uploads a video through the video service and waits for processing; returns
 * the processed blob for an `app.bsky.embed.video`.
 */
export const uploadVideo = Effect.fn("Bluesky.uploadVideo")(function*(context: UploadContext, media: CoreMedia.Media) {
  const refusal = tooLarge(context, media)
  if (refusal !== undefined) return yield* refusal
  yield* checkVideoQuota(context, media.sizeBytes)
  const session = yield* context.session.current
  const nowSeconds = Math.floor((yield* Clock.currentTimeMillis) / 1000)
  // The video service stores the processed video on the user's PDS with this token, so its audience is
  // the PDS's service DID and its method uploadBlob (docs.bsky.app "Uploading Video"); 30 minutes covers a slow upload.
  const serviceToken = yield* context.session.run((current) =>
    Xrpc.call(context.client, {
      service: pdsOf(current, context.loginService),
      nsid: "com.atproto.server.getServiceAuth",
      method: "GET",
      params: {
        aud: serviceDidOf(pdsOf(current, context.loginService)),
        lxm: "com.atproto.repo.uploadBlob",
        exp: nowSeconds + 1800
      },
      token: current.accessJwt,
      timeout: context.requestTimeout
    }).pipe(Effect.flatMap(decodeOr(Schema.Struct({ token: Schema.String }), "com.atproto.server.getServiceAuth")))
  )
  const uploaded = yield* Effect.scoped(Effect.gen(function*() {
    const opened = yield* open(context, media.source, media.mimeType, feedRow(context.rules)?.media.video?.maxSizeBytes)
    return yield* Xrpc.call(context.client, {
      service: context.videoServiceUrl,
      nsid: "app.bsky.video.uploadVideo",
      method: "POST",
      params: { did: session.did, name: `video-${nowSeconds}.${media.mimeType === "video/quicktime" ? "mov" : "mp4"}` },
      token: serviceToken.token,
      // The video service wants a Content-Length (platform-specs §6.3): a URL answered without one
      // falls back to the size the media record declares.
      raw: { stream: opened.stream, contentType: opened.mimeType, contentLength: opened.sizeBytes ?? media.sizeBytes },
      timeout: context.uploadTimeout
    }).pipe(
      // The service answers 409 `already_exists` with the earlier job for a video it has seen: reuse that job.
      Effect.catch((failure) =>
        failure.status === 409 && typeof (failure.body as { jobId?: unknown } | undefined)?.jobId === "string"
          ? Effect.succeed(failure.body)
          : Effect.fail(failure)
      ),
      Effect.flatMap((body) => {
        const status = (body as { jobStatus?: unknown } | undefined)?.jobStatus ?? body
        return decodeOr(JobStatus, "app.bsky.video.uploadVideo")(status)
      }),
      Effect.catch((failure) => mapXrpc(failure))
    )
  }))
  return yield* awaitJob(context, uploaded)
})

export interface ExternalEmbed {
  readonly uri: string
  readonly title: string
  readonly description: string
  readonly thumb?: BlobRef
}

const decodeEntities = (value: string): string =>
  value
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(parseInt(dec, 10)))
    .replace(/&quot;/g, "\"")
    .replace(/&#39;|&apos;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")

/** Reads `og:*` (and `<title>` / `description`) from an HTML page. */
export const parseOpenGraph = (html: string): { title?: string; description?: string; image?: string } => {
  const meta = new Map<string, string>()
  for (const tag of html.match(/<meta\b[^>]*>/gi) ?? []) {
    const key = /\b(?:property|name)\s*=\s*["']([^"']+)["']/i.exec(tag)?.[1]?.toLowerCase()
    const content = /\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)')/i.exec(tag)
    const value = content?.[1] ?? content?.[2]
    if (key !== undefined && value !== undefined && !meta.has(key)) meta.set(key, decodeEntities(value).trim())
  }
  const titleTag = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1]
  const title = meta.get("og:title") ?? meta.get("twitter:title") ?? (titleTag !== undefined ? decodeEntities(titleTag).trim() : undefined)
  const description = meta.get("og:description") ?? meta.get("twitter:description") ?? meta.get("description")
  const image = meta.get("og:image") ?? meta.get("twitter:image")
  return {
    ...(title ? { title } : {}),
    ...(description ? { description } : {}),
    ...(image ? { image } : {})
  }
}

/** Reads at most `limit` bytes of a response body. */
const readAtMost = (stream: Stream.Stream<Uint8Array, unknown>, limit: number) =>
  Effect.gen(function*() {
    const chunks: Array<Uint8Array> = []
    let total = 0
    yield* Stream.runForEachWhile(stream, (chunk) =>
      Effect.sync(() => {
        chunks.push(chunk)
        total += chunk.byteLength
        return total < limit
      }))
    const bytes = new Uint8Array(Math.min(total, limit))
    let offset = 0
    for (const chunk of chunks) {
      const part = chunk.subarray(0, Math.min(chunk.byteLength, bytes.byteLength - offset))
      bytes.set(part, offset)
      offset += part.byteLength
      if (offset >= bytes.byteLength) break
    }
    return { bytes, truncated: total > limit }
  })

const fetchPage = (client: HttpClient.HttpClient, url: string, timeout: Duration.Input, accept: string, limit: number) =>
  Effect.gen(function*() {
    const response = yield* HttpClient.followRedirects(client, 5).execute(HttpClientRequest.get(url, { headers: { accept } }))
    if (response.status < 200 || response.status >= 300) return undefined
    const contentType = response.headers["content-type"] ?? ""
    const read = yield* readAtMost(response.stream, limit + 1)
    return { contentType, ...read }
  }).pipe(
    Effect.timeoutOption(timeout),
    Effect.map((found) => (found._tag === "Some" ? found.value : undefined)),
    Effect.catch(() => Effect.succeed(undefined))
  )

/**
 * Builds an `app.bsky.embed.external` card for a link: title, description and
 * thumbnail from the page's OpenGraph tags, best-effort. Never fails: a page
 * that cannot be read gives a card with the URL as its title.
 */
export const linkCard = Effect.fn("Bluesky.linkCard")(function*(
  context: UploadContext,
  uri: string,
  fetchTimeout: Duration.Input
) {
  const page = yield* fetchPage(context.fetcher.client, uri, fetchTimeout, "text/html,application/xhtml+xml", maxPageBytes)
  const og = page !== undefined && /html/i.test(page.contentType) ? parseOpenGraph(new TextDecoder().decode(page.bytes)) : {}
  let thumb: BlobRef | undefined
  if (og.image !== undefined) {
    const imageUrl = (() => {
      try {
        return new URL(og.image, uri).toString()
      } catch {
        return undefined
      }
    })()
    const maxThumbBytes = feedRow(context.rules)?.linkCardThumbnail?.maxSizeBytes ?? 0
    const image = imageUrl === undefined || maxThumbBytes === 0
      ? undefined
      : yield* fetchPage(context.fetcher.client, imageUrl, fetchTimeout, "image/*", maxThumbBytes)
    if (image !== undefined && !image.truncated && /^image\//i.test(image.contentType)) {
      const mimeType = image.contentType.split(";")[0]!.trim()
      thumb = yield* uploadBlob(context, { _tag: "bytes", data: image.bytes }, mimeType, maxThumbBytes).pipe(
        Effect.catch(() => Effect.succeed(undefined))
      )
    }
  }
  return {
    uri,
    title: og.title ?? uri,
    description: og.description ?? "",
    ...(thumb !== undefined ? { thumb } : {})
  } satisfies ExternalEmbed
})
