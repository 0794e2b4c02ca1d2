/**
 * The Bluesky `PlatformPublisher`: posts `app.bsky.feed.post` records with
 * `com.atproto.repo.createRecord` through effect's `HttpClient`, so the
 * transport is swappable (Node, fetch, a test client).
 *
 * A publish call works in two phases so that as little as possible can fail
 * once something is visible: first every part is prepared (text checked,
 * mentions resolved, images and video uploaded, link cards fetched), then the
 * records are created strictly in order, each later part replying to the one
 * before (`reply.parent`) within the first (`reply.root`).
 *
 * @example
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { makeBlueskyPublisher } from "@omnipost/platform-bluesky"
 *
 * const program = Effect.gen(function*() {
 *   const bluesky = yield* makeBlueskyPublisher()
 *   return yield* bluesky.publish(request)
 * }).pipe(Effect.provide(NodeHttpClient.layerUndici))
 */
import { Clock, Context, DateTime, Duration, Effect, Layer, Random, Schema } from "effect"
import { HttpClient } from "effect/http"
import { UrlGuard } from "@omnipost/platform-kit"
import { Backoff, type Post, PublishError, type Publisher, type Rules } from "@omnipost/core"
import { type BlueskyCredentials, BlueskyCredentials as CredentialsSchema, defaultServiceUrl, getProfile } from "./Auth.js"
import { platform } from "./Errors.js"
import * as Facets from "./internal/Facets.js"
import { makeSessionManager, pdsOf, type SessionManager } from "./internal/Session.js"
import * as Xrpc from "./internal/Xrpc.js"
import {
  type BlobRef,
  type ExternalEmbed,
  type ImageEmbedImage,
  linkCard,
  type ResolveStoredMedia,
  serviceDidOf,
  type UploadContext,
  uploadImage,
  uploadVideo,
  type VideoPolling
} from "./Media.js"
import { rules } from "./Rules.js"
import { BlueskySettings } from "./Settings.js"

/** Record limits (lexicon `app.bsky.feed.post`; platform-specs §6.4). */
export const maxTextGraphemes = 300
export const maxTextBytes = 3000
export const maxImages = 4

export const defaultVideoServiceUrl = "https://video.bsky.app"
export const defaultAppUrl = "https://bsky.app"

export interface BlueskyPublisherOptions {
  /** Login service when the credentials name none. Default `https://bsky.social`. */
  readonly serviceUrl?: string | undefined
  /**
   * The video service (`OMNIPOST_BLUESKY_VIDEO_SERVICE_URL`). Default
   * `https://video.bsky.app`; point it at a fake or a self-hosted service.
   */
  readonly videoServiceUrl?: string | undefined
  /**
   * The video service's DID, the audience of its quota token
   * (`OMNIPOST_BLUESKY_VIDEO_SERVICE_DID`). Default: `did:web:` and the host
   * name of `videoServiceUrl` (`did:web:video.bsky.app`).
   */
  readonly videoServiceDid?: string | undefined
  /** Base of public post URLs. Default `https://bsky.app`. */
  readonly appUrl?: string | undefined
  readonly timeouts?: {
    /** Ordinary XRPC calls. Default 30 s. */
    readonly request?: Duration.Input | undefined
    /** `createRecord`; an unanswered one ends in `OutcomeUnknown`. Default 30 s. */
    readonly createRecord?: Duration.Input | undefined
    /** Blob and video uploads. Default 10 min. */
    readonly upload?: Duration.Input | undefined
    /** Fetching a linked page for its card. Default 5 s. */
    readonly linkCard?: Duration.Input | undefined
  } | undefined
  /** Video status polling. Default: 1 s growing 1.5× to 5 s, for at most 5 min. */
  readonly videoPolling?: Partial<VideoPolling> | undefined
  /**
   * The rules the publisher checks media and hashtags against, and reports
   * as its `rules` (so validation agrees). Default: core's `Rules.bluesky`;
   * pass your own row to raise a limit that changed.
   */
  readonly rules?: Rules.PlatformRules | undefined
  /** Looks up `stored` media sources (the worker's media records). */
  readonly resolveStoredMedia?: ResolveStoredMedia | undefined
  /**
   * How media URLs and link pages (and each redirect hop) are guarded.
   * Default: the host's `UrlGuard.GuardedHttpClient` and `UrlGuard` (the
   * worker's), else strict: loopback and private addresses refused. Local
   * development and tests pass `{ allowPrivate: true }`.
   */
  readonly urlGuard?: UrlGuard.Options | undefined
  /**
   * Once a thread's first part is posted, a later part that meets a 5xx or a
   * short rate limit is retried in the same call: a retry of the whole post
   * would post the first parts twice. Default: 3 retries, each after core's
   * `Backoff` (a random wait below 1 s, doubling, never above
   * `maxRateLimitWait`), waiting out rate limits that reset within 60 s.
   */
  readonly threadPartRetry?: {
    readonly retries?: number | undefined
    readonly delay?: Duration.Input | undefined
    readonly maxRateLimitWait?: Duration.Input | undefined
  } | undefined
}

