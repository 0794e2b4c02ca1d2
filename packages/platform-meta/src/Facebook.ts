/**
 * The Facebook Pages `PlatformPublisher` (platform-specs §2.2), with a Page
 * access token.
 *
 * | post | calls |
 * |---|---|
 * | text, link | `POST /{page-id}/feed` (`message`, `link`) |
 * | one photo | `POST /{page-id}/photos` (`url`, `message`) |
 * | several photos | each `POST /{page-id}/photos?published=false`, then one `POST /{page-id}/feed` with `attached_media[i]={"media_fbid":…}` |
 * | video | `POST /{page-id}/videos` (`file_url`, `description`, `title`) |
 * | Reel | `POST /{page-id}/video_reels?upload_phase=start`, the bytes (or `file_url`) to rupload, `upload_phase=finish`, `GET /{video-id}?fields=status` until published |
 * | story | photo: unpublished photo then `POST /{page-id}/photo_stories`; video: `video_stories` start, upload, finish |
 *
 * A request with `publishAt` is scheduled by Facebook itself
 * (`published=false&scheduled_publish_time=…`; Reels `video_state=SCHEDULED`),
 * within the window of the rules row (10 minutes to 30 days ahead).
 */
import { Clock, Duration, Effect, Option } from "effect"
import { HttpClient } from "effect/http"
import { type Media as CoreMedia, PublishError, type Publisher, Rules as CoreRules } from "@omnipost/core"
import { MediaSource, Poll, UrlGuard } from "@omnipost/platform-kit"
import { FacebookCredentials } from "./Credentials.js"
import type { MetaPublisherOptions } from "./Instagram.js"
import { type Api, dataOf, makeApi, parseGraphTime } from "./internal/Api.js"
import { checkDestination, textWithLink } from "./internal/Check.js"
import * as Graph from "./internal/Graph.js"
import { defaultPolling, type Polling, publicUrlOf, storedMediaIssues } from "./Media.js"
import { FacebookSettings } from "./Settings.js"

export const platform = "facebook"
export const defaultBaseUrl = "https://graph.facebook.com/v25.0"

export type FacebookPublisher = Publisher.PlatformPublisher<FacebookSettings, FacebookCredentials>

const rejected = (code: string, message: string) => new PublishError.Rejected({ platform, code, message })

