/**
 * The X `PlatformPublisher`: posts with `POST /2/tweets`, media through the
 * chunked upload, threads as reply chains.
 *
 * A publish first makes sure of everything that can fail without posting
 * anything (the account's username for the URL, every part's media uploaded
 * and processed), then posts the parts strictly in order, each one a reply to
 * the one before (`reply.in_reply_to_tweet_id`), through the platform kit's
 * `Thread`: if a later part fails, the parts already posted stay live and are
 * kept on the error (`postedParts`), and a retry resumes after them.
 *
 * A first comment (`comment`) is a reply to the published post
 * (`reply.in_reply_to_tweet_id`); under a thread it replies to the first
 * part, the post's identity, so it shows under the post readers land on
 * (a reply to the last part would read as one more part of the thread).
 *
 * @example
 * import { NodeHttpClient } from "@effect/platform-node"
 * const publisher = yield* makeXPublisher().pipe(Effect.provide(NodeHttpClient.layerUndici))
 * const result = yield* publisher.publish(request)
 * // result.url === "https://x.com/alice/status/1880028106020515840"
 */
import { Lru, PublishError, type Publisher, type Validation } from "@omnipost/core"
import { Credentials, Thread, UrlGuard } from "@omnipost/platform-kit"
import { Clock, Context, type Duration, Effect, Layer, Schema, Semaphore } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import * as Errors from "./Errors.js"
import * as Client from "./internal/Client.js"
import { comparable } from "./internal/TweetText.js"
import * as Media from "./Media.js"
import { rules } from "./Rules.js"
import { XSettings } from "./Settings.js"

export interface XPublisherOptions {
  /** `https://api.x.com` unless given (the fake's URL in tests). */
  readonly apiBaseUrl?: string | undefined
  /** Timeout of `POST /2/tweets`; past it the outcome is unknown. Default 30 seconds. */
  readonly postTimeout?: Duration.Input | undefined
  /** Timeout of the other JSON calls. Default 30 seconds. */
  readonly requestTimeout?: Duration.Input | undefined
  readonly upload?: Media.UploadOptions | undefined
}

export type XPublisher = Publisher.PlatformPublisher<XSettings, Auth.XCredentials>

/** The public URL of a post. */
export const postUrl = (username: string, id: string): string => `https://x.com/${username}/status/${id}`

const UserAnswer = Schema.Struct({
  data: Schema.Struct({
    id: Schema.String,
    username: Schema.String,
    name: Schema.optional(Schema.String),
    profile_image_url: Schema.optional(Schema.String)
  })
})

const TimelineAnswer = Schema.Struct({
  data: Schema.optional(Schema.Array(Schema.Struct({
    id: Schema.String,
    text: Schema.String,
    created_at: Schema.optional(Schema.String),
    referenced_tweets: Schema.optional(Schema.Array(Schema.Struct({ type: Schema.String, id: Schema.String }))),
    attachments: Schema.optional(Schema.Struct({ media_keys: Schema.optional(Schema.Array(Schema.String)) }))
  }))),
  meta: Schema.optional(Schema.Struct({ next_token: Schema.optional(Schema.String) }))
})
type TimelineTweet = NonNullable<typeof TimelineAnswer.Type["data"]>[number]

/** How far before `sentAt` to look, for clock differences between us and X. */
const findWindowMs = 5 * 60_000
/** Pages of 100 posts read at most when reconciling. */
const findMaxPages = 5

const TweetAnswer = Schema.Struct({
  data: Schema.Struct({ id: Schema.String, text: Schema.optional(Schema.String) })
})

const unexpected = (operation: string) =>
  new PublishError.Transient({ platform: Errors.platform, message: `${operation}: unexpected answer from X` })

/** Text with the part's link appended when the text does not already contain it. */
const partText = (part: { readonly text: string; readonly link?: string | undefined }): string => {
  if (part.link === undefined || part.link.length === 0 || part.text.includes(part.link)) return part.text
  return part.text.length === 0 ? part.link : `${part.text}\n\n${part.link}`
}

/** X's media mix rule, checked before any upload: up to 4 images, or 1 GIF, or 1 video. */
const mediaMixProblem = (media: ReadonlyArray<{ readonly kind: string }>): string | undefined => {
  const kinds = new Set(media.map((m) => m.kind))
  if (kinds.has("document")) return "X does not accept documents"
  if (kinds.size > 1) return "X does not mix images, GIFs and videos in one post"
  if ((kinds.has("video") || kinds.has("gif")) && media.length > 1) return "X accepts one video or one GIF per post"
  if (media.length > 4) return `X accepts at most 4 images per post (got ${media.length})`
  return undefined
}

