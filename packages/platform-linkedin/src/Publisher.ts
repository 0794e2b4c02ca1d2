/**
 * The LinkedIn `PlatformPublisher`: one post through the versioned Posts API
 * (`POST /rest/posts`, `LinkedIn-Version`, `X-Restli-Protocol-Version: 2.0.0`).
 *
 * | the post has | LinkedIn gets |
 * |---|---|
 * | text only | a text post |
 * | a link, no media | an article (`content.article`: the link, `articleTitle` or the link as title, `articleDescription`, `articleThumbnail` uploaded as an image) |
 * | one image or GIF | `content.media` (Images API) |
 * | 2–20 images | `content.multiImage` |
 * | one video | `content.media` (Videos API, multipart, processed until `AVAILABLE`) |
 * | one document (PDF, PPT/PPTX, DOC/DOCX) | `content.media` with a title (Documents API) |
 *
 * The text becomes `commentary` in little text (`LittleText.escape`): every
 * reserved character shows as itself, `@[Name](urn:li:person:…)` mentions and
 * `#hashtags` stay. A link that goes with media is appended to the text. The
 * author is the member (`urn:li:person:{sub}`), or the organization named by
 * the `author` setting when the account was connected with
 * `w_organization_social`. The post's URN is the `x-restli-id` header of the
 * 201; its URL `https://www.linkedin.com/feed/update/{urn}/`.
 *
 * Everything that can fail without posting (credentials, author, every
 * upload) happens before `POST /rest/posts`; that call unanswered is
 * `OutcomeUnknown`, which `findPublished` settles from the author's recent posts.
 *
 * @example
 * const publisher = yield* makeLinkedinPublisher({ version: "202611" }).pipe(Effect.provide(NodeHttpClient.layerUndici))
 */
import { PublishError, type Publisher, type Rules as CoreRules, type Validation } from "@omnipost/core"
import type { Plugin } from "@omnipost/core"
import { Credentials, UrlGuard } from "@omnipost/platform-kit"
import { Clock, Context, type Duration, Effect, Layer, Schema } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import * as Errors from "./Errors.js"
import * as Rest from "./internal/Rest.js"
import * as LittleText from "./LittleText.js"
import * as Media from "./Media.js"
import { rules } from "./Rules.js"
import { LinkedinSettings } from "./Settings.js"

/**
 * The `LinkedIn-Version` sent unless configured (`OMNIPOST_LINKEDIN_VERSION`).
 * LinkedIn releases a version a month and sunsets each after about a year
 * (a sunset version answers 426 `NONEXISTENT_VERSION`).
 */
export const defaultVersion = "202611"

export interface LinkedinPublisherOptions {
  /** `https://api.linkedin.com` unless given (a fake). */
  readonly apiBaseUrl?: string | undefined
  /** `LinkedIn-Version`, `YYYYMM`; `defaultVersion` unless given. */
  readonly version?: string | undefined
  /** Timeout of `POST /rest/posts`; past it the outcome is unknown. Default 30 seconds. */
  readonly postTimeout?: Duration.Input | undefined
  /** Timeout of the other JSON calls. Default 30 seconds. */
  readonly requestTimeout?: Duration.Input | undefined
  /** How often an upload's processing status is asked (default 2 s), and how many times. */
  readonly pollInterval?: Duration.Input | undefined
  readonly maxPolls?: number | undefined
  readonly resolveStoredMedia?: Plugin.ResolveStoredMedia | undefined
  /** How media URLs are guarded; by default the host's guarded client (`UrlGuard.fetcher`). */
  readonly urlGuard?: UrlGuard.Options | undefined
  /** The app's client, to refresh tokens of apps LinkedIn issues refresh tokens to. */
  readonly oauth?: Auth.ClientOptions | undefined
  /** The rules the publisher checks media against and reports; core's `Rules.linkedin` unless given (a larger cap opted into). */
  readonly rules?: CoreRules.PlatformRules | undefined
}

export type LinkedinPublisher = Publisher.PlatformPublisher<LinkedinSettings, Auth.LinkedinCredentials>

/** The public URL of a post. */
export const postUrl = (urn: string): string => `https://www.linkedin.com/feed/update/${urn}/`

/**
 * The URN LinkedIn gave what a write created (the `x-restli-id` header). A 2xx
 * without it means it exists but cannot be named: an unknown outcome, never a
 * failure to retry (that would post twice).
 */