export const makeFacebookPublisher = Effect.fn("makeFacebookPublisher")(function*(options: MetaPublisherOptions = {}) {
  const client = yield* HttpClient.HttpClient
  const rules = options.rules ?? CoreRules.facebook
  const timeout = options.timeout ?? Duration.seconds(30)
  const uploadTimeout = options.uploadTimeout ?? Duration.minutes(10)
  const polling: Polling = { ...defaultPolling, ...options.polling }
  const base = options.baseUrl ?? defaultBaseUrl
  // The host's guard (the worker's OMNIPOST_ALLOW_PRIVATE_URLS…) unless given: strict without either.
  const urlGuard = options.urlGuard ?? Option.getOrUndefined(yield* Effect.serviceOption(UrlGuard.UrlGuard))?.options
  const urlContext = { platform, publicMediaUrl: options.publicMediaUrl, urlGuard }

  const api = (credentials: FacebookCredentials): Api =>
    makeApi({ client, platform, base, accessToken: credentials.pageAccessToken, timeout, polling, statusFields: "instagram" })

  /** The schedule's parameters, or a refusal when it is outside the Page API's window. */
  const scheduleOf = Effect.fn("Facebook.scheduleOf")(function*(publishAt: string | undefined, placement: string) {
    if (publishAt === undefined) return undefined
    const native = rules.nativeScheduling
    if (!native.supported || (native.placements !== undefined && !native.placements.includes(placement as never))) {
      return yield* rejected("SCHEDULING_NOT_SUPPORTED", `Facebook cannot schedule a ${placement} itself`)
    }
    const atMs = Date.parse(publishAt)
    const leadSeconds = (atMs - (yield* Clock.currentTimeMillis)) / 1000
    if (
      Number.isNaN(atMs) || (native.minLeadSeconds !== undefined && leadSeconds < native.minLeadSeconds) ||
      (native.maxLeadSeconds !== undefined && leadSeconds > native.maxLeadSeconds)
    ) {
      return yield* rejected(
        "INVALID_SCHEDULE",
        `Facebook schedules posts ${(native.minLeadSeconds ?? 0) / 60} minutes to ${(native.maxLeadSeconds ?? 0) / 86_400} days ahead; ${publishAt} is not`
      )
    }
    return Math.floor(atMs / 1000)
  })

  /**
   * Sends a video's bytes to rupload (`upload_url`): `file_url` for a public
   * URL, else the bytes streamed from any source.
   */
  const upload = Effect.fn("Facebook.upload")(function*(credentials: FacebookCredentials, uploadUrl: string, media: CoreMedia.Media) {
    const headers = { authorization: `OAuth ${credentials.pageAccessToken}` }
    const request = { platform, operation: "POST rupload /video-upload/{video-id}", method: "POST" as const, url: uploadUrl, write: false, timeout: uploadTimeout }
    if (media.source._tag === "url" || (media.source._tag === "stored" && options.publicMediaUrl !== undefined)) {
      const url = yield* publicUrlOf(media, urlContext)
      yield* Graph.call(client, { ...request, headers: { ...headers, file_url: url } })
      return
    }
    yield* Effect.scoped(Effect.gen(function*() {
      const opened = yield* MediaSource.openMedia(media, { platform, resolveStoredMedia: options.resolveStoredMedia })
      const size = opened.sizeBytes ?? media.sizeBytes
      yield* Graph.call(client, {
        ...request,
        headers: { ...headers, offset: "0", file_size: String(size) },
        raw: { stream: opened.stream, contentLength: size }
      })
    })).pipe(Effect.provideService(HttpClient.HttpClient, client))
  })

  /** Polls a Reel until Facebook has processed it (and published it, unless scheduled). */
  const waitForVideo = (account: Api, videoId: string, scheduled: boolean) =>
    Poll.until(
      account.get(videoId, "GET /{video-id}?fields=status", { fields: "status" }).pipe(
        Effect.flatMap((body): Effect.Effect<Poll.Check<void>, PublishError.PublishError> => {
          const status = (body.status ?? {}) as {
            video_status?: string
            processing_phase?: { status?: string; errors?: ReadonlyArray<{ code?: number; message?: string }> }
            publishing_phase?: { status?: string }
          }
          const error = status.processing_phase?.errors?.[0]
          if (status.video_status === "error" || status.processing_phase?.status === "error") {
            return Effect.fail(
              new PublishError.Rejected({
                platform,
                code: "MEDIA_PROCESSING_FAILED",
                ...(error?.code !== undefined ? { platformCode: String(error.code) } : {}),
                ...(error?.message !== undefined ? { platformMessage: error.message } : {}),
                message: `Facebook could not process video ${videoId}: ${error?.message ?? "no reason given"}`
              })
            )
          }
          const over = status.processing_phase?.status === "complete" && (scheduled || status.publishing_phase?.status === "complete")
          return Effect.succeed(over ? Poll.done(undefined) : Poll.pending())
        })
      ),
      { interval: polling.interval, maxChecks: polling.maxPolls },
      () =>
        new PublishError.OutcomeUnknown({
          platform,
          message: `video ${videoId} was still processing after ${polling.maxPolls} polls; Facebook may publish it later`
        })
    ).pipe(Effect.withSpan("Facebook.waitForVideo"))

  const unpublishedPhoto = (account: Api, credentials: FacebookCredentials, media: CoreMedia.Media, scheduled: boolean) =>
    Effect.gen(function*() {
      const url = yield* publicUrlOf(media, urlContext)
      return yield* account.create(`${credentials.pageId}/photos`, "POST /{page-id}/photos", {
        url,
        published: false,
        // A photo attached to a scheduled post must be temporary (Pages API).
        temporary: scheduled ? true : undefined,
        alt_text_custom: media.altText
      }, false)
    })

  const postUrl = (id: string) => `https://www.facebook.com/${id}`

  const publishFeed = Effect.fn("Facebook.publishFeed")(function*(
    account: Api,
    credentials: FacebookCredentials,
    request: Publisher.PublishRequest<FacebookSettings, FacebookCredentials>,
    scheduledAt: number | undefined
  ) {
    const part = request.destination.parts[0]
    const schedule = scheduledAt === undefined ? {} : { published: false, scheduled_publish_time: scheduledAt }
    // Photos and videos have no link field: the post's link goes in their text.
    const caption = textWithLink(part)
    const message = (part.media.length > 0 ? caption : part.text) || undefined
    const video = part.media.find((media) => media.kind === "video")
    if (video !== undefined) {
      const id = yield* account.create(`${credentials.pageId}/videos`, "POST /{page-id}/videos", {
        file_url: yield* publicUrlOf(video, urlContext),
        description: message,
        title: request.destination.settings.videoTitle,
        ...schedule
      }, true)
      return { id, url: `https://www.facebook.com/${credentials.pageId}/videos/${id}` }
    }
    if (part.media.length === 1) {
      const answer = yield* account.post(`${credentials.pageId}/photos`, "POST /{page-id}/photos", {
        url: yield* publicUrlOf(part.media[0]!, urlContext),
        message,
        alt_text_custom: part.media[0]!.altText,
        ...schedule
      }, true)
      const id = yield* Graph.field(answer, typeof answer.post_id === "string" ? "post_id" : "id", {
        platform,
        operation: "POST /{page-id}/photos",
        write: true
      })
      return { id, url: postUrl(id) }
    }
    const attached: Record<string, string> = {}
    for (const [index, media] of part.media.entries()) {
      attached[`attached_media[${index}]`] = JSON.stringify({ media_fbid: yield* unpublishedPhoto(account, credentials, media, scheduledAt !== undefined) })
    }
    const id = yield* account.create(`${credentials.pageId}/feed`, "POST /{page-id}/feed", {
      message,
      link: part.media.length === 0 ? part.link : undefined,
      ...attached,
      ...schedule
    }, true)
    return { id, url: postUrl(id) }
  })

  const publishReel = Effect.fn("Facebook.publishReel")(function*(
    account: Api,
    credentials: FacebookCredentials,
    request: Publisher.PublishRequest<FacebookSettings, FacebookCredentials>,
    scheduledAt: number | undefined
  ) {
    const part = request.destination.parts[0]
    const started = yield* account.post(`${credentials.pageId}/video_reels`, "POST /{page-id}/video_reels?upload_phase=start", {
      upload_phase: "start"
    }, false)
    const context = { platform, operation: "POST /{page-id}/video_reels?upload_phase=start", write: false }
    const videoId = yield* Graph.field(started, "video_id", context)
    yield* upload(credentials, yield* Graph.field(started, "upload_url", context), part.media[0]!)
    yield* account.post(`${credentials.pageId}/video_reels`, "POST /{page-id}/video_reels?upload_phase=finish", {
      upload_phase: "finish",
      video_id: videoId,
      video_state: scheduledAt === undefined ? "PUBLISHED" : "SCHEDULED",
      scheduled_publish_time: scheduledAt,
      description: part.text === "" ? undefined : part.text
    }, true)
    yield* waitForVideo(account, videoId, scheduledAt !== undefined)
    return { id: videoId, url: `https://www.facebook.com/reel/${videoId}` }
  })

  const publishStory = Effect.fn("Facebook.publishStory")(function*(account: Api, credentials: FacebookCredentials, media: CoreMedia.Media) {
    let answer: Record<string, unknown>
    if (media.kind === "video") {
      const started = yield* account.post(`${credentials.pageId}/video_stories`, "POST /{page-id}/video_stories?upload_phase=start", {
        upload_phase: "start"
      }, false)
      const context = { platform, operation: "POST /{page-id}/video_stories?upload_phase=start", write: false }
      const videoId = yield* Graph.field(started, "video_id", context)
      yield* upload(credentials, yield* Graph.field(started, "upload_url", context), media)
      answer = yield* account.post(`${credentials.pageId}/video_stories`, "POST /{page-id}/video_stories?upload_phase=finish", {
        upload_phase: "finish",
        video_id: videoId
      }, true)
    } else {
      const photoId = yield* unpublishedPhoto(account, credentials, media, false)
      answer = yield* account.post(`${credentials.pageId}/photo_stories`, "POST /{page-id}/photo_stories", { photo_id: photoId }, true)
    }
    const id = yield* Graph.field(answer, "post_id", { platform, operation: "POST /{page-id}/…_stories", write: true })
    return { id, url: postUrl(id) }
  })

  const publish = Effect.fn("Facebook.publish")(function*(request: Publisher.PublishRequest<FacebookSettings, FacebookCredentials>) {
    const destination = request.destination
    const problem = checkDestination(rules, destination)
    if (problem !== undefined) return yield* problem
    const part = destination.parts[0]
    const placement = destination.placement ?? CoreRules.inferPlacement(rules, part.media.map((media) => media.kind))
    const scheduledAt = yield* scheduleOf(request.publishAt, placement)
    const credentials = request.credentials
    const account = api(credentials)
    const posted = placement === "reel"
      ? yield* publishReel(account, credentials, request, scheduledAt)
      : placement === "story"
      ? yield* publishStory(account, credentials, part.media[0]!)
      : yield* publishFeed(account, credentials, request, scheduledAt)
    const publishedAt = scheduledAt !== undefined ? new Date(scheduledAt * 1000).toISOString() : new Date(yield* Clock.currentTimeMillis).toISOString()
    return { platformPostId: posted.id, url: posted.url, publishedAt, parts: [{ platformPostId: posted.id, url: posted.url }] } satisfies Publisher.PublishResult
  })

  const verifyCredentials = Effect.fn("Facebook.verifyCredentials")(function*(credentials: FacebookCredentials) {
    const body = yield* api(credentials).get(credentials.pageId, "GET /{page-id}", { fields: "id,name,username,picture" })
    const str = (key: string) => (typeof body[key] === "string" && body[key] !== "" ? (body[key] as string) : undefined)
    const picture = (body.picture as { data?: { url?: unknown } } | undefined)?.data?.url
    return {
      accountId: str("id") ?? credentials.pageId,
      username: str("username") ?? str("name") ?? credentials.pageId,
      ...(str("name") !== undefined ? { displayName: str("name") } : {}),
      ...(typeof picture === "string" ? { avatarUrl: picture } : {})
    } satisfies Publisher.AccountProfile
  })

  /**
   * Looks the Page's recent posts up (scheduled ones when the attempt was
   * scheduled; Reels among `video_reels`) for one with the same text made
   * after `sentAt`. Stories have no text: the Page Stories API's list
   * (`GET /{page-id}/stories`) is searched for a published story of the same
   * media type (photo or video) made after `sentAt` (published, or archived
   * after its 24 hours).
   */
  /** The story a lost attempt made: the newest published one of that media type since `sentAtMs` (a minute of slack). */
  const findStory = Effect.fn("Facebook.findStory")(function*(credentials: FacebookCredentials, mediaType: "photo" | "video", sentAtMs: number) {
    const answer = yield* api(credentials).get(`${credentials.pageId}/stories`, "GET /{page-id}/stories", {
      fields: "post_id,status,creation_time,media_type,url"
    })
    // `creation_time` is Unix seconds as a string in the Page Stories API; an ISO time is read too.
    const createdMs = (value: unknown) => typeof value === "string" && /^\d+$/.test(value) ? Number(value) * 1000 : parseGraphTime(value)
    const found = dataOf(answer).find((item) =>
      createdMs(item.creation_time) >= sentAtMs - 60_000 &&
      String(item.media_type ?? "").toLowerCase() === mediaType &&
      // A story leaves the Page after 24 hours as ARCHIVED: still one that was posted.
      (item.status === undefined || ["PUBLISHED", "ARCHIVED"].includes(String(item.status).toUpperCase())) &&
      (typeof item.post_id === "string" || typeof item.post_id === "number")
    )
    if (found === undefined) return undefined
    const id = String(found.post_id)
    const url = typeof found.url === "string" ? found.url : postUrl(id)
    return {
      platformPostId: id,
      url,
      publishedAt: new Date(createdMs(found.creation_time)).toISOString(),
      parts: [{ platformPostId: id, url }]
    } satisfies Publisher.PublishResult
  })

  const findPublished = Effect.fn("Facebook.findPublished")(function*(
    request: Publisher.PublishRequest<FacebookSettings, FacebookCredentials> & { readonly sentAt: string }
  ) {
    const sentAtMs = Date.parse(request.sentAt)
    if (Number.isNaN(sentAtMs)) return yield* rejected("INVALID_SENT_AT", `sentAt is not an ISO 8601 instant: ${request.sentAt}`)
    const part = request.destination.parts[0]
    const placement = request.destination.placement ?? CoreRules.inferPlacement(rules, part.media.map((media) => media.kind))
    const credentials = request.credentials
    if (placement === "story") return yield* findStory(credentials, part.media[0]?.kind === "video" ? "video" : "photo", sentAtMs)
    const edge = placement === "reel" ? "video_reels" : request.publishAt !== undefined ? "scheduled_posts" : "published_posts"
    const answer = yield* api(credentials).get(`${credentials.pageId}/${edge}`, `GET /{page-id}/${edge}`, {
      fields: "id,message,description,created_time,permalink_url",
      limit: 25
    })
    const text = part.media.length > 0 && placement === "feed" ? textWithLink(part) : part.text
    const found = dataOf(answer).find((item) =>
      parseGraphTime(item.created_time) >= sentAtMs - 60_000 && (item.message ?? item.description ?? "") === text
    )
    if (found === undefined) return undefined
    const id = String(found.id)
    const url = typeof found.permalink_url === "string" ? found.permalink_url : placement === "reel" ? `https://www.facebook.com/reel/${id}` : postUrl(id)
    return {
      platformPostId: id,
      url,
      publishedAt: new Date(parseGraphTime(found.created_time)).toISOString(),
      parts: [{ platformPostId: id, url }]
    } satisfies Publisher.PublishResult
  })

  /**
   * The first comment: `POST /{object-id}/comments` with `message` (Graph API
   * Object Comments reference) on the published post, photo, video or reel.
   * A story takes no comments: refused before any call.
   */
  const comment = Effect.fn("Facebook.comment")(function*(request: Publisher.CommentRequest<FacebookSettings, FacebookCredentials>) {
    if (request.destination.placement === "story") {
      return yield* new PublishError.Rejected({ platform, code: "COMMENT_NOT_SUPPORTED", message: "a Facebook story takes no comments" })
    }
    const id = yield* api(request.credentials).create(
      `${request.published.platformPostId}/comments`,
      "POST /{object-id}/comments",
      { message: request.text },
      true
    )
    return { platformCommentId: id, url: postUrl(id), postedAt: new Date(yield* Clock.currentTimeMillis).toISOString() }
  })

  return {
    platform,
    displayName: "Facebook",
    rules,
    ...(options.publicMediaUrl === undefined ? { validate: storedMediaIssues("Facebook") } : {}),
    settingsSchema: FacebookSettings,
    credentialsSchema: FacebookCredentials,
    publish,
    comment,
    verifyCredentials,
    findPublished
  } satisfies FacebookPublisher as FacebookPublisher
})