/**
 * Builds the X publisher over an `HttpClient`.
 */
export const makeXPublisher = (options?: XPublisherOptions): Effect.Effect<XPublisher, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    // Media URLs are fetched as the host fetches users' URLs (its guarded client), unless the options say how.
    const upload: Media.UploadOptions = { ...options?.upload, fetcher: yield* UrlGuard.fetcherFor(options?.upload?.urlGuard) }
    const apiBaseUrl = (options?.apiBaseUrl ?? Auth.defaultApiBaseUrl).replace(/\/+$/, "")
    const requestTimeout = options?.requestTimeout ?? "30 seconds"
    const postTimeout = options?.postTimeout ?? "30 seconds"
    // user id and @username per token: the username is needed for every post
    // URL and changes rarely, so it is asked once per token.
    // Tokens rotate every 2 hours: keep the cache small.
    const accounts = new Lru<string, Publisher.AccountProfile>(1_000)
    const cacheKey = (credentials: Auth.XCredentials) =>
      credentials._tag === "oauth2" ? `oauth2:${credentials.accessToken}` : `oauth1:${credentials.token}`

    // X rotates refresh tokens: two publishes of one account refreshing at
    // once would spend the same refresh token twice, and the second would be
    // refused (the account would look disconnected). Refreshes therefore run
    // one at a time, and a refresh token already exchanged gives the same new
    // credentials again instead of a second exchange.
    const refreshLock = yield* Semaphore.make(1)
    // Only recent exchanges matter: keep the map small.
    const refreshed = new Lru<string, Auth.XOAuth2Credentials>(1_000)
    const refreshOnce = (credentials: Auth.XOAuth2Credentials) =>
      refreshLock.withPermits(1)(Effect.gen(function*() {
        const nowMs = yield* Clock.currentTimeMillis
        // Follow the chain of exchanges made from this refresh token.
        let current = credentials
        for (let known = refreshed.get(current.refreshToken ?? ""); known !== undefined; known = refreshed.get(current.refreshToken ?? "")) {
          if (!Auth.isExpired(known, nowMs)) return known
          current = known
        }
        const key = current.refreshToken ?? ""
        const fresh = yield* Auth.refreshAccessToken(current, { apiBaseUrl }).pipe(
          Effect.provideService(HttpClient.HttpClient, client)
        )
        if (key.length > 0) refreshed.set(key, fresh)
        return fresh
      }))
    const decodeCredentials = Credentials.decode(Auth.XCredentials, { platform: Errors.platform, label: "X" })
    const connect = (
      credentials: Auth.XCredentials,
      saveCredentials?: (credentials: Auth.XCredentials) => Effect.Effect<void>
    ) =>
      // Credentials come from storage: a malformed record is an auth problem
      // for the account, not a crash.
      decodeCredentials(credentials).pipe(
        Effect.flatMap((decoded) =>
          Client.make({ client, apiBaseUrl, credentials: decoded, saveCredentials, refresh: refreshOnce })
        )
      )

    const fetchMe = (api: Client.XApi) =>
      api.request({
        method: "GET",
        path: "/2/users/me",
        query: { "user.fields": "profile_image_url,name,username" },
        operation: "GET /2/users/me",
        timeout: requestTimeout
      }).pipe(
        Effect.flatMap((response) =>
          Schema.decodeUnknownEffect(UserAnswer)(response.body).pipe(
            Effect.mapError(() => unexpected("GET /2/users/me"))
          )
        ),
        Effect.map((answer): Publisher.AccountProfile => ({
          accountId: answer.data.id,
          username: answer.data.username,
          displayName: answer.data.name,
          avatarUrl: answer.data.profile_image_url
        })),
        Effect.tap((profile) =>
          Effect.map(api.credentials, (credentials) => {
            accounts.set(cacheKey(credentials), profile)
          })
        )
      )

    const profileFor = Effect.fn("XPublisher.profile")(function*(api: Client.XApi) {
      const cached = accounts.get(cacheKey(yield* api.credentials))
      return cached ?? (yield* fetchMe(api))
    })

    const usernameFor = Effect.fn("XPublisher.username")(function*(api: Client.XApi) {
      const credentials = yield* api.credentials
      if (credentials.username !== undefined && credentials.username.length > 0) return credentials.username
      const cached = accounts.get(cacheKey(credentials))
      if (cached !== undefined) return cached.username
      return (yield* fetchMe(api)).username
    })

    const createTweet = (api: Client.XApi, body: Record<string, unknown>) =>
      api.request({
        method: "POST",
        path: "/2/tweets",
        body: { _tag: "json", value: body },
        operation: "POST /2/tweets",
        createsPost: true,
        timeout: postTimeout
      }).pipe(
        Effect.flatMap((response) =>
          Schema.decodeUnknownEffect(TweetAnswer)(response.body).pipe(
            // X answered 2xx, so the post exists even if we cannot read its id.
            Effect.mapError(() =>
              new PublishError.OutcomeUnknown({
                platform: Errors.platform,
                message: `POST /2/tweets answered HTTP ${response.status} without a post id`,
                httpStatus: response.status
              })
            )
          )
        ),
        Effect.map((answer) => answer.data.id)
      )

    const deleteTweet = (api: Client.XApi, id: string) =>
      api.request({
        method: "DELETE",
        path: `/2/tweets/${encodeURIComponent(id)}`,
        operation: "DELETE /2/tweets/:id",
        timeout: requestTimeout
      }).pipe(
        // Already gone is what was asked for.
        Effect.catchTag("Rejected", (error) => error.httpStatus === 404 ? Effect.void : Effect.fail(error)),
        Effect.asVoid
      )

    const publish = Effect.fn("XPublisher.publish")(function*(
      request: Publisher.PublishRequest<XSettings, Auth.XCredentials>
    ) {
      const { destination } = request
      const settings = destination.settings
      for (const [index, part] of destination.parts.entries()) {
        const problem = mediaMixProblem(part.media)
        if (problem !== undefined) {
          return yield* new PublishError.Rejected({
            platform: Errors.platform,
            code: "UNSUPPORTED_MEDIA_CONFIG",
            message: `Part ${index + 1}: ${problem}`
          })
        }
      }
      const api = yield* connect(request.credentials, request.saveCredentials)
      const username = yield* usernameFor(api)

      // The kit's thread policy: every part's media uploaded first (a failed upload posts nothing),
      // then the parts in order, each replying to the one before; a retry resumes after the live ones.
      const posted = yield* Thread.publish({
        platform: Errors.platform,
        parts: destination.parts,
        postedParts: request.postedParts,
        prepare: (part) => Effect.forEach(part.media, (media) => Media.uploadMedia(api, client, media, upload)),
        post: (mediaIds, { index, part, replyTo }) => {
          const inReplyTo = replyTo?.platformPostId ?? settings.inReplyToTweetId
          const body: Record<string, unknown> = {
            text: partText(part),
            ...(mediaIds.length > 0 ? { media: { media_ids: mediaIds } } : {}),
            ...(inReplyTo !== undefined ? { reply: { in_reply_to_tweet_id: inReplyTo } } : {}),
            ...(index === 0 && settings.quoteTweetId !== undefined ? { quote_tweet_id: settings.quoteTweetId } : {}),
            ...(settings.replySettings !== undefined && settings.replySettings !== "everyone"
              ? { reply_settings: settings.replySettings }
              : {})
          }
          return createTweet(api, body).pipe(Effect.map((id) => ({ platformPostId: id, url: postUrl(username, id) })))
        }
      })

      const first = posted[0]!
      const publishedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
      return { platformPostId: first.platformPostId, url: first.url, publishedAt, parts: posted }
    })

    /** The first comment: a reply to the post's first part. */
    const comment = Effect.fn("XPublisher.comment")(function*(
      request: Publisher.CommentRequest<XSettings, Auth.XCredentials>
    ) {
      const api = yield* connect(request.credentials, request.saveCredentials)
      const username = yield* usernameFor(api)
      const id = yield* createTweet(api, { text: request.text, reply: { in_reply_to_tweet_id: request.published.platformPostId } })
      return { platformCommentId: id, url: postUrl(username, id), postedAt: new Date(yield* Clock.currentTimeMillis).toISOString() }
    })

    /**
     * Reconciles an unknown outcome: reads the account's posts since shortly
     * before `sentAt` and looks for the parts, in order, each replying to the
     * one before, with the same words and media count (after the parts a
     * resumed attempt had live already). The kit's `Thread.found` decides: none
     * found is not posted, all is the result, the first parts are kept and
     * the rest posted after them.
     */
    const findPublished = Effect.fn("XPublisher.findPublished")(function*(
      request: Publisher.PublishRequest<XSettings, Auth.XCredentials> & { readonly sentAt: string }
    ) {
      const api = yield* connect(request.credentials, request.saveCredentials)
      const profile = yield* profileFor(api)
      const sentAtMs = Date.parse(request.sentAt)
      const startTime = new Date((Number.isNaN(sentAtMs) ? 0 : sentAtMs) - findWindowMs).toISOString()
        .replace(/\.\d{3}Z$/, "Z")
      const timeline: Array<TimelineTweet> = []
      let next: string | undefined
      for (let page = 0; page < findMaxPages; page++) {
        const response = yield* api.request({
          method: "GET",
          path: `/2/users/${encodeURIComponent(profile.accountId)}/tweets`,
          query: {
            start_time: startTime,
            max_results: "100",
            "tweet.fields": "created_at,referenced_tweets,attachments",
            ...(next !== undefined ? { pagination_token: next } : {})
          },
          operation: "GET /2/users/:id/tweets",
          timeout: requestTimeout
        })
        const answer = yield* Schema.decodeUnknownEffect(TimelineAnswer)(response.body).pipe(
          Effect.mapError(() => unexpected("GET /2/users/:id/tweets"))
        )
        timeline.push(...(answer.data ?? []))
        next = answer.meta?.next_token
        if (next === undefined) break
      }
      // Oldest first: the first match is the one this attempt made.
      timeline.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
      const repliedTo = (tweet: TimelineTweet) => tweet.referenced_tweets?.find((r) => r.type === "replied_to")?.id
      // A resumed attempt looks for the parts after those already live (which may be older than the window).
      const live = request.postedParts ?? []
      const found: Array<TimelineTweet> = []
      let previous = live.at(-1)?.platformPostId ?? request.destination.settings.inReplyToTweetId
      for (const part of request.destination.parts.slice(live.length)) {
        const words = comparable(partText(part))
        const match = timeline.find((tweet) =>
          repliedTo(tweet) === previous &&
          comparable(tweet.text, { fromX: true }) === words &&
          (tweet.attachments?.media_keys?.length ?? 0) === part.media.length &&
          !found.includes(tweet)
        )
        if (match === undefined) break
        found.push(match)
        previous = match.id
      }
      return yield* Thread.found({
        platform: Errors.platform,
        total: request.destination.parts.length,
        found: [...live, ...found.map((tweet) => ({ platformPostId: tweet.id, url: postUrl(profile.username, tweet.id) }))],
        publishedAt: (live.length === 0 ? found[0]?.created_at : undefined) ?? new Date(yield* Clock.currentTimeMillis).toISOString()
      })
    })

    // Alt text length and the media mix are rows of core's rules table; what
    // the table cannot say is checked here.
    const validate = (context: Publisher.ValidationContext<XSettings>): ReadonlyArray<Validation.ValidationIssue> => {
      const { destination, destinationIndex } = context
      if (destination.settings.quoteTweetId !== undefined && destination.parts[0].media.length > 0) {
        return [{
          code: "UNSUPPORTED_MEDIA_CONFIG",
          message: "X does not accept a quote (quoteTweetId) together with media in one post",
          path: ["content", "media"],
          platform: "x",
          destinationIndex,
          accountId: destination.accountId
        }]
      }
      return []
    }

    const publisher: XPublisher = {
      platform: "x",
      displayName: "X",
      rules,
      settingsSchema: XSettings,
      credentialsSchema: Auth.XCredentials,
      validate,
      publish,
      comment,
      findPublished,
      delete: ({ credentials, platformPostId }) =>
        Effect.flatMap(connect(credentials), (api) => deleteTweet(api, platformPostId)),
      verifyCredentials: (credentials) => Effect.flatMap(connect(credentials), fetchMe),
      refreshCredentials: (credentials) =>
        Effect.flatMap(connect(credentials), (api) => api.credentials).pipe(
          Effect.flatMap((decoded): Effect.Effect<Auth.XCredentials, Errors.XPublishError> =>
            decoded._tag === "oauth2" ? refreshOnce(decoded) : Effect.succeed(decoded)
          )
        )
    }
    return publisher
  })

/** The publisher as a service, for programs that wire platforms with layers. */
export class X extends Context.Service<X, XPublisher>()("@omnipost/platform-twitter/X") {}

/**
 * A layer of the `X` publisher service; needs an `HttpClient`.
 *
 * @example
 * const XLive = layer({ postTimeout: "20 seconds" }).pipe(Layer.provide(NodeHttpClient.layerUndici))
 */
export const layer = (options?: XPublisherOptions): Layer.Layer<X, never, HttpClient.HttpClient> =>
  Layer.effect(X, makeXPublisher(options))