const createdUrn = (answer: { readonly status: number; readonly headers: Readonly<Record<string, string | undefined>> }, operation: string) => {
  const urn = answer.headers["x-restli-id"] ?? answer.headers["x-linkedin-id"]
  return urn === undefined || urn === ""
    ? Effect.fail(new PublishError.OutcomeUnknown({
      platform: Errors.platform,
      message: `${operation} answered HTTP ${answer.status} without an x-restli-id header`,
      httpStatus: answer.status
    }))
    : Effect.succeed(urn)
}

const rejected = (code: string, message: string) => new PublishError.Rejected({ platform: Errors.platform, code, message })

/** How far before `sentAt` `findPublished` looks, for clock differences. */
const findWindowMs = 5 * 60_000

const PostsPage = Schema.Struct({
  elements: Schema.Array(Schema.Struct({
    id: Schema.String,
    commentary: Schema.optional(Schema.String),
    createdAt: Schema.optional(Schema.Number),
    publishedAt: Schema.optional(Schema.Number),
    lifecycleState: Schema.optional(Schema.String)
  }))
})

/** The text a part posts: its text, with the link appended when media take the place of the article. */
const partText = (part: Publisher.PublishRequest["destination"]["parts"][0]): string => {
  if (part.link === undefined || part.link.length === 0 || part.media.length === 0 || part.text.includes(part.link)) return part.text
  return part.text.length === 0 ? part.link : `${part.text}\n\n${part.link}`
}

