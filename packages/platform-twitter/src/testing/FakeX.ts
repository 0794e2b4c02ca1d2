/**
 * An in-process fake of `api.x.com` for tests, on 127.0.0.1 and an ephemeral
 * port, faithful to platform-specs §1:
 *
 * - checks `Authorization`: Bearer user tokens (known, not expired, with the
 *   endpoint's scope) and OAuth 1.0a headers (known keys, HMAC-SHA1 signature
 *   recomputed per RFC 5849, no replayed nonce);
 * - the OAuth 2.0 token endpoint: authorization codes with PKCE S256, refresh
 *   with rotation, public and confidential (Basic auth) clients;
 * - the chunked upload: INIT before APPEND, segment indexes in order, each
 *   segment ≤ 8 MB, byte count equal to `total_bytes` at FINALIZE, media type
 *   and size per category (image 5 MB, GIF 15 MB, video 512 MB), STATUS
 *   processing states (pending → in_progress → succeeded | failed) for video
 *   and GIF, alt text ≤ 1000 characters;
 * - `POST /2/tweets`: text weighted by twitter-text (≤ 280), media ids that
 *   exist, belong to the user and are processed, ≤ 4 images or 1 video/GIF,
 *   the reply target exists, duplicate content is refused with 403;
 * - `x-rate-limit-limit/-remaining/-reset` on every answer, with per-user
 *   15-minute windows enforced; errors in X's own body shapes; snowflake ids;
 * - keeps every post, upload and request for assertions;
 * - fault injection for the next N requests to an endpoint: 429 with a reset
 *   time, 5xx, a slow answer, a connection dropped after the request arrived,
 *   or any status and body.
 *
 * @example
 * // Promise API, for any test framework
 * const fake = await FakeXServer.start()
 * const credentials = fake.issueOAuth2Token({ username: "alice" })
 * // … makeXPublisher({ apiBaseUrl: fake.url }) …
 * await fake.close()
 *
 * // Effect API
 * const fake = yield* FakeX // with FakeX.layer() provided
 */
import { FakeMedia } from "@omnipost/platform-kit/testing"
import { Context, Effect, Layer } from "effect"
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import twitterText from "twitter-text"
import type { XOAuth1Credentials, XOAuth2Credentials } from "../Auth.js"
import { parseOAuth1Header, signatureBaseString } from "../Auth.js"

// ---------------------------------------------------------------------------
// Public types

export type FakeXEndpoint =
  | "POST /2/oauth2/token"
  | "GET /2/users/me"
  | "POST /2/media/upload/initialize"
  | "POST /2/media/upload/:id/append"
  | "POST /2/media/upload/:id/finalize"
  | "GET /2/media/upload"
  | "POST /2/media/metadata"
  | "POST /2/tweets"
  | "DELETE /2/tweets/:id"
  | "GET /2/users/:id/tweets"

export type FakeXFault =
  /** 429 with `x-rate-limit-remaining: 0` and `x-rate-limit-reset` this many seconds ahead (default 900). */
  | { readonly type: "rateLimit"; readonly resetInSeconds?: number }
  /** A 5xx with X's problem body (default 500). */
  | { readonly type: "serverError"; readonly status?: number }
  /** Handles the request, then answers after `delayMs`. */
  | { readonly type: "slow"; readonly delayMs: number }
  /**
   * Destroys the connection after the whole request arrived. By default the
   * request is handled first (a post is created): the worst case for a client.
   */
  | { readonly type: "drop"; readonly beforeHandling?: boolean }
  /** Any status and JSON body, e.g. X's 403 for an over-long video. */
  | { readonly type: "error"; readonly status: number; readonly body: unknown }

export interface FakeXUser {
  readonly id: string
  readonly username: string
  readonly name: string
  readonly profileImageUrl: string
}

export interface FakeXTweet {
  readonly id: string
  readonly authorId: string
  readonly text: string
  readonly mediaIds: ReadonlyArray<string>
  readonly inReplyToTweetId?: string | undefined
  readonly quoteTweetId?: string | undefined
  readonly replySettings?: string | undefined
  readonly createdAt: string
  deleted: boolean
}

export type FakeXProcessingState = "pending" | "in_progress" | "succeeded" | "failed"

export interface FakeXUpload {
  readonly id: string
  readonly mediaKey: string
  readonly ownerId: string
  readonly mediaType: string
  readonly mediaCategory: string
  readonly totalBytes: number
  /** Segments in the order they arrived. */
  readonly segments: Array<{ readonly index: number; readonly size: number }>
  receivedBytes: number
  finalized: boolean
  state: FakeXProcessingState
  /** SHA-256 (hex) of the whole file, once finalized. */
  sha256?: string | undefined
  /** The type the bytes are (sniffed at FINALIZE, as X judges the file, not `media_type`). */
  sniffedType?: string | undefined
  altText?: string | undefined
  /** When each STATUS poll arrived (epoch ms). */
  readonly statusPolls: Array<number>
  readonly expiresAtMs: number
}

export interface FakeXRequest {
  readonly method: string
  readonly path: string
  readonly endpoint: FakeXEndpoint | undefined
  readonly auth: "bearer" | "oauth1" | "basic" | "none"
  status: number
  readonly at: number
}

export interface FakeXOptions {
  /** Lifetime of issued OAuth 2.0 access tokens; X's is 2 hours. */
  readonly accessTokenTtlSeconds?: number
  /** STATUS behaviour for video and GIF. */
  readonly processing?: {
    /** `check_after_secs` in FINALIZE and STATUS answers (default 1). */
    readonly checkAfterSecs?: number
    /** STATUS polls before `succeeded` (default 2: one `in_progress`, then done). */
    readonly pollsUntilDone?: number
  }
  /** Per-user limits per 15-minute window, overriding X's documented ones. */
  readonly rateLimits?: Partial<Record<FakeXEndpoint, number>>
  /** Byte caps per category; defaults to platform-specs §1.4 (conservative video cap). */
  readonly limits?: {
    readonly imageBytes?: number
    readonly gifBytes?: number
    readonly videoBytes?: number
    readonly segmentBytes?: number
  }
  /** Clock of the fake (epoch ms); `Date.now` by default. */
  readonly now?: () => number
}