export type BlueskyPublisher = Publisher.PlatformPublisher<BlueskySettings, BlueskyCredentials>

interface PostRef {
  readonly uri: string
  readonly cid: string
}

const CreateRecordAnswer = Schema.Struct({ uri: Schema.String, cid: Schema.String })

const ListRecordsAnswer = Schema.Struct({
  cursor: Schema.optional(Schema.String),
  records: Schema.Array(Schema.Struct({ uri: Schema.String, cid: Schema.String, value: Schema.Unknown }))
})

type Embed =
  | { readonly $type: "app.bsky.embed.images"; readonly images: ReadonlyArray<ImageEmbedImage> }
  | {
    readonly $type: "app.bsky.embed.video"
    readonly video: BlobRef
    readonly alt?: string
    readonly aspectRatio?: { readonly width: number; readonly height: number }
  }
  | { readonly $type: "app.bsky.embed.external"; readonly external: ExternalEmbed }

interface PreparedPart {
  readonly text: string
  readonly facets: ReadonlyArray<Facets.Facet>
  readonly embed?: Embed | undefined
}

/** The record key: the last segment of an `at://` URI. */
export const rkeyOf = (uri: string): string => uri.slice(uri.lastIndexOf("/") + 1)

/** `https://bsky.app/profile/{handle}/post/{rkey}`. */
export const postUrl = (handle: string, rkey: string, appUrl = defaultAppUrl): string =>
  `${appUrl.replace(/\/+$/, "")}/profile/${handle}/post/${rkey}`

