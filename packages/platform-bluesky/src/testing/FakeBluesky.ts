/**
 * An in-process fake of the Bluesky XRPC API (a PDS and the video service),
 * on 127.0.0.1 at ephemeral ports, for tests that drive a real publisher over
 * real HTTP.
 *
 * It is faithful to platform-specs §6: sessions with signed, expiring JWTs
 * (`ExpiredToken` is 400, a bad token 401), single-use rotating refresh
 * tokens, the createSession limit (30 per 5 minutes per account), lexicon
 * checks on `createRecord` (300 graphemes / 3000 bytes, facet byte ranges,
 * ≤ 4 images with `alt`, one embed, blobs that were uploaded, reply refs that
 * point at existing posts of one thread, tags of ≤ 64 graphemes and 640 bytes),
 * blob limits where the PDS applies them (the upload limit on `uploadBlob`,
 * the embed's `accept` and `maxSize` when the record is created), blob types
 * sniffed from the bytes (the declared type only when they are of no known type), service tokens checked as
 * the PDS checks them (audience = its service DID, `did:web:` of its host name
 * without the port; `lxm` = the method), the video job flow, `ratelimit-*`
 * headers on every answer and XRPC error bodies `{"error","message"}`. It keeps what was
 * posted for assertions. Both servers are the platform kit's `FakeServer`, so
 * faults are the kit's one vocabulary, injected per XRPC method
 * (`fake.inject("com.atproto.repo.createRecord", Faults.dropAfterApply())`);
 * `rateLimited(seconds)` and `xrpcError(...)` build Bluesky's own error
 * answers with it.
 *
 * @example
 * // Promise API, for any test runner
 * const fake = await FakeBlueskyServer.start()
 * const credentials = fake.credentials()      // { identifier, appPassword, serviceUrl }
 * // … publish with makeBlueskyPublisher(fake.publisherOptions()) …
 * fake.posts()                                // what was posted
 * await fake.close()
 *
 * @example
 * // Effect: a scoped service
 * layer(FakeBluesky.layer())("bluesky", (it) => {
 *   it.effect("posts", () => Effect.gen(function*() { const fake = yield* FakeBluesky }))
 * })
 */
import type { IncomingHttpHeaders } from "node:http"
import type { Readable } from "node:stream"
import { Sniff } from "@omnipost/platform-kit"
import { type Answer as ServerAnswer, FakeMedia, type FakeRequest, FakeServer, type Fault, Faults } from "@omnipost/platform-kit/testing"
import { Context, Effect, Layer } from "effect"
import type { BlueskyCredentials } from "../Auth.js"
import type { BlueskyPublisherOptions } from "../Publisher.js"
import { cidFor, isTid, makeTidGenerator, newDid, sha256 } from "./internal/ids.js"
import { type JwtPayload, makeSigner } from "./internal/jwt.js"

// ---------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------

export interface FakeAccountInput {
  readonly handle: string
  /** The app password the fake accepts. */
  readonly password: string
  readonly did?: string
  readonly email?: string
  readonly displayName?: string
  readonly avatar?: string
}

export interface FakeAccount {
  readonly did: string
  readonly handle: string
  readonly password: string
  readonly email: string
  readonly displayName?: string | undefined
  readonly avatar?: string | undefined
}

/** A fault for the next calls of one endpoint (by NSID). */
export { type Fault, Faults } from "@omnipost/platform-kit/testing"

export interface RecordedRequest {
  readonly server: "pds" | "video" | "web"
  readonly method: string
  /** The NSID for XRPC calls, else the path. */
  readonly nsid: string
  readonly query: Readonly<Record<string, string>>
  /** The answered status; 0 when the connection was dropped. */
  readonly status: number
  readonly authorization?: string | undefined
  readonly contentType?: string | undefined
  readonly bodyBytes: number
  /** The XRPC error name of the answer, if any. */
  readonly error?: string | undefined
}

export interface StoredRecord {
  readonly uri: string
  readonly cid: string
  readonly repo: string
  readonly collection: string
  readonly rkey: string
  readonly value: Record<string, unknown>
}

export interface StoredBlob {
  readonly cid: string
  /** The repo that uploaded these bytes last (each repo that uploaded them holds its own copy). */
  readonly did: string
  readonly mimeType: string
  readonly size: number
  /** The bytes, kept for blobs up to `maxImageBytes` (images); larger ones keep only size and CID. */
  readonly bytes?: Uint8Array | undefined
}

export interface VideoJob {
  readonly jobId: string
  readonly did: string
  readonly name: string
  readonly size: number
  readonly blobCid: string
  readonly createdAt: number
  polls: number
  state: "JOB_STATE_CREATED" | "JOB_STATE_ENCODING" | "JOB_STATE_COMPLETED" | "JOB_STATE_FAILED"
  failure?: string | undefined
}

export interface FakeBlueskyOptions {
  /** Accounts; by default one: `alice.bsky.social` with app password `alic-eapp-pass-word`. */
  readonly accounts?: ReadonlyArray<FakeAccountInput>
  /** Access token lifetime. Default 7200 s. */
  readonly accessTokenTtlSeconds?: number
  /** Refresh token lifetime. Default 90 days. */
  readonly refreshTokenTtlSeconds?: number
  /** createSession limit per account. Default 30 per 300 s (platform-specs §6.1). */
  readonly createSessionLimit?: { readonly max: number; readonly windowSeconds: number }
  /** An image embedded in a post, checked when the record is created. Default 2,000,000 bytes (lexicon `app.bsky.embed.images`). */
  readonly maxImageBytes?: number
  /** uploadBlob's limit on any body (413 above it). Default 52,428,800 bytes (platform-specs §6.2; the reference PDS's default is 5 MiB). */
  readonly maxBlobBytes?: number
  /** The video service's limit and the video embed's. Default 300,000,000 bytes (lexicon `app.bsky.embed.video`). */
  readonly maxVideoBytes?: number
  /** The video service's DID, the audience of its `getUploadLimits` tokens. Default `did:web:video.bsky.app`. */
  readonly videoServiceDid?: string
  /** getJobStatus polls answered "processing" before a job completes. Default 2. */
  readonly videoProcessingPolls?: number
  /** Daily video quota per account, reported by getUploadLimits and enforced by uploadVideo. Default 25 videos, 10 GB. */
  readonly videoQuota?: { readonly videos: number; readonly bytes: number }
}

export const defaultAccount: FakeAccountInput = {
  handle: "alice.bsky.social",
  password: "alic-eapp-pass-word",
  displayName: "Alice",
  avatar: "https://cdn.bsky.app/img/avatar/plain/did:plc:alice/avatar@jpeg"
}

// ---------------------------------------------------------------------------
// Internals
// ---------------------------------------------------------------------------

/** An answer of the fake (the kit's: JSON for objects). */
type Answer = ServerAnswer

