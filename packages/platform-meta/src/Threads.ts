/**
 * The Threads `PlatformPublisher` (platform-specs §2.3): create-then-publish
 * through `graph.threads.net`.
 *
 * Each part is a container (`POST /{threads-user-id}/threads`: `TEXT` with
 * an optional `link_attachment`, `IMAGE`, `VIDEO`, or a `CAROUSEL` of 2–20
 * children created first), polled until `FINISHED`
 * (`GET /{container-id}?fields=status,error_message`), then published
 * (`POST /{threads-user-id}/threads_publish`). A thread's parts are posted
 * strictly in order, each replying to the one before (`reply_to_id`), through
 * the kit's thread policy (`Thread.publish`): everything that can fail
 * before the first part is live is done first (media URLs, carousel
 * children), a failure after part k-1 carries the live parts, and a retry
 * (`postedParts`) resumes at part k as a reply to part k-1.
 *
 * @example
 * const threads = yield* makeThreadsPublisher({ publicMediaUrl })
 */
import { Clock, Duration, Effect, Option } from "effect"
import { HttpClient } from "effect/http"
import { type Media as CoreMedia, type Post, PublishError, type Publisher, Rules as CoreRules } from "@omnipost/core"
import { Thread, UrlGuard } from "@omnipost/platform-kit"
import { ThreadsCredentials } from "./Credentials.js"
import type { MetaPublisherOptions } from "./Instagram.js"
import { type Api, checkQuota, listSince, makeApi, parseGraphTime } from "./internal/Api.js"
import { checkDestination } from "./internal/Check.js"
import type * as Graph from "./internal/Graph.js"
import { defaultPolling, type Polling, publicUrlOf, storedMediaIssues, waitForContainer } from "./Media.js"
import { ThreadsSettings } from "./Settings.js"

export const platform = "threads"
export const defaultBaseUrl = "https://graph.threads.net/v1.0"

export type ThreadsPublisher = Publisher.PlatformPublisher<ThreadsSettings, ThreadsCredentials>

