/**
 * An in-process fake of Meta's Graph APIs (Instagram, Facebook Pages,
 * Threads) on the kit's `FakeServer`: 127.0.0.1, an ephemeral port, one fault
 * vocabulary. One server plays every host: the publishers take
 * `fake.graphUrl` as their `baseUrl`, and the rupload URLs it hands out
 * point back at it.
 *
 * What it checks, as Meta does (platform-specs §2): access tokens (190 with
 * subcodes, permissions 10/200), the container lifecycle (IN_PROGRESS for
 * several polls, FINISHED, ERROR with the reason, EXPIRED after 24 h,
 * PUBLISHED; publishing before FINISHED is 9007/2207027), the publishing
 * limit (9/2207042), media fetched from the URLs it is given and judged by
 * their bytes (type, size, aspect ratio; unreachable URLs), the usage
 * headers (`X-App-Usage`, `X-Business-Use-Case-Usage` when throttled).
 *
 * @example
 * const fake = yield* FakeMeta.make()
 * const account = fake.addInstagramAccount({ username: "kites" })
 * const url = fake.hostMedia(Samples.jpeg(200_000))
 * const publisher = yield* makeInstagramPublisher({ baseUrl: fake.graphUrl, urlGuard: { allowPrivate: true } })
 */
import { Effect, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import { type Answer, type FakeRequest, FakeServer, Faults } from "@omnipost/platform-kit/testing"
import { commentRoutes, type FakeComment } from "./internal/comments.js"
import { facebookRoutes, type FakePagePost, type FakePhoto, type FakeVideo } from "./internal/facebook.js"
import { instagramRoutes } from "./internal/instagram.js"
import { nodeAnswer } from "./internal/nodes.js"
import { type FakeApp, oauthRoutes } from "./internal/oauth.js"
import { threadsRoutes } from "./internal/threads.js"
import {
  type Container,
  type FakeProfile,
  graphError,
  newId,
  paramsOf,
  type PublishedMedia,
  type TokenInfo,
  type TokenKind,
  tokenOf
} from "./internal/state.js"

export { type FakeApp } from "./internal/oauth.js"
export { type FakeComment } from "./internal/comments.js"
export { type FakePagePost, type FakePhoto, type FakeVideo } from "./internal/facebook.js"
export { type Container, type FakeProfile, graphError, type PublishedMedia, type TokenInfo } from "./internal/state.js"

export interface FakeMetaOptions {
  /** The fake's clock (epoch ms). Default `Date.now`. */
  readonly now?: (() => number) | undefined
  /** Status polls an image container answers IN_PROGRESS before its outcome. Default 1. */
  readonly imagePolls?: number | undefined
  /** Status polls a video container answers IN_PROGRESS before its outcome. Default 3. */
  readonly videoPolls?: number | undefined
  /** The Graph version in paths. Default `v25.0`. */
  readonly version?: string | undefined
}

/** What a handler gets: the parsed parameters and the token's owner. */
export interface Call {
  readonly request: FakeRequest
  readonly params: Record<string, string>
  readonly token: TokenInfo
  readonly tokenValue: string
}

export class FakeMetaServer {
  readonly version: string
  readonly profiles = new Map<string, FakeProfile>()
  readonly tokens = new Map<string, TokenInfo>()
  readonly containers = new Map<string, Container>()
  readonly media = new Map<string, PublishedMedia>()
  /** Facebook Pages: photos, videos (Reels, stories, videos) and posts. */
  readonly photos = new Map<string, FakePhoto>()
  readonly videos = new Map<string, FakeVideo>()
  readonly pagePosts = new Map<string, FakePagePost>()
  /** Comments made on Instagram media and Facebook objects (`POST /{object-id}/comments`), in order. */
  readonly comments: Array<FakeComment> = []
  /** Pages whose manager must confirm their identity: every write is refused (368/1404078). */
  readonly identityUnconfirmed = new Set<string>()
  /** Bytes served at `/_media/:id` (`hostMedia`). */
  readonly hosted = new Map<string, { readonly bytes: Uint8Array; readonly contentType: string }>()
  /** Usage percentages sent in `X-App-Usage` on every answer. */
  appUsage = { call_count: 1, total_cputime: 1, total_time: 1 }
  readonly imagePolls: number
  readonly videoPolls: number
  /**
   * The next media container's processing (an Instagram or Threads image or
   * video, a Facebook video) fails with this reason: its status ends `ERROR`.
   */
  nextProcessingError: string | undefined

  /** The reason set by `nextProcessingError`, once. */
  takeProcessingError(): string | undefined {
    const reason = this.nextProcessingError
    this.nextProcessingError = undefined
    return reason
  }

  constructor(readonly server: FakeServer, options: FakeMetaOptions) {
    this.version = options.version ?? "v25.0"
    this.imagePolls = options.imagePolls ?? 1
    this.videoPolls = options.videoPolls ?? 3
  }

  get url(): string {
    return this.server.url
  }

  /** What a publisher takes as `baseUrl`: the server and the version. */
  get graphUrl(): string {
    return `${this.server.url}/${this.version}`
  }

  get now(): number {
    return this.server.now()
  }

  /** Serves `bytes` at a URL of the fake (a "public" media host for tests). */
  hostMedia(bytes: Uint8Array, contentType = "application/octet-stream"): string {
    const id = randomBytes(6).toString("hex")
    this.hosted.set(id, { bytes, contentType })
    return `${this.server.url}/_media/${id}`
  }

  /** A token for an object. */
  issueToken(kind: TokenKind, ownerId: string, scopes: ReadonlyArray<string> = ["*"], lifetime?: "short" | "long"): string {
    const token = `${kind.toUpperCase()}${randomBytes(12).toString("hex")}`
    this.tokens.set(token, { kind, ownerId, expired: false, scopes, lifetime })
    return token
  }

  /** OAuth apps by client id. */
  readonly apps = new Map<string, FakeApp>()
  /** Who is signed in at each authorize page (a profile id; a Facebook user for `facebook`). */
  readonly approver: Partial<Record<FakeApp["platform"], string>> = {}
  /** Pages each Facebook user manages (what `GET /me/accounts` lists). */
  readonly pageManagers = new Map<string, Array<string>>()
  /** Instagram professional accounts linked to Pages (Instagram through Facebook Login). */
  readonly linkedInstagram = new Map<string, string>()
  /** Long-lived tokens refreshed. */
  refreshes = 0

  /**
   * Whether a token may act for an object: its own, or (a Facebook user's
   * token) an Instagram account linked to a Page the user manages.
   */
  actsFor(token: TokenInfo, id: string): boolean {
    if (token.ownerId === id) return true
    return token.kind === "user" && (this.pageManagers.get(token.ownerId) ?? []).some((pageId) => this.linkedInstagram.get(pageId) === id)
  }

  registerApp(app: FakeApp): FakeApp {
    this.apps.set(app.clientId, app)
    return app
  }

  /** A Facebook user who manages these Pages. */
  addFacebookUser(input: { readonly name: string; readonly pages: ReadonlyArray<string> }): FakeProfile {
    const user = this.addProfile({ kind: "user", username: input.name.toLowerCase().replace(/\W+/g, ""), name: input.name })
    this.pageManagers.set(user.id, [...input.pages])
    return user
  }

  addProfile(input: Partial<FakeProfile> & { readonly kind: FakeProfile["kind"]; readonly username: string }): FakeProfile {
    const id = input.id ?? newId()
    const profile: FakeProfile = {
      id,
      username: input.username,
      name: input.name ?? input.username,
      pictureUrl: input.pictureUrl ?? `https://cdn.example/${input.username}.jpg`,
      kind: input.kind,
      quotaTotal: input.quotaTotal ?? (input.kind === "threads" ? 250 : 100),
      quotaDurationSeconds: input.quotaDurationSeconds ?? 86_400
    }
    this.profiles.set(id, profile)
    return profile
  }

  /** An Instagram professional account and its credentials. */
  addInstagramAccount(input: { readonly username: string; readonly login?: "instagram" | "facebook"; readonly quotaTotal?: number }) {
    const profile = this.addProfile({ kind: "instagram", username: input.username, quotaTotal: input.quotaTotal })
    const accessToken = this.issueToken("instagram", profile.id)
    return {
      profile,
      credentials: { accessToken, userId: profile.id, login: input.login ?? "instagram", username: profile.username } as const
    }
  }

  /** A Facebook Page and its credentials (a Page token). */
  addFacebookPage(input: { readonly name: string; readonly username?: string }) {
    const profile = this.addProfile({ kind: "page", username: input.username ?? input.name.toLowerCase().replace(/\W+/g, ""), name: input.name })
    const pageAccessToken = this.issueToken("page", profile.id)
    return { profile, credentials: { pageId: profile.id, pageAccessToken, pageName: profile.name } }
  }

  /** A Threads profile and its credentials. */
  addThreadsAccount(input: { readonly username: string; readonly quotaTotal?: number }) {
    const profile = this.addProfile({ kind: "threads", username: input.username, quotaTotal: input.quotaTotal })
    const accessToken = this.issueToken("threads", profile.id)
    return { profile, credentials: { accessToken, userId: profile.id, username: profile.username } }
  }

  /** The answer to the next `times` requests of `operation`: a Graph error with code and subcode. */
  failNext(operation: string, answer: Answer, options?: { readonly times?: number; readonly after?: number }): void {
    this.server.inject(operation, Faults.status(answer.status, { body: answer.body, headers: answer.headers as Record<string, string> }), options)
  }

  /** Media published by one owner, newest first. */
  publishedBy(ownerId: string): Array<PublishedMedia> {
    return [...this.media.values()].filter((item) => item.ownerId === ownerId).sort((a, b) => b.timestampMs - a.timestampMs)
  }

  /** Published media within the owner's quota window. */
  usage(profile: FakeProfile): number {
    const since = this.now - profile.quotaDurationSeconds * 1000
    return this.publishedBy(profile.id).filter((item) =>
      item.timestampMs > since && (item.platform !== "threads" || item.replyToId === undefined)
    ).length
  }

  /** Resolves the call's token: 190 when missing, unknown or expired. */
  authorize(request: FakeRequest, params: Record<string, string>, kinds: ReadonlyArray<TokenKind>): Call | Answer {
    const value = tokenOf(request, params)
    if (value === undefined) return graphError(400, 2500, "An active access token must be used to query information about the current user.")
    const token = this.tokens.get(value)
    if (token === undefined) return graphError(400, 190, "Invalid OAuth access token - Cannot parse access token")
    if (token.expired) {
      return graphError(400, 190, "Error validating access token: Session has expired.", { subcode: 463 })
    }
    if (!kinds.includes(token.kind)) {
      return graphError(400, 190, `Invalid OAuth access token for this host (a ${token.kind} token)`)
    }
    return { request, params, token, tokenValue: value }
  }

  /** Registers a route whose handler gets an authorized call. */
  graphRoute(
    method: string,
    pattern: string,
    operation: string,
    kinds: ReadonlyArray<TokenKind>,
    handler: (call: Call) => Answer | Promise<Answer>
  ): void {
    this.server.route(method, pattern, async (request) => {
      const params = await paramsOf(request)
      const call = this.authorize(request, params, kinds)
      return "status" in call ? call : handler(call)
    }, { operation })
  }
}

/** Starts the fake with every platform's routes. */
export const start = async (options: FakeMetaOptions = {}): Promise<FakeMetaServer> => {
  let fake: FakeMetaServer | undefined
  const server = await FakeServer.start({
    ...(options.now !== undefined ? { now: options.now } : {}),
    errorAnswer: (status) =>
      status === 404
        ? graphError(404, 100, "Unsupported request - method type or path not found", { type: "GraphMethodException" })
        : status === 429
        ? graphError(429, 4, "Application request limit reached")
        : graphError(status, status >= 500 ? 2 : 1, status >= 500 ? "Service temporarily unavailable" : "An unknown error occurred"),
    headers: () => ({ "x-app-usage": JSON.stringify(fake?.appUsage ?? {}) })
  })
  fake = new FakeMetaServer(server, options)
  const self = fake
  server.route("GET", "/_media/:id", (request) => {
    const hosted = self.hosted.get(request.params.id!)
    return hosted === undefined
      ? { status: 404, body: "not found" }
      : { status: 200, headers: { "content-type": hosted.contentType }, body: hosted.bytes }
  }, { operation: "media host" })
  instagramRoutes(fake)
  threadsRoutes(fake)
  facebookRoutes(fake)
  commentRoutes(fake)
  oauthRoutes(fake)
  fake.graphRoute("GET", "/:version/:id", "GET /{id}", ["instagram", "threads", "user", "page"], (call) =>
    nodeAnswer(self, call, call.request.params.id!))
  return fake
}

/** The fake for the current scope, closed with it. */
export const make = (options: FakeMetaOptions = {}): Effect.Effect<FakeMetaServer, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.promise(() => start(options)), (fake) => Effect.promise(() => fake.server.close()))
