/**
 * An in-process fake of `api.x.com` for tests, built on the platform kit's
 * `FakeServer` (127.0.0.1, an ephemeral port, the request log and the one
 * fault vocabulary), faithful to platform-specs §1:
 *
 * - checks `Authorization`: Bearer user tokens (known, not expired, with the
 *   endpoint's scope) and OAuth 1.0a headers (known keys, HMAC-SHA1 signature
 *   recomputed per RFC 5849, no replayed nonce);
 * - the OAuth 2.0 token endpoint: authorization codes with PKCE S256, refresh
 *   with rotation, public and confidential (Basic auth) clients;
 * - the chunked upload: INIT before APPEND, segment indexes in order, each
 *   segment ≤ 8 MB, byte count equal to `total_bytes` at FINALIZE, media type
 *   judged from the bytes and size per category (image 5 MB, GIF 15 MB, video
 *   512 MB), STATUS processing states (pending → in_progress → succeeded |
 *   failed) for video and GIF, alt text ≤ 1000 characters;
 * - `POST /2/tweets`: text weighted by twitter-text (≤ 280), media ids that
 *   exist, belong to the user and are processed, ≤ 4 images or 1 video/GIF,
 *   the reply target exists, duplicate content is refused with 403;
 * - `x-rate-limit-limit/-remaining/-reset` on every answer, with per-user
 *   15-minute windows enforced; errors in X's own body shapes; snowflake ids;
 * - keeps every post and upload, and the kit's log of every request;
 * - faults from the kit's vocabulary (`Faults`) per endpoint, answered in
 *   X's shapes: `dropBeforeApply`, `dropAfterApply`, `status` (X's problem
 *   body unless one is given), `slow`, `rateLimitWindow` (429 with X's
 *   `x-rate-limit-*` headers and error code 88).
 *
 * @example
 * // Promise API, for any test framework
 * const fake = await FakeXServer.start()
 * const credentials = fake.issueOAuth2Token({ username: "alice" })
 * fake.inject("POST /2/tweets", Faults.dropAfterApply())
 * // … makeXPublisher({ apiBaseUrl: fake.url }) …
 * await fake.close()
 *
 * // Effect API
 * const fake = yield* FakeX // with FakeX.layer() provided
 */
import { type Answer, type Fault, type FakeRequest, FakeServer, type LoggedRequest } from "@omnipost/platform-kit/testing"
import { Context, Effect, Layer } from "effect"
import type { XOAuth1Credentials, XOAuth2Credentials } from "../Auth.js"
import { defaultHeaders, errorAnswer, problem, RateWindows, tooMany, windowHeaders } from "./internal/Answers.js"
import {
  defaultRateLimits,
  type FakeXEndpoint,
  type FakeXOptions,
  type FakeXTweet,
  type FakeXUpload,
  type FakeXUser,
  requiredScope,
  Store
} from "./internal/Model.js"
import { OAuth } from "./internal/OAuth.js"
import { createTweet, deleteTweet, timeline } from "./internal/Tweets.js"
import { Uploads } from "./internal/Uploads.js"

export { Faults, gate, type LoggedRequest } from "@omnipost/platform-kit/testing"
export type { FakeXEndpoint, FakeXOptions, FakeXProcessingState, FakeXTweet, FakeXUpload, FakeXUser } from "./internal/Model.js"

/** How a logged request authenticated: a Bearer token, an OAuth 1.0a signature, Basic (a confidential client), or not at all. */
export const authScheme = (request: Pick<LoggedRequest, "headers">): "bearer" | "oauth1" | "basic" | "none" => {
  const authorization = request.headers.authorization ?? ""
  return authorization.startsWith("Bearer ")
    ? "bearer"
    : authorization.startsWith("OAuth ")
    ? "oauth1"
    : authorization.startsWith("Basic ")
    ? "basic"
    : "none"
}

const routes: ReadonlyArray<readonly [method: string, pattern: string]> = [
  ["POST", "/2/oauth2/token"],
  ["GET", "/2/users/me"],
  ["POST", "/2/media/upload/initialize"],
  ["POST", "/2/media/upload/:id/append"],
  ["POST", "/2/media/upload/:id/finalize"],
  ["GET", "/2/media/upload"],
  ["POST", "/2/media/metadata"],
  ["POST", "/2/tweets"],
  ["DELETE", "/2/tweets/:id"],
  ["GET", "/2/users/:id/tweets"]
]