class XrpcError {
  constructor(readonly status: number, readonly error: string, readonly message: string) {}
}

const fail = (status: number, error: string, message: string): never => {
  throw new XrpcError(status, error, message)
}

const invalid = (message: string): never => fail(400, "InvalidRequest", message)

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })
const graphemes = (text: string): number => {
  let count = 0
  for (const _ of segmenter.segment(text)) count++
  return count
}
const utf8 = (text: string): number => Buffer.byteLength(text, "utf8")

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const isDatetime = (value: unknown): boolean =>
  typeof value === "string" &&
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
  !Number.isNaN(Date.parse(value))

const isUri = (value: unknown): boolean => {
  if (typeof value !== "string") return false
  try {
    new URL(value)
    return true
  } catch {
    return false
  }
}

/** What a handler reads of a request: its headers and its body stream (the kit's `FakeRequest` is one). */
type Incoming = { readonly headers: IncomingHttpHeaders; readonly stream: Readable }

const readBody = (request: Incoming, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let tooLarge = false
    request.stream.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) tooLarge = true
      else chunks.push(chunk)
    })
    request.stream.on("end", () => (tooLarge ? reject(new XrpcError(413, "PayloadTooLarge", "request entity too large")) : resolve(Buffer.concat(chunks))))
    request.stream.on("error", reject)
  })

/** Streams a body through (the kit's `FakeMedia.receive`): its size, digest and head, and the bytes only up to `keep`. */
const consumeBody = async (
  request: Incoming,
  keep: number
): Promise<{ readonly size: number; readonly digest: Uint8Array; readonly head: Uint8Array; readonly bytes?: Uint8Array | undefined }> => {
  const received = await FakeMedia.receive(request.stream, { keepBytes: keep })
  return { size: received.size, digest: new Uint8Array(Buffer.from(received.sha256, "hex")), head: received.head, bytes: received.bytes }
}

/** An XRPC error answer. */
const xrpcAnswer = (status: number, error: string, message: string): ServerAnswer => ({ status, body: { error, message } })

/** Bluesky's error body for a status the fake answers by itself (a fault's, an unknown route's). */
const errorFor = (status: number): ServerAnswer =>
  status === 429
    ? xrpcAnswer(429, "RateLimitExceeded", "Rate Limit Exceeded")
    : status === 404
    ? xrpcAnswer(404, "NotFound", "Not Found")
    : status >= 500
    ? xrpcAnswer(status, "InternalServerError", "Internal Server Error")
    : xrpcAnswer(status, "InvalidRequest", "Invalid Request")

/** The XRPC method of a path (`/xrpc/<nsid>`), else the path. */
const nsidOf = (path: string): string => (path.startsWith("/xrpc/") ? path.slice("/xrpc/".length) : path)

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/**
 * The fake, as a plain object with a Promise API (`start`, `close`) for tests
 * outside Effect. `FakeBluesky` wraps it as a scoped Effect service.
 */
export class FakeBlueskyServer {
  readonly accounts = new Map<string, FakeAccount>()
  readonly records: Array<StoredRecord> = []
  readonly blobs = new Map<string, StoredBlob>()
  /**
   * Which repo holds which blob (`did cid`): every repo has its own blob
   * store (the PDS's actor store), so the same bytes uploaded by two accounts
   * are a blob of each, and a record may cite only its own repo's.
   */
  private readonly heldBlobs = new Set<string>()
  readonly videoJobs = new Map<string, VideoJob>()

  private readonly signer = makeSigner()
  private readonly pages = new Map<string, { contentType: string; data: Uint8Array; chunked: boolean; location?: string }>()
  private readonly usedRefreshTokens = new Set<string>()
  private readonly sessionAttempts = new Map<string, Array<number>>()
  private readonly globalWindow = { start: 0, count: 0 }
  /** Access tokens issued and not yet forced to expire, and those forced to. */
  private readonly liveAccessTokens = new Set<string>()
  private readonly expiredAccessTokens = new Set<string>()
  private clockOffsetMs = 0
  private failNextVideoJobs: Array<string> = []
  private readonly nextTid = makeTidGenerator(() => this.now())
  private jobCounter = 0

  private constructor(
    /** The PDS (and entryway), and the pages it serves for link cards and media URLs. */
    readonly pds: FakeServer,
    /** The video service. */
    readonly video: FakeServer,
    private readonly options: Required<Omit<FakeBlueskyOptions, "accounts">>
  ) {
    for (const [server, name] of [[pds, "pds"], [video, "video"]] as const) {
      server.route("*", "/xrpc/:nsid", (request) => this.answer(name, request), { operation: (request) => request.params.nsid! })
    }
    pds.route("*", "/*", (request) => this.page(request))
  }

  /** Starts the PDS and the video service on ephemeral ports of 127.0.0.1. */
  static async start(options: FakeBlueskyOptions = {}): Promise<FakeBlueskyServer> {
    const resolved = {
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 7200,
      refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 90 * 24 * 3600,
      createSessionLimit: options.createSessionLimit ?? { max: 30, windowSeconds: 300 },
      maxImageBytes: options.maxImageBytes ?? 2_000_000,
      maxBlobBytes: options.maxBlobBytes ?? 52_428_800,
      maxVideoBytes: options.maxVideoBytes ?? 300_000_000,
      videoServiceDid: options.videoServiceDid ?? "did:web:video.bsky.app",
      videoProcessingPolls: options.videoProcessingPolls ?? 2,
      videoQuota: options.videoQuota ?? { videos: 25, bytes: 10_000_000_000 }
    }
    let fake: FakeBlueskyServer | undefined
    const serverOptions = {
      now: () => fake?.now() ?? Date.now(),
      errorAnswer: errorFor,
      // Every XRPC answer carries the PDS's rate-limit headers (a fault's or a window's own override them).
      headers: (request: FakeRequest) => request.path.startsWith("/xrpc/") && fake !== undefined ? fake.rateLimitHeaders(request.operation) : {},
      rateLimitHeaders: (state: { readonly limit: number; readonly remaining: number; readonly resetAtMs: number; readonly windowMs: number }) => ({
        "ratelimit-limit": String(state.limit),
        "ratelimit-remaining": String(state.remaining),
        "ratelimit-reset": String(Math.ceil(state.resetAtMs / 1000)),
        "ratelimit-policy": `${state.limit};w=${Math.ceil(state.windowMs / 1000)}`
      })
    }
    const [pds, video] = await Promise.all([FakeServer.start(serverOptions), FakeServer.start(serverOptions)])
    fake = new FakeBlueskyServer(pds, video, resolved)
    for (const account of options.accounts ?? [defaultAccount]) fake.createAccount(account)
    return fake
  }

  /** Stops both servers, closing open connections. */
  async close(): Promise<void> {
    await Promise.all([this.pds.close(), this.video.close()])
  }

  /** The PDS (and entryway) base URL. */
  get url(): string {
    return this.pds.url
  }