export const makeThreadsPublisher = Effect.fn("makeThreadsPublisher")(function*(options: MetaPublisherOptions = {}) {
  const client = yield* HttpClient.HttpClient
  const rules = options.rules ?? CoreRules.threads
  const timeout = options.timeout ?? Duration.seconds(30)
  const polling: Polling = { ...defaultPolling, ...options.polling }
  const base = options.baseUrl ?? defaultBaseUrl
  // The host's guard (the worker's OMNIPOST_ALLOW_PRIVATE_URLS…) unless given: strict without either.
  const urlGuard = options.urlGuard ?? Option.getOrUndefined(yield* Effect.serviceOption(UrlGuard.UrlGuard))?.options
  const urlContext = { platform, publicMediaUrl: options.publicMediaUrl, urlGuard }

  const api = (credentials: ThreadsCredentials): Api =>
    makeApi({ client, platform, base, accessToken: credentials.accessToken, timeout, polling, statusFields: "threads" })

  const mediaParams = (media: CoreMedia.Media) =>
    publicUrlOf(media, urlContext).pipe(
      Effect.map((url): Graph.Params =>
        media.kind === "video"
          ? { media_type: "VIDEO", video_url: url }
          : { media_type: "IMAGE", image_url: url, alt_text: media.altText }
      )
    )

  /**
   * What can be done before the thread's first part is posted: the media's
   * public URLs, and a carousel's children (created and polled: they carry
   * no `reply_to_id`). The part's own container needs the part before it.
   */
  const prepare = Effect.fn("Threads.prepare")(function*(account: Api, credentials: ThreadsCredentials, part: Post.ResolvedPart) {
    if (part.media.length <= 1) {
      return { part, single: part.media.length === 1 ? yield* mediaParams(part.media[0]!) : undefined, children: [] as Array<string> }
    }
    const children: Array<string> = []
    for (const media of part.media) {
      const child = yield* account.create(`${credentials.userId}/threads`, "POST /{threads-user-id}/threads", {
        ...(yield* mediaParams(media)),
        is_carousel_item: true
      }, false)
      yield* waitForContainer(account.containers, child)
      children.push(child)
    }
    return { part, single: undefined, children }
  })

  type Prepared = Effect.Success<ReturnType<typeof prepare>>

  /** Creates the part's container (a reply to `replyTo`), waits until it is ready, publishes it. */
  const post = Effect.fn("Threads.post")(function*(
    account: Api,
    credentials: ThreadsCredentials,
    prepared: Prepared,
    settings: ThreadsSettings,
    replyTo: string | undefined
  ) {
    const part = prepared.part
    const common: Graph.Params = {
      text: part.text === "" ? undefined : part.text,
      reply_to_id: replyTo,
      topic_tag: settings.topicTag,
      reply_control: settings.replyControl
    }
    const params: Graph.Params = prepared.children.length > 0
      ? { ...common, media_type: "CAROUSEL", children: prepared.children.join(",") }
      : prepared.single !== undefined
      ? { ...common, ...prepared.single }
      : { ...common, media_type: "TEXT", link_attachment: part.link }
    const containerId = yield* account.create(`${credentials.userId}/threads`, "POST /{threads-user-id}/threads", params, false)
    yield* waitForContainer(account.containers, containerId)
    const id = yield* account.create(
      `${credentials.userId}/threads_publish`,
      "POST /{threads-user-id}/threads_publish",
      { creation_id: containerId },
      true
    )
    return { platformPostId: id, url: yield* permalinkOf(account, credentials, id) }
  })

  const permalinkOf = (account: Api, credentials: ThreadsCredentials, id: string) =>
    account.get(id, "GET /{threads-media-id}?fields=permalink", { fields: "permalink" }).pipe(
      Effect.map((body) =>
        typeof body.permalink === "string" && body.permalink !== "" ? body.permalink : `https://www.threads.net/@${credentials.username ?? ""}`
      ),
      Effect.orElseSucceed(() => `https://www.threads.net/@${credentials.username ?? ""}`)
    )

  const publish = Effect.fn("Threads.publish")(function*(request: Publisher.PublishRequest<ThreadsSettings, ThreadsCredentials>) {
    const problem = checkDestination(rules, request.destination)
    if (problem !== undefined) return yield* problem
    const credentials = request.credentials
    const account = api(credentials)
    yield* checkQuota(account, {
      platform,
      displayName: "Threads",
      limitPath: `${credentials.userId}/threads_publishing_limit`,
      limitOperation: "GET /{threads-user-id}/threads_publishing_limit",
      listPath: `${credentials.userId}/threads`,
      listOperation: "GET /{threads-user-id}/threads"
    })
    const startedAt = new Date(yield* Clock.currentTimeMillis).toISOString()
    const posted = yield* Thread.publish({
      platform,
      parts: request.destination.parts,
      postedParts: request.postedParts,
      prepare: (part) => prepare(account, credentials, part),
      post: (prepared, context) => post(account, credentials, prepared, request.destination.settings, context.replyTo?.platformPostId)
    })
    return { platformPostId: posted[0]!.platformPostId, url: posted[0]!.url, publishedAt: startedAt, parts: posted } satisfies Publisher.PublishResult
  })

  const verifyCredentials = Effect.fn("Threads.verifyCredentials")(function*(credentials: ThreadsCredentials) {
    const body = yield* api(credentials).get("me", "GET /me", { fields: "id,username,name,threads_profile_picture_url" })
    const str = (key: string) => (typeof body[key] === "string" && body[key] !== "" ? (body[key] as string) : undefined)
    return {
      accountId: str("id") ?? credentials.userId,
      username: str("username") ?? credentials.userId,
      ...(str("name") !== undefined ? { displayName: str("name") } : {}),
      ...(str("threads_profile_picture_url") !== undefined ? { avatarUrl: str("threads_profile_picture_url") } : {})
    } satisfies Publisher.AccountProfile
  })

  /**
   * Finds what an attempt with an unknown outcome posted: the lead by its
   * text among the profile's posts after `sentAt`, then each later part among
   * its replies, replying to the part before.
   */
  const findPublished = Effect.fn("Threads.findPublished")(function*(
    request: Publisher.PublishRequest<ThreadsSettings, ThreadsCredentials> & { readonly sentAt: string }
  ) {
    const credentials = request.credentials
    const account = api(credentials)
    const sentAtMs = Date.parse(request.sentAt)
    if (Number.isNaN(sentAtMs)) return yield* new PublishError.Rejected({ platform, message: `sentAt is not an ISO 8601 instant: ${request.sentAt}` })
    const fields = "id,text,permalink,timestamp,replied_to"
    const recent = (item: Record<string, unknown>) => parseGraphTime(item.timestamp) >= sentAtMs - 60_000
    const sinceMs = sentAtMs - 60_000
    const posts = yield* listSince(account, { platform, path: `${credentials.userId}/threads`, operation: "GET /{threads-user-id}/threads", fields, sinceMs })
    const parts = request.destination.parts
    const lead = posts.find((item) => recent(item) && (item.text ?? "") === parts[0].text)
    if (lead === undefined) return undefined
    const found = [lead]
    if (parts.length > 1) {
      const replies = yield* listSince(account, { platform, path: `${credentials.userId}/replies`, operation: "GET /{threads-user-id}/replies", fields, sinceMs })
      for (const part of parts.slice(1)) {
        const parentId = String(found.at(-1)!.id)
        const next = replies.find((item) =>
          recent(item) && (item.replied_to as { id?: unknown } | undefined)?.id === parentId && (item.text ?? "") === part.text
        )
        if (next === undefined) break
        found.push(next)
      }
    }
    const publishedParts: Array<Publisher.PublishedPart> = []
    for (const item of found) {
      const id = String(item.id)
      publishedParts.push({ platformPostId: id, url: typeof item.permalink === "string" ? item.permalink : yield* permalinkOf(account, credentials, id) })
    }
    return yield* Thread.found({
      platform,
      total: parts.length,
      found: publishedParts,
      publishedAt: new Date(parseGraphTime(lead.timestamp)).toISOString()
    })
  })

  /**
   * The first comment: a reply to the post's first part (under a thread too:
   * the comment belongs to the post, not to its last part): a `TEXT`
   * container with `reply_to_id`, polled, then `threads_publish`.
   */
  const comment = Effect.fn("Threads.comment")(function*(request: Publisher.CommentRequest<ThreadsSettings, ThreadsCredentials>) {
    const credentials = request.credentials
    const first = request.published.parts[0]?.platformPostId ?? request.published.platformPostId
    const reply = yield* post(api(credentials), credentials, { part: { text: request.text, media: [] }, single: undefined, children: [] }, {}, first)
    return { platformCommentId: reply.platformPostId, url: reply.url, postedAt: new Date(yield* Clock.currentTimeMillis).toISOString() }
  })

  return {
    platform,
    displayName: "Threads",
    rules,
    ...(options.publicMediaUrl === undefined ? { validate: storedMediaIssues("Threads") } : {}),
    settingsSchema: ThreadsSettings,
    credentialsSchema: ThreadsCredentials,
    publish,
    comment,
    verifyCredentials,
    findPublished
  } satisfies ThreadsPublisher as ThreadsPublisher
})
