/**
 * The TikTok `PlatformPublisher`: one video or 1–35 photos per post.
 *
 * - **Creator info first.** A direct post asks `creator_info/query` before
 *   anything else and refuses (`Rejected`, naming the creator's options) a
 *   privacy level they cannot use, a video longer than their maximum, or an
 *   interaction they disabled (`Creator.check`).
 * - **Video** by `FILE_UPLOAD` (chunked, streamed from the kit's
 *   `MediaSource`), or by `PULL_FROM_URL` when its URL (a `url` source, or a
 *   stored medium's signed public URL) starts with one of the operator's
 *   verified URL prefixes (`verifiedUrlPrefixes`).
 * - **Photos** by `PULL_FROM_URL` only, so they need verified prefixes.
 * - **Modes** from the settings' `postMode`: `direct` (default) or `inbox`
 *   (a draft the creator finishes in the app).
 * - **Status** polled after init. A status call that fails (or polls that
 *   run out) leaves TikTok with the post: the error carries the publish id as
 *   a posted part (`PublishError.withPostedParts`, `replyRef`
 *   `publishIdRef`), and the retry (`PublishRequest.postedParts`) or the
 *   unknown-outcome look-up (`findPublished`) polls that id again, never
 *   posting a second time.
 * - **Compliance.** `unauditedClient`: TikTok lets an unaudited client post
 *   only `SELF_ONLY`, so any other privacy level fails validation saying so.
 *
 * @example
 * const publisher = yield* makeTiktokPublisher({ apiBaseUrl: fake.url }).pipe(Effect.provide(NodeHttpClient.layerUndici))
 */
import { type Media as CoreMedia, type Plugin, type Post, PublishError, type Publisher, type Rules as CoreRules, type Validation } from "@omnipost/core"
import { Credentials, MediaSource, UrlGuard } from "@omnipost/platform-kit"
import { Clock, type Duration, Effect } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import * as Creator from "./Creator.js"
import * as Errors from "./Errors.js"
import type * as Api from "./internal/Api.js"
import * as Token from "./internal/Token.js"
import * as Photo from "./Photo.js"
import * as Profile from "./Profile.js"
import { rules } from "./Rules.js"
import { TiktokSettings } from "./Settings.js"
import * as Video from "./Video.js"

/** The host's public, fetchable URL for a stored medium (core's; the worker signs one under `OMNIPOST_PUBLIC_URL`). */
export type PublicMediaUrl = Plugin.PublicMediaUrl

export interface TiktokPublisherOptions {
  /** `https://open.tiktokapis.com` unless given (a fake). */
  readonly apiBaseUrl?: string | undefined
  /** Timeout of each call and chunk. Default 2 minutes. */
  readonly requestTimeout?: Duration.Input | undefined
  /** Chunk size and status polling. */
  readonly video?: Pick<Video.Options, "chunkBytes" | "pollInterval" | "maxPolls"> | undefined
  readonly resolveStoredMedia?: Plugin.ResolveStoredMedia | undefined
  /** Signed public URLs of stored media (the worker's, under `OMNIPOST_PUBLIC_URL`). */
  readonly publicMediaUrl?: PublicMediaUrl | undefined
  /**
   * URL prefixes verified for this app in TikTok's developer portal
   * (`https://media.example.com/`): media under them go by `PULL_FROM_URL`.
   * Photos need them (TikTok pulls photos only).
   */
  readonly verifiedUrlPrefixes?: ReadonlyArray<string> | undefined
  /** How `url` media sources are fetched for upload; by default the host's guarded client. */
  readonly urlGuard?: UrlGuard.Options | undefined
  /** The app's OAuth client, to refresh access tokens (they last 24 h). */
  readonly oauth?: Auth.ClientOptions | undefined
  /** The app has not passed TikTok's audit: only `SELF_ONLY` posts (to private accounts). */
  readonly unauditedClient?: boolean | undefined
  readonly rules?: CoreRules.PlatformRules | undefined
}

export type TiktokPublisher = Publisher.PlatformPublisher<TiktokSettings, Auth.TiktokCredentials>

/** The `replyRef` of the posted part that carries a publish id still being processed. */
export const publishIdRef = "tiktok:publish_id"

