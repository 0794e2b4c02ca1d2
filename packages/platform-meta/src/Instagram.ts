/**
 * The Instagram `PlatformPublisher`: the container flow of the Instagram
 * Graph API (platform-specs §2.1).
 *
 * 1. The account's publishing limit is read (`content_publishing_limit`); an
 *    exhausted one is `RateLimited` until the oldest post of the window ages out.
 * 2. Containers are created: a feed image (`image_url`), a Reel
 *    (`media_type=REELS`, `video_url`, or the resumable upload with Facebook
 *    Login), a story (`media_type=STORIES`), or a carousel's children first
 *    (`is_carousel_item=true`, each polled to `FINISHED`) and then its parent
 *    (`media_type=CAROUSEL&children=…`).
 * 3. The container is polled until `FINISHED`, then published
 *    (`media_publish`), and its permalink read.
 *
 * @example
 * const instagram = yield* makeInstagramPublisher({ publicMediaUrl })
 * yield* instagram.publish(request)
 */
import { Clock, Duration, Effect, Option } from "effect"
import { HttpClient } from "effect/http"
import { type Media as CoreMedia, PublishError, type Publisher, Rules as CoreRules } from "@omnipost/core"
import { MediaSource, UrlGuard } from "@omnipost/platform-kit"
import { InstagramCredentials } from "./Credentials.js"
import { checkDestination, textWithLink } from "./internal/Check.js"
import { type Api, checkQuota, listSince, makeApi, parseGraphTime } from "./internal/Api.js"
import * as Graph from "./internal/Graph.js"
import { defaultPolling, type Polling, type PublicMediaUrl, publicUrlOf, storedMediaIssues, waitForContainer } from "./Media.js"
import { InstagramSettings } from "./Settings.js"

export const platform = "instagram"
export const graphVersion = "v25.0"
/** Instagram API with Instagram Login. */
export const instagramLoginUrl = `https://graph.instagram.com/${graphVersion}`
/** Instagram API with Facebook Login. */
export const facebookLoginUrl = `https://graph.facebook.com/${graphVersion}`

export interface MetaPublisherOptions {
  /** The Graph API base, version included (a fake, a proxy). Default: the platform's host and version. */
  readonly baseUrl?: string | undefined
  /** The rules checked before anything is sent. Default: core's row. */
  readonly rules?: CoreRules.PlatformRules | undefined
  readonly polling?: Partial<Polling> | undefined
  /** One Graph call. Default 30 s. */
  readonly timeout?: Duration.Input | undefined
  /** A resumable upload. Default 10 min. */
  readonly uploadTimeout?: Duration.Input | undefined
  /** Public URLs of stored media (the worker's signed URLs under `OMNIPOST_PUBLIC_URL`). */
  readonly publicMediaUrl?: PublicMediaUrl | undefined
  /** Opens `stored` sources for uploads (core's one stored-media hook). */
  readonly resolveStoredMedia?: MediaSource.ResolveStoredMedia | undefined
  /** How media URLs are checked before Meta is asked to fetch them. Default strict (no private addresses). */
  readonly urlGuard?: UrlGuard.Options | undefined
}

export type InstagramPublisher = Publisher.PlatformPublisher<InstagramSettings, InstagramCredentials>

type Params = Graph.Params

const collaboratorsParam = (settings: InstagramSettings) =>
  settings.collaborators !== undefined && settings.collaborators.length > 0 ? JSON.stringify(settings.collaborators) : undefined