export class FakeXServer {
  /** Starts a fake on 127.0.0.1 and an ephemeral port. */
  static async start(options: FakeXOptions = {}): Promise<FakeXServer> {
    const now = options.now ?? Date.now
    const server = await FakeServer.start({
      now,
      errorAnswer,
      rateLimitHeaders: windowHeaders,
      headers: defaultHeaders(now)
    })
    return new FakeXServer(server, new Store(options, now))
  }

  private readonly oauth: OAuth
  private readonly media: Uploads
  private readonly windows: RateWindows

  private constructor(
    /** The kit's server underneath: its request log, faults and lifecycle. */
    readonly server: FakeServer,
    private readonly store: Store
  ) {
    this.oauth = new OAuth(store)
    this.media = new Uploads(store)
    this.windows = new RateWindows(store.now)
    for (const [method, pattern] of routes) {
      server.route(method, pattern, (request) => this.answer(`${method} ${pattern}` as FakeXEndpoint, request))
    }
  }

  /** `http://127.0.0.1:<port>`: pass it as `apiBaseUrl`. */
  get url(): string {
    return this.server.url
  }

  get tweets(): Array<FakeXTweet> {
    return this.store.tweets
  }

  get uploads(): Array<FakeXUpload> {
    return this.store.uploads
  }

  get users(): Array<FakeXUser> {
    return this.store.users
  }

  /** Every request, in arrival order (the kit's log; the operation is the endpoint). */
  get requests(): Array<LoggedRequest> {
    return this.server.requests
  }

  /** Stops listening and closes open connections. */
  close(): Promise<void> {
    return this.server.close()
  }

  // -------------------------------------------------------------------------
  // Setting up

  /** Adds an account (or returns the existing one with that username). */
  addUser(input: { readonly username: string; readonly name?: string; readonly id?: string }): FakeXUser {
    return this.store.addUser(input)
  }

  /** Registers an OAuth 2.0 client; a `clientSecret` makes it confidential (Basic auth required). */
  registerClient(input: { readonly clientId: string; readonly clientSecret?: string }): void {
    this.oauth.registerClient(input)
  }

  /**
   * Issues OAuth 2.0 user tokens as if the user had consented, returned as
   * the publisher's credentials. `expiresInSeconds` may be negative (already expired).
   */
  issueOAuth2Token(input: Parameters<OAuth["issueOAuth2Token"]>[0]): XOAuth2Credentials {
    return this.oauth.issueOAuth2Token(input)
  }

  /** Issues OAuth 1.0a user credentials (consumer key/secret and access token/secret). */
  issueOAuth1Token(input: { readonly username: string }): XOAuth1Credentials {
    return this.oauth.issueOAuth1Token(input)
  }

  /**
   * What happens when the user approves the consent screen: checks the
   * authorization URL's parameters and returns the code X would send to the
   * callback (valid once).
   */
  approveAuthorization(authorizationUrl: string, username: string): { readonly code: string; readonly state: string } {
    return this.oauth.approveAuthorization(authorizationUrl, username)
  }

  /** Makes an access token expire now (X answers 401 from then on). */
  expireAccessToken(accessToken: string): void {
    this.oauth.expireAccessToken(accessToken)
  }

  /** Revokes a refresh token (the user disconnected the app). */
  revokeRefreshToken(refreshToken: string): void {
    this.oauth.revokeRefreshToken(refreshToken)
  }

  /**
   * The next `times` requests to `endpoint` (after letting `after` through
   * normally) meet `fault`, from the kit's vocabulary.
   *
   * @example
   * fake.inject("POST /2/tweets", Faults.rateLimitWindow({ limit: 0, windowMs: 60_000 }))
   * fake.inject("POST /2/tweets", Faults.status(500), { after: 2 }) // the third post fails
   */
  inject(endpoint: FakeXEndpoint | "*", fault: Fault, options?: { readonly times?: number; readonly after?: number }): void {
    this.server.inject(endpoint, fault, options)
  }

  /** Removes every injected fault and rate-limit window. */
  clearFaults(): void {
    this.server.clearFaults()
  }

  /** The next finalized video or GIF ends in `failed` with this error. */
  failNextProcessing(error?: { readonly code?: number; readonly name?: string; readonly message?: string }): void {
    this.media.failNextProcessing(error)
  }

