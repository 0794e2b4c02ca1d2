/**
 * The YouTube `PlatformPublisher`: one video per post, uploaded with the
 * resumable protocol (`Media.uploadVideo`), its metadata from the settings
 * (`Settings`), the title falling back to the post's text.
 *
 * The upload itself publishes nothing until its last chunk is answered, so
 * every call of it is safe to resume; a last chunk without an answer is
 * settled by the status query, which answers with the video once it exists.
 *
 * @example
 * const publisher = yield* makeYoutubePublisher({}).pipe(Effect.provide(NodeHttpClient.layerUndici))
 */
import { PublishError, type Publisher, type Rules as CoreRules, TextCount, type Validation } from "@omnipost/core"
import type { Plugin } from "@omnipost/core"
import { Credentials, MediaSource, UrlGuard } from "@omnipost/platform-kit"
import { Clock, type Duration, Effect, Schema, Stream } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import * as Errors from "./Errors.js"
import * as Api from "./internal/Api.js"
import * as Media from "./Media.js"
import * as Quota from "./Quota.js"
import * as Token from "./internal/Token.js"
import { rules } from "./Rules.js"
import { YoutubeSettings } from "./Settings.js"

export interface YoutubePublisherOptions {
  /** `https://www.googleapis.com` unless given (a fake). */
  readonly apiBaseUrl?: string | undefined
  /** Timeout of each JSON call and each chunk. Default 2 minutes. */
  readonly requestTimeout?: Duration.Input | undefined
  readonly upload?: Media.UploadOptions | undefined
  readonly resolveStoredMedia?: Plugin.ResolveStoredMedia | undefined
  /** How media URLs are guarded; by default the host's guarded client (`UrlGuard.fetcher`). */
  readonly urlGuard?: UrlGuard.Options | undefined
  /** The app's OAuth client, to refresh access tokens (they last an hour). */
  readonly oauth?: Auth.ClientOptions | undefined
  /** The project's quota (allocation, upload cost); see `Quota`. */
  readonly quota?: Quota.Options | undefined
  /**
   * The API project has not passed YouTube's compliance audit: YouTube locks
   * every upload to private, so public and unlisted requests fail validation
   * instead of silently turning private.
   */
  readonly unauditedProject?: boolean | undefined
  /** The clock `validate` reads the quota day with (it is synchronous). Default `Date.now`. */
  readonly now?: (() => number) | undefined
  /** The rules the publisher reads its limits from; core's `Rules.youtube` unless given. */
  readonly rules?: CoreRules.PlatformRules | undefined
}

export type YoutubePublisher = Publisher.PlatformPublisher<YoutubeSettings, Auth.YoutubeCredentials> & {
  /** Today's quota units of this publisher's project. */
  readonly quota: Quota.Ledger
}

/** The public URL of a video. */
export const videoUrl = (id: string): string => `https://www.youtube.com/watch?v=${id}`

/** `snippet.categoryId` when none is set: People & Blogs, YouTube's own default for uploads. */
export const defaultCategoryId = "22"

const rejected = (code: string, message: string) => new PublishError.Rejected({ platform: Errors.platform, code, message })

const VideoResource = Schema.Struct({
  id: Schema.String,
  snippet: Schema.optional(Schema.Struct({ publishedAt: Schema.optional(Schema.String) }))
})

/** The `video` resource's `snippet` and `status` for a destination. */
export const metadataFor = (
  settings: YoutubeSettings,
  text: string,
  publishAt: string | undefined
): { readonly snippet: Record<string, unknown>; readonly status: Record<string, unknown> } => ({
  snippet: {
    title: settings.title ?? text.trim(),
    description: text,
    categoryId: settings.categoryId ?? defaultCategoryId,
    ...(settings.tags !== undefined ? { tags: settings.tags } : {}),
    ...(settings.defaultLanguage !== undefined ? { defaultLanguage: settings.defaultLanguage } : {})
  },
  status: {
    privacyStatus: settings.privacyStatus,
    selfDeclaredMadeForKids: settings.madeForKids,
    ...(publishAt !== undefined ? { publishAt } : {}),
    ...(settings.containsSyntheticMedia !== undefined ? { containsSyntheticMedia: settings.containsSyntheticMedia } : {}),
    ...(settings.license !== undefined ? { license: settings.license } : {}),
    ...(settings.embeddable !== undefined ? { embeddable: settings.embeddable } : {})
  }
})