// ---------------------------------------------------------------------------
// Constants (platform-specs §1)

const MB = 1_000_000
const twitterEpochMs = 1288834974657n

/** Documented per-user limits per 15 minutes (platform-specs §1.6); the unverified ones are marked. */
const defaultRateLimits: Record<FakeXEndpoint, number> = {
  "POST /2/tweets": 100,
  "DELETE /2/tweets/:id": 50,
  "POST /2/media/upload/initialize": 1875,
  "POST /2/media/upload/:id/append": 1875,
  "POST /2/media/upload/:id/finalize": 1875,
  "GET /2/media/upload": 1000,
  // unverified: not in the spec sheet's table
  "POST /2/media/metadata": 500,
  "GET /2/users/me": 75,
  "POST /2/oauth2/token": 1000,
  "GET /2/users/:id/tweets": 900
}

const requiredScope: Partial<Record<FakeXEndpoint, string>> = {
  "GET /2/users/me": "users.read",
  "POST /2/tweets": "tweet.write",
  "DELETE /2/tweets/:id": "tweet.write",
  "GET /2/users/:id/tweets": "tweet.read",
  "POST /2/media/upload/initialize": "media.write",
  "POST /2/media/upload/:id/append": "media.write",
  "POST /2/media/upload/:id/finalize": "media.write",
  "GET /2/media/upload": "media.write",
  "POST /2/media/metadata": "media.write"
}

const categoryTypes: Record<string, ReadonlyArray<string>> = {
  tweet_image: ["image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"],
  tweet_gif: ["image/gif"],
  tweet_video: ["video/mp4", "video/quicktime"]
}

const windowSeconds = 15 * 60

interface Answer {
  readonly status: number
  readonly body?: unknown
  readonly headers?: Readonly<Record<string, string>>
}

const problem = (status: number, title: string, detail: string, type = "about:blank"): Answer => ({
  status,
  body: { title, detail, type, status }
})

const invalidRequest = (message: string, parameters?: Record<string, ReadonlyArray<string>>): Answer => ({
  status: 400,
  body: {
    errors: [{ parameters: parameters ?? {}, message }],
    title: "Invalid Request",
    detail: "One or more parameters to your request was invalid.",
    type: "https://api.twitter.com/2/problems/invalid-request"
  }
})

const unauthorized = (): Answer => problem(401, "Unauthorized", "Unauthorized")

const oauthError = (status: number, error: string, description: string): Answer => ({
  status,
  body: { error, error_description: description }
})