  /** The video service base URL. */
  get videoUrl(): string {
    return this.video.url
  }

  /**
   * The PDS's service DID: `did:web:` and the host name of its URL, without
   * the port, as the reference PDS derives it from `PDS_HOSTNAME`.
   */
  get serviceDid(): string {
    return `did:web:${new URL(this.url).hostname}`
  }

  /** The video service's DID (the `videoServiceDid` option). */
  get videoServiceDid(): string {
    return this.options.videoServiceDid
  }

  /** Options for `makeBlueskyPublisher` that point at this fake. */
  publisherOptions(): BlueskyPublisherOptions {
    return { serviceUrl: this.url, videoServiceUrl: this.videoUrl, videoServiceDid: this.videoServiceDid }
  }

  /** Credentials of an account of the fake (the first one by default). */
  credentials(handle?: string): BlueskyCredentials {
    const account = handle === undefined ? [...this.accounts.values()][0] : this.accountByHandle(handle)
    if (account === undefined) throw new Error(`no such fake account: ${handle}`)
    return { identifier: account.handle, appPassword: account.password, serviceUrl: this.url }
  }

  createAccount(input: FakeAccountInput): FakeAccount {
    const account: FakeAccount = {
      did: input.did ?? newDid(),
      handle: input.handle.toLowerCase(),
      password: input.password,
      email: input.email ?? `${input.handle.split(".")[0]}@example.com`,
      displayName: input.displayName,
      avatar: input.avatar
    }
    this.accounts.set(account.did, account)
    return account
  }

  accountByHandle(handle: string): FakeAccount | undefined {
    const wanted = handle.toLowerCase().replace(/^@/, "")
    return [...this.accounts.values()].find((account) => account.handle === wanted)
  }

  /** The `app.bsky.feed.post` records, oldest first (optionally of one repo). */
  posts(did?: string): ReadonlyArray<StoredRecord> {
    return this.records.filter((record) =>
      record.collection === "app.bsky.feed.post" && (did === undefined || record.repo === did)
    )
  }

  /** Every request to either server, in arrival order (pages as their path, on the `web` server). */
  get requests(): ReadonlyArray<RecordedRequest> {
    const logged = [
      ...this.pds.requests.map((request) => ({ request, server: request.path.startsWith("/xrpc/") ? "pds" as const : "web" as const })),
      ...this.video.requests.map((request) => ({ request, server: "video" as const }))
    ].sort((a, b) => a.request.seq - b.request.seq)
    return logged.map(({ request, server }) => ({
      server,
      method: request.method,
      nsid: nsidOf(request.path),
      query: Object.fromEntries(new URLSearchParams(request.query).entries()),
      status: request.status,
      authorization: request.headers.authorization,
      contentType: request.headers["content-type"],
      bodyBytes: request.bodyBytes,
      ...(isObject(request.answerJson) && typeof request.answerJson.error === "string" ? { error: request.answerJson.error } : {})
    }))
  }

  /** How many calls an endpoint received. */
  callCount(nsid: string): number {
    return this.requests.filter((request) => request.nsid === nsid).length
  }

  /**
   * The next `times` calls of `nsid` (default 1), after `after` of them, meet
   * `fault` (the kit's vocabulary, `Faults`), on the server that owns it.
   */
  inject(nsid: string, fault: Fault, options?: { readonly times?: number; readonly after?: number }): this {
    this.serverOf(nsid).inject(nsid, fault, options)
    return this
  }

  /** A 429 `RateLimitExceeded` whose `ratelimit-reset` is `seconds` from now (the fake's clock), as the PDS answers. */
  rateLimited(seconds = 60): Fault {
    const reset = Math.ceil(this.now() / 1000) + seconds
    return Faults.status(429, {
      headers: { "ratelimit-remaining": "0", "ratelimit-reset": String(reset) },
      body: { error: "RateLimitExceeded", message: "Rate Limit Exceeded" }
    })
  }

  /** Any XRPC error answer (`{"error","message"}`), not applied. */
  xrpcError(status: number, error: string, message: string): Fault {
    return Faults.status(status, { body: { error, message } })
  }

  clearFaults(): void {
    this.pds.clearFaults()
    this.video.clearFaults()
  }

  private serverOf(nsid: string): FakeServer {
    return nsid.startsWith("app.bsky.video.") ? this.video : this.pds
  }

  /** Every access token issued so far is expired from now on (the next call gets 400 `ExpiredToken`). */
  expireAccessTokens(): void {
    for (const jti of this.liveAccessTokens) this.expiredAccessTokens.add(jti)
    this.liveAccessTokens.clear()
  }

  /** Moves the fake's clock (token expiry, rate-limit windows, TIDs). */
  advanceClock(ms: number): void {
    this.clockOffsetMs += ms
  }

  /** The next video job fails processing with this message. */
  failNextVideoJob(message = "Video processing failed"): void {
    this.failNextVideoJobs.push(message)
  }

  /** Serves a page (for link cards) or a file (for media URLs) on the PDS port. */
  servePage(path: string, page: { readonly contentType: string; readonly body: string | Uint8Array; readonly chunked?: boolean }): string {
    const data = typeof page.body === "string" ? new TextEncoder().encode(page.body) : page.body
    this.pages.set(path, { contentType: page.contentType, data, chunked: page.chunked ?? false })
    return `${this.url}${path}`
  }

  /** Answers `path` with a 302 to `location` (URL shorteners, http → https). */
  serveRedirect(path: string, location: string): string {
    this.pages.set(path, { contentType: "text/plain", data: new Uint8Array(), chunked: false, location })
    return `${this.url}${path}`
  }

  now(): number {
    return Date.now() + this.clockOffsetMs
  }

  // -------------------------------------------------------------------------
  // Dispatch
  // -------------------------------------------------------------------------

  /** An XRPC call: the method's answer, or its XRPC error. */
  private async answer(server: "pds" | "video", request: FakeRequest): Promise<ServerAnswer> {
    return this.route(server, request, request.operation, request.url).catch((error: unknown) => {
      if (error instanceof XrpcError) return xrpcAnswer(error.status, error.error, error.message)
      throw error
    })
  }

  /** A page (link cards) or a file (media URLs) served on the PDS port. */
  private page(request: FakeRequest): ServerAnswer {
    const page = this.pages.get(request.path)
    if (page === undefined || request.method !== "GET") return { status: 404, headers: { "content-type": "text/plain" }, body: "Not Found" }
    if (page.location !== undefined) return { status: 302, headers: { location: page.location, "content-length": "0" }, body: new Uint8Array() }
    return {
      status: 200,
      headers: { "content-type": page.contentType, ...(page.chunked ? {} : { "content-length": String(page.data.byteLength) }) },
      ...(page.chunked ? { stream: (async function*() { yield page.data })() } : { body: page.data })
    }
  }

