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
import { type Answer, FakeServer, type FakeRequest, type Fault, Faults } from "@omnipost/platform-kit/testing"
import { Context, Effect, Layer } from "effect"
import type { BlueskyCredentials } from "../Auth.js"
import type { BlueskyPublisherOptions } from "../Publisher.js"
import { Blobs } from "./internal/blobs.js"
import { newDid } from "./internal/ids.js"
import {
  defaultAccount,
  type FakeAccount,
  type FakeAccountInput,
  type FakeBlueskyOptions,
  FakeState,
  type RecordedRequest,
  resolveOptions,
  type StoredBlob,
  type StoredRecord,
  type VideoJob
} from "./internal/model.js"
import { Records } from "./internal/records.js"
import { Sessions } from "./internal/sessions.js"
import { errorFor, fail, invalid, isObject, nsidOf, readBody, XrpcError, xrpcAnswer } from "./internal/xrpc.js"

export { type Fault, Faults } from "@omnipost/platform-kit/testing"
export {
  defaultAccount,
  type FakeAccount,
  type FakeAccountInput,
  type FakeBlueskyOptions,
  type RecordedRequest,
  type StoredBlob,
  type StoredRecord,
  type VideoJob
} from "./internal/model.js"

/**
 * The fake, as a plain object with a Promise API (`start`, `close`) for tests
 * outside Effect. `FakeBluesky` wraps it as a scoped Effect service. Its
 * XRPC areas live in `internal/`: `sessions` (com.atproto.server.*), `blobs`
 * (uploadBlob and the video service), `records` (repo records and the post
 * lexicon); this class holds the public API and the routing.
 */
export class FakeBlueskyServer {
  private readonly state: FakeState
  private readonly sessions: Sessions
  private readonly blobStore: Blobs
  private readonly repo: Records
  private readonly pages = new Map<string, { contentType: string; data: Uint8Array; chunked: boolean; location?: string }>()
  private readonly globalWindow = { start: 0, count: 0 }

  private constructor(
    /** The PDS (and entryway), and the pages it serves for link cards and media URLs. */
    readonly pds: FakeServer,
    /** The video service. */
    readonly video: FakeServer,
    options: FakeBlueskyOptions
  ) {
    this.state = new FakeState(resolveOptions(options), () => pds.url)
    this.sessions = new Sessions(this.state)
    this.blobStore = new Blobs(this.state, this.sessions)
    this.repo = new Records(this.state)
    for (const [server, name] of [[pds, "pds"], [video, "video"]] as const) {
      server.route("*", "/xrpc/:nsid", (request) => this.answer(name, request), { operation: (request) => request.params.nsid! })
    }
    pds.route("*", "/*", (request) => this.page(request))
  }

  /** Starts the PDS and the video service on ephemeral ports of 127.0.0.1. */
  static async start(options: FakeBlueskyOptions = {}): Promise<FakeBlueskyServer> {
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
    fake = new FakeBlueskyServer(pds, video, options)
    for (const account of options.accounts ?? [defaultAccount]) fake.createAccount(account)
    return fake
  }

  /** Accounts by DID. */
  get accounts(): Map<string, FakeAccount> {
    return this.state.accounts
  }

  /** Every record created and not deleted, oldest first. */
  get records(): Array<StoredRecord> {
    return this.state.records
  }

  /** Uploaded blobs by CID. */
  get blobs(): Map<string, StoredBlob> {
    return this.state.blobs
  }

  /** Video jobs by id. */
  get videoJobs(): Map<string, VideoJob> {
    return this.state.videoJobs
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
    return this.state.serviceDid
  }

  /** The video service's DID (the `videoServiceDid` option). */
  get videoServiceDid(): string {
    return this.state.videoServiceDid
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
    return this.state.accountByHandle(handle)
  }

  /** The `app.bsky.feed.post` records, oldest first (optionally of one repo). */
  posts(did?: string): ReadonlyArray<StoredRecord> {
    return this.state.posts(did)
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
    for (const jti of this.state.liveAccessTokens) this.state.expiredAccessTokens.add(jti)
    this.state.liveAccessTokens.clear()
  }

  /** Moves the fake's clock (token expiry, rate-limit windows, TIDs). */
  advanceClock(ms: number): void {
    this.state.clockOffsetMs += ms
  }

  /** The next video job fails processing with this message. */
  failNextVideoJob(message = "Video processing failed"): void {
    this.state.failNextVideoJobs.push(message)
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

  /** The fake's clock (`Date.now()` moved by `advanceClock`). */
  now(): number {
    return this.state.now()
  }

  // -------------------------------------------------------------------------
  // Dispatch
  // -------------------------------------------------------------------------

  /** An XRPC call: the method's answer, or its XRPC error. */
  private async answer(server: "pds" | "video", request: FakeRequest): Promise<Answer> {
    return this.route(server, request, request.operation, request.url).catch((error: unknown) => {
      if (error instanceof XrpcError) return xrpcAnswer(error.status, error.error, error.message)
      throw error
    })
  }

  /** A page (link cards) or a file (media URLs) served on the PDS port. */
  private page(request: FakeRequest): Answer {
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
        "ratelimit-limit": String(this.state.options.createSessionLimit.max),
        // The per-account count is filled in by createSession itself, which knows the account.
        "ratelimit-remaining": String(this.state.options.createSessionLimit.max),
        "ratelimit-reset": String(Math.ceil((now + this.state.options.createSessionLimit.windowSeconds * 1000) / 1000)),
        "ratelimit-policy": `${this.state.options.createSessionLimit.max};w=${this.state.options.createSessionLimit.windowSeconds}`
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
          return this.blobStore.uploadVideo(request, query)
        case "app.bsky.video.getJobStatus":
          expect("GET")
          return this.blobStore.getJobStatus(query)
        case "app.bsky.video.getUploadLimits":
          expect("GET")
          return this.blobStore.getUploadLimits(request)
        default:
          return fail(501, "MethodNotImplemented", "Method Not Implemented")
      }
    }

    switch (nsid) {
      case "com.atproto.server.createSession":
        expect("POST")
        return this.sessions.createSession(await json())
      case "com.atproto.server.refreshSession":
        expect("POST")
        return this.sessions.refreshSession(request)
      case "com.atproto.server.getSession": {
        expect("GET")
        const account = this.sessions.authenticate(request)
        return { status: 200, body: { did: account.did, handle: account.handle, email: account.email, active: true } }
      }
      case "com.atproto.server.getServiceAuth":
        expect("GET")
        return this.sessions.getServiceAuth(request, query)
      case "com.atproto.identity.resolveHandle": {
        expect("GET")
        const handle = query.get("handle") ?? invalid("Params must have the property \"handle\"")
        const account = this.accountByHandle(handle)
        if (account === undefined) invalid("Unable to resolve handle")
        return { status: 200, body: { did: account!.did } }
      }
      case "app.bsky.actor.getProfile": {
        expect("GET")
        this.sessions.authenticate(request)
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
        return this.blobStore.uploadBlob(request)
      case "com.atproto.repo.createRecord":
        expect("POST")
        return this.repo.createRecord(this.sessions.authenticate(request), await json())
      case "com.atproto.repo.deleteRecord":
        expect("POST")
        return this.repo.deleteRecord(this.sessions.authenticate(request), await json())
      case "com.atproto.repo.getRecord":
        expect("GET")
        return this.repo.getRecord(query)
      case "com.atproto.repo.listRecords":
        expect("GET")
        return this.repo.listRecords(query)
      default:
        return fail(501, "MethodNotImplemented", "Method Not Implemented")
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