/** Builds the LinkedIn publisher over an `HttpClient`. */
export const makeLinkedinPublisher = (
  options: LinkedinPublisherOptions = {}
): Effect.Effect<LinkedinPublisher, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const fetcher = yield* UrlGuard.fetcherFor(options.urlGuard)
    const apiBaseUrl = (options.apiBaseUrl ?? Auth.defaultApiBaseUrl).replace(/\/+$/, "")
    const version = options.version ?? defaultVersion
    const requestTimeout = options.requestTimeout ?? "30 seconds"
    const oauth = options.oauth !== undefined ? { apiBaseUrl, ...options.oauth } : undefined
    const platformRules = options.rules ?? rules
    const feed = platformRules.placements.find((row) => row.placement === "feed") ?? platformRules.placements[0]!

    const decodeCredentials = Credentials.decode(Auth.LinkedinCredentials, { platform: Errors.platform, label: "LinkedIn" })

    /** Usable credentials: an expired token is refreshed when it can be, else refused before anything is sent. */
    const usable = Effect.fnUntraced(function*(
      raw: Auth.LinkedinCredentials,
      save?: (credentials: Auth.LinkedinCredentials) => Effect.Effect<void>
    ) {
      const credentials = yield* decodeCredentials(raw)
      const nowMs = yield* Clock.currentTimeMillis
      const expiresMs = Date.parse(credentials.expiresAt ?? "")
      // A minute of margin: a token about to expire would die mid-upload.
      if (!(Number.isFinite(expiresMs) && expiresMs - 60_000 <= nowMs)) return credentials
      if (oauth !== undefined && Auth.refreshable(credentials, nowMs)) {
        const fresh = yield* Auth.refresh(credentials, oauth).pipe(Effect.provideService(HttpClient.HttpClient, client))
        if (save !== undefined) yield* save(fresh)
        return fresh
      }
      return yield* new PublishError.AuthFailed({
        platform: Errors.platform,
        reason: "expired",
        message: `the LinkedIn token expired at ${credentials.expiresAt}${
          Auth.refreshable(credentials, nowMs) ? " and no OAuth client is configured to refresh it" : " and cannot be refreshed"
        }: reconnect the account`
      })
    })

    const connection = (credentials: Auth.LinkedinCredentials): Rest.Connection => ({
      client,
      apiBaseUrl,
      version,
      accessToken: credentials.accessToken,
      timeout: requestTimeout
    })

    const memberUrn = (credentials: Auth.LinkedinCredentials) =>
      credentials.personUrn !== undefined
        ? Effect.succeed(credentials.personUrn)
        : Effect.map(Auth.userInfo(connection(credentials)), (me) => `urn:li:person:${me.sub}`)

    /** The author: the organization of the `author` setting (with the organization scope), else the member. */
    const authorOf = (credentials: Auth.LinkedinCredentials, settings: LinkedinSettings) => {
      if (settings.author === undefined) return memberUrn(credentials)
      if (credentials.scopes?.includes(Auth.organizationScope) !== true) {
        return Effect.fail(
          new PublishError.AuthFailed({
            platform: Errors.platform,
            reason: "missing_permission",
            message: `posting as ${settings.author} needs the ${Auth.organizationScope} scope, which this account was not connected with (${
              credentials.scopes === undefined ? "its scopes are not known" : `granted: ${credentials.scopes.join(" ") || "none"}`
            }); reconnect it granting ${Auth.organizationScope}, as an administrator of that Page`
          })
        )
      }
      return Effect.succeed(settings.author)
    }

    const uploads = (credentials: Auth.LinkedinCredentials): Media.UploadContext => ({
      connection: connection(credentials),
      fetcher,
      resolveStoredMedia: options.resolveStoredMedia,
      pollInterval: options.pollInterval,
      maxPolls: options.maxPolls
    })

    /** `content` for the post: the media uploaded, or the article. */
    const contentFor = Effect.fnUntraced(function*(
      credentials: Auth.LinkedinCredentials,
      author: string,
      part: Publisher.PublishRequest["destination"]["parts"][0],
      settings: LinkedinSettings
    ) {
      const context = uploads(credentials)
      const media = part.media
      const kinds = new Set(media.map((m) => m.kind))
      if (media.length === 0) {
        if (part.link === undefined || part.link.length === 0) return undefined
        const thumbnail = settings.articleThumbnail === undefined
          ? undefined
          : yield* Media.uploadAsset(context, "image", settings.articleThumbnail, author, feed.media.image!)
        return {
          article: {
            source: part.link,
            title: settings.articleTitle ?? part.link,
            ...(settings.articleDescription !== undefined ? { description: settings.articleDescription } : {}),
            ...(thumbnail !== undefined ? { thumbnail } : {})
          }
        }
      }
      if (kinds.size > 1) return yield* rejected("MIXED_MEDIA_NOT_SUPPORTED", `LinkedIn does not mix ${[...kinds].join(" and ")} in one post`)
      const kind = media[0]!.kind
      if ((kind !== "image" && media.length > 1) || media.length > feed.maxMedia) {
        return yield* rejected("TOO_MANY_MEDIA", `LinkedIn takes one ${kind} per post, or 2–${feed.maxMedia} images (got ${media.length})`)
      }
      const rule = feed.media[kind]
      if (rule === undefined) return yield* rejected("UNSUPPORTED_MEDIA_TYPE", `LinkedIn takes no ${kind}`)
      const ids: Array<string> = []
      for (const item of media) {
        ids.push(
          kind === "video"
            ? yield* Media.uploadVideo(context, item, author, rule)
            : yield* Media.uploadAsset(context, kind === "document" ? "document" : "image", item, author, rule)
        )
      }
      if (ids.length > 1) {
        return { multiImage: { images: ids.map((id, i) => ({ id, ...(media[i]!.altText !== undefined ? { altText: media[i]!.altText } : {}) })) } }
      }
      const altText = media[0]!.altText
      return {
        media: {
          id: ids[0]!,
          ...(kind === "document" ? { title: settings.documentTitle ?? "Document" } : {}),
          ...(altText !== undefined && kind !== "document" ? { altText } : {})
        }
      }
    })

    const publish = Effect.fn("LinkedinPublisher.publish")(function*(
      request: Publisher.PublishRequest<LinkedinSettings, Auth.LinkedinCredentials>
    ) {
      const { destination } = request
      if (destination.parts.length > 1) {
        return yield* rejected("THREAD_NOT_SUPPORTED", `LinkedIn has no threads: the post has ${destination.parts.length} parts`)
      }
      const credentials = yield* usable(request.credentials, request.saveCredentials)
      const settings = destination.settings
      const author = yield* authorOf(credentials, settings)
      const part = destination.parts[0]
      const content = yield* contentFor(credentials, author, part, settings)
      const body = {
        author,
        commentary: LittleText.escape(partText(part)),
        visibility: settings.visibility ?? "PUBLIC",
        distribution: { feedDistribution: "MAIN_FEED", targetEntities: [], thirdPartyDistributionChannels: [] },
        lifecycleState: "PUBLISHED",
        isReshareDisabledByAuthor: settings.disableReshare ?? false,
        ...(content !== undefined ? { content } : {})
      }
      const answer = yield* Rest.call(connection(credentials), {
        method: "POST",
        path: "/rest/posts",
        json: body,
        operation: "POST /rest/posts",
        write: true,
        timeout: options.postTimeout ?? "30 seconds"
      })
      const urn = yield* createdUrn(answer, "POST /rest/posts")
      const url = postUrl(urn)
      return {
        platformPostId: urn,
        url,
        publishedAt: new Date(yield* Clock.currentTimeMillis).toISOString(),
        parts: [{ platformPostId: urn, url }]
      }
    })

    /**
     * The first comment: `POST /rest/socialActions/{post-urn}/comments` with
     * the post's author as `actor` (the member, or the organization it posts
     * for), the post as `object` and `message.text` (Comments API). The
     * comment's URN is the `x-restli-id` header.
     */
    const comment = Effect.fn("LinkedinPublisher.comment")(function*(
      request: Publisher.CommentRequest<LinkedinSettings, Auth.LinkedinCredentials>
    ) {
      const credentials = yield* usable(request.credentials, request.saveCredentials)
      const author = yield* authorOf(credentials, request.destination.settings)
      const post = request.published.platformPostId
      const answer = yield* Rest.call(connection(credentials), {
        method: "POST",
        path: `/rest/socialActions/${encodeURIComponent(post)}/comments`,
        json: { actor: author, object: post, message: { text: request.text } },
        operation: "POST /rest/socialActions/{urn}/comments",
        write: true,
        timeout: options.postTimeout ?? "30 seconds"
      })
      const urn = yield* createdUrn(answer, "POST /rest/socialActions/{urn}/comments")
      return {
        platformCommentId: urn,
        url: `${postUrl(post)}?commentUrn=${encodeURIComponent(urn)}`,
        postedAt: new Date(yield* Clock.currentTimeMillis).toISOString()
      }
    })

    /**
     * A token LinkedIn calls expired before its `expiresAt` (401
     * `EXPIRED_ACCESS_TOKEN`): refreshed once where it can be, the fresh
     * credentials saved, and the post made again (the refusal was an answer,
     * so nothing was posted).
     */
    const publishRefreshing = (request: Publisher.PublishRequest<LinkedinSettings, Auth.LinkedinCredentials>) =>
      publish(request).pipe(
        Effect.catchIf(
          (error): error is PublishError.AuthFailed => error._tag === "AuthFailed" && error.reason === "expired" && error.httpStatus === 401,
          (error) =>
            Effect.gen(function*() {
              const credentials = yield* decodeCredentials(request.credentials)
              if (oauth === undefined || !Auth.refreshable(credentials, yield* Clock.currentTimeMillis)) return yield* error
              const fresh = yield* Auth.refresh(credentials, oauth).pipe(Effect.provideService(HttpClient.HttpClient, client))
              if (request.saveCredentials !== undefined) yield* request.saveCredentials(fresh)
              return yield* publish({ ...request, credentials: fresh })
            })
        )
      )

    /**
     * Reconciles an unknown outcome: the author's recent posts (newest first)
     * are read for one made since shortly before `sentAt` whose commentary is
     * the one this attempt sent. None: not posted.
     */
    const findPublished = Effect.fn("LinkedinPublisher.findPublished")(function*(
      request: Publisher.PublishRequest<LinkedinSettings, Auth.LinkedinCredentials> & { readonly sentAt: string }
    ) {
      const credentials = yield* usable(request.credentials, request.saveCredentials)
      const author = yield* authorOf(credentials, request.destination.settings)
      const commentary = LittleText.escape(partText(request.destination.parts[0]))
      const sentAtMs = Date.parse(request.sentAt)
      const since = (Number.isNaN(sentAtMs) ? 0 : sentAtMs) - findWindowMs
      const answer = yield* Rest.call(connection(credentials), {
        method: "GET",
        path: "/rest/posts",
        query: { q: "author", author, count: "50", sortBy: "LAST_MODIFIED" },
        operation: "GET /rest/posts?q=author"
      })
      const page = yield* Schema.decodeUnknownEffect(PostsPage)(answer.body).pipe(
        Effect.mapError(() => new PublishError.Transient({ platform: Errors.platform, message: "GET /rest/posts?q=author: unexpected answer from LinkedIn" }))
      )
      const match = [...page.elements]
        .filter((post) => post.commentary === commentary && (post.createdAt ?? post.publishedAt ?? 0) >= since)
        .sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0))[0]
      if (match === undefined) return undefined
      const url = postUrl(match.id)
      return {
        platformPostId: match.id,
        url,
        publishedAt: new Date(match.publishedAt ?? match.createdAt ?? (yield* Clock.currentTimeMillis)).toISOString(),
        parts: [{ platformPostId: match.id, url }]
      }
    })

    // What the rules table cannot say: settings that need a kind of post.
    const validate = (context: Publisher.ValidationContext<LinkedinSettings>): ReadonlyArray<Validation.ValidationIssue> => {
      const { destination, destinationIndex } = context
      const first = destination.parts[0]
      const issue = (field: string, message: string): Validation.ValidationIssue => ({
        code: "INVALID_SETTINGS",
        message,
        path: ["settings", field],
        platform: Errors.platform,
        destinationIndex,
        accountId: destination.accountId
      })
      const issues: Array<Validation.ValidationIssue> = []
      const isArticle = first.media.length === 0 && first.link !== undefined && first.link.length > 0
      for (const field of ["articleTitle", "articleDescription", "articleThumbnail"] as const) {
        if (destination.settings[field] !== undefined && !isArticle) {
          issues.push(issue(field, `${field} applies to an article: a post with a link and no media`))
        }
      }
      if (destination.settings.documentTitle !== undefined && !first.media.some((m) => m.kind === "document")) {
        issues.push(issue("documentTitle", "documentTitle applies to a post with a document"))
      }
      return issues
    }

    const publisher: LinkedinPublisher = {
      platform: Errors.platform,
      displayName: "LinkedIn",
      rules: platformRules,
      settingsSchema: LinkedinSettings,
      credentialsSchema: Auth.LinkedinCredentials,
      validate,
      publish: publishRefreshing,
      comment,
      findPublished,
      // Shown on the account: without refresh tokens, the day it must be reconnected.
      tokenExpiresAt: (credentials) => credentials.expiresAt,
      delete: ({ credentials, platformPostId }) =>
        Effect.flatMap(usable(credentials), (usableCredentials) =>
          Rest.call(connection(usableCredentials), {
            method: "DELETE",
            path: `/rest/posts/${encodeURIComponent(platformPostId)}`,
            operation: "DELETE /rest/posts/{urn}"
          }).pipe(
            Effect.catchTag("Rejected", (error) => (error.httpStatus === 404 ? Effect.void : Effect.fail(error))),
            Effect.asVoid
          )),
      verifyCredentials: (credentials) =>
        Effect.gen(function*() {
          const decoded = yield* usable(credentials)
          const me = yield* Auth.userInfo(connection(decoded))
          return {
            accountId: me.sub,
            username: me.name ?? me.sub,
            ...(me.name !== undefined ? { displayName: me.name } : {}),
            ...(me.picture !== undefined ? { avatarUrl: me.picture } : {})
          }
        }),
      /**
       * Refreshes where the app gets refresh tokens; otherwise fails
       * `AuthFailed` (`expired`) from `reconnectWindowMs` before the expiry,
       * so the account shows it needs reconnecting before posts fail.
       */
      refreshCredentials: (credentials) =>
        Effect.gen(function*() {
          const decoded = yield* decodeCredentials(credentials)
          const nowMs = yield* Clock.currentTimeMillis
          if (oauth !== undefined && Auth.refreshable(decoded, nowMs)) {
            return yield* Auth.refresh(decoded, oauth).pipe(Effect.provideService(HttpClient.HttpClient, client))
          }
          const health = Auth.tokenHealth(decoded, nowMs)
          if (health.state !== "ok") {
            return yield* new PublishError.AuthFailed({ platform: Errors.platform, reason: "expired", message: health.message })
          }
          return decoded
        })
    }
    return publisher
  })

/** The publisher as a service, for programs that wire platforms with layers. */
export class Linkedin extends Context.Service<Linkedin, LinkedinPublisher>()("@omnipost/platform-linkedin/Linkedin") {}

/** A layer of the `Linkedin` publisher service; needs an `HttpClient`. */
export const layer = (options?: LinkedinPublisherOptions): Layer.Layer<Linkedin, never, HttpClient.HttpClient> =>
  Layer.effect(Linkedin, makeLinkedinPublisher(options))