  /** The PDS's `ratelimit-*` headers for a call of `nsid` (counted in a global 5-minute window). */
  rateLimitHeaders(nsid: string): Record<string, string> {
    const now = this.now()
    const windowMs = 300_000
    if (now - this.globalWindow.start >= windowMs) {
      this.globalWindow.start = now
      this.globalWindow.count = 0
    }
    this.globalWindow.count++
    if (nsid === "com.atproto.server.createSession") {
      return {
        "ratelimit-limit": String(this.options.createSessionLimit.max),
        // The per-account count is filled in by createSession itself, which knows the account.
        "ratelimit-remaining": String(this.options.createSessionLimit.max),
        "ratelimit-reset": String(Math.ceil((now + this.options.createSessionLimit.windowSeconds * 1000) / 1000)),
        "ratelimit-policy": `${this.options.createSessionLimit.max};w=${this.options.createSessionLimit.windowSeconds}`
      }
    }
    return {
      "ratelimit-limit": "3000",
      "ratelimit-remaining": String(Math.max(0, 3000 - this.globalWindow.count)),
      "ratelimit-reset": String(Math.ceil((this.globalWindow.start + windowMs) / 1000)),
      "ratelimit-policy": "3000;w=300"
    }
  }

  private async route(server: "pds" | "video", request: FakeRequest, nsid: string, url: URL): Promise<Answer> {
    const method = request.method
    const query = url.searchParams
    const expect = (wanted: "GET" | "POST") => {
      if (method !== wanted) fail(400, "InvalidRequest", `Incorrect HTTP method (${method}) expected ${wanted}`)
    }
    const json = async (): Promise<Record<string, unknown>> => {
      const contentType = request.headers["content-type"] ?? ""
      if (!/application\/json/i.test(contentType)) invalid("Request encoding (Content-Type) required but not provided")
      const body = await readBody(request, 1_000_000)
      let parsed: unknown
      try {
        parsed = JSON.parse(body.toString("utf8"))
      } catch {
        invalid("Request body is not valid JSON")
      }
      if (!isObject(parsed)) invalid("Request body must be an object")
      return parsed as Record<string, unknown>
    }

    if (server === "video") {
      switch (nsid) {
        case "app.bsky.video.uploadVideo":
          expect("POST")
          return this.uploadVideo(request, query)
        case "app.bsky.video.getJobStatus":
          expect("GET")
          return this.getJobStatus(query)
        case "app.bsky.video.getUploadLimits": {
          expect("GET")
          const service = this.serviceAuth(request, this.videoServiceDid, "app.bsky.video.getUploadLimits")
          const { bytes, videos } = this.remainingQuota(service.iss!)
          return {
            status: 200,
            body: {
              canUpload: videos > 0 && bytes > 0,
              remainingDailyVideos: videos,
              remainingDailyBytes: bytes,
              ...(videos > 0 && bytes > 0 ? {} : { error: "UploadLimitExceeded", message: "You have reached your daily upload limit" })
            }
          }
        }
        default:
          return fail(501, "MethodNotImplemented", "Method Not Implemented")
      }
    }

    switch (nsid) {
      case "com.atproto.server.createSession":
        expect("POST")
        return this.createSession(await json())
      case "com.atproto.server.refreshSession":
        expect("POST")
        return this.refreshSession(request)
      case "com.atproto.server.getSession": {
        expect("GET")
        const account = this.authenticate(request)
        return { status: 200, body: { did: account.did, handle: account.handle, email: account.email, active: true } }
      }
      case "com.atproto.server.getServiceAuth":
        expect("GET")
        return this.getServiceAuth(request, query)
      case "com.atproto.identity.resolveHandle": {
        expect("GET")
        const handle = query.get("handle") ?? invalid("Params must have the property \"handle\"")
        const account = this.accountByHandle(handle)
        if (account === undefined) invalid("Unable to resolve handle")
        return { status: 200, body: { did: account!.did } }
      }
      case "app.bsky.actor.getProfile": {
        expect("GET")
        this.authenticate(request)
        const actor = query.get("actor") ?? invalid("Params must have the property \"actor\"")
        const account = this.accounts.get(actor) ?? this.accountByHandle(actor)
        if (account === undefined) invalid("Profile not found")
        return {
          status: 200,
          body: {
            did: account!.did,
            handle: account!.handle,
            ...(account!.displayName !== undefined ? { displayName: account!.displayName } : {}),
            ...(account!.avatar !== undefined ? { avatar: account!.avatar } : {}),
            followersCount: 0,
            followsCount: 0,
            postsCount: this.posts(account!.did).length,
            indexedAt: new Date(this.now()).toISOString()
          }
        }
      }
      case "com.atproto.repo.uploadBlob":
        expect("POST")
        return this.uploadBlob(request)
      case "com.atproto.repo.createRecord":
        expect("POST")
        return this.createRecord(this.authenticate(request), await json())
      case "com.atproto.repo.deleteRecord":
        expect("POST")
        return this.deleteRecord(this.authenticate(request), await json())
      case "com.atproto.repo.getRecord": {
        expect("GET")
        const record = this.findRecord(query.get("repo") ?? "", query.get("collection") ?? "", query.get("rkey") ?? "")
        if (record === undefined) fail(400, "RecordNotFound", `Could not locate record: at://${query.get("repo")}/${query.get("collection")}/${query.get("rkey")}`)
        return { status: 200, body: { uri: record!.uri, cid: record!.cid, value: record!.value } }
      }
      case "com.atproto.repo.listRecords":
        expect("GET")
        return this.listRecords(query)
      default:
        return fail(501, "MethodNotImplemented", "Method Not Implemented")
    }
  }

  // -------------------------------------------------------------------------
  // Auth
  // -------------------------------------------------------------------------

  private bearer(request: Incoming): string {
    const header = request.headers.authorization
    if (header === undefined) fail(401, "AuthMissing", "Authentication Required")
    const match = /^Bearer (\S+)$/.exec(header!)
    if (match === null) fail(401, "InvalidToken", "Unexpected authorization type")
    return match![1]!
  }

  private verified(token: string): JwtPayload & { readonly typ: string } {
    const payload = this.signer.verify(token)
    if (payload === undefined) fail(401, "InvalidToken", "Token could not be verified")
    return payload!
  }

  /** The account of a valid access token; 400 `ExpiredToken` for an expired one. */
  private authenticate(request: Incoming): FakeAccount {
    const payload = this.verified(this.bearer(request))
    if (payload.scope !== "com.atproto.access") fail(400, "InvalidToken", "Bad token scope")
    if (payload.exp * 1000 <= this.now() || this.expiredAccessTokens.has(payload.jti)) {
      fail(400, "ExpiredToken", "Token has expired")
    }
    const account = this.accounts.get(payload.sub ?? "")
    if (account === undefined) fail(401, "InvalidToken", "Token subject is not an account")
    return account!
  }