/** Builds the YouTube publisher over an `HttpClient`. */
export const makeYoutubePublisher = (
  options: YoutubePublisherOptions = {}
): Effect.Effect<YoutubePublisher, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const fetcher = yield* UrlGuard.fetcherFor(options.urlGuard)
    const apiBaseUrl = (options.apiBaseUrl ?? Auth.defaultApiBaseUrl).replace(/\/+$/, "")
    const platformRules = options.rules ?? rules
    const videoRule = platformRules.placements[0]!.media.video!

    const decodeCredentials = Credentials.decode(Auth.YoutubeCredentials, { platform: Errors.platform, label: "YouTube" })

    const connection = (credentials: Auth.YoutubeCredentials): Api.Connection => ({
      client,
      apiBaseUrl,
      accessToken: credentials.accessToken,
      timeout: options.requestTimeout ?? "2 minutes"
    })

    const thumbnailRule = videoRule.thumbnail
    const ledger = new Quota.Ledger(options.quota)
    const wallClock = options.now ?? Date.now

    /** Counts a call against today's quota, whatever its outcome. */
    const charged = <A, E, R>(call: Quota.Call, effect: Effect.Effect<A, E, R>) =>
      Effect.flatMap(Clock.currentTimeMillis, (nowMs) => {
        ledger.charge(call, nowMs)
        return effect
      })

    const extrasOf = (settings: YoutubeSettings) => ({ thumbnail: settings.thumbnail !== undefined, playlist: settings.playlistId !== undefined })

    /** What keeps a post from today's quota, if anything. */
    const quotaProblem = (settings: YoutubeSettings, nowMs: number): string | undefined => {
      const needed = ledger.postCost(extrasOf(settings))
      const remaining = ledger.remaining(nowMs)
      return needed <= remaining ? undefined : `this YouTube post needs ${needed} quota units (videos.insert ${ledger.insertCost}${
        settings.thumbnail !== undefined ? ", thumbnails.set 50" : ""
      }${settings.playlistId !== undefined ? ", playlistItems.insert 50" : ""}) and the project has ${remaining} of ${ledger.dailyUnits} left today; the quota resets at ${
        new Date(ledger.resetsAt(nowMs)).toISOString()
      } (midnight America/Los_Angeles)`
    }

    const unauditedProblem = (settings: YoutubeSettings): string | undefined =>
      options.unauditedProject === true && settings.privacyStatus !== "private"
        ? `this YouTube API project is unaudited (OMNIPOST_YOUTUBE_UNAUDITED): YouTube locks every video it uploads to private, so a ${settings.privacyStatus} video cannot be posted; choose private, or have the project pass YouTube's API compliance audit`
        : undefined

    /** `thumbnails.set`: the image's bytes (type and size judged by the kit, capped by the rules row). */
    const setThumbnail = (credentials: Auth.YoutubeCredentials, videoId: string, thumbnail: NonNullable<YoutubeSettings["thumbnail"]>) =>
      Effect.scoped(Effect.gen(function*() {
        const opened = yield* MediaSource.open(thumbnail.source, {
          platform: Errors.platform,
          declaredMimeType: thumbnail.mimeType,
          maxBytes: thumbnailRule?.maxSizeBytes,
          resolveStoredMedia: options.resolveStoredMedia,
          fetcher
        }).pipe(Effect.provideService(HttpClient.HttpClient, fetcher.client))
        if (thumbnailRule !== undefined && !thumbnailRule.mimeTypes.includes(opened.mimeType)) {
          return yield* rejected("UNSUPPORTED_MEDIA_TYPE", `a YouTube thumbnail is ${thumbnailRule.mimeTypes.join(" or ")}, not ${opened.mimeType}`)
        }
        const data = yield* Stream.runFold(opened.stream, () => new Uint8Array(0), (all, chunk) => {
          const next = new Uint8Array(all.byteLength + chunk.byteLength)
          next.set(all)
          next.set(chunk, all.byteLength)
          return next
        })
        yield* charged("thumbnails.set", Api.ok(connection(credentials), {
          method: "POST",
          path: "/upload/youtube/v3/thumbnails/set",
          query: { videoId },
          bytes: { data, contentType: opened.mimeType },
          operation: "thumbnails.set"
        }))
      }))

    const addToPlaylist = (credentials: Auth.YoutubeCredentials, videoId: string, playlistId: string) =>
      charged("playlistItems.insert", Api.ok(connection(credentials), {
        method: "POST",
        path: "/youtube/v3/playlistItems",
        query: { part: "snippet" },
        json: { snippet: { playlistId, resourceId: { kind: "youtube#video", videoId } } },
        operation: "playlistItems.insert"
      }))

    /**
     * After the video exists, the thumbnail and the playlist: a failure there
     * cannot fail the post (a retry would upload the video again), so it is
     * logged and the video stands.
     */
    const afterUpload = (credentials: Auth.YoutubeCredentials, videoId: string, settings: YoutubeSettings) =>
      Effect.gen(function*() {
        if (settings.thumbnail !== undefined) {
          yield* setThumbnail(credentials, videoId, settings.thumbnail).pipe(
            Effect.catch((error) => Effect.logWarning(`YouTube video ${videoId} is up, its thumbnail was not set: ${error.message}`))
          )
        }
        if (settings.playlistId !== undefined) {
          yield* addToPlaylist(credentials, videoId, settings.playlistId).pipe(
            Effect.catch((error) => Effect.logWarning(`YouTube video ${videoId} is up, it was not added to playlist ${settings.playlistId}: ${error.message}`))
          )
        }
      })

    /** The title falls back to the text: then the text must be a valid title. */
    const validate = (context: Publisher.ValidationContext<YoutubeSettings>): ReadonlyArray<Validation.ValidationIssue> => {
      const { destination, destinationIndex } = context
      const issue = (field: string, message: string): Validation.ValidationIssue => ({
        code: "INVALID_SETTINGS",
        message,
        path: ["settings", field],
        platform: Errors.platform,
        destinationIndex,
        accountId: destination.accountId
      })
      const issues = [...titleIssues(context)]
      const unaudited = unauditedProblem(destination.settings)
      if (unaudited !== undefined) issues.push(issue("privacyStatus", unaudited))
      const quota = quotaProblem(destination.settings, wallClock())
      if (quota !== undefined) issues.push(issue("privacyStatus", quota))
      return issues
    }

    const titleIssues = ({ destination, destinationIndex }: Publisher.ValidationContext<YoutubeSettings>): ReadonlyArray<Validation.ValidationIssue> => {
      if (destination.settings.title !== undefined) return []
      const text = (destination.parts[0]?.text ?? "").trim()
      const problem = text.length === 0
        ? "a YouTube video needs a title: set the title setting or give the post a text"
        : TextCount.utf16(text) > 100
        ? `without a title setting the text is the title, and a YouTube title is at most 100 characters; this text has ${TextCount.utf16(text)}: set the title setting`
        : /[<>]/.test(text)
        ? "without a title setting the text is the title, and a YouTube title cannot contain < or >: set the title setting"
        : undefined
      return problem === undefined ? [] : [{
        code: "INVALID_SETTINGS",
        message: problem,
        path: ["settings", "title"],
        platform: Errors.platform,
        destinationIndex,
        accountId: destination.accountId
      }]
    }

    /** A new access token from the refresh token; the channel and scopes kept. */
    const refreshed = (credentials: Auth.YoutubeCredentials) =>
      Effect.gen(function*() {
        if (options.oauth === undefined || credentials.refreshToken === undefined) {
          return yield* new PublishError.AuthFailed({
            platform: Errors.platform,
            reason: "expired",
            message: credentials.refreshToken === undefined
              ? "the YouTube access token expired and there is no refresh token (connected without offline access): reconnect the account"
              : "the YouTube access token expired and no OAuth client is configured to refresh it (OMNIPOST_YOUTUBE_CLIENT_ID/_SECRET)"
          })
        }
        const tokens = yield* Token.grant(options.oauth, { grant_type: "refresh_token", refresh_token: credentials.refreshToken }, "the OAuth token refresh", credentials).pipe(
          Effect.provideService(HttpClient.HttpClient, client)
        )
        return { ...credentials, ...tokens } satisfies Auth.YoutubeCredentials
      })

    /** Credentials good for the next minute: an expiring token is refreshed (and saved) first. */
    const usable = (raw: unknown, save?: (credentials: Auth.YoutubeCredentials) => Effect.Effect<void>) =>
      Effect.gen(function*() {
        const credentials = yield* decodeCredentials(raw)
        const expiresMs = Date.parse(credentials.expiresAt ?? "")
        if (!Number.isFinite(expiresMs) || expiresMs - 60_000 > (yield* Clock.currentTimeMillis)) return credentials
        const fresh = yield* refreshed(credentials)
        if (save !== undefined) yield* save(fresh)
        return fresh
      })

    const Channels = Schema.Struct({
      items: Schema.Array(Schema.Struct({
        id: Schema.String,
        snippet: Schema.optional(Schema.Struct({ title: Schema.optional(Schema.String), customUrl: Schema.optional(Schema.String) })),
        contentDetails: Schema.optional(Schema.Struct({ relatedPlaylists: Schema.optional(Schema.Struct({ uploads: Schema.optional(Schema.String) })) }))
      }))
    })

    const malformed = (what: string) => () =>
      new PublishError.Transient({ platform: Errors.platform, message: `YouTube's answer to ${what} was not understood` })

    /** The token's channel (`channels.list?mine=true`). */
    const myChannel = (credentials: Auth.YoutubeCredentials) =>
      Effect.gen(function*() {
        const answer = yield* charged("channels.list", Api.ok(connection(credentials), {
          method: "GET",
          path: "/youtube/v3/channels",
          query: { part: "snippet,contentDetails", mine: "true" },
          operation: "channels.list"
        }))
        const channels = yield* Schema.decodeUnknownEffect(Channels)(answer.body).pipe(Effect.mapError(malformed("channels.list")))
        const channel = channels.items[0]
        if (channel === undefined) {
          return yield* new PublishError.AuthFailed({ platform: Errors.platform, reason: "invalid", message: "this Google account has no YouTube channel" })
        }
        return channel
      })

    const PlaylistItems = Schema.Struct({
      items: Schema.Array(Schema.Struct({
        snippet: Schema.Struct({ title: Schema.optional(Schema.String), publishedAt: Schema.optional(Schema.String) }),
        contentDetails: Schema.Struct({ videoId: Schema.String })
      }))
    })

    /** An upload whose outcome is unknown, looked for in the channel's uploads playlist by its title since it was sent. */
    const findPublished = (request: Publisher.PublishRequest<YoutubeSettings, Auth.YoutubeCredentials> & { readonly sentAt: string }) =>
      Effect.gen(function*() {
        const credentials = yield* usable(request.credentials, request.saveCredentials)
        const channel = yield* myChannel(credentials)
        const uploads = channel.contentDetails?.relatedPlaylists?.uploads
        if (uploads === undefined) return undefined
        const answer = yield* charged("playlistItems.list", Api.ok(connection(credentials), {
          method: "GET",
          path: "/youtube/v3/playlistItems",
          query: { part: "snippet,contentDetails", playlistId: uploads, maxResults: "50" },
          operation: "playlistItems.list"
        }))
        const items = yield* Schema.decodeUnknownEffect(PlaylistItems)(answer.body).pipe(Effect.mapError(malformed("playlistItems.list")))
        const title = metadataFor(request.destination.settings, request.destination.parts[0]?.text ?? "", undefined).snippet.title
        const since = Date.parse(request.sentAt) - 5 * 60_000
        const found = items.items.find((item) => item.snippet.title === title && Date.parse(item.snippet.publishedAt ?? "") >= since)
        if (found === undefined) return undefined
        const id = found.contentDetails.videoId
        return {
          platformPostId: id,
          url: videoUrl(id),
          publishedAt: found.snippet.publishedAt!,
          parts: [{ platformPostId: id, url: videoUrl(id) }]
        } satisfies Publisher.PublishResult
      })

    const publish = (request: Publisher.PublishRequest<YoutubeSettings, Auth.YoutubeCredentials>) =>
      Effect.gen(function*() {
        const credentials = yield* usable(request.credentials, request.saveCredentials)
        const parts = request.destination.parts
        if (parts.length !== 1) return yield* rejected("THREAD_NOT_SUPPORTED", "YouTube takes one video per post, not a thread")
        const part = parts[0]!
        const videos = part.media.filter((media) => media.kind === "video")
        if (videos.length !== 1 || part.media.length !== 1) {
          return yield* rejected("MEDIA_REQUIRED", `a YouTube post is exactly one video; this one has ${part.media.length} media items`)
        }
        const settings = request.destination.settings
        const unaudited = unauditedProblem(settings)
        if (unaudited !== undefined) return yield* rejected("PRIVACY_NOT_ALLOWED", unaudited)
        const nowMs = yield* Clock.currentTimeMillis
        const quota = quotaProblem(settings, nowMs)
        if (quota !== undefined) {
          const resetMs = ledger.resetsAt(nowMs)
          return yield* new PublishError.RateLimited({
            platform: Errors.platform,
            message: `refused before sending: ${quota}`,
            scope: "quota",
            retryAfterSeconds: Math.ceil((resetMs - nowMs) / 1000),
            resetAt: new Date(resetMs).toISOString()
          })
        }
        const metadata = metadataFor(settings, part.text, request.publishAt)
        if ((metadata.snippet.title as string).length === 0) {
          return yield* rejected("TITLE_REQUIRED", "a YouTube video needs a title: set the title setting or give the post a text")
        }
        const video = yield* Media.uploadVideo(connection(credentials), {
          onSessionStart: Effect.flatMap(Clock.currentTimeMillis, (at) => Effect.sync(() => ledger.charge("videos.insert", at))),
          open: MediaSource.openMedia(videos[0]!, {
            platform: Errors.platform,
            maxBytes: videoRule.maxSizeBytes,
            resolveStoredMedia: options.resolveStoredMedia,
            fetcher
          }).pipe(Effect.provideService(HttpClient.HttpClient, fetcher.client)),
          metadata,
          notifySubscribers: settings.notifySubscribers
        }, options.upload)
        const resource = yield* Schema.decodeUnknownEffect(VideoResource)(video).pipe(
          Effect.mapError(() =>
            new PublishError.OutcomeUnknown({
              platform: Errors.platform,
              message: "the upload completed but YouTube's answer did not name the video; it may be on the channel"
            })
          )
        )
        yield* afterUpload(credentials, resource.id, settings)
        return {
          platformPostId: resource.id,
          url: videoUrl(resource.id),
          publishedAt: resource.snippet?.publishedAt ?? new Date(nowMs).toISOString(),
          parts: [{ platformPostId: resource.id, url: videoUrl(resource.id) }]
        } satisfies Publisher.PublishResult
      })

    /**
     * The first comment: `commentThreads.insert` (`part=snippet`) with
     * `snippet.videoId` and `snippet.topLevelComment.snippet.textOriginal`
     * (50 quota units). Needs the `youtube.force-ssl` scope.
     */
    const comment = Effect.fn("YoutubePublisher.comment")(function*(request: Publisher.CommentRequest<YoutubeSettings, Auth.YoutubeCredentials>) {
      const credentials = yield* usable(request.credentials, request.saveCredentials)
      const videoId = request.published.platformPostId
      const answer = yield* charged("commentThreads.insert", Api.ok(connection(credentials), {
        method: "POST",
        path: "/youtube/v3/commentThreads",
        query: { part: "snippet" },
        json: { snippet: { videoId, topLevelComment: { snippet: { textOriginal: request.text } } } },
        operation: "commentThreads.insert"
      }))
      const id = (answer.body as { readonly id?: unknown } | undefined)?.id
      if (typeof id !== "string" || id === "") return yield* malformed("commentThreads.insert")()
      return { platformCommentId: id, url: `${videoUrl(videoId)}&lc=${encodeURIComponent(id)}`, postedAt: new Date(yield* Clock.currentTimeMillis).toISOString() }
    })

    const publisher: YoutubePublisher = {
      platform: Errors.platform,
      displayName: "YouTube",
      rules: platformRules,
      settingsSchema: YoutubeSettings,
      credentialsSchema: Auth.YoutubeCredentials,
      validate,
      publish,
      comment,
      findPublished,
      verifyCredentials: (credentials) =>
        Effect.gen(function*() {
          const channel = yield* myChannel(yield* usable(credentials))
          const title = channel.snippet?.title
          return {
            accountId: channel.id,
            username: channel.snippet?.customUrl ?? title ?? channel.id,
            ...(title !== undefined ? { displayName: title } : {})
          }
        }),
      /** A transient failure leaves the caller with the old token; invalid_grant is AuthFailed revoked (reconnect). */
      refreshCredentials: (credentials) => Effect.flatMap(decodeCredentials(credentials), refreshed),
      quota: ledger
    }
    return publisher
  })