/** Splits `at://did/collection/rkey`. */
export const parseAtUri = (uri: string): { readonly repo: string; readonly collection: string; readonly rkey: string } | undefined => {
  const match = /^at:\/\/([^/]+)\/([^/]+)\/([^/?#]+)$/.exec(uri)
  return match === null ? undefined : { repo: match[1]!, collection: match[2]!, rkey: match[3]! }
}

const rejected = (message: string, code?: string) =>
  new PublishError.Rejected({ platform, message, ...(code !== undefined ? { code } : {}) })

/** Checks a part against the record's limits before anything is uploaded. */
const checkPart = (part: Post.ResolvedPart, index: number): PublishError.Rejected | undefined => {
  const where = index === 0 ? "the post" : `thread part ${index + 1}`
  const graphemes = Facets.graphemeLength(part.text)
  if (graphemes > maxTextGraphemes) {
    return rejected(`${where}: Bluesky text is at most ${maxTextGraphemes} graphemes; this is ${graphemes}`, "CONTENT_TOO_LONG")
  }
  const bytes = Facets.utf8Length(part.text)
  if (bytes > maxTextBytes) {
    return rejected(`${where}: Bluesky text is at most ${maxTextBytes} UTF-8 bytes; this is ${bytes}`, "CONTENT_TOO_LONG")
  }
  const images = part.media.filter((media) => media.kind === "image" || media.kind === "gif")
  const videos = part.media.filter((media) => media.kind === "video")
  const others = part.media.filter((media) => media.kind === "document")
  if (others.length > 0) return rejected(`${where}: Bluesky posts cannot carry documents`, "UNSUPPORTED_MEDIA_TYPE")
  if (images.length > 0 && videos.length > 0) {
    return rejected(`${where}: a Bluesky post has one embed: images or a video, not both`, "MIXED_MEDIA_NOT_SUPPORTED")
  }
  if (images.length > maxImages) return rejected(`${where}: at most ${maxImages} images; got ${images.length}`, "TOO_MANY_MEDIA")
  if (videos.length > 1) return rejected(`${where}: at most 1 video; got ${videos.length}`, "TOO_MANY_MEDIA")
  if (part.text.trim() === "" && part.media.length === 0 && part.link === undefined) {
    return rejected(`${where} has no text, media or link`, "CONTENT_REQUIRED")
  }
  return undefined
}

/**
 * Builds the Bluesky publisher from an `HttpClient`.
 *
 * @example
 * const bluesky = yield* makeBlueskyPublisher({ videoServiceUrl: "https://video.bsky.app" })
 */
export const makeBlueskyPublisher = Effect.fn("makeBlueskyPublisher")(function*(options: BlueskyPublisherOptions = {}) {
  const client = yield* HttpClient.HttpClient
  const fetcher: UrlGuard.Fetcher = options.urlGuard !== undefined
    ? { client: UrlGuard.guardClient(client, options.urlGuard), guard: UrlGuard.UrlGuard.make(options.urlGuard) }
    : yield* UrlGuard.fetcher
  const serviceUrl = options.serviceUrl ?? defaultServiceUrl
  const videoServiceUrl = options.videoServiceUrl ?? defaultVideoServiceUrl
  const videoServiceDid = options.videoServiceDid ?? serviceDidOf(videoServiceUrl)
  const platformRules = options.rules ?? rules
  const appUrl = options.appUrl ?? defaultAppUrl
  const requestTimeout = options.timeouts?.request ?? Duration.seconds(30)
  const createRecordTimeout = options.timeouts?.createRecord ?? Duration.seconds(30)
  const uploadTimeout = options.timeouts?.upload ?? Duration.minutes(10)
  const linkCardTimeout = options.timeouts?.linkCard ?? Duration.seconds(5)
  const threadRetries = options.threadPartRetry?.retries ?? 3
  const threadRetryDelayMillis = Duration.toMillis(options.threadPartRetry?.delay ?? Duration.seconds(1))
  const maxRateLimitWaitMillis = Duration.toMillis(options.threadPartRetry?.maxRateLimitWait ?? Duration.seconds(60))
  const videoPolling: VideoPolling = {
    initialDelay: options.videoPolling?.initialDelay ?? Duration.seconds(1),
    maxDelay: options.videoPolling?.maxDelay ?? Duration.seconds(5),
    timeout: options.videoPolling?.timeout ?? Duration.minutes(5)
  }

  const sessionFor = (credentials: BlueskyCredentials, save?: (credentials: BlueskyCredentials) => Effect.Effect<void>) =>
    makeSessionManager({ client, credentials, defaultServiceUrl: serviceUrl, timeout: requestTimeout, save })

  const uploadContext = (credentials: BlueskyCredentials, session: SessionManager): UploadContext => ({
    client,
    session,
    loginService: credentials.serviceUrl ?? serviceUrl,
    videoServiceUrl,
    videoServiceDid,
    requestTimeout,
    uploadTimeout,
    videoPolling,
    rules: platformRules,
    resolveStoredMedia: options.resolveStoredMedia,
    fetcher
  })

  const prepareEmbed = (
    context: UploadContext,
    part: Post.ResolvedPart,
    facets: ReadonlyArray<Facets.Facet>,
    settings: BlueskySettings
  ): Effect.Effect<Embed | undefined, PublishError.PublishError> =>
    Effect.gen(function*() {
      const video = part.media.find((media) => media.kind === "video")
      if (video !== undefined) {
        const blob = yield* uploadVideo(context, video)
        return {
          $type: "app.bsky.embed.video",
          video: blob,
          ...(video.altText !== undefined ? { alt: video.altText } : {}),
          ...(video.width !== undefined && video.height !== undefined && video.width > 0 && video.height > 0
            ? { aspectRatio: { width: Math.round(video.width), height: Math.round(video.height) } }
            : {})
        } as const
      }
      if (part.media.length > 0) {
        const images: Array<ImageEmbedImage> = []
        // One at a time: the order of the images is the order of the media.
        for (const media of part.media) images.push(yield* uploadImage(context, media))
        return { $type: "app.bsky.embed.images", images } as const
      }
      const link = part.link ?? Facets.firstLink(facets)
      if (link !== undefined && settings.linkCard !== false) {
        return { $type: "app.bsky.embed.external", external: yield* linkCard(context, link, linkCardTimeout) } as const
      }
      return undefined
    })

  const createRecord = (
    session: SessionManager,
    loginService: string,
    record: Record<string, unknown>
  ): Effect.Effect<PostRef, PublishError.PublishError> =>
    session.run(
      (current) =>
        Xrpc.call(client, {
          service: pdsOf(current, loginService),
          nsid: "com.atproto.repo.createRecord",
          method: "POST",
          token: current.accessJwt,
          json: { repo: current.did, collection: "app.bsky.feed.post", record },
          timeout: createRecordTimeout
        }).pipe(
          Effect.flatMap((body) =>
            Schema.decodeUnknownEffect(CreateRecordAnswer)(body).pipe(
              Effect.mapError(() =>
                new Xrpc.XrpcFailure({
                  nsid: "com.atproto.repo.createRecord",
                  kind: "decode",
                  message: "com.atproto.repo.createRecord answered without uri/cid"
                })
              )
            )
          )
        ),
      { write: true }
    )

  /**
   * `createRecord` for a part after the first: retried in place on failures
   * that say the record was not written (5xx, a rate limit that resets soon).
   */
  const createLaterPart = (
    session: SessionManager,
    loginService: string,
    record: Record<string, unknown>
  ): Effect.Effect<PostRef, PublishError.PublishError> =>
    Effect.gen(function*() {
      const backoff: Backoff.Policy = { baseMs: threadRetryDelayMillis, maxMs: maxRateLimitWaitMillis }
      for (let attempt = 0;; attempt++) {
        const result = yield* Effect.result(createRecord(session, loginService, record))
        if (result._tag === "Success") return result.success
        const error = result.failure
        const retryAfterMillis = Backoff.retryAfterMs(error, yield* Clock.currentTimeMillis)
        const retryable = error._tag === "Transient" ||
          (error._tag === "RateLimited" && retryAfterMillis !== undefined && retryAfterMillis <= maxRateLimitWaitMillis)
        if (!retryable || attempt >= threadRetries) return yield* Effect.fail(error)
        const waitMillis = Backoff.delayMs(backoff, attempt, yield* Random.next, { retryAfterMs: retryAfterMillis })
        yield* Effect.logWarning(`Bluesky thread part failed (${error._tag}); retrying in ${waitMillis} ms`)
        yield* Effect.sleep(Duration.millis(waitMillis))
      }
    })

  const publish = Effect.fn("Bluesky.publish")(function*(
    request: Publisher.PublishRequest<BlueskySettings, BlueskyCredentials>
  ) {
    const parts = request.destination.parts
    const settings = request.destination.settings
    for (const [index, part] of parts.entries()) {
      const problem = checkPart(part, index)
      if (problem !== undefined) return yield* problem
    }
    const tagProblem = Facets.tooLongHashtag(platformRules, parts.map((part) => part.text), settings.tags)
    if (tagProblem !== undefined) return yield* tagProblem
    const session = yield* sessionFor(request.credentials, request.saveCredentials)
    const context = uploadContext(request.credentials, session)
    const resolveContext: Facets.ResolveContext = {
      client,
      session,
      loginService: context.loginService,
      timeout: requestTimeout,
      cache: new Map()
    }

    // Phase 1: everything that can fail without anything being visible.
    const prepared: Array<PreparedPart> = []
    for (const part of parts) {
      const facets = yield* Facets.facetsFor(resolveContext, part.text)
      const embed = yield* prepareEmbed(context, part, facets, settings)
      prepared.push({ text: part.text, facets, embed })
    }

    // Phase 2: the records, strictly in order.
    const posted: Array<PostRef & { readonly createdAt: string }> = []
    for (const [index, part] of prepared.entries()) {
      const createdAt = DateTime.formatIso(yield* DateTime.now)
      const root = posted[0]
      const parent = posted[posted.length - 1]
      const record: Record<string, unknown> = {
        $type: "app.bsky.feed.post",
        text: part.text,
        createdAt,
        ...(part.facets.length > 0 ? { facets: part.facets } : {}),
        ...(settings.langs !== undefined && settings.langs.length > 0 ? { langs: settings.langs } : {}),
        ...(settings.labels !== undefined && settings.labels.length > 0
          ? {
            labels: {
              $type: "com.atproto.label.defs#selfLabels",
              values: settings.labels.map((val) => ({ val }))
            }
          }
          : {}),
        ...(settings.tags !== undefined && settings.tags.length > 0
          ? { tags: settings.tags.map((tag) => tag.replace(/^#/, "")) }
          : {}),
        ...(root !== undefined && parent !== undefined
          ? {
            reply: {
              root: { uri: root.uri, cid: root.cid },
              parent: { uri: parent.uri, cid: parent.cid }
            }
          }
          : {}),
        ...(part.embed !== undefined ? { embed: part.embed } : {})
      }
      const ref = posted.length === 0
        ? yield* createRecord(session, context.loginService, record)
        : yield* createLaterPart(session, context.loginService, record).pipe(
          Effect.mapError((error) => partiallyPosted(error, index, prepared.length, posted))
        )
      posted.push({ ...ref, createdAt })
    }

    const { handle } = yield* session.current
    const publishedParts = posted.map((ref) => ({ platformPostId: ref.uri, url: postUrl(handle, rkeyOf(ref.uri), appUrl) }))
    return {
      platformPostId: publishedParts[0]!.platformPostId,
      url: publishedParts[0]!.url,
      publishedAt: posted[0]!.createdAt,
      parts: publishedParts
    } satisfies Publisher.PublishResult
  })

  const deletePost = Effect.fn("Bluesky.delete")(function*(request: {
    readonly platformPostId: string
    readonly credentials: BlueskyCredentials
  }) {
    const session = yield* sessionFor(request.credentials)
    const loginService = request.credentials.serviceUrl ?? serviceUrl
    const current = yield* session.current
    const target = parseAtUri(request.platformPostId) ??
      (/^[a-z2-7]{13}$/.test(request.platformPostId)
        ? { repo: current.did, collection: "app.bsky.feed.post", rkey: request.platformPostId }
        : undefined)
    if (target === undefined) {
      return yield* rejected(`not a Bluesky post id (an at:// URI or a record key): ${request.platformPostId}`)
    }
    if (target.repo !== current.did && target.repo !== current.handle) {
      return yield* rejected(`the post ${request.platformPostId} belongs to another account than ${current.handle}`)
    }
    yield* session.run((fresh) =>
      Xrpc.call(client, {
        service: pdsOf(fresh, loginService),
        nsid: "com.atproto.repo.deleteRecord",
        method: "POST",
        token: fresh.accessJwt,
        json: { repo: fresh.did, collection: target.collection, rkey: target.rkey },
        timeout: requestTimeout
      })
    )
  })

  const verifyCredentials = Effect.fn("Bluesky.verifyCredentials")(function*(credentials: BlueskyCredentials) {
    const session = yield* sessionFor(credentials)
    const loginService = credentials.serviceUrl ?? serviceUrl
    const profile = yield* session.run((current) =>
      getProfile(client, {
        service: pdsOf(current, loginService),
        token: current.accessJwt,
        actor: current.did,
        timeout: requestTimeout
      })
    )
    return {
      accountId: profile.did,
      username: profile.handle,
      ...(profile.displayName !== undefined && profile.displayName !== "" ? { displayName: profile.displayName } : {}),
      ...(profile.avatar !== undefined ? { avatarUrl: profile.avatar } : {})
    } satisfies Publisher.AccountProfile
  })

  const refreshCredentials = Effect.fn("Bluesky.refreshCredentials")(function*(credentials: BlueskyCredentials) {
    const session = yield* sessionFor(credentials)
    yield* session.renew
    return yield* session.credentials
  })

  const findPublished = Effect.fn("Bluesky.findPublished")(function*(
    request: Publisher.PublishRequest<BlueskySettings, BlueskyCredentials> & { readonly sentAt: string }
  ) {
    const session = yield* sessionFor(request.credentials, request.saveCredentials)
    const loginService = request.credentials.serviceUrl ?? serviceUrl
    // Our createdAt is taken after sentAt; a minute of slack covers clocks that disagree.
    const sentAtMillis = Date.parse(request.sentAt)
    if (Number.isNaN(sentAtMillis)) return yield* rejected(`sentAt is not an ISO 8601 instant: ${request.sentAt}`)
    const windowStart = sentAtMillis - 60_000
    const records: Array<{ readonly uri: string; readonly cid: string; readonly value: PostRecordView }> = []
    let cursor: string | undefined
    for (let page = 0; page < 5; page++) {
      const answer = yield* session.run((current) =>
        Xrpc.call(client, {
          service: pdsOf(current, loginService),
          nsid: "com.atproto.repo.listRecords",
          method: "GET",
          params: { repo: current.did, collection: "app.bsky.feed.post", limit: 100, cursor },
          token: current.accessJwt,
          timeout: requestTimeout
        }).pipe(
          Effect.flatMap((body) =>
            Schema.decodeUnknownEffect(ListRecordsAnswer)(body).pipe(
              Effect.mapError(() =>
                new Xrpc.XrpcFailure({ nsid: "com.atproto.repo.listRecords", kind: "decode", message: "unexpected listRecords answer" })
              )
            )
          )
        )
      )
      let reachedOlder = false
      for (const record of answer.records) {
        const value = record.value as PostRecordView
        const createdAt = Date.parse(value?.createdAt ?? "")
        if (Number.isNaN(createdAt) || createdAt < windowStart) {
          reachedOlder = true
          continue
        }
        records.push({ uri: record.uri, cid: record.cid, value })
      }
      cursor = answer.cursor
      if (reachedOlder || cursor === undefined || answer.records.length === 0) break
    }
    const byTime = records.slice().sort((a, b) => Date.parse(a.value.createdAt) - Date.parse(b.value.createdAt))
    const parts = request.destination.parts
    const first = byTime.find((record) => record.value.reply === undefined && record.value.text === parts[0].text)
    if (first === undefined) return undefined
    const found = [first]
    for (const part of parts.slice(1)) {
      const parent = found[found.length - 1]!
      const next = byTime.find((record) =>
        record.value.reply?.root?.uri === first.uri && record.value.reply?.parent?.uri === parent.uri &&
        record.value.text === part.text
      )
      if (next === undefined) break
      found.push(next)
    }
    const { handle } = yield* session.current
    const publishedParts = found.map((record) => ({
      platformPostId: record.uri,
      url: postUrl(handle, rkeyOf(record.uri), appUrl)
    }))
    if (found.length < parts.length) {
      // Part of the thread is live: neither "published" (the missing parts would be lost
      // silently) nor "absent" (publishing again would post the live parts twice).
      return yield* new PublishError.OutcomeUnknown({
        platform,
        message: `the thread is only partly posted: parts 1-${found.length} of ${parts.length} are live (${
          publishedParts.map((part) => part.url).join(", ")
        }); part ${found.length + 1} and later were not found. Publishing it again would post the live parts twice: finish the thread by hand, or delete the live parts and retry`
      })
    }
    return {
      platformPostId: publishedParts[0]!.platformPostId,
      url: publishedParts[0]!.url,
      publishedAt: first.value.createdAt,
      parts: publishedParts
    } satisfies Publisher.PublishResult
  })

  return {
    platform,
    displayName: "Bluesky",
    rules: platformRules,
    settingsSchema: BlueskySettings,
    credentialsSchema: CredentialsSchema,
    publish,
    delete: deletePost,
    verifyCredentials,
    refreshCredentials,
    findPublished
  } satisfies BlueskyPublisher as BlueskyPublisher
})

interface PostRecordView {
  readonly text: string
  readonly createdAt: string
  readonly reply?: { readonly root?: { readonly uri?: string }; readonly parent?: { readonly uri?: string } }
}

/**
 * A thread that failed after its first parts were posted: retrying it whole
 * would post them twice, so it is an unknown outcome for a person (or
 * `findPublished`) to settle. The platform's code and message stay on it.
 */
const partiallyPosted = (
  error: PublishError.PublishError,
  failedIndex: number,
  total: number,
  posted: ReadonlyArray<PostRef>
): PublishError.OutcomeUnknown =>
  new PublishError.OutcomeUnknown({
    platform,
    message: `thread part ${failedIndex + 1} of ${total} failed (${error._tag}: ${error.message}) after parts 1-${posted.length} were posted: ${
      posted.map((ref) => ref.uri).join(", ")
    }`,
    ...(error.platformCode !== undefined ? { platformCode: error.platformCode } : {}),
    ...(error.platformMessage !== undefined ? { platformMessage: error.platformMessage } : {}),
    ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {})
  })

/** The publisher as a service, for programs that wire platforms with layers. */
export class Bluesky extends Context.Service<Bluesky, BlueskyPublisher>()("@omnipost/platform-bluesky/Bluesky") {}

/**
 * A layer of the `Bluesky` publisher service; needs an `HttpClient`.
 *
 * @example
 * const BlueskyLive = layer({ serviceUrl: "https://pds.example.com" }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 */
export const layer = (options?: BlueskyPublisherOptions): Layer.Layer<Bluesky, never, HttpClient.HttpClient> =>
  Layer.effect(Bluesky, makeBlueskyPublisher(options))