  /**
   * A service token, checked as the reference PDS checks one
   * (pds/src/auth-verifier.ts `verifyServiceJwt`, xrpc-server/src/auth.ts
   * `verifyJwt`): not an access or refresh token, not expired, for `audience`
   * and for exactly the method `lxm`, issued by an account.
   */
  private serviceAuth(request: Incoming, audience: string, lxm: string): JwtPayload & { readonly iss: string } {
    const payload = this.signer.verify(this.bearer(request))
    if (payload === undefined) fail(401, "BadJwtSignature", "jwt signature does not match jwt issuer")
    if (payload!.typ === "at+jwt" || payload!.typ === "refresh+jwt") fail(401, "BadJwtType", `Invalid jwt type "${payload!.typ}"`)
    if (payload!.exp * 1000 <= this.now()) fail(401, "JwtExpired", "jwt expired")
    if (payload!.aud !== audience) fail(401, "BadJwtAudience", "jwt audience does not match service did")
    if (payload!.lxm !== lxm) {
      fail(
        401,
        "BadJwtLexiconMethod",
        payload!.lxm !== undefined
          ? `bad jwt lexicon method ("lxm"). must match: ${lxm}`
          : `missing jwt lexicon method ("lxm"). must match: ${lxm}`
      )
    }
    if (payload!.iss === undefined || !this.accounts.has(payload!.iss)) fail(401, "BadJwtIss", "jwt iss is not a valid did")
    return payload as JwtPayload & { readonly iss: string }
  }