const sha256Base64Url = (text: string) =>
  createHash("sha256").update(text).digest("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

const token = (bytes = 24) => randomBytes(bytes).toString("base64url")

const safeEqual = (a: string, b: string) => {
  const ab = Buffer.from(a)
  const bb = Buffer.from(b)
  return ab.length === bb.length && timingSafeEqual(ab, bb)
}

// ---------------------------------------------------------------------------
// The server

interface AccessToken {
  readonly userId: string
  readonly clientId: string
  readonly scopes: ReadonlySet<string>
  expiresAtMs: number
}

interface AuthorizationCode {
  readonly userId: string
  readonly clientId: string
  readonly redirectUri: string
  readonly codeChallenge: string
  readonly scopes: ReadonlyArray<string>
  used: boolean
}

type Principal = { readonly userId: string; readonly scopes: ReadonlySet<string> | "all" }

export class FakeXServer {
  /** Starts a fake on 127.0.0.1 and an ephemeral port. */
  static async start(options: FakeXOptions = {}): Promise<FakeXServer> {
    const fake = new FakeXServer(options)
    await new Promise<void>((resolve, reject) => {
      fake.server.once("error", reject)
      fake.server.listen(0, "127.0.0.1", () => resolve())
    })
    return fake
  }

  readonly tweets: Array<FakeXTweet> = []
  readonly uploads: Array<FakeXUpload> = []
  readonly requests: Array<FakeXRequest> = []
  readonly users: Array<FakeXUser> = []

  private readonly server: Server
  private readonly now: () => number
  private sequence = 0n
  private readonly clients = new Map<string, { readonly secret?: string | undefined }>()
  private readonly accessTokens = new Map<string, AccessToken>()
  private readonly refreshTokens = new Map<string, { readonly userId: string; readonly clientId: string; readonly scopes: ReadonlyArray<string> }>()
  private readonly codes = new Map<string, AuthorizationCode>()
  private readonly oauth1 = new Map<string, { readonly userId: string; readonly consumerKey: string; readonly consumerSecret: string; readonly tokenSecret: string }>()
  private readonly nonces = new Set<string>()
  private readonly faults = new Map<FakeXEndpoint, Array<FakeXFault | undefined>>()
  private readonly windows = new Map<string, { count: number; resetAtSeconds: number }>()
  /** Running SHA-256 of each upload's segments. */
  private readonly hashes = new Map<string, ReturnType<typeof createHash>>()
  /** The first bytes of each upload, to judge its type by its bytes at FINALIZE. */
  private readonly heads = new Map<string, Uint8Array>()
  private readonly failures = new Map<string, { code: number; name: string; message: string }>()
  private processingFailures: Array<{ readonly code: number; readonly name: string; readonly message: string }> = []

  private constructor(private readonly options: FakeXOptions) {
    this.now = options.now ?? Date.now
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" })
          res.end(JSON.stringify({ title: "Internal Server Error", detail: String(error), type: "about:blank", status: 500 }))
        }
      })
    })
  }

  /** `http://127.0.0.1:<port>`: pass it as `apiBaseUrl`. */
  get url(): string {
    const address = this.server.address() as AddressInfo
    return `http://127.0.0.1:${address.port}`
  }

  /** Stops listening and closes open connections. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }

  // -------------------------------------------------------------------------
  // Setting up

  /** Adds an account (or returns the existing one with that username). */
  addUser(input: { readonly username: string; readonly name?: string; readonly id?: string }): FakeXUser {
    const existing = this.users.find((u) => u.username.toLowerCase() === input.username.toLowerCase())
    if (existing !== undefined) return existing
    const id = input.id ?? this.nextId()
    const user: FakeXUser = {
      id,
      username: input.username,
      name: input.name ?? input.username,
      profileImageUrl: `https://pbs.twimg.com/profile_images/${id}/avatar_normal.jpg`
    }
    this.users.push(user)
    return user
  }

  /** Registers an OAuth 2.0 client; a `clientSecret` makes it confidential (Basic auth required). */
  registerClient(input: { readonly clientId: string; readonly clientSecret?: string }): void {
    this.clients.set(input.clientId, { secret: input.clientSecret })
  }

  /**
   * Issues OAuth 2.0 user tokens as if the user had consented, returned as
   * the publisher's credentials. `expiresInSeconds` may be negative (already expired).
   */
  issueOAuth2Token(input: {
    readonly username: string
    readonly clientId?: string
    readonly clientSecret?: string
    readonly scopes?: ReadonlyArray<string>
    readonly expiresInSeconds?: number
    readonly withRefreshToken?: boolean
  }): XOAuth2Credentials {
    const user = this.addUser({ username: input.username })
    const clientId = input.clientId ?? "fake-client-id"
    if (!this.clients.has(clientId)) this.registerClient({ clientId, ...(input.clientSecret !== undefined ? { clientSecret: input.clientSecret } : {}) })
    const scopes = input.scopes ?? ["tweet.read", "tweet.write", "users.read", "media.write", "offline.access"]
    const issued = this.issueTokens(user.id, clientId, scopes, input.expiresInSeconds, input.withRefreshToken)
    return {
      _tag: "oauth2",
      accessToken: issued.access_token,
      ...(issued.refresh_token !== undefined ? { refreshToken: issued.refresh_token } : {}),
      expiresAt: new Date(this.now() + issued.expires_in * 1000).toISOString(),
      clientId,
      ...(input.clientSecret !== undefined ? { clientSecret: input.clientSecret } : {})
    }
  }

  /** Issues OAuth 1.0a user credentials (consumer key/secret and access token/secret). */
  issueOAuth1Token(input: { readonly username: string }): XOAuth1Credentials {
    const user = this.addUser({ username: input.username })
    const credentials: XOAuth1Credentials = {
      _tag: "oauth1",
      consumerKey: token(18),
      consumerSecret: token(30),
      token: `${user.id}-${token(20)}`,
      tokenSecret: token(30)
    }
    this.oauth1.set(credentials.token, {
      userId: user.id,
      consumerKey: credentials.consumerKey,
      consumerSecret: credentials.consumerSecret,
      tokenSecret: credentials.tokenSecret
    })
    return credentials
  }

  /**
   * What happens when the user approves the consent screen: checks the
   * authorization URL's parameters and returns the code X would send to the
   * callback (valid once).
   */
  approveAuthorization(authorizationUrl: string, username: string): { readonly code: string; readonly state: string } {
    const url = new URL(authorizationUrl)
    const param = (name: string) => {
      const value = url.searchParams.get(name)
      if (value === null || value.length === 0) throw new Error(`authorization URL lacks ${name}`)
      return value
    }
    if (param("response_type") !== "code") throw new Error("response_type must be code")
    if (param("code_challenge_method") !== "S256") throw new Error("code_challenge_method must be S256")
    const clientId = param("client_id")
    if (!this.clients.has(clientId)) throw new Error(`unknown client ${clientId}`)
    const user = this.addUser({ username })
    const code = token()
    this.codes.set(code, {
      userId: user.id,
      clientId,
      redirectUri: param("redirect_uri"),
      codeChallenge: param("code_challenge"),
      scopes: param("scope").split(" "),
      used: false
    })
    return { code, state: param("state") }
  }

  /** Makes an access token expire now (X answers 401 from then on). */
  expireAccessToken(accessToken: string): void {
    const entry = this.accessTokens.get(accessToken)
    if (entry !== undefined) entry.expiresAtMs = this.now() - 1
  }

  /** Revokes a refresh token (the user disconnected the app). */
  revokeRefreshToken(refreshToken: string): void {
    this.refreshTokens.delete(refreshToken)
  }

  /**
   * The next `times` requests to `endpoint` (after letting `after` through
   * normally) get `fault`.
   *
   * @example
   * fake.inject("POST /2/tweets", { type: "rateLimit", resetInSeconds: 60 })
   * fake.inject("POST /2/tweets", { type: "serverError" }, { after: 2 }) // the third post fails
   */
  inject(endpoint: FakeXEndpoint, fault: FakeXFault, options?: { readonly times?: number; readonly after?: number }): void {
    const queue = this.faults.get(endpoint) ?? []
    for (let i = 0; i < (options?.after ?? 0); i++) queue.push(undefined)
    for (let i = 0; i < (options?.times ?? 1); i++) queue.push(fault)
    this.faults.set(endpoint, queue)
  }

  /** The next finalized video or GIF ends in `failed` with this error. */
  failNextProcessing(error?: { readonly code?: number; readonly name?: string; readonly message?: string }): void {
    this.processingFailures.push({
      code: error?.code ?? 1,
      name: error?.name ?? "InvalidMedia",
      message: error?.message ?? "Unsupported video format"
    })
  }

  /** Posts that are not deleted, in the order they were created. */
  get liveTweets(): ReadonlyArray<FakeXTweet> {
    return this.tweets.filter((t) => !t.deleted)
  }

  /** Forgets posts, uploads, requests and faults (accounts and tokens stay). */
  reset(): void {
    this.tweets.length = 0
    this.uploads.length = 0
    this.requests.length = 0
    this.faults.clear()
    this.windows.clear()
    this.processingFailures = []
  }

  // -------------------------------------------------------------------------
  // Internals

  /** A snowflake: milliseconds since X's epoch, then worker and sequence bits. */
  private nextId(): string {
    this.sequence = (this.sequence + 1n) & 0xfffn
    return (((BigInt(this.now()) - twitterEpochMs) << 22n) | (1n << 17n) | (1n << 12n) | this.sequence).toString()
  }

  private issueTokens(
    userId: string,
    clientId: string,
    scopes: ReadonlyArray<string>,
    expiresInSeconds?: number,
    withRefreshToken?: boolean
  ) {
    const ttl = expiresInSeconds ?? this.options.accessTokenTtlSeconds ?? 7200
    const accessToken = token()
    this.accessTokens.set(accessToken, { userId, clientId, scopes: new Set(scopes), expiresAtMs: this.now() + ttl * 1000 })
    const refresh = (withRefreshToken ?? true) && scopes.includes("offline.access") ? token() : undefined
    if (refresh !== undefined) this.refreshTokens.set(refresh, { userId, clientId, scopes })
    return {
      token_type: "bearer",
      expires_in: ttl,
      access_token: accessToken,
      scope: scopes.join(" "),
      ...(refresh !== undefined ? { refresh_token: refresh } : {})
    }
  }

  private route(method: string, path: string): { endpoint: FakeXEndpoint; id?: string } | undefined {
    if (method === "POST" && path === "/2/oauth2/token") return { endpoint: "POST /2/oauth2/token" }
    if (method === "GET" && path === "/2/users/me") return { endpoint: "GET /2/users/me" }
    if (method === "POST" && path === "/2/media/upload/initialize") return { endpoint: "POST /2/media/upload/initialize" }
    if (method === "GET" && path === "/2/media/upload") return { endpoint: "GET /2/media/upload" }
    if (method === "POST" && path === "/2/media/metadata") return { endpoint: "POST /2/media/metadata" }
    if (method === "POST" && path === "/2/tweets") return { endpoint: "POST /2/tweets" }
    const append = /^\/2\/media\/upload\/([0-9]+)\/append$/.exec(path)
    if (method === "POST" && append !== null) return { endpoint: "POST /2/media/upload/:id/append", id: append[1]! }
    const finalize = /^\/2\/media\/upload\/([0-9]+)\/finalize$/.exec(path)
    if (method === "POST" && finalize !== null) return { endpoint: "POST /2/media/upload/:id/finalize", id: finalize[1]! }
    const timeline = /^\/2\/users\/([0-9]+)\/tweets$/.exec(path)
    if (method === "GET" && timeline !== null) return { endpoint: "GET /2/users/:id/tweets", id: timeline[1]! }
    const tweet = /^\/2\/tweets\/([0-9]+)$/.exec(path)
    if (method === "DELETE" && tweet !== null) return { endpoint: "DELETE /2/tweets/:id", id: tweet[1]! }
    return undefined
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Array<Buffer> = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks)
    const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`)
    const method = req.method ?? "GET"
    const route = this.route(method, url.pathname)
    const authorization = req.headers.authorization ?? ""
    const log: FakeXRequest = {
      method,
      path: url.pathname + url.search,
      endpoint: route?.endpoint,
      auth: authorization.startsWith("Bearer ")
        ? "bearer"
        : authorization.startsWith("OAuth ")
        ? "oauth1"
        : authorization.startsWith("Basic ")
        ? "basic"
        : "none",
      status: 0,
      at: this.now()
    }
    this.requests.push(log)
    if (route === undefined) {
      return this.send(res, log, problem(404, "Not Found Error", `No route for ${method} ${url.pathname}`), undefined)
    }
    const fault = this.faults.get(route.endpoint)?.shift()
    if (fault?.type === "drop" && fault.beforeHandling === true) return this.drop(res, log)
    if (fault?.type === "rateLimit") {
      const reset = Math.floor(this.now() / 1000) + (fault.resetInSeconds ?? 900)
      return this.send(res, log, {
        status: 429,
        body: { title: "Too Many Requests", detail: "Too Many Requests", type: "about:blank", status: 429, errors: [{ code: 88, message: "Rate limit exceeded" }] },
        headers: {
          "x-rate-limit-limit": String(this.limitOf(route.endpoint)),
          "x-rate-limit-remaining": "0",
          "x-rate-limit-reset": String(reset)
        }
      }, undefined)
    }
    if (fault?.type === "serverError") {
      const status = fault.status ?? 500
      return this.send(res, log, problem(status, status === 503 ? "Service Unavailable" : "Internal Server Error", "Something went wrong. Please try again later."), undefined)
    }
    if (fault?.type === "error") return this.send(res, log, { status: fault.status, body: fault.body }, undefined)

    const answer = this.answer(req, url, body, route)
    if (fault?.type === "drop") return this.drop(res, log)
    if (fault?.type === "slow") await new Promise((resolve) => setTimeout(resolve, fault.delayMs))
    return this.send(res, log, answer.answer, answer.rateKey === undefined ? undefined : { key: answer.rateKey, endpoint: route.endpoint })
  }

  private drop(res: ServerResponse, log: FakeXRequest): void {
    log.status = -1
    res.socket?.destroy()
  }

  private limitOf(endpoint: FakeXEndpoint): number {
    return this.options.rateLimits?.[endpoint] ?? defaultRateLimits[endpoint]
  }

  private send(
    res: ServerResponse,
    log: FakeXRequest,
    answer: Answer,
    rate: { readonly key: string; readonly endpoint: FakeXEndpoint } | undefined
  ): void {
    const nowSeconds = Math.floor(this.now() / 1000)
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8" }
    if (rate !== undefined) {
      const window = this.windows.get(rate.key)!
      headers["x-rate-limit-limit"] = String(this.limitOf(rate.endpoint))
      headers["x-rate-limit-remaining"] = String(Math.max(0, this.limitOf(rate.endpoint) - window.count))
      headers["x-rate-limit-reset"] = String(window.resetAtSeconds)
    } else {
      headers["x-rate-limit-limit"] = "0"
      headers["x-rate-limit-remaining"] = "0"
      headers["x-rate-limit-reset"] = String(nowSeconds + windowSeconds)
    }
    Object.assign(headers, answer.headers)
    log.status = answer.status
    const payload = answer.body === undefined ? "" : JSON.stringify(answer.body)
    res.writeHead(answer.status, { ...headers, "content-length": String(Buffer.byteLength(payload)) })
    res.end(payload)
  }

  /** Counts a request in its user's window; `false` once the window is used up. */
  private take(key: string, endpoint: FakeXEndpoint): boolean {
    const nowSeconds = Math.floor(this.now() / 1000)
    let window = this.windows.get(key)
    if (window === undefined || window.resetAtSeconds <= nowSeconds) {
      window = { count: 0, resetAtSeconds: nowSeconds + windowSeconds }
      this.windows.set(key, window)
    }
    if (window.count >= this.limitOf(endpoint)) return false
    window.count += 1
    return true
  }

  private authenticate(req: IncomingMessage, url: URL, body: Buffer): Principal | Answer {
    const header = req.headers.authorization ?? ""
    if (header.startsWith("Bearer ")) {
      const entry = this.accessTokens.get(header.slice(7))
      if (entry === undefined || entry.expiresAtMs <= this.now()) return unauthorized()
      return { userId: entry.userId, scopes: entry.scopes }
    }
    if (header.startsWith("OAuth ")) {
      const parameters = parseOAuth1Header(header)
      if (parameters === undefined) return unauthorized()
      const get = (name: string) => parameters.find(([k]) => k === name)?.[1]
      const entry = this.oauth1.get(get("oauth_token") ?? "")
      const signature = get("oauth_signature")
      const nonce = get("oauth_nonce")
      const timestamp = Number(get("oauth_timestamp"))
      if (
        entry === undefined || signature === undefined || nonce === undefined ||
        get("oauth_consumer_key") !== entry.consumerKey || get("oauth_signature_method") !== "HMAC-SHA1" ||
        !Number.isFinite(timestamp) || Math.abs(timestamp - this.now() / 1000) > 300 || this.nonces.has(nonce)
      ) {
        return unauthorized()
      }
      const signed = parameters.filter(([k]) => k !== "oauth_signature" && k !== "realm")
      const contentType = req.headers["content-type"] ?? ""
      const form = contentType.startsWith("application/x-www-form-urlencoded")
        ? [...new URLSearchParams(body.toString("utf8")).entries()]
        : []
      const base = signatureBaseString(req.method ?? "GET", url.toString(), [...signed, ...form])
      const key = `${encodeURIComponent(entry.consumerSecret)}&${encodeURIComponent(entry.tokenSecret)}`
      const expected = createHmac("sha1", key).update(base).digest("base64")
      if (!safeEqual(expected, signature)) return unauthorized()
      this.nonces.add(nonce)
      return { userId: entry.userId, scopes: "all" }
    }
    return unauthorized()
  }

  private answer(
    req: IncomingMessage,
    url: URL,
    body: Buffer,
    route: { readonly endpoint: FakeXEndpoint; readonly id?: string }
  ): { readonly answer: Answer; readonly rateKey?: string } {
    if (route.endpoint === "POST /2/oauth2/token") {
      const key = `token:${req.socket.remoteAddress}`
      if (!this.take(key, route.endpoint)) return { answer: this.tooMany(), rateKey: key }
      return { answer: this.tokenEndpoint(req, body), rateKey: key }
    }
    const principal = this.authenticate(req, url, body)
    if ("status" in principal) return { answer: principal }
    const scope = requiredScope[route.endpoint]
    if (scope !== undefined && principal.scopes !== "all" && !principal.scopes.has(scope)) {
      return {
        answer: problem(
          403,
          "Unsupported Authentication",
          `Your token is missing the scope required for this endpoint: ${scope}`,
          "https://api.twitter.com/2/problems/unsupported-authentication"
        )
      }
    }
    const key = `${principal.userId}:${route.endpoint}`
    if (!this.take(key, route.endpoint)) return { answer: this.tooMany(), rateKey: key }
    const user = this.users.find((u) => u.id === principal.userId)!
    const json = () => {
      try {
        return JSON.parse(body.toString("utf8")) as unknown
      } catch {
        return undefined
      }
    }
    const answer = (() => {
      switch (route.endpoint) {
        case "GET /2/users/me":
          return this.me(user, url)
        case "POST /2/media/upload/initialize":
          return this.initialize(user, json())
        case "POST /2/media/upload/:id/append":
          return this.append(user, route.id!, req, body)
        case "POST /2/media/upload/:id/finalize":
          return this.finalize(user, route.id!)
        case "GET /2/media/upload":
          return this.status(user, url)
        case "POST /2/media/metadata":
          return this.metadata(user, json())
        case "POST /2/tweets":
          return this.createTweet(user, json())
        case "DELETE /2/tweets/:id":
          return this.deleteTweet(user, route.id!)
        case "GET /2/users/:id/tweets":
          return this.timeline(route.id!, url)
      }
    })()
    return { answer, rateKey: key }
  }

  private tooMany(): Answer {
    return {
      status: 429,
      body: { title: "Too Many Requests", detail: "Too Many Requests", type: "about:blank", status: 429, errors: [{ code: 88, message: "Rate limit exceeded" }] }
    }
  }

  private tokenEndpoint(req: IncomingMessage, body: Buffer): Answer {
    if (!(req.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      return oauthError(400, "invalid_request", "Missing required parameter [grant_type].")
    }
    const form = new URLSearchParams(body.toString("utf8"))
    // Client authentication: Basic for confidential clients, client_id for public ones.
    const header = req.headers.authorization ?? ""
    let clientId: string
    if (header.startsWith("Basic ")) {
      const [id, secret] = Buffer.from(header.slice(6), "base64").toString("utf8").split(":")
      const client = this.clients.get(id ?? "")
      if (client === undefined || client.secret === undefined || !safeEqual(client.secret, secret ?? "")) {
        return oauthError(401, "unauthorized_client", "Missing valid authorization header")
      }
      clientId = id!
    } else {
      clientId = form.get("client_id") ?? ""
      const client = this.clients.get(clientId)
      if (client === undefined) return oauthError(400, "invalid_request", "Missing required parameter [client_id].")
      if (client.secret !== undefined) return oauthError(401, "unauthorized_client", "Missing valid authorization header")
    }
    const grant = form.get("grant_type")
    if (grant === "authorization_code") {
      const code = this.codes.get(form.get("code") ?? "")
      if (
        code === undefined || code.used || code.clientId !== clientId || code.redirectUri !== form.get("redirect_uri") ||
        sha256Base64Url(form.get("code_verifier") ?? "") !== code.codeChallenge
      ) {
        return oauthError(400, "invalid_request", "Value passed for the authorization code was invalid.")
      }
      code.used = true
      return { status: 200, body: this.issueTokens(code.userId, clientId, code.scopes) }
    }
    if (grant === "refresh_token") {
      const refresh = form.get("refresh_token") ?? ""
      const entry = this.refreshTokens.get(refresh)
      if (entry === undefined || entry.clientId !== clientId) {
        return oauthError(400, "invalid_request", "Value passed for the token was invalid.")
      }
      // X rotates refresh tokens: the old one is spent.
      this.refreshTokens.delete(refresh)
      return { status: 200, body: this.issueTokens(entry.userId, clientId, entry.scopes) }
    }
    return oauthError(400, "unsupported_grant_type", `Unsupported grant type: ${grant ?? ""}`)
  }

  private me(user: FakeXUser, url: URL): Answer {
    const fields = (url.searchParams.get("user.fields") ?? "").split(",")
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

  private findUpload(user: FakeXUser, id: string): FakeXUpload | undefined {
    return this.uploads.find((u) => u.id === id && u.ownerId === user.id && u.expiresAtMs > this.now())
  }

  private initialize(user: FakeXUser, body: unknown): Answer {
    const input = (body ?? {}) as { media_type?: unknown; total_bytes?: unknown; media_category?: unknown }
    if (typeof input.media_type !== "string") return invalidRequest("The `media_type` field is required.", { media_type: [] })
    if (typeof input.total_bytes !== "number" || !Number.isInteger(input.total_bytes) || input.total_bytes <= 0) {
      return invalidRequest("The `total_bytes` field must be a positive integer.", { total_bytes: [String(input.total_bytes)] })
    }
    const category = typeof input.media_category === "string" ? input.media_category : "tweet_image"
    const types = categoryTypes[category]
    if (types === undefined) return invalidRequest(`Unsupported media_category: ${category}`, { media_category: [category] })
    if (!types.includes(input.media_type)) {
      return invalidRequest(`media_type ${input.media_type} is not allowed for ${category}`, { media_type: [input.media_type] })
    }
    const limits = this.options.limits
    const maxBytes = category === "tweet_video"
      ? limits?.videoBytes ?? 512 * MB
      : category === "tweet_gif"
      ? limits?.gifBytes ?? 15 * MB
      : limits?.imageBytes ?? 5 * MB
    if (input.total_bytes > maxBytes) {
      return invalidRequest(`File size exceeds ${maxBytes} bytes.`, { total_bytes: [String(input.total_bytes)] })
    }
    const id = this.nextId()
    const prefix = category === "tweet_video" ? "7" : category === "tweet_gif" ? "16" : "3"
    const upload: FakeXUpload = {
      id,
      mediaKey: `${prefix}_${id}`,
      ownerId: user.id,
      mediaType: input.media_type,
      mediaCategory: category,
      totalBytes: input.total_bytes,
      segments: [],
      receivedBytes: 0,
      finalized: false,
      state: "pending",
      statusPolls: [],
      expiresAtMs: this.now() + 86_400_000
    }
    this.uploads.push(upload)
    this.hashes.set(id, createHash("sha256"))
    return { status: 200, body: { data: { id, media_key: upload.mediaKey, expires_after_secs: 86_400 } } }
  }

  private append(user: FakeXUser, id: string, req: IncomingMessage, body: Buffer): Answer {
    const upload = this.findUpload(user, id)
    if (upload === undefined) return invalidRequest("Invalid media_id.", { media_id: [id] })
    if (upload.finalized) return invalidRequest("Media upload already finalized.", { media_id: [id] })
    if (!(req.headers["content-type"] ?? "").startsWith("multipart/form-data")) {
      return invalidRequest("APPEND expects multipart/form-data.")
    }
    const parts = parseMultipart(body, req.headers["content-type"] ?? "")
    if (parts === undefined) return invalidRequest("Malformed multipart body.")
    const indexPart = parts.find((p) => p.name === "segment_index")
    const media = parts.find((p) => p.name === "media")
    const index = Number(indexPart?.data.toString("utf8"))
    if (indexPart === undefined || !Number.isInteger(index) || index < 0 || index > 999) {
      return invalidRequest("segment_index must be an integer between 0 and 999.", { segment_index: [] })
    }
    if (media === undefined) return invalidRequest("The `media` field is required.", { media: [] })
    if (index !== upload.segments.length) {
      return invalidRequest(`Segment ${index} is out of order; expected segment ${upload.segments.length}.`, { segment_index: [String(index)] })
    }
    const maxSegment = this.options.limits?.segmentBytes ?? 8 * MB
    if (media.data.length > maxSegment) {
      return invalidRequest(`Segment size ${media.data.length} exceeds ${maxSegment} bytes.`, { media: [] })
    }
    if (upload.receivedBytes + media.data.length > upload.totalBytes) {
      return invalidRequest("Segments exceed the total_bytes given at INIT.", { media: [] })
    }
    upload.segments.push({ index, size: media.data.length })
    upload.receivedBytes += media.data.length
    this.hashes.get(id)!.update(media.data)
    const head = this.heads.get(id) ?? new Uint8Array(0)
    if (head.byteLength < 64) {
      this.heads.set(id, new Uint8Array(Buffer.concat([head, media.data.subarray(0, 64 - head.byteLength)])))
    }
    return { status: 200, body: { data: { expires_at: Math.floor(upload.expiresAtMs / 1000) } } }
  }

  private finalize(user: FakeXUser, id: string): Answer {
    const upload = this.findUpload(user, id)
    if (upload === undefined) return invalidRequest("Invalid media_id.", { media_id: [id] })
    if (upload.finalized) return invalidRequest("Media upload already finalized.", { media_id: [id] })
    if (upload.receivedBytes !== upload.totalBytes) {
      return invalidRequest(
        `Segments do not add up to provided total file size (${upload.receivedBytes} of ${upload.totalBytes}).`,
        { media_id: [id] }
      )
    }
    // X decides what the file is from its bytes: a "PNG" that is not an image is refused here.
    const verdict = FakeMedia.check(
      { size: upload.totalBytes, sha256: "", head: this.heads.get(id) ?? new Uint8Array(0) },
      { accept: categoryTypes[upload.mediaCategory] ?? [] }
    )
    this.heads.delete(id)
    if (verdict._tag === "Refused") {
      return invalidRequest(`Unsupported media for ${upload.mediaCategory}: ${verdict.message}.`, { media_id: [id] })
    }
    upload.sniffedType = verdict.mimeType
    upload.finalized = true
    upload.sha256 = this.hashes.get(id)!.digest("hex")
    this.hashes.delete(id)
    const processed = upload.mediaCategory === "tweet_video" || upload.mediaCategory === "tweet_gif"
    upload.state = processed ? "pending" : "succeeded"
    const data = {
      id,
      media_key: upload.mediaKey,
      size: upload.totalBytes,
      expires_after_secs: Math.floor((upload.expiresAtMs - this.now()) / 1000),
      ...(processed ? { processing_info: { state: "pending", check_after_secs: this.checkAfterSecs() } } : {})
    }
    return { status: 200, body: { data } }
  }

  private checkAfterSecs(): number {
    return this.options.processing?.checkAfterSecs ?? 1
  }

  private status(user: FakeXUser, url: URL): Answer {
    if (url.searchParams.get("command") !== "STATUS") return invalidRequest("command must be STATUS.", { command: [] })
    const id = url.searchParams.get("media_id") ?? ""
    const upload = this.findUpload(user, id)
    if (upload === undefined) return invalidRequest("Invalid media_id.", { media_id: [id] })
    if (!upload.finalized) return invalidRequest("Media is not finalized.", { media_id: [id] })
    upload.statusPolls.push(this.now())
    const pollsUntilDone = this.options.processing?.pollsUntilDone ?? 2
    let error: { code: number; name: string; message: string } | undefined
    if (upload.state === "pending" || upload.state === "in_progress") {
      if (upload.statusPolls.length >= pollsUntilDone) {
        error = this.processingFailures.shift()
        upload.state = error === undefined ? "succeeded" : "failed"
        if (error !== undefined) this.failures.set(id, error)
      } else {
        upload.state = "in_progress"
      }
    }
    error = error ?? this.failures.get(id)
    const info = upload.state === "succeeded"
      ? { state: "succeeded", progress_percent: 100 }
      : upload.state === "failed"
      ? { state: "failed", progress_percent: 100, error }
      : {
        state: upload.state,
        check_after_secs: this.checkAfterSecs(),
        progress_percent: Math.floor((upload.statusPolls.length / pollsUntilDone) * 100)
      }
    return { status: 200, body: { data: { id, media_key: upload.mediaKey, processing_info: info } } }
  }

  private metadata(user: FakeXUser, body: unknown): Answer {
    const input = (body ?? {}) as { id?: unknown; metadata?: { alt_text?: { text?: unknown } } }
    if (typeof input.id !== "string") return invalidRequest("The `id` field is required.", { id: [] })
    const upload = this.findUpload(user, input.id)
    if (upload === undefined) return invalidRequest("Invalid media id.", { id: [input.id] })
    const text = input.metadata?.alt_text?.text
    if (typeof text !== "string") return invalidRequest("metadata.alt_text.text is required.", { "metadata.alt_text.text": [] })
    if ([...text].length > 1000) return invalidRequest("Alt text must be at most 1000 characters.", { "metadata.alt_text.text": [] })
    upload.altText = text
    return { status: 200, body: { data: { id: input.id, associated_metadata: true } } }
  }

  private createTweet(user: FakeXUser, body: unknown): Answer {
    if (typeof body !== "object" || body === null) return invalidRequest("The request body must be a JSON object.")
    const input = body as {
      text?: unknown
      media?: { media_ids?: unknown }
      reply?: { in_reply_to_tweet_id?: unknown }
      quote_tweet_id?: unknown
      reply_settings?: unknown
    }
    const text = typeof input.text === "string" ? input.text : ""
    if (input.text !== undefined && typeof input.text !== "string") return invalidRequest("text must be a string.", { text: [] })
    const mediaIds = input.media?.media_ids
    if (mediaIds !== undefined && (!Array.isArray(mediaIds) || !mediaIds.every((m) => typeof m === "string"))) {
      return invalidRequest("media.media_ids must be an array of strings.", { "media.media_ids": [] })
    }
    const ids = (mediaIds ?? []) as Array<string>
    if (text.length === 0 && ids.length === 0) {
      return invalidRequest("Post text or media is required.", { text: [] })
    }
    if (text.length > 0) {
      const parsed = twitterText.parseTweet(text)
      if (!parsed.valid) {
        return parsed.weightedLength > 280
          ? invalidRequest("The text of your Post is too long.", { text: [String(parsed.weightedLength)] })
          : invalidRequest("The text of your Post contains invalid characters.", { text: [] })
      }
    }
    if (ids.length > 4) return invalidRequest("Your media IDs are invalid: at most 4 media per Post.", { "media.media_ids": ids })
    const uploads = ids.map((id) => this.findUpload(user, id))
    if (uploads.some((u) => u === undefined || u.state !== "succeeded")) {
      return invalidRequest("Your media IDs are invalid.", { "media.media_ids": ids })
    }
    const categories = new Set(uploads.map((u) => u!.mediaCategory))
    if (ids.length > 1 && (categories.size > 1 || !categories.has("tweet_image"))) {
      return invalidRequest("Your media IDs are invalid: a Post has up to 4 photos, or 1 GIF, or 1 video.", { "media.media_ids": ids })
    }
    const replyTo = input.reply?.in_reply_to_tweet_id
    if (replyTo !== undefined) {
      const target = this.tweets.find((t) => t.id === replyTo && !t.deleted)
      if (target === undefined) {
        return problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
      }
    }
    const quote = input.quote_tweet_id
    if (quote !== undefined) {
      if (ids.length > 0) return invalidRequest("quote_tweet_id and media are mutually exclusive.", { quote_tweet_id: [] })
      if (!this.tweets.some((t) => t.id === quote && !t.deleted)) {
        return problem(403, "Forbidden", "You attempted to quote a Tweet that is deleted or not visible to you.")
      }
    }
    const replySettings = input.reply_settings
    if (replySettings !== undefined && !["following", "mentionedUsers", "subscribers", "verified"].includes(String(replySettings))) {
      return invalidRequest(`reply_settings must be one of following, mentionedUsers, subscribers, verified.`, { reply_settings: [String(replySettings)] })
    }
    if (text.length > 0 && this.tweets.some((t) => t.authorId === user.id && !t.deleted && t.text === text)) {
      return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
    }
    const id = this.nextId()
    this.tweets.push({
      id,
      authorId: user.id,
      text,
      mediaIds: ids,
      inReplyToTweetId: typeof replyTo === "string" ? replyTo : undefined,
      quoteTweetId: typeof quote === "string" ? quote : undefined,
      replySettings: typeof replySettings === "string" ? replySettings : undefined,
      createdAt: new Date(this.now()).toISOString(),
      deleted: false
    })
    return { status: 201, body: { data: { id, text, edit_history_tweet_ids: [id] } } }
  }

  /**
   * The text as X shows it back: `&`, `<`, `>` escaped, every URL replaced by
   * a t.co link, and a t.co link to the media appended.
   */
  private displayText(tweet: FakeXTweet): string {
    const urls = twitterText.extractUrlsWithIndices(tweet.text, { extractUrlsWithoutProtocol: true })
    let text = ""
    let position = 0
    for (const entity of urls) {
      const [start, end] = entity.indices
      text += tweet.text.slice(position, start) + `https://t.co/${createHash("sha1").update(entity.url).digest("hex").slice(0, 10)}`
      position = end
    }
    text += tweet.text.slice(position)
    text = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    if (tweet.mediaIds.length > 0) text += `${text.length > 0 ? " " : ""}https://t.co/${tweet.id.slice(-10)}`
    return text
  }

  private timeline(userId: string, url: URL): Answer {
    if (!this.users.some((u) => u.id === userId)) {
      return problem(404, "Not Found Error", `Could not find user with id: [${userId}].`, "https://api.twitter.com/2/problems/resource-not-found")
    }
    const maxResults = Number(url.searchParams.get("max_results") ?? "10")
    if (!Number.isInteger(maxResults) || maxResults < 5 || maxResults > 100) {
      return invalidRequest("The `max_results` query parameter value is not between 5 and 100", { max_results: [String(maxResults)] })
    }
    const startTime = url.searchParams.get("start_time")
    const startMs = startTime === null ? -Infinity : Date.parse(startTime)
    if (Number.isNaN(startMs)) return invalidRequest("Invalid start_time.", { start_time: [startTime ?? ""] })
    const fields = new Set((url.searchParams.get("tweet.fields") ?? "").split(","))
    const all = this.tweets
      .filter((t) => t.authorId === userId && !t.deleted && Date.parse(t.createdAt) >= startMs)
      .reverse()
    const offset = Number(url.searchParams.get("pagination_token") ?? "0")
    const page = all.slice(offset, offset + maxResults)
    const data = page.map((t) => ({
      id: t.id,
      text: this.displayText(t),
      edit_history_tweet_ids: [t.id],
      ...(fields.has("created_at") ? { created_at: t.createdAt } : {}),
      ...(fields.has("referenced_tweets") && (t.inReplyToTweetId !== undefined || t.quoteTweetId !== undefined)
        ? {
          referenced_tweets: [
            ...(t.inReplyToTweetId !== undefined ? [{ type: "replied_to", id: t.inReplyToTweetId }] : []),
            ...(t.quoteTweetId !== undefined ? [{ type: "quoted", id: t.quoteTweetId }] : [])
          ]
        }
        : {}),
      ...(fields.has("attachments") && t.mediaIds.length > 0
        ? { attachments: { media_keys: t.mediaIds.map((id) => this.uploads.find((u) => u.id === id)?.mediaKey ?? `3_${id}`) } }
        : {})
    }))
    const next = offset + maxResults < all.length ? String(offset + maxResults) : undefined
    return {
      status: 200,
      body: {
        ...(data.length > 0 ? { data } : {}),
        meta: {
          result_count: data.length,
          ...(data.length > 0 ? { newest_id: data[0]!.id, oldest_id: data.at(-1)!.id } : {}),
          ...(next !== undefined ? { next_token: next } : {})
        }
      }
    }
  }

  private deleteTweet(user: FakeXUser, id: string): Answer {
    const tweet = this.tweets.find((t) => t.id === id && !t.deleted)
    if (tweet === undefined) {
      return problem(404, "Not Found Error", `Could not find tweet with id: [${id}].`, "https://api.twitter.com/2/problems/resource-not-found")
    }
    if (tweet.authorId !== user.id) return problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
    tweet.deleted = true
    return { status: 200, body: { data: { deleted: true } } }
  }
}

/** A minimal multipart/form-data parser: enough for the fake, strict about the framing. */
const parseMultipart = (
  body: Buffer,
  contentType: string
): Array<{ readonly name: string; readonly data: Buffer }> | undefined => {
  const boundaryMatch = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  const boundary = boundaryMatch?.[1] ?? boundaryMatch?.[2]
  if (boundary === undefined) return undefined
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: Array<{ name: string; data: Buffer }> = []
  let position = body.indexOf(delimiter)
  if (position < 0) return undefined
  while (true) {
    position += delimiter.length
    if (body.subarray(position, position + 2).toString() === "--") return parts
    position += 2 // CRLF after the delimiter
    const headerEnd = body.indexOf("\r\n\r\n", position)
    if (headerEnd < 0) return undefined
    const headers = body.subarray(position, headerEnd).toString("utf8")
    const name = /name="([^"]*)"/i.exec(headers)?.[1]
    const next = body.indexOf(delimiter, headerEnd + 4)
    if (next < 0 || name === undefined) return undefined
    parts.push({ name, data: body.subarray(headerEnd + 4, next - 2) })
    position = next
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