  /** Posts that are not deleted, in the order they were created. */
  get liveTweets(): ReadonlyArray<FakeXTweet> {
    return this.store.tweets.filter((t) => !t.deleted)
  }

  /** Forgets posts, uploads, requests, faults and windows (accounts and tokens stay). */
  reset(): void {
    this.store.tweets.length = 0
    this.store.uploads.length = 0
    this.server.requests.length = 0
    this.server.clearFaults()
    this.windows.clear()
    this.media.reset()
  }

  // -------------------------------------------------------------------------
  // Answering

  private limitOf(endpoint: FakeXEndpoint): number {
    return this.store.options.rateLimits?.[endpoint] ?? defaultRateLimits[endpoint]
  }

  /** Authenticates, checks the scope, counts the request in the user's window, then answers; with the window's headers. */
  private async answer(endpoint: FakeXEndpoint, request: FakeRequest): Promise<Answer> {
    const body = Buffer.from(await request.body())
    const counted = (key: string, answer: () => Answer): Answer => {
      const window = this.windows.take(key, this.limitOf(endpoint))
      const result = window.allowed ? answer() : tooMany()
      return { ...result, headers: { ...window.headers, ...result.headers } }
    }
    if (endpoint === "POST /2/oauth2/token") return counted("token", () => this.oauth.tokenEndpoint(request, body))
    const principal = this.oauth.authenticate(request, body)
    if ("status" in principal) return principal
    const scope = requiredScope[endpoint]
    if (scope !== undefined && principal.scopes !== "all" && !principal.scopes.has(scope)) {
      return problem(
        403,
        "Unsupported Authentication",
        `Your token is missing the scope required for this endpoint: ${scope}`,
        "https://api.twitter.com/2/problems/unsupported-authentication"
      )
    }
    const user = this.store.users.find((u) => u.id === principal.userId)!
    const json = (): unknown => {
      try {
        return JSON.parse(body.toString("utf8"))
      } catch {
        return undefined
      }
    }
    const id = request.params.id ?? ""
    return counted(`${principal.userId}:${endpoint}`, () => {
      switch (endpoint) {
        case "GET /2/users/me":
          return me(user, request.query)
        case "POST /2/media/upload/initialize":
          return this.media.initialize(user, json())
        case "POST /2/media/upload/:id/append":
          return this.media.append(user, id, request, body)
        case "POST /2/media/upload/:id/finalize":
          return this.media.finalize(user, id)
        case "GET /2/media/upload":
          return this.media.status(user, request.query)
        case "POST /2/media/metadata":
          return this.media.metadata(user, json())
        case "POST /2/tweets":
          return createTweet(this.store, user, json())
        case "DELETE /2/tweets/:id":
          return deleteTweet(this.store, user, id)
        case "GET /2/users/:id/tweets":
          return timeline(this.store, id, request.query)
      }
    })
  }
}

const me = (user: FakeXUser, query: URLSearchParams): Answer => {
  const fields = (query.get("user.fields") ?? "").split(",")
  return {
    status: 200,
    body: {
      data: {
        id: user.id,
        name: user.name,
        username: user.username,
        ...(fields.includes("profile_image_url") ? { profile_image_url: user.profileImageUrl } : {})
      }
    }
  }
}

/**
 * The fake as an Effect service: `FakeX.layer()` starts it for the scope of
 * the layer and closes it after.
 *
 * @example
 * layer(FakeX.layer())("X publisher", (it) => {
 *   it.effect("posts", () => Effect.gen(function*() {
 *     const fake = yield* FakeX
 *     // …
 *   }))
 * })
 */
export class FakeX extends Context.Service<FakeX, FakeXServer>()("@omnipost/platform-twitter/testing/FakeX") {
  /** Starts a fake (Promise API, same as `FakeXServer.start`); call `close()` when done. */
  static readonly start = (options?: FakeXOptions): Promise<FakeXServer> => FakeXServer.start(options)

  /** A fake for the current scope. */
  static readonly make = (options?: FakeXOptions) =>
    Effect.acquireRelease(
      Effect.promise(() => FakeXServer.start(options)),
      (fake) => Effect.promise(() => fake.close())
    )

  static readonly layer = (options?: FakeXOptions): Layer.Layer<FakeX> => Layer.effect(FakeX, FakeX.make(options))
}