/** A post's URL; the profile when TikTok has not given the post's public id (moderation pending, SELF_ONLY, drafts). */
export const postUrl = (username: string | undefined, kind: "video" | "photo", postId: string | undefined): string => {
  if (username === undefined) return "https://www.tiktok.com/"
  const profile = `https://www.tiktok.com/@${username}`
  return postId !== undefined ? `${profile}/${kind}/${postId}` : profile
}

const rejected = (code: string, message: string) => new PublishError.Rejected({ platform: Errors.platform, code, message })

export const unauditedMessage = (privacyLevel: string) =>
  `this TikTok app is unaudited (OMNIPOST_TIKTOK_UNAUDITED): TikTok lets an unaudited client post only SELF_ONLY, to private accounts, so ${privacyLevel} cannot be used; choose SELF_ONLY, or have the app pass TikTok's content posting audit`

export const makeTiktokPublisher = (
  options: TiktokPublisherOptions = {}
): Effect.Effect<TiktokPublisher, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const fetcher = yield* UrlGuard.fetcherFor(options.urlGuard)
    const apiBaseUrl = (options.apiBaseUrl ?? Auth.defaultApiBaseUrl).replace(/\/+$/, "")
    const platformRules = options.rules ?? rules
    const videoRule = platformRules.placements.find((p) => p.placement === "video")?.media.video
    const prefixes = options.verifiedUrlPrefixes ?? []
    const verified = (url: string) => url.startsWith("https://") && prefixes.some((prefix) => url.startsWith(prefix))

    const connection = (credentials: Auth.TiktokCredentials): Api.Connection => ({
      client,
      apiBaseUrl,
      accessToken: credentials.accessToken,
      timeout: options.requestTimeout ?? "2 minutes"
    })

    const decodeCredentials = Credentials.decode(Auth.TiktokCredentials, { platform: Errors.platform, label: "TikTok" })

    const refreshed = (credentials: Auth.TiktokCredentials) =>
      Effect.gen(function*() {
        const nowMs = yield* Clock.currentTimeMillis
        if (options.oauth === undefined || !Auth.refreshable(credentials, nowMs)) {
          return yield* new PublishError.AuthFailed({
            platform: Errors.platform,
            reason: "expired",
            message: options.oauth === undefined
              ? "the TikTok access token expired and no OAuth client is configured to refresh it (OMNIPOST_TIKTOK_CLIENT_KEY/_SECRET)"
              : Auth.tokenHealth(credentials, nowMs).message
          })
        }
        const fresh = yield* Token.grant(options.oauth, { grant_type: "refresh_token", refresh_token: credentials.refreshToken! }, "the OAuth token refresh", credentials).pipe(
          Effect.provideService(HttpClient.HttpClient, client)
        )
        return { ...credentials, ...fresh } satisfies Auth.TiktokCredentials
      })

    /** Credentials good for the next minutes: an expiring token (24 h) is refreshed and saved first. */
    const usable = (raw: unknown, save?: (credentials: Auth.TiktokCredentials) => Effect.Effect<void>) =>
      Effect.gen(function*() {
        const credentials = yield* decodeCredentials(raw)
        const expiresMs = Date.parse(credentials.expiresAt ?? "")
        if (!Number.isFinite(expiresMs) || expiresMs - 5 * 60_000 > (yield* Clock.currentTimeMillis)) return credentials
        const fresh = yield* refreshed(credentials)
        if (save !== undefined) yield* save(fresh)
        return fresh
      })

    /** The URL TikTok pulls a medium from, when it is under a verified prefix. */
    const pullUrl = (media: CoreMedia.Media): Effect.Effect<string | undefined, PublishError.PublishError> =>
      Effect.gen(function*() {
        if (prefixes.length === 0) return undefined
        const source = media.source
        const url = source._tag === "url"
          ? source.url
          : source._tag === "stored" && options.publicMediaUrl !== undefined
          ? yield* options.publicMediaUrl(source.mediaId)
          : undefined
        return url !== undefined && verified(url) ? url : undefined
      })

    const photoUrl = (media: CoreMedia.Media, index: number) =>
      Effect.flatMap(pullUrl(media), (url) =>
        url !== undefined ? Effect.succeed(url) : Effect.fail(rejected(
          "URL_NOT_VERIFIED",
          `TikTok pulls photos from URLs on the app's verified domains only, and photo ${index + 1} has none${
            prefixes.length === 0
              ? ": set OMNIPOST_TIKTOK_VERIFIED_URL_PREFIXES to the URL prefixes verified in TikTok's developer portal"
              : ` under ${prefixes.join(", ")}${media.source._tag === "stored" ? " (stored media need OMNIPOST_PUBLIC_URL under a verified prefix)" : ""}`
          }`
        )))

    const validate = (context: Publisher.ValidationContext<TiktokSettings>): ReadonlyArray<Validation.ValidationIssue> => {
      const { destination, destinationIndex } = context
      const settings = destination.settings
      const issues: Array<Validation.ValidationIssue> = []
      if (options.unauditedClient === true && settings.privacyLevel !== "SELF_ONLY" && settings.postMode !== "inbox") {
        issues.push({
          code: "INVALID_SETTINGS",
          message: unauditedMessage(settings.privacyLevel),
          path: ["settings", "privacyLevel"],
          platform: Errors.platform,
          destinationIndex,
          accountId: destination.accountId
        })
      }
      const media = destination.parts[0]?.media ?? []
      media.forEach((item, index) => {
        if (item.kind !== "image") return
        const problem = prefixes.length === 0
          ? "TikTok pulls photos from URLs on the app's verified domains only: set OMNIPOST_TIKTOK_VERIFIED_URL_PREFIXES"
          : item.source._tag === "stored" && options.publicMediaUrl === undefined
          ? "TikTok pulls photos from URLs, and stored media has none: set OMNIPOST_PUBLIC_URL under a verified prefix"
          : item.source._tag === "url" && !verified(item.source.url)
          ? `TikTok pulls photos from the app's verified URL prefixes only (${prefixes.join(", ")}); ${item.source.url} is not under one`
          : item.source._tag === "bytes" || item.source._tag === "file"
          ? "TikTok pulls photos from URLs; give a url source or stored media"
          : undefined
        if (problem !== undefined) {
          issues.push({
            code: item.source._tag === "stored" && options.publicMediaUrl === undefined && prefixes.length > 0 ? "PUBLIC_URL_REQUIRED" : "UNSUPPORTED_MEDIA_CONFIG",
            message: problem,
            path: ["content", "media", index, "source"],
            platform: Errors.platform,
            destinationIndex,
            accountId: destination.accountId
          })
        }
      })
      return issues
    }

    const postInfoExtra = (settings: TiktokSettings) => ({
      ...(settings.brandContentToggle !== undefined ? { brand_content_toggle: settings.brandContentToggle } : {}),
      ...(settings.brandOrganicToggle !== undefined ? { brand_organic_toggle: settings.brandOrganicToggle } : {}),
      ...(settings.isAigc !== undefined ? { is_aigc: settings.isAigc } : {})
    })

    const marker = (publishId: string): Post.PublishedPart => ({ platformPostId: publishId, url: postUrl(undefined, "video", undefined), replyRef: publishIdRef })

    /** A failed status call's error, marked with the publish id TikTok holds (a `Rejected` is final and passes as it is). */
    const keepingPublishId = (error: PublishError.PublishError, publishId: string): PublishError.PublishError =>
      error._tag === "Rejected" ? error : PublishError.withPostedParts(error, [marker(publishId)], `TikTok has the post as ${publishId}; a retry polls it again`)

    /**
     * Polling options that keep the publish id: on the destination before the
     * first status call (`keepPostedParts`, for a crash), and on a status
     * failure (see the module's doc).
     */
    const videoOptions = (creator: Creator.CreatorInfo | undefined, keep?: Publisher.PublishRequest["keepPostedParts"]): Video.Options => ({
      ...options.video,
      ...(creator !== undefined ? { creator } : {}),
      ...(keep !== undefined ? { beforePoll: (publishId: string) => keep([marker(publishId)]) } : {}),
      pollFailed: keepingPublishId
    })

    const resultOf = (published: Video.Published, username: string | undefined, kind: "video" | "photo", nowMs: number): Publisher.PublishResult => {
      const id = published.postIds[0]
      const url = postUrl(username, kind, id)
      return { platformPostId: id ?? published.publishId, url, publishedAt: new Date(nowMs).toISOString(), parts: [{ platformPostId: id ?? published.publishId, url }] }
    }

    /** The post's creator checked against its request (direct mode), or `undefined` (inbox). */
    const checkedCreator = (credentials: Auth.TiktokCredentials, settings: TiktokSettings, request: Omit<Creator.Request, "privacyLevel">) =>
      Effect.gen(function*() {
        if (settings.postMode === "inbox") return undefined
        const creator = yield* Video.queryCreator(connection(credentials))
        const refused = Creator.check(creator, { ...request, privacyLevel: settings.privacyLevel })
        if (refused !== undefined) return yield* refused
        return creator
      })

    /**
     * Whether the kept publish id is a file upload that stopped short: TikTok
     * has fewer bytes than the video's and waits for chunks no one will send
     * (the attempt that uploaded them ended), so it would never post it, and
     * polling it would wait out every poll. The video is opened only to learn
     * its size, as the upload did; when it cannot be, the id is polled.
     */
    const abandonedUpload = (request: Publisher.PublishRequest<TiktokSettings, Auth.TiktokCredentials>, credentials: Auth.TiktokCredentials, publishId: string) =>
      Effect.gen(function*() {
        const video = request.destination.parts[0]?.media.find((m) => m.kind === "video")
        if (video === undefined) return false
        const progress = yield* Video.uploadProgress(connection(credentials), publishId).pipe(
          Effect.mapError((error) => keepingPublishId(error, publishId))
        )
        if (progress.status !== "PROCESSING_UPLOAD") return false
        const size = yield* Effect.scoped(MediaSource.openMedia(video, {
          platform: Errors.platform,
          resolveStoredMedia: options.resolveStoredMedia,
          fetcher
        }).pipe(Effect.map((opened) => opened.sizeBytes))).pipe(
          Effect.provideService(HttpClient.HttpClient, fetcher.client),
          Effect.orElseSucceed(() => undefined)
        )
        return size !== undefined && !Video.uploadComplete(progress, size)
      })

    /**
     * Polls a kept publish id. `undefined` when there is none, or when TikTok
     * says that post FAILED (or does not know it): then nothing is live and
     * the post is made anew. A retry (`publish`, after the attempt that
     * uploaded ended) also makes anew an upload that stopped short
     * (`abandonedUpload`); the unknown-outcome look-up does not, since the
     * attempt it looks up may still be sending chunks from another process,
     * and polls it.
     */
    const resume = (
      request: Publisher.PublishRequest<TiktokSettings, Auth.TiktokCredentials>,
      credentials: Auth.TiktokCredentials,
      after: "retry" | "lookup"
    ) =>
      Effect.gen(function*() {
        const kept = request.postedParts?.find((part) => part.replyRef === publishIdRef)
        if (kept === undefined) return undefined
        if (after === "retry" && (yield* abandonedUpload(request, credentials, kept.platformPostId))) return undefined
        const polled = yield* Video.poll(connection(credentials), kept.platformPostId, videoOptions(undefined)).pipe(
          // Marked errors (a status call failed) still hold the post: they fail the call.
          Effect.catchIf((error) => error.postedParts === undefined && error._tag !== "AuthFailed", () => Effect.succeed(undefined))
        )
        if (polled === undefined) return undefined
        const published = polled
        const kind = request.destination.parts[0]?.media.some((m) => m.kind === "image") === true ? "photo" : "video"
        return resultOf(published, credentials.username, kind, yield* Clock.currentTimeMillis)
      })

    const publish = (request: Publisher.PublishRequest<TiktokSettings, Auth.TiktokCredentials>) =>
      Effect.gen(function*() {
        const credentials = yield* usable(request.credentials, request.saveCredentials)
        const resumed = yield* resume(request, credentials, "retry")
        if (resumed !== undefined) return resumed
        const parts = request.destination.parts
        if (parts.length !== 1) return yield* rejected("THREAD_NOT_SUPPORTED", "TikTok takes one video or one photo post, not a thread")
        const part = parts[0]!
        const settings = request.destination.settings
        const mode = settings.postMode ?? "direct"
        if (options.unauditedClient === true && settings.privacyLevel !== "SELF_ONLY" && mode === "direct") {
          return yield* rejected("UNAUDITED_CLIENT_PRIVATE_ONLY", unauditedMessage(settings.privacyLevel))
        }
        const images = part.media.filter((m) => m.kind === "image")
        const videos = part.media.filter((m) => m.kind === "video")
        if (images.length > 0 && images.length === part.media.length) {
          const urls = yield* Effect.forEach(images, photoUrl)
          const creator = yield* checkedCreator(credentials, settings, {
            allowComment: settings.disableComment !== true,
            allowDuet: false,
            allowStitch: false
          })
          const published = yield* Photo.postPhotos(connection(credentials), {
            title: settings.title,
            description: part.text,
            privacyLevel: settings.privacyLevel,
            disableComment: settings.disableComment,
            autoAddMusic: settings.autoAddMusic,
            photoCoverIndex: settings.photoCoverIndex,
            extra: postInfoExtra(settings)
          }, urls, mode, videoOptions(creator, request.keepPostedParts))
          return resultOf(published, creator?.username ?? credentials.username, "photo", yield* Clock.currentTimeMillis)
        }
        if (videos.length !== 1 || part.media.length !== 1) {
          return yield* rejected("MEDIA_REQUIRED", `a TikTok post is one video or 1-35 photos; this one has ${part.media.length} media items of mixed kinds or more than one video`)
        }
        const video = videos[0]!
        const creator = yield* checkedCreator(credentials, settings, {
          allowComment: settings.disableComment !== true,
          allowDuet: settings.disableDuet !== true,
          allowStitch: settings.disableStitch !== true,
          durationSeconds: video.durationSeconds
        })
        const info: Video.PostInfo = {
          title: part.text,
          privacyLevel: settings.privacyLevel,
          disableComment: settings.disableComment ?? false,
          disableDuet: settings.disableDuet ?? false,
          disableStitch: settings.disableStitch ?? false,
          extra: {
            ...postInfoExtra(settings),
            ...(settings.videoCoverTimestampMs !== undefined ? { video_cover_timestamp_ms: settings.videoCoverTimestampMs } : {})
          }
        }
        const url = mode === "direct" ? yield* pullUrl(video) : undefined
        const published = url !== undefined
          ? yield* Video.postVideoByUrl(connection(credentials), info, url, video.durationSeconds, videoOptions(creator, request.keepPostedParts))
          : yield* Effect.scoped(Effect.gen(function*() {
            const opened = yield* MediaSource.openMedia(video, {
              platform: Errors.platform,
              maxBytes: videoRule?.maxSizeBytes,
              resolveStoredMedia: options.resolveStoredMedia,
              fetcher
            }).pipe(Effect.provideService(HttpClient.HttpClient, fetcher.client))
            if (opened.sizeBytes === undefined) {
              return yield* rejected("MEDIA_SIZE_UNKNOWN", "TikTok's upload needs the video's size up front, and its source did not say it (no Content-Length)")
            }
            return yield* Video.postFileVideo(connection(credentials), info, {
              stream: opened.stream,
              sizeBytes: opened.sizeBytes,
              mimeType: opened.mimeType,
              durationSeconds: video.durationSeconds
            }, { ...videoOptions(creator, request.keepPostedParts), mode })
          }))
        return resultOf(published, creator?.username ?? credentials.username, "video", yield* Clock.currentTimeMillis)
      })

    /** Without the publish id TikTok has no look-up of a post by content: only a stored id can be settled. */
    const findPublished = (request: Publisher.PublishRequest<TiktokSettings, Auth.TiktokCredentials> & { readonly sentAt: string }) =>
      Effect.gen(function*() {
        const credentials = yield* usable(request.credentials, request.saveCredentials)
        const resumed = yield* resume(request, credentials, "lookup")
        if (resumed !== undefined) return resumed
        if (request.postedParts?.some((part) => part.replyRef === publishIdRef) === true) {
          // The kept publish id FAILED on TikTok (or is unknown there): nothing is live.
          return undefined
        }
        return yield* new PublishError.OutcomeUnknown({
          platform: Errors.platform,
          message: "TikTok has no look-up of a post by its content, and no publish id was kept for this attempt: check the creator's profile"
        })
      })

    const publisher: TiktokPublisher = {
      platform: Errors.platform,
      displayName: "TikTok",
      rules: platformRules,
      settingsSchema: TiktokSettings,
      credentialsSchema: Auth.TiktokCredentials,
      validate,
      publish,
      findPublished,
      verifyCredentials: (raw) => Effect.flatMap(usable(raw), (credentials) => Profile.read(connection(credentials))),
      tokenExpiresAt: Auth.connectionExpiresAt,
      grantedScopes: (credentials) => credentials.scopes,
      scopeRules: Auth.scopeRules,
      refreshCredentials: (credentials) => Effect.flatMap(decodeCredentials(credentials), refreshed)
    }
    return publisher
  })
