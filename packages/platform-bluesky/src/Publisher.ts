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
import { Context, DateTime, Duration, Effect, Layer, Schema } from "effect"
import { HttpClient } from "effect/http"
import { Thread, UrlGuard } from "@omnipost/platform-kit"
import { type Post, PublishError, type Publisher, type Rules } from "@omnipost/core"
import { type BlueskyCredentials, BlueskyCredentials as CredentialsSchema, defaultServiceUrl, getProfile } from "./Auth.js"
import { platform } from "./Errors.js"
import * as Facets from "./internal/Facets.js"
import { makeSessionManager, pdsOf, type SessionManager } from "./internal/Session.js"
import { checkPart, defaultAppUrl, parseAtUri, postRecord, postUrl, rkeyOf } from "./internal/Records.js"
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

export { defaultAppUrl, maxImages, maxTextBytes, maxTextGraphemes, parseAtUri, postUrl, rkeyOf } from "./internal/Records.js"

export const defaultVideoServiceUrl = "https://video.bsky.app"

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

const rejected = (message: string, code?: string) =>
  new PublishError.Rejected({ platform, message, ...(code !== undefined ? { code } : {}) })

/**
 * Builds the Bluesky publisher from an `HttpClient`.
 *
 * @example
 * const bluesky = yield* makeBlueskyPublisher({ videoServiceUrl: "https://video.bsky.app" })
 */
export const makeBlueskyPublisher = Effect.fn("makeBlueskyPublisher")(function*(options: BlueskyPublisherOptions = {}) {
  const client = yield* HttpClient.HttpClient
  const fetcher = yield* UrlGuard.fetcherFor(options.urlGuard)
  const serviceUrl = options.serviceUrl ?? defaultServiceUrl
  const videoServiceUrl = options.videoServiceUrl ?? defaultVideoServiceUrl
  const videoServiceDid = options.videoServiceDid ?? serviceDidOf(videoServiceUrl)
  const platformRules = options.rules ?? rules
  const appUrl = options.appUrl ?? defaultAppUrl
  const requestTimeout = options.timeouts?.request ?? Duration.seconds(30)
  const createRecordTimeout = options.timeouts?.createRecord ?? Duration.seconds(30)
  const uploadTimeout = options.timeouts?.upload ?? Duration.minutes(10)
  const linkCardTimeout = options.timeouts?.linkCard ?? Duration.seconds(5)
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

  /** A reply's `root` and `parent` strong refs (URI and CID), from live parts. */
  const replyRefs = (root: Publisher.PublishedPart, parent: Publisher.PublishedPart) =>
    root.replyRef === undefined || parent.replyRef === undefined
      ? Effect.fail(
        new PublishError.Rejected({
          platform,
          code: "THREAD_CHANGED",
          message: `cannot reply to ${parent.platformPostId}: the record's CID is not known (parts given to resume must come from this publisher)`
        })
      )
      : Effect.succeed({
        root: { uri: root.platformPostId, cid: root.replyRef },
        parent: { uri: parent.platformPostId, cid: parent.replyRef }
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

    const { handle } = yield* session.current
    // The kit's thread policy: every part prepared first (nothing is visible if that fails), then the
    // records strictly in order, each replying to the one before within the first; a failure after some
    // are live keeps them on the error, and a retry resumes after them.
    const createdAts: Array<string> = []
    const posted = yield* Thread.publish({
      platform,
      parts,
      postedParts: request.postedParts,
      prepare: (part) =>
        Effect.gen(function*() {
          const facets = yield* Facets.facetsFor(resolveContext, part.text)
          const embed = yield* prepareEmbed(context, part, facets, settings)
          return { text: part.text, facets, embed } satisfies PreparedPart
        }),
      post: (part, { replyTo, root }) =>
        Effect.gen(function*() {
          const createdAt = DateTime.formatIso(yield* DateTime.now)
          const reply = root !== undefined && replyTo !== undefined
            ? yield* replyRefs(root, replyTo)
            : undefined
          const record = postRecord({ text: part.text, facets: part.facets, embed: part.embed, createdAt, settings, reply })
          const ref = yield* createRecord(session, context.loginService, record)
          createdAts.push(createdAt)
          return { platformPostId: ref.uri, url: postUrl(handle, rkeyOf(ref.uri), appUrl), replyRef: ref.cid }
        })
    })
    return {
      platformPostId: posted[0]!.platformPostId,
      url: posted[0]!.url,
      // Resumed: the first part was posted by an earlier attempt, at an instant not kept.
      publishedAt: request.postedParts === undefined || request.postedParts.length === 0
        ? createdAts[0]!
        : DateTime.formatIso(yield* DateTime.now),
      parts: posted
    } satisfies Publisher.PublishResult
  })

  /**
   * The first comment: a reply record whose `root` and `parent` are both the
   * post's first part (under a thread too: the comment belongs to the post,
   * not to its last part), with the post's languages.
   */
  const comment = Effect.fn("Bluesky.comment")(function*(request: Publisher.CommentRequest<BlueskySettings, BlueskyCredentials>) {
    const problem = checkPart({ text: request.text, media: [] }, 0)
    if (problem !== undefined) return yield* problem
    const first = request.published.parts[0] ?? { platformPostId: request.published.platformPostId, url: request.published.url }
    const reply = yield* replyRefs(first, first)
    const session = yield* sessionFor(request.credentials, request.saveCredentials)
    const context = uploadContext(request.credentials, session)
    const facets = yield* Facets.facetsFor({ client, session, loginService: context.loginService, timeout: requestTimeout, cache: new Map() }, request.text)
    const createdAt = DateTime.formatIso(yield* DateTime.now)
    const settings = { langs: request.destination.settings.langs }
    const ref = yield* createRecord(session, context.loginService, postRecord({ text: request.text, facets, createdAt, settings, reply }))
    const { handle } = yield* session.current
    return { platformCommentId: ref.uri, url: postUrl(handle, rkeyOf(ref.uri), appUrl), postedAt: createdAt }
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
    const { handle } = yield* session.current
    const partOf = (record: { readonly uri: string; readonly cid: string }): Publisher.PublishedPart => ({
      platformPostId: record.uri,
      url: postUrl(handle, rkeyOf(record.uri), appUrl),
      replyRef: record.cid
    })
    // A resumed attempt looks for the parts after those already live (which may be older than the window).
    const live = request.postedParts ?? []
    const found: Array<Publisher.PublishedPart> = [...live]
    let firstCreatedAt: string | undefined
    if (found.length === 0) {
      const first = byTime.find((record) => record.value.reply === undefined && record.value.text === parts[0].text)
      if (first !== undefined) {
        found.push(partOf(first))
        firstCreatedAt = first.value.createdAt
      }
    }
    while (found.length > 0 && found.length < parts.length) {
      const root = found[0]!.platformPostId
      const parent = found[found.length - 1]!.platformPostId
      const text = parts[found.length]!.text
      const next = byTime.find((record) =>
        record.value.reply?.root?.uri === root && record.value.reply?.parent?.uri === parent && record.value.text === text
      )
      if (next === undefined) break
      found.push(partOf(next))
    }
    // The kit decides: none found is not posted, all is published, the first parts are kept and the rest
    // posted after them (never the live ones again).
    return yield* Thread.found({
      platform,
      total: parts.length,
      found,
      publishedAt: firstCreatedAt ?? DateTime.formatIso(yield* DateTime.now)
    })
  })

  return {
    platform,
    displayName: "Bluesky",
    rules: platformRules,
    settingsSchema: BlueskySettings,
    credentialsSchema: CredentialsSchema,
    publish,
    comment,
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