export const makeInstagramPublisher = Effect.fn("makeInstagramPublisher")(function*(options: MetaPublisherOptions = {}) {
  const client = yield* HttpClient.HttpClient
  const rules = options.rules ?? CoreRules.instagram
  const timeout = options.timeout ?? Duration.seconds(30)
  const uploadTimeout = options.uploadTimeout ?? Duration.minutes(10)
  const polling: Polling = { ...defaultPolling, ...options.polling }
  // The host's guard (the worker's OMNIPOST_ALLOW_PRIVATE_URLS…) unless given: strict without either.
  const urlGuard = options.urlGuard ?? Option.getOrUndefined(yield* Effect.serviceOption(UrlGuard.UrlGuard))?.options
  const urlContext = { platform, publicMediaUrl: options.publicMediaUrl, urlGuard }

  const baseOf = (credentials: InstagramCredentials) =>
    options.baseUrl ?? (credentials.login === "facebook" ? facebookLoginUrl : instagramLoginUrl)

  const graph = (credentials: InstagramCredentials): Api =>
    makeApi({ client, platform, base: baseOf(credentials), accessToken: credentials.accessToken, timeout, polling, statusFields: "instagram" })

  const checkPublishingLimit = (credentials: InstagramCredentials) =>
    checkQuota(graph(credentials), {
      platform,
      displayName: "Instagram",
      limitPath: `${credentials.userId}/content_publishing_limit`,
      limitOperation: "GET /{ig-user-id}/content_publishing_limit",
      listPath: `${credentials.userId}/media`,
      listOperation: "GET /{ig-user-id}/media"
    })

  /** A container for one medium; `extra` are the placement's parameters. */
  const mediaParams = Effect.fn("Instagram.mediaParams")(function*(media: CoreMedia.Media, videoType: string) {
    const url = yield* publicUrlOf(media, urlContext)
    return media.kind === "video" ? { media_type: videoType, video_url: url } : { image_url: url }
  })

  const createContainer = (credentials: InstagramCredentials, params: Params) =>
    graph(credentials).create(`${credentials.userId}/media`, "POST /{ig-user-id}/media", params, false)

  /**
   * A Reel from bytes: `upload_type=resumable`, then the bytes to rupload
   * (Facebook Login only; platform-specs §2.1 "Resumable video upload").
   */
  const resumableReel = Effect.fn("Instagram.resumableReel")(function*(
    credentials: InstagramCredentials,
    media: CoreMedia.Media,
    params: Params
  ) {
    const api = graph(credentials)
    const created = yield* api.post(`${credentials.userId}/media`, "POST /{ig-user-id}/media", {
      ...params,
      media_type: "REELS",
      upload_type: "resumable"
    }, false)
    const id = yield* Graph.field(created, "id", { platform, operation: "POST /{ig-user-id}/media", write: false })
    const uri = yield* Graph.field(created, "uri", { platform, operation: "POST /{ig-user-id}/media", write: false })
    const videoRule = rules.placements.find((row) => row.placement === "reel")?.media.video
    yield* Effect.scoped(Effect.gen(function*() {
      const opened = yield* MediaSource.openMedia(media, {
        platform,
        maxBytes: videoRule?.maxSizeBytes,
        resolveStoredMedia: options.resolveStoredMedia
      })
      const size = opened.sizeBytes ?? media.sizeBytes
      yield* Graph.call(client, {
        platform,
        operation: "POST rupload /ig-api-upload/{container-id}",
        method: "POST",
        url: uri,
        headers: { authorization: `OAuth ${credentials.accessToken}`, offset: "0", file_size: String(size) },
        raw: { stream: opened.stream, contentLength: size },
        write: false,
        timeout: uploadTimeout
      })
    }).pipe(Effect.provideService(HttpClient.HttpClient, client)))
    return id
  })

  const publish = Effect.fn("Instagram.publish")(function*(
    request: Publisher.PublishRequest<InstagramSettings, InstagramCredentials>
  ) {
    const destination = request.destination
    const problem = checkDestination(rules, destination)
    if (problem !== undefined) return yield* problem
    const part = destination.parts[0]
    const media = part.media
    const placement = destination.placement ?? CoreRules.inferPlacement(rules, media.map((item) => item.kind))
    const settings = destination.settings
    const credentials = request.credentials
    const api = graph(credentials)
    const caption = textWithLink(part)
    yield* checkPublishingLimit(credentials)

    const common: Params = {
      caption: caption === "" ? undefined : caption,
      collaborators: collaboratorsParam(settings),
      location_id: settings.locationId
    }
    let containerId: string
    switch (placement) {
      case "carousel": {
        const children: Array<string> = []
        for (const item of media) {
          const child = yield* createContainer(credentials, { ...(yield* mediaParams(item, "VIDEO")), is_carousel_item: true })
          yield* waitForContainer(api.containers, child)
          children.push(child)
        }
        containerId = yield* createContainer(credentials, { ...common, media_type: "CAROUSEL", children: children.join(",") })
        break
      }
      case "reel": {
        const video = media[0]!
        const reel: Params = {
          ...common,
          share_to_feed: settings.shareToFeed,
          cover_url: settings.coverUrl,
          thumb_offset: settings.coverUrl === undefined ? settings.thumbOffsetMs : undefined,
          audio_name: settings.audioName
        }
        containerId = video.source._tag !== "url" && credentials.login === "facebook" &&
            !(video.source._tag === "stored" && options.publicMediaUrl !== undefined)
          ? yield* resumableReel(credentials, video, reel)
          : yield* createContainer(credentials, { ...reel, ...(yield* mediaParams(video, "REELS")) })
        break
      }
      case "story":
        containerId = yield* createContainer(credentials, { ...(yield* mediaParams(media[0]!, "STORIES")), media_type: "STORIES" })
        break
      default: {
        const image = media[0]!
        containerId = yield* createContainer(credentials, {
          ...common,
          ...(yield* mediaParams(image, "REELS")),
          alt_text: image.altText
        })
      }
    }
    yield* waitForContainer(api.containers, containerId)
    const published = yield* api.post(
      `${credentials.userId}/media_publish`,
      "POST /{ig-user-id}/media_publish",
      { creation_id: containerId },
      true
    )
    const mediaId = yield* Graph.field(published, "id", { platform, operation: "POST /{ig-user-id}/media_publish", write: true })
    const publishedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
    const url = yield* permalinkOf(credentials, mediaId)
    return { platformPostId: mediaId, url, publishedAt, parts: [{ platformPostId: mediaId, url }] } satisfies Publisher.PublishResult
  })

  /**
   * The first comment: `POST /{ig-media-id}/comments` with `message` (IG Media
   * Comments reference). A story takes no comments: refused before any call.
   * A comment has no permalink of its own: its URL is the post's.
   */
  const comment = Effect.fn("Instagram.comment")(function*(request: Publisher.CommentRequest<InstagramSettings, InstagramCredentials>) {
    if (request.destination.placement === "story") {
      return yield* new PublishError.Rejected({ platform, code: "COMMENT_NOT_SUPPORTED", message: "an Instagram story takes no comments" })
    }
    const id = yield* graph(request.credentials).create(
      `${request.published.platformPostId}/comments`,
      "POST /{object-id}/comments",
      { message: request.text },
      true
    )
    return { platformCommentId: id, url: request.published.url, postedAt: new Date(yield* Clock.currentTimeMillis).toISOString() }
  })

  /** The post's permalink (never built from the id); the profile when it cannot be read: the post is live either way. */
  const permalinkOf = (credentials: InstagramCredentials, mediaId: string) =>
    graph(credentials).get(mediaId, "GET /{ig-media-id}?fields=permalink", { fields: "permalink,shortcode" }).pipe(
      Effect.map((body) =>
        typeof body.permalink === "string" && body.permalink !== ""
          ? body.permalink
          : `https://www.instagram.com/${credentials.username ?? ""}`
      ),
      Effect.orElseSucceed(() => `https://www.instagram.com/${credentials.username ?? ""}`)
    )

  const verifyCredentials = Effect.fn("Instagram.verifyCredentials")(function*(credentials: InstagramCredentials) {
    const fields = credentials.login === "facebook"
      ? "id,username,name,profile_picture_url"
      : "user_id,username,name,profile_picture_url"
    const body = yield* graph(credentials).get(credentials.login === "facebook" ? credentials.userId : "me", "GET /me", { fields })
    const str = (key: string) => (typeof body[key] === "string" && body[key] !== "" ? (body[key] as string) : undefined)
    return {
      accountId: str("user_id") ?? str("id") ?? credentials.userId,
      username: str("username") ?? credentials.userId,
      ...(str("name") !== undefined ? { displayName: str("name") } : {}),
      ...(str("profile_picture_url") !== undefined ? { avatarUrl: str("profile_picture_url") } : {})
    } satisfies Publisher.AccountProfile
  })

  /**
   * Looks the account's recent media (and stories) up for the post an
   * unanswered `media_publish` may have made: same caption, published after
   * `sentAt` (a minute of slack for clocks). A story is listed for its 24
   * hours only: an attempt older than `storyLookupMs` cannot be looked up,
   * which is `OutcomeUnknown` (check by hand), never "not found".
   */
  // 23 hours: a story made at `sentAt` plus the minute of slack is still listed.
  const storyLookupMs = 23 * 3_600_000

  const findPublished = Effect.fn("Instagram.findPublished")(function*(
    request: Publisher.PublishRequest<InstagramSettings, InstagramCredentials> & { readonly sentAt: string }
  ) {
    const credentials = request.credentials
    const sentAtMs = Date.parse(request.sentAt)
    if (Number.isNaN(sentAtMs)) {
      return yield* new PublishError.Rejected({ platform, message: `sentAt is not an ISO 8601 instant: ${request.sentAt}` })
    }
    const part = request.destination.parts[0]
    const placement = request.destination.placement ?? CoreRules.inferPlacement(rules, part.media.map((item) => item.kind))
    if (placement === "story" && (yield* Clock.currentTimeMillis) - sentAtMs > storyLookupMs) {
      return yield* new PublishError.OutcomeUnknown({
        platform,
        message: `Instagram lists a story for 24 hours only, and this one was sent at ${request.sentAt}: it can no longer be looked up; check the account by hand before posting it again`
      })
    }
    const edge = placement === "story" ? "stories" : "media"
    const listed = yield* listSince(graph(credentials), {
      platform,
      path: `${credentials.userId}/${edge}`,
      operation: `GET /{ig-user-id}/${edge}`,
      fields: "id,caption,permalink,timestamp,media_product_type",
      sinceMs: sentAtMs - 60_000
    })
    const caption = textWithLink(part)
    const found = listed.find((item) =>
      parseGraphTime(item.timestamp) >= sentAtMs - 60_000 &&
      (placement === "story" || (item.caption ?? "") === caption)
    )
    if (found === undefined) return undefined
    const id = String(found.id)
    const url = typeof found.permalink === "string" ? found.permalink : yield* permalinkOf(credentials, id)
    return {
      platformPostId: id,
      url,
      publishedAt: new Date(parseGraphTime(found.timestamp)).toISOString(),
      parts: [{ platformPostId: id, url }]
    } satisfies Publisher.PublishResult
  })

  return {
    platform,
    displayName: "Instagram",
    rules,
    ...(options.publicMediaUrl === undefined ? { validate: storedMediaIssues("Instagram") } : {}),
    settingsSchema: InstagramSettings,
    credentialsSchema: InstagramCredentials,
    publish,
    comment,
    verifyCredentials,
    findPublished
  } satisfies InstagramPublisher as InstagramPublisher
})