  /** Whether the request carries a service token (an `lxm` claim), as the PDS tells them apart. */
  private isServiceToken(request: Incoming): boolean {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "")?.[1]
    const body = token?.split(".")[1]
    if (body === undefined) return false
    try {
      return (JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as { lxm?: unknown }).lxm != null
    } catch {
      return false
    }
  }

  private issueSession(account: FakeAccount): Answer {
    const nowSeconds = Math.floor(this.now() / 1000)
    const aud = this.serviceDid
    const accessJwt = this.signer.sign("at+jwt", {
      scope: "com.atproto.access",
      sub: account.did,
      aud,
      iat: nowSeconds,
      exp: nowSeconds + this.options.accessTokenTtlSeconds
    })
    this.liveAccessTokens.add(this.signer.verify(accessJwt)!.jti)
    const refreshJwt = this.signer.sign("refresh+jwt", {
      scope: "com.atproto.refresh",
      sub: account.did,
      aud,
      iat: nowSeconds,
      exp: nowSeconds + this.options.refreshTokenTtlSeconds
    })
    return {
      status: 200,
      body: {
        accessJwt,
        refreshJwt,
        handle: account.handle,
        did: account.did,
        didDoc: {
          "@context": ["https://www.w3.org/ns/did/v1"],
          id: account.did,
          alsoKnownAs: [`at://${account.handle}`],
          service: [{ id: "#atproto_pds", type: "AtprotoPersonalDataServer", serviceEndpoint: this.url }]
        },
        email: account.email,
        emailConfirmed: true,
        active: true
      }
    }
  }

  private createSession(body: Record<string, unknown>): Answer {
    const identifier = typeof body.identifier === "string" ? body.identifier.toLowerCase() : invalid("Input must have the property \"identifier\"")
    const password = typeof body.password === "string" ? body.password : invalid("Input must have the property \"password\"")
    const account = this.accounts.get(identifier) ?? this.accountByHandle(identifier) ??
      [...this.accounts.values()].find((candidate) => candidate.email === identifier)
    const key = account?.did ?? identifier
    const now = this.now()
    const windowMs = this.options.createSessionLimit.windowSeconds * 1000
    const attempts = (this.sessionAttempts.get(key) ?? []).filter((at) => now - at < windowMs)
    if (attempts.length >= this.options.createSessionLimit.max) {
      const reset = Math.ceil((attempts[0]! + windowMs) / 1000)
      return {
        status: 429,
        body: { error: "RateLimitExceeded", message: "Rate Limit Exceeded" },
        headers: {
          "ratelimit-limit": String(this.options.createSessionLimit.max),
          "ratelimit-remaining": "0",
          "ratelimit-reset": String(reset),
          "ratelimit-policy": `${this.options.createSessionLimit.max};w=${this.options.createSessionLimit.windowSeconds}`
        }
      }
    }
    attempts.push(now)
    this.sessionAttempts.set(key, attempts)
    if (account === undefined || account.password !== password) {
      fail(401, "AuthenticationRequired", "Invalid identifier or password")
    }
    const session = this.issueSession(account!)
    return {
      ...session,
      headers: {
        "ratelimit-remaining": String(this.options.createSessionLimit.max - attempts.length),
        "ratelimit-reset": String(Math.ceil((attempts[0]! + windowMs) / 1000))
      }
    }
  }

  private refreshSession(request: Incoming): Answer {
    const token = this.bearer(request)
    const payload = this.verified(token)
    if (payload.scope !== "com.atproto.refresh") fail(400, "InvalidToken", "Invalid token type")
    if (this.usedRefreshTokens.has(payload.jti)) fail(400, "ExpiredToken", "Token has been revoked")
    if (payload.exp * 1000 <= this.now()) fail(400, "ExpiredToken", "Token has expired")
    const account = this.accounts.get(payload.sub ?? "")
    if (account === undefined) fail(400, "InvalidToken", "Token subject is not an account")
    // Refresh tokens are single-use: rotation revokes the one presented.
    this.usedRefreshTokens.add(payload.jti)
    return this.issueSession(account!)
  }

  private getServiceAuth(request: Incoming, query: URLSearchParams): Answer {
    const account = this.authenticate(request)
    const aud = query.get("aud") ?? invalid("Params must have the property \"aud\"")
    const nowSeconds = Math.floor(this.now() / 1000)
    const expParam = query.get("exp")
    const exp = expParam === null ? nowSeconds + 60 : Number(expParam)
    if (!Number.isInteger(exp)) invalid("exp must be an integer")
    if (exp <= nowSeconds) fail(400, "BadExpiration", "expiration is in past")
    if (exp - nowSeconds > 3600) fail(400, "BadExpiration", "cannot request a token with an expiration more than an hour in the future")
    const lxm = query.get("lxm") ?? undefined
    const token = this.signer.sign("JWT", { iss: account.did, aud, ...(lxm !== undefined ? { lxm } : {}), iat: nowSeconds, exp })
    return { status: 200, body: { token } }
  }

  // -------------------------------------------------------------------------
  // Blobs and video
  // -------------------------------------------------------------------------

  /**
   * As pds/src/api/com/atproto/repo/uploadBlob.ts: an access token or a
   * service token for uploadBlob; any body up to the upload limit (413
   * `PayloadTooLarge` above it, from xrpc-server). Limits of the embed that
   * will use the blob are checked when the record is created, not here.
   */
  private async uploadBlob(request: Incoming): Promise<Answer> {
    const account = this.isServiceToken(request)
      ? this.accounts.get(this.serviceAuth(request, this.serviceDid, "com.atproto.repo.uploadBlob").iss)!
      : this.authenticate(request)
    const declared = (request.headers["content-type"] ?? "").split(";")[0]!.trim()
    if (declared === "") invalid("Request encoding (Content-Type) required but not provided")
    const body = await consumeBody(request, this.options.maxImageBytes)
    if (body.size === 0) invalid("Request body is empty")
    if (body.size > this.options.maxBlobBytes) fail(413, "PayloadTooLarge", "request entity too large")
    // The PDS keeps the type its sniffer (file-type) finds in the bytes, the declared one only when it finds none.
    const mimeType = Sniff.sniff(body.head)?.mimeType ?? declared
    const cid = cidFor("raw", body.digest)
    this.blobs.set(cid, { cid, did: account.did, mimeType, size: body.size, bytes: body.bytes })
    this.heldBlobs.add(`${account.did} ${cid}`)
    return { status: 200, body: { blob: { $type: "blob", ref: { $link: cid }, mimeType, size: body.size } } }
  }

  private async uploadVideo(request: Incoming, query: URLSearchParams): Promise<Answer> {
    // The service stores the processed video on the user's PDS with this token: the PDS's checks apply.
    const service = this.serviceAuth(request, this.serviceDid, "com.atproto.repo.uploadBlob")
    const did = query.get("did") ?? invalid("Params must have the property \"did\"")
    const name = query.get("name") ?? invalid("Params must have the property \"name\"")
    if (did !== service.iss) fail(401, "InvalidToken", "did does not match the service token issuer")
    const mimeType = (request.headers["content-type"] ?? "").split(";")[0]!.trim()
    if (!mimeType.startsWith("video/")) invalid(`Unsupported video type ${mimeType || "(none)"}`)
    if (request.headers["content-length"] === undefined) invalid("Content-Length is required")
    const body = await consumeBody(request, 0)
    if (body.size === 0) invalid("Request body is empty")
    if (body.size > this.options.maxVideoBytes) {
      fail(400, "BlobTooLarge", `Video is too large: ${body.size} bytes, the maximum is ${this.options.maxVideoBytes}`)
    }
    const quota = this.remainingQuota(did)
    if (quota.videos <= 0 || quota.bytes < body.size) {
      fail(400, "UploadLimitExceeded", "You have reached your daily upload limit")
    }
    const blobCid = cidFor("raw", body.digest)
    const existing = [...this.videoJobs.values()].find((job) => job.did === did && job.blobCid === blobCid && job.state !== "JOB_STATE_FAILED")
    if (existing !== undefined) {
      return { status: 409, body: { error: "already_exists", message: "Video already processed", jobId: existing.jobId } }
    }
    const jobId = `${Buffer.from(sha256(`${blobCid}:${++this.jobCounter}`)).toString("hex").slice(0, 26)}`
    const job: VideoJob = {
      jobId,
      did,
      name,
      size: body.size,
      blobCid,
      createdAt: this.now(),
      polls: 0,
      state: "JOB_STATE_CREATED",
      failure: this.failNextVideoJobs.shift()
    }
    this.videoJobs.set(jobId, job)
    return { status: 200, body: { jobId, did, state: job.state, progress: 0 } }
  }

  /** What is left of an account's daily video quota (jobs count once uploaded, failed or not). */
  private remainingQuota(did: string): { readonly videos: number; readonly bytes: number } {
    const since = this.now() - 24 * 3600 * 1000
    const jobs = [...this.videoJobs.values()].filter((job) => job.did === did && job.createdAt >= since)
    return {
      videos: this.options.videoQuota.videos - jobs.length,
      bytes: this.options.videoQuota.bytes - jobs.reduce((total, job) => total + job.size, 0)
    }
  }

  private getJobStatus(query: URLSearchParams): Answer {
    const jobId = query.get("jobId") ?? invalid("Params must have the property \"jobId\"")
    const job = this.videoJobs.get(jobId)
    if (job === undefined) fail(404, "NotFound", "Job not found")
    job!.polls++
    if (job!.state !== "JOB_STATE_COMPLETED" && job!.state !== "JOB_STATE_FAILED") {
      if (job!.polls > this.options.videoProcessingPolls) {
        if (job!.failure !== undefined) {
          job!.state = "JOB_STATE_FAILED"
        } else {
          job!.state = "JOB_STATE_COMPLETED"
          this.blobs.set(job!.blobCid, { cid: job!.blobCid, did: job!.did, mimeType: "video/mp4", size: job!.size })
          this.heldBlobs.add(`${job!.did} ${job!.blobCid}`)
        }
      } else {
        job!.state = "JOB_STATE_ENCODING"
      }
    }
    const progress = job!.state === "JOB_STATE_COMPLETED" ? 100 : Math.min(99, Math.round((job!.polls / (this.options.videoProcessingPolls + 1)) * 100))
    return {
      status: 200,
      body: {
        jobStatus: {
          jobId: job!.jobId,
          did: job!.did,
          state: job!.state,
          progress,
          ...(job!.state === "JOB_STATE_COMPLETED"
            ? { blob: { $type: "blob", ref: { $link: job!.blobCid }, mimeType: "video/mp4", size: job!.size } }
            : {}),
          ...(job!.state === "JOB_STATE_FAILED" ? { error: "ProcessingFailed", message: job!.failure } : {})
        }
      }
    }
  }

  // -------------------------------------------------------------------------
  // Records
  // -------------------------------------------------------------------------

  private findRecord(repo: string, collection: string, rkey: string): StoredRecord | undefined {
    const did = this.accounts.has(repo) ? repo : this.accountByHandle(repo)?.did
    return this.records.find((record) => record.repo === did && record.collection === collection && record.rkey === rkey)
  }

  private recordByUri(uri: string): StoredRecord | undefined {
    return this.records.find((record) => record.uri === uri)
  }

  private repoOf(account: FakeAccount, repo: unknown): void {
    if (repo !== account.did && repo !== account.handle) {
      fail(400, "InvalidRequest", `Invalid repo: ${String(repo)} is not the authenticated account`)
    }
  }

  /**
   * A blob in a record, in the PDS's order: the lexicon's `accept` and
   * `maxSize` against the ref as written (@atproto/lex-schema's messages), then
   * the stored blob (pds/src/actor-store/blob/transactor.ts: `BlobNotFound`,
   * `InvalidMimeType`, `InvalidSize` when the ref does not match what was stored).
   */
  private checkBlobRef(path: string, value: unknown, account: FakeAccount, accept: string, maxSize: number): void {
    const prefix = "Invalid app.bsky.feed.post record:"
    if (!isObject(value) || value.$type !== "blob" || !isObject(value.ref) || typeof value.ref.$link !== "string") {
      invalid(`${prefix} ${path} should be a blob ref`)
    }
    const ref = value as { ref: { $link: string }; mimeType?: unknown; size?: unknown }
    if (typeof ref.mimeType !== "string" || !Number.isInteger(ref.size)) invalid(`${prefix} ${path} must have "mimeType" and "size"`)
    const mimeType = ref.mimeType as string
    const size = ref.size as number
    const accepted = accept.endsWith("/*") ? mimeType.startsWith(accept.slice(0, -1)) : mimeType === accept
    if (!accepted) invalid(`${prefix} Expected "${accept}" (got "${mimeType}") at ${path}/mimeType`)
    if (size > maxSize) invalid(`${prefix} blob too big (maximum ${maxSize}, got ${size}) at ${path}`)
    const blob = this.blobs.get(ref.ref.$link)
    if (blob === undefined || !this.heldBlobs.has(`${account.did} ${ref.ref.$link}`)) fail(400, "BlobNotFound", `Could not find blob: ${ref.ref.$link}`)
    if (mimeType !== blob!.mimeType) {
      fail(400, "InvalidMimeType", `Referenced Mimetype does not match stored blob. Expected: ${blob!.mimeType}, Got: ${mimeType}`)
    }
    if (size !== blob!.size) fail(400, "InvalidSize", `Referenced Size does not match stored blob. Expected: ${blob!.size}, Got: ${size}`)
  }


  private checkStrongRef(path: string, value: unknown): StoredRecord {
    if (!isObject(value) || typeof value.uri !== "string" || typeof value.cid !== "string") {
      return invalid(`Invalid app.bsky.feed.post record: ${path} must have the properties "uri" and "cid"`)
    }
    const record = this.recordByUri(value.uri)
    if (record === undefined) return invalid(`${path}: the post ${value.uri} does not exist`)
    if (record.cid !== value.cid) return invalid(`${path}: the cid of ${value.uri} is ${record.cid}, not ${value.cid}`)
    return record
  }

  /** Lexicon checks of `app.bsky.feed.post` (plus existence of referenced blobs and posts). */
  private checkPost(record: Record<string, unknown>, account: FakeAccount): void {
    const prefix = "Invalid app.bsky.feed.post record:"
    if (record.$type !== undefined && record.$type !== "app.bsky.feed.post") invalid(`${prefix} Record/$type must be app.bsky.feed.post`)
    if (typeof record.text !== "string") invalid(`${prefix} Record must have the property "text"`)
    const text = record.text as string
    if (utf8(text) > 3000) invalid(`${prefix} Record/text must not be longer than 3000 characters`)
    if (graphemes(text) > 300) invalid(`${prefix} Record/text must not be longer than 300 graphemes`)
    if (!isDatetime(record.createdAt)) invalid(`${prefix} Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)`)
    const textBytes = utf8(text)
    // Lexicons app.bsky.richtext.facet#tag and app.bsky.feed.post tags: maxGraphemes 64, maxLength 640 (UTF-8 bytes).
    const checkTag = (path: string, tag: string) => {
      if (graphemes(tag) > 64) invalid(`${prefix} grapheme too big (maximum 64, got ${graphemes(tag)}) at ${path}`)
      if (utf8(tag) > 640) invalid(`${prefix} string too big (maximum 640, got ${utf8(tag)}) at ${path}`)
    }
    if (record.facets !== undefined) {
      if (!Array.isArray(record.facets)) invalid(`${prefix} Record/facets must be an array`)
      for (const [index, facet] of (record.facets as Array<unknown>).entries()) {
        const path = `Record/facets/${index}`
        if (!isObject(facet) || !isObject(facet.index)) invalid(`${prefix} ${path} must have the property "index"`)
        const { byteEnd, byteStart } = (facet as { index: { byteStart?: unknown; byteEnd?: unknown } }).index
        if (!Number.isInteger(byteStart) || !Number.isInteger(byteEnd) || (byteStart as number) < 0 || (byteEnd as number) < 0) {
          invalid(`${prefix} ${path}/index/byteStart and byteEnd must be non-negative integers`)
        }
        if ((byteStart as number) > (byteEnd as number) || (byteEnd as number) > textBytes) {
          invalid(`${prefix} ${path}/index [${String(byteStart)}, ${String(byteEnd)}) is outside the text (${textBytes} bytes)`)
        }
        const features = (facet as { features?: unknown }).features
        if (!Array.isArray(features) || features.length === 0) invalid(`${prefix} ${path}/features must be a non-empty array`)
        for (const feature of features as Array<unknown>) {
          if (!isObject(feature)) invalid(`${prefix} ${path}/features must hold objects`)
          const typed = feature as Record<string, unknown>
          switch (typed.$type) {
            case "app.bsky.richtext.facet#mention":
              if (typeof typed.did !== "string" || !typed.did.startsWith("did:")) invalid(`${prefix} ${path} mention/did must be a did`)
              break
            case "app.bsky.richtext.facet#link":
              if (!isUri(typed.uri)) invalid(`${prefix} ${path} link/uri must be a uri`)
              break
            case "app.bsky.richtext.facet#tag":
              if (typeof typed.tag !== "string") invalid(`${prefix} ${path} tag/tag must be a string`)
              checkTag(`${path}/features/tag`, typed.tag as string)
              break
            default:
              invalid(`${prefix} ${path} has an unknown feature type ${String(typed.$type)}`)
          }
        }
      }
    }
    if (record.langs !== undefined && (!Array.isArray(record.langs) || record.langs.length > 3)) {
      invalid(`${prefix} Record/langs must not have more than 3 elements`)
    }
    if (record.tags !== undefined && (!Array.isArray(record.tags) || record.tags.length > 8)) {
      invalid(`${prefix} Record/tags must not have more than 8 elements`)
    }
    for (const [index, tag] of ((record.tags ?? []) as Array<unknown>).entries()) {
      if (typeof tag !== "string") invalid(`${prefix} Record/tags/${index} must be a string`)
      checkTag(`Record/tags/${index}`, tag as string)
    }
    if (record.reply !== undefined) {
      if (!isObject(record.reply)) invalid(`${prefix} Record/reply must be an object`)
      const reply = record.reply as Record<string, unknown>
      const root = this.checkStrongRef("Record/reply/root", reply.root)
      const parent = this.checkStrongRef("Record/reply/parent", reply.parent)
      if (isObject(root.value.reply)) invalid(`Record/reply/root: ${root.uri} is itself a reply, not a thread root`)
      const parentRoot = isObject(parent.value.reply) && isObject(parent.value.reply.root) ? parent.value.reply.root.uri : parent.uri
      if (parentRoot !== root.uri) invalid(`Record/reply: the parent ${parent.uri} is not in the thread of ${root.uri}`)
    }
    if (record.embed !== undefined) {
      if (!isObject(record.embed)) invalid(`${prefix} Record/embed must be an object`)
      const embed = record.embed as Record<string, unknown>
      switch (embed.$type) {
        case "app.bsky.embed.images": {
          if (!Array.isArray(embed.images) || embed.images.length === 0) invalid(`${prefix} Record/embed/images must be a non-empty array`)
          const images = embed.images as Array<unknown>
          if (images.length > 4) invalid(`${prefix} Record/embed/images must not have more than 4 elements`)
          for (const [index, image] of images.entries()) {
            const path = `Record/embed/images/${index}`
            if (!isObject(image)) invalid(`${prefix} ${path} must be an object`)
            const typed = image as Record<string, unknown>
            if (typeof typed.alt !== "string") invalid(`${prefix} ${path} must have the property "alt"`)
            this.checkBlobRef(`${path}/image`, typed.image, account, "image/*", this.options.maxImageBytes)
            if (typed.aspectRatio !== undefined) {
              const ratio = typed.aspectRatio as { width?: unknown; height?: unknown }
              if (!isObject(ratio) || !Number.isInteger(ratio.width) || !Number.isInteger(ratio.height) || (ratio.width as number) < 1 || (ratio.height as number) < 1) {
                invalid(`${prefix} ${path}/aspectRatio width and height must be positive integers`)
              }
            }
          }
          break
        }
        case "app.bsky.embed.video": {
          this.checkBlobRef("Record/embed/video", embed.video, account, "video/mp4", this.options.maxVideoBytes)
          if (embed.alt !== undefined && (typeof embed.alt !== "string" || utf8(embed.alt) > 10_000 || graphemes(embed.alt) > 1000)) {
            invalid(`${prefix} Record/embed/alt must be at most 1000 graphemes`)
          }
          break
        }
        case "app.bsky.embed.external": {
          const external = embed.external
          if (!isObject(external) || !isUri(external.uri) || typeof external.title !== "string" || typeof external.description !== "string") {
            invalid(`${prefix} Record/embed/external must have "uri", "title" and "description"`)
          }
          const thumb = (external as Record<string, unknown>).thumb
          if (thumb !== undefined) this.checkBlobRef("Record/embed/external/thumb", thumb, account, "image/*", 1_000_000)
          break
        }
        case "app.bsky.embed.record":
          this.checkStrongRef("Record/embed/record", embed.record)
          break
        default:
          invalid(`${prefix} Record/embed must be one of app.bsky.embed.images, video, external, record; got ${String(embed.$type)}`)
      }
    }
  }

  private createRecord(account: FakeAccount, body: Record<string, unknown>): Answer {
    this.repoOf(account, body.repo)
    if (body.collection !== "app.bsky.feed.post") invalid(`The fake accepts only app.bsky.feed.post records, not ${String(body.collection)}`)
    if (!isObject(body.record)) invalid("Input must have the property \"record\"")
    const record = { $type: "app.bsky.feed.post", ...(body.record as Record<string, unknown>) }
    this.checkPost(record, account)
    let rkey: string
    if (body.rkey !== undefined) {
      if (typeof body.rkey !== "string" || !isTid(body.rkey)) invalid("Invalid record key: app.bsky.feed.post keys are TIDs")
      rkey = body.rkey as string
      if (this.findRecord(account.did, "app.bsky.feed.post", rkey) !== undefined) invalid(`Record already exists: ${rkey}`)
    } else {
      rkey = this.nextTid()
    }
    const cid = cidFor("dag-cbor", sha256(JSON.stringify(record)))
    const uri = `at://${account.did}/app.bsky.feed.post/${rkey}`
    this.records.push({ uri, cid, repo: account.did, collection: "app.bsky.feed.post", rkey, value: record })
    return {
      status: 200,
      body: {
        uri,
        cid,
        commit: { cid: cidFor("dag-cbor", sha256(`commit:${uri}`)), rev: this.nextTid() },
        validationStatus: "valid"
      }
    }
  }

  private deleteRecord(account: FakeAccount, body: Record<string, unknown>): Answer {
    this.repoOf(account, body.repo)
    if (typeof body.collection !== "string" || typeof body.rkey !== "string") invalid("Input must have the properties \"collection\" and \"rkey\"")
    const index = this.records.findIndex((record) =>
      record.repo === account.did && record.collection === body.collection && record.rkey === body.rkey
    )
    // Like the reference PDS, deleting a record that is not there succeeds.
    if (index >= 0) this.records.splice(index, 1)
    return { status: 200, body: { commit: { cid: cidFor("dag-cbor", sha256(`delete:${String(body.rkey)}`)), rev: this.nextTid() } } }
  }

  private listRecords(query: URLSearchParams): Answer {
    const repo = query.get("repo") ?? invalid("Params must have the property \"repo\"")
    const collection = query.get("collection") ?? invalid("Params must have the property \"collection\"")
    const limit = Number(query.get("limit") ?? "50")
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) invalid("Params/limit must be between 1 and 100")
    const did = this.accounts.has(repo) ? repo : this.accountByHandle(repo)?.did
    if (did === undefined) invalid(`Could not find repo: ${repo}`)
    const reverse = query.get("reverse") === "true"
    const cursor = query.get("cursor")
    const sorted = this.records
      .filter((record) => record.repo === did && record.collection === collection)
      .sort((a, b) => (reverse ? a.rkey.localeCompare(b.rkey) : b.rkey.localeCompare(a.rkey)))
      .filter((record) => cursor === null || (reverse ? record.rkey > cursor : record.rkey < cursor))
    const page = sorted.slice(0, limit)
    return {
      status: 200,
      body: {
        records: page.map((record) => ({ uri: record.uri, cid: record.cid, value: record.value })),
        ...(page.length === limit && sorted.length > limit ? { cursor: page[page.length - 1]!.rkey } : {})
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Effect API
// ---------------------------------------------------------------------------

/**
 * The fake as a scoped Effect service: started when the layer is built,
 * closed when its scope closes.
 *
 * @example
 * layer(FakeBluesky.layer({ videoProcessingPolls: 1 }))("publishing", (it) => { … })
 */
export class FakeBluesky extends Context.Service<FakeBluesky, FakeBlueskyServer>()(
  "@omnipost/platform-bluesky/testing/FakeBluesky"
) {
  /** Starts a fake (Promise API); call `close()` when done. */
  static readonly start = (options?: FakeBlueskyOptions): Promise<FakeBlueskyServer> => FakeBlueskyServer.start(options)

  /** A fake for the current scope. */
  static readonly make = (options?: FakeBlueskyOptions) =>
    Effect.acquireRelease(
      Effect.promise(() => FakeBlueskyServer.start(options)),
      (fake) => Effect.promise(() => fake.close())
    )

  static readonly layer = (options?: FakeBlueskyOptions): Layer.Layer<FakeBluesky> =>
    Layer.effect(FakeBluesky, FakeBluesky.make(options))
}
