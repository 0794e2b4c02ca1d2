/**
 * An in-process fake of LinkedIn's API, on the platform kit's `FakeServer`
 * (real HTTP on 127.0.0.1, one fault vocabulary). It checks what LinkedIn
 * checks, from its documentation:
 *
 * - every `/rest/*` call: a Bearer token (401 `EXPIRED_ACCESS_TOKEN`,
 *   `REVOKED_ACCESS_TOKEN`, `INVALID_ACCESS_TOKEN`), an active
 *   `LinkedIn-Version` (426 `NONEXISTENT_VERSION` when missing or out of
 *   `versions`) and `X-Restli-Protocol-Version: 2.0.0`;
 * - the author: the member (`w_member_social`) or an organization the member
 *   administers, with `w_organization_social` (403 `ACCESS_DENIED`);
 * - commentary read as little text (`internal/Little.ts`): an unescaped
 *   reserved character cuts the stored text, as LinkedIn silently does; more
 *   than 3,000 characters is 422; the same commentary twice by one author is
 *   422 "Content is a duplicate of …";
 * - uploads (`internal/Assets.ts`): types by the bytes, image pixels,
 *   document size, video size range, exact part sizes, parts in order, ETags
 *   and the finalize order, processing before `AVAILABLE`;
 * - daily limits per member and per application (429 "… MEMBER DAY limit …",
 *   "… APPLICATION DAY limit …"), reset at midnight UTC on the fake's clock;
 * - OAuth: `GET /oauth/v2/authorization` consents as `consentAs` and
 *   redirects with a code; `POST /oauth/v2/accessToken` exchanges it (and
 *   refresh tokens, when `refreshTokens` is on); `GET /v2/userinfo`.
 *
 * @example
 * const fake = yield* FakeLinkedin.make()
 * const account = fake.addAccount({ name: "Ada" })
 * const publisher = yield* makeLinkedinPublisher(fake.publisherOptions())
 */
import * as Comments from "./internal/Comments.js"
import { type Answer, type FakeRequest, FakeServer, type FakeServerOptions } from "@omnipost/platform-kit/testing"
import { Effect, type Scope } from "effect"
import { randomBytes } from "node:crypto"
import * as Assets from "./internal/Assets.js"
import * as Little from "./internal/Little.js"
import * as OAuth from "./internal/OAuth.js"
import { error, header, reservedHeader } from "./internal/Wire.js"

export interface FakeAccount {
  readonly sub: string
  readonly name: string
  readonly personUrn: string
  /** Organizations the member administers (`urn:li:organization:…`). */
  readonly administers: ReadonlyArray<string>
}

interface Token {
  readonly account: FakeAccount
  readonly scopes: ReadonlyArray<string>
  expiresAtMs: number
  revoked: boolean
}

export interface FakePost {
  readonly id: string
  readonly author: string
  /** As sent (little text). */
  readonly commentary: string
  /** As members see it. */
  readonly text: string
  readonly truncated: boolean
  readonly mentions: ReadonlyArray<{ readonly name: string; readonly urn: string }>
  readonly hashtags: ReadonlyArray<string>
  readonly visibility: string
  readonly isReshareDisabledByAuthor: boolean
  readonly content?: Record<string, unknown> | undefined
  readonly version: string
  readonly createdAt: number
}

export interface FakeLinkedinOptions {
  /** Active `LinkedIn-Version`s (inclusive range). Default 202512–202612. */
  readonly versions?: { readonly oldest: string; readonly newest: string } | undefined
  /** Video part size. Default 4 MiB, as LinkedIn. */
  readonly videoPartBytes?: number | undefined
  /** Status checks that answer PROCESSING before an upload is AVAILABLE. Default 1. */
  readonly processingPolls?: number | undefined
  readonly dailyMemberPosts?: number | undefined
  readonly dailyApplicationPosts?: number | undefined
  readonly clientId?: string | undefined
  readonly clientSecret?: string | undefined
  /** Whether the app gets refresh tokens (LinkedIn's approved partners only). Default false. */
  readonly refreshTokens?: boolean | undefined
  /** Access token lifetime. Default 60 days. */
  readonly tokenLifetimeSeconds?: number | undefined
  readonly now?: (() => number) | undefined
}

const DAY = 86_400_000

export class FakeLinkedin {
  static async start(options: FakeLinkedinOptions = {}): Promise<FakeLinkedin> {
    const server = await FakeServer.start({
      ...(options.now !== undefined ? { now: options.now } : {}),
      errorAnswer: (status) => error(status, status === 404 ? "NOT_FOUND" : status === 429 ? "TOO_MANY_REQUESTS" : "SERVER_ERROR", `HTTP ${status}`)
    } satisfies FakeServerOptions)
    return new FakeLinkedin(server, options)
  }

  static make(options: FakeLinkedinOptions = {}): Effect.Effect<FakeLinkedin, never, Scope.Scope> {
    return Effect.acquireRelease(Effect.promise(() => FakeLinkedin.start(options)), (fake) => Effect.promise(() => fake.close()))
  }

  readonly posts: Array<FakePost> = []
  /** Comments made through `POST /rest/socialActions/{urn}/comments`, in order. */
  readonly comments: Array<Comments.FakeComment> = []
  readonly assets = new Map<string, Assets.Asset>()
  readonly clientId: string
  readonly clientSecret: string
  /** The account `GET /oauth/v2/authorization` consents as (the last added, unless set). */
  consentAs: FakeAccount | undefined
  /** Scopes the member grants at consent; default: what was asked. */
  grantScopes: ReadonlyArray<string> | undefined

  private readonly tokens = new Map<string, Token>()
  /** LinkedIn's OAuth endpoints (consent and token), issuing tokens through `issueToken`. */
  private readonly oauth: OAuth.LinkedinOAuth<FakeAccount>
  private readonly daily = new Map<string, number>()
  private nextId = 7_100_000_000_000_000_000n

  private constructor(readonly server: FakeServer, private readonly options: FakeLinkedinOptions) {
    this.clientId = options.clientId ?? "fake-client-id"
    this.clientSecret = options.clientSecret ?? "fake-client-secret"
    this.oauth = new OAuth.LinkedinOAuth(this, options)
    this.routes()
  }

  get url(): string {
    return this.server.url
  }

  close(): Promise<void> {
    return this.server.close()
  }

  /** Options for `makeLinkedinPublisher` against this fake. */
  publisherOptions() {
    return {
      apiBaseUrl: this.url,
      oauth: { clientId: this.clientId, clientSecret: this.clientSecret, oauthBaseUrl: this.url, apiBaseUrl: this.url },
      pollInterval: "5 millis",
      urlGuard: { allowPrivate: true }
    } as const
  }

  /** A member (and, with `token`, an access token for it). */
  addAccount(input: { readonly sub?: string; readonly name?: string; readonly administers?: ReadonlyArray<string> } = {}): FakeAccount {
    const sub = input.sub ?? `m${randomBytes(5).toString("hex")}`
    const account = { sub, name: input.name ?? "Ada Lovelace", personUrn: `urn:li:person:${sub}`, administers: input.administers ?? [] }
    this.consentAs = account
    return account
  }

  /** Issues an access token to a member (as the OAuth flow would). */
  issueToken(
    account: FakeAccount,
    scopes: ReadonlyArray<string> = ["openid", "profile", "w_member_social"],
    lifetimeSeconds = this.options.tokenLifetimeSeconds ?? 5_184_000
  ): string {
    const token = `AQ${randomBytes(12).toString("hex")}`
    this.tokens.set(token, { account, scopes, expiresAtMs: this.server.now() + lifetimeSeconds * 1000, revoked: false })
    return token
  }

  /** The member revokes the app's access. */
  revoke(token: string): void {
    const entry = this.tokens.get(token)
    if (entry !== undefined) entry.revoked = true
  }

  expire(token: string): void {
    const entry = this.tokens.get(token)
    if (entry !== undefined) entry.expiresAtMs = this.server.now() - 1
  }

  private urn(kind: string): string {
    this.nextId += 1n
    return `urn:li:${kind}:${this.nextId}`
  }

  private authenticate(request: FakeRequest): Token | Answer {
    const authorization = header(request, "authorization") ?? ""
    const token = authorization.startsWith("Bearer ") ? this.tokens.get(authorization.slice(7)) : undefined
    if (token === undefined) return error(401, "INVALID_ACCESS_TOKEN", "Invalid access token", 65600)
    if (token.revoked) return error(401, "REVOKED_ACCESS_TOKEN", "The token used in the request has been revoked by the user", 65602)
    if (token.expiresAtMs <= this.server.now()) return error(401, "EXPIRED_ACCESS_TOKEN", "The token used in the request has expired", 65601)
    return token
  }

  /** Auth, version and protocol headers of a `/rest/*` call. */
  private gate(request: FakeRequest): Token | Answer {
    const token = this.authenticate(request)
    if ("status" in token) return token
    const version = header(request, "linkedin-version")
    const { newest, oldest } = this.options.versions ?? { oldest: "202512", newest: "202612" }
    if (version === undefined || !/^\d{6}(\.\d{2})?$/.test(version) || version.slice(0, 6) < oldest || version.slice(0, 6) > newest) {
      return error(426, "NONEXISTENT_VERSION", `Requested version ${version ?? "(none)"} is not active`)
    }
    if (header(request, reservedHeader) !== "2.0.0") {
      return error(400, "INVALID_PROTOCOL_VERSION", "X-Restli-Protocol-Version 2.0.0 is required for this resource")
    }
    return token
  }

  /** Whether the token may act as `author` (an owner of an asset or a post). */
  private mayActAs(token: Token, author: string): Answer | undefined {
    if (author === token.account.personUrn) {
      return token.scopes.includes("w_member_social")
        ? undefined
        : error(403, "ACCESS_DENIED", "Not enough permissions to access: partnerApiPostsExternal.CREATE.NO_VERSION", 100)
    }
    if (author.startsWith("urn:li:organization:") && token.account.administers.includes(author) && token.scopes.includes("w_organization_social")) {
      return undefined
    }
    return error(403, "ACCESS_DENIED", `Not enough permissions to act as ${author}`, 100)
  }

  private countDaily(token: Token): Answer | undefined {
    const day = Math.floor(this.server.now() / DAY)
    const member = `member:${token.account.sub}:${day}`
    const app = `app:${day}`
    if (this.options.dailyApplicationPosts !== undefined && (this.daily.get(app) ?? 0) >= this.options.dailyApplicationPosts) {
      return error(429, "TOO_MANY_REQUESTS", "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.", 101)
    }
    if (this.options.dailyMemberPosts !== undefined && (this.daily.get(member) ?? 0) >= this.options.dailyMemberPosts) {
      return error(429, "TOO_MANY_REQUESTS", "Resource level throttle MEMBER DAY limit for calls to this resource is reached.", 101)
    }
    this.daily.set(member, (this.daily.get(member) ?? 0) + 1)
    this.daily.set(app, (this.daily.get(app) ?? 0) + 1)
    return undefined
  }

  private routes(): void {
    const server = this.server
    server.route("GET", "/oauth/v2/authorization", (request) => this.oauth.authorize(request))
    server.route("POST", "/oauth/v2/accessToken", (request) => this.oauth.accessToken(request))
    server.route("GET", "/v2/userinfo", (request) => {
      const token = this.authenticate(request)
      if ("status" in token) return token
      if (!token.scopes.includes("openid")) return error(403, "ACCESS_DENIED", "Not enough permissions to access: userinfo.GET.NO_VERSION", 100)
      return { status: 200, body: { sub: token.account.sub, name: token.account.name, email_verified: true, locale: { country: "US", language: "en" } } }
    })
    server.route("POST", "/rest/posts", (request) => this.withGate(request, (token) => this.createPost(request, token)))
    server.route("POST", "/rest/socialActions/:urn/comments", (request) =>
      this.withGate(request, (token) =>
        Comments.create(request, {
          postExists: (urn) => this.posts.some((p) => p.id === urn),
          mayActAs: (actor) => this.mayActAs(token, actor),
          nextId: () => this.urn("x").slice("urn:li:x:".length),
          comments: this.comments
        })))
    server.route("GET", "/rest/posts", (request) => this.withGate(request, (token) => this.findPosts(request, token)))
    server.route("GET", "/rest/posts/:urn", (request) =>
      this.withGate(request, () => {
        const post = this.posts.find((p) => p.id === request.params.urn)
        return post === undefined ? error(404, "NOT_FOUND", `Post ${request.params.urn} does not exist`) : { status: 200, body: this.view(post) }
      }))
    server.route("DELETE", "/rest/posts/:urn", (request) =>
      this.withGate(request, (token) => {
        const index = this.posts.findIndex((p) => p.id === request.params.urn)
        if (index < 0) return error(404, "NOT_FOUND", `Post ${request.params.urn} does not exist`)
        const denied = this.mayActAs(token, this.posts[index]!.author)
        if (denied !== undefined) return denied
        this.posts.splice(index, 1)
        return { status: 204 }
      }))
    for (const kind of ["image", "document", "video"] as const) {
      server.route("POST", `/rest/${kind}s`, (request) => this.withGate(request, (token) => this.assetAction(kind, request, token)), {
        operation: (request) => `POST /rest/${kind}s?action=${request.query.get("action") ?? ""}`
      })
      server.route("GET", `/rest/${kind}s/:urn`, (request) =>
        this.withGate(request, () => {
          const asset = this.assets.get(request.params.urn!)
          if (asset === undefined || asset.kind !== kind) return error(404, "NOT_FOUND", `${request.params.urn} does not exist`)
          return { status: 200, body: { id: asset.urn, owner: asset.owner, status: Assets.poll(asset) } }
        }))
    }
    server.route("PUT", "/upload/:kind/:urn", (request) => this.uploadFile(request))
    server.route("PUT", "/upload/video/:urn/:part", (request) => this.uploadPart(request))
  }

  private async withGate(request: FakeRequest, handler: (token: Token) => Answer | Promise<Answer>): Promise<Answer> {
    const token = this.gate(request)
    return "status" in token ? token : handler(token)
  }

  private async assetAction(kind: "image" | "document" | "video", request: FakeRequest, token: Token): Promise<Answer> {
    const action = request.query.get("action")
    const body = (await request.json().catch(() => undefined)) as Record<string, any> | undefined
    if (action === "finalizeUpload" && kind === "video") return this.finalize(body?.finalizeUploadRequest)
    if (action !== "initializeUpload") return error(400, "ILLEGAL_ARGUMENT", `Unknown action ${action}`)
    const init = body?.initializeUploadRequest
    const owner = init?.owner
    if (typeof owner !== "string") return error(422, "UNPROCESSABLE_ENTITY", "initializeUploadRequest.owner is required")
    const denied = this.mayActAs(token, owner)
    if (denied !== undefined) return error(403, "ACCESS_DENIED", `Accessing this ${kind} resource is forbidden. Please check your permissions for this resource`)
    const urn = this.urn(kind)
    const pollsLeft = this.options.processingPolls ?? 1
    if (kind !== "video") {
      this.assets.set(urn, { urn, kind, owner, status: "WAITING_UPLOAD", pollsLeft, sizeBytes: 0 })
      return { status: 200, body: { value: { uploadUrlExpiresAt: this.server.now() + 86_400_000, uploadUrl: `${this.url}/upload/${kind}/${encodeURIComponent(urn)}`, [kind]: urn } } }
    }
    const size = init?.fileSizeBytes
    if (typeof size !== "number" || !Number.isSafeInteger(size) || size < Assets.limits.videoMinBytes || size > Assets.limits.videoMaxBytes) {
      return error(400, "ILLEGAL_ARGUMENT", `fileSizeBytes must be between ${Assets.limits.videoMinBytes} and ${Assets.limits.videoMaxBytes}`)
    }
    const parts = Assets.partsOf(size, this.options.videoPartBytes ?? 4 * 1024 * 1024)
    const uploadToken = randomBytes(6).toString("hex")
    this.assets.set(urn, { urn, kind, owner, status: "WAITING_UPLOAD", pollsLeft, sizeBytes: 0, fileSizeBytes: size, uploadToken, parts, etags: [] })
    return {
      status: 200,
      body: {
        value: {
          video: urn,
          uploadToken,
          uploadUrlsExpireAt: this.server.now() + 86_400_000,
          uploadInstructions: parts.map((part, index) => ({ ...part, uploadUrl: `${this.url}/upload/video/${encodeURIComponent(urn)}/${index}` }))
        }
      }
    }
  }

  private async uploadFile(request: FakeRequest): Promise<Answer> {
    const asset = this.assets.get(request.params.urn!)
    if (asset === undefined || asset.kind !== request.params.kind || asset.kind === "video") return error(404, "NOT_FOUND", "No such upload")
    if (asset.status !== "WAITING_UPLOAD") return error(400, "ILLEGAL_ARGUMENT", "This asset was already uploaded")
    await Assets.receiveFile(asset, request.stream)
    return { status: 201 }
  }

  private async uploadPart(request: FakeRequest): Promise<Answer> {
    const asset = this.assets.get(request.params.urn!)
    const index = Number(request.params.part)
    if (asset === undefined || asset.kind !== "video" || asset.parts?.[index] === undefined) return error(404, "NOT_FOUND", "No such upload part")
    if (asset.finalized === true) return error(400, "ILLEGAL_ARGUMENT", "The upload was already finalized")
    if (index !== asset.etags!.length) return error(400, "ILLEGAL_ARGUMENT", `Part ${index} arrived before part ${asset.etags!.length}`)
    const bytes = await request.body()
    const part = asset.parts[index]!
    const expected = part.lastByte - part.firstByte + 1
    if (bytes.byteLength !== expected) {
      return error(400, "ILLEGAL_ARGUMENT", `Part ${index} must be bytes ${part.firstByte}-${part.lastByte} (${expected} bytes), got ${bytes.byteLength}`)
    }
    if (index === 0) asset.head = bytes.subarray(0, 64 * 1024)
    asset.sizeBytes += bytes.byteLength
    const etag = Assets.etagOf(bytes)
    asset.etags!.push(etag)
    return { status: 200, headers: { etag: `"${etag}"` } }
  }

  private finalize(request: Record<string, any> | undefined): Answer {
    const asset = this.assets.get(String(request?.video))
    if (asset === undefined || asset.kind !== "video") return error(404, "NOT_FOUND", "No such video")
    if (asset.finalized === true) return error(400, "ILLEGAL_ARGUMENT", "The upload was already finalized")
    if (request?.uploadToken !== asset.uploadToken) return error(400, "ILLEGAL_ARGUMENT", "Invalid uploadToken")
    if (asset.etags!.length !== asset.parts!.length) {
      return error(400, "ILLEGAL_ARGUMENT", `Finalized after ${asset.etags!.length} of ${asset.parts!.length} parts`)
    }
    const ids = request?.uploadedPartIds
    if (!Array.isArray(ids) || ids.length !== asset.etags!.length || ids.some((id, i) => id !== asset.etags![i])) {
      return error(400, "ILLEGAL_ARGUMENT", "uploadedPartIds must be the parts' ETags, in order")
    }
    asset.finalized = true
    const sniffed = Assets.limits.videoTypes.some((type) => type === Assets.sniffType(asset.head))
    asset.status = sniffed ? "PROCESSING" : "PROCESSING_FAILED"
    asset.mimeType = Assets.sniffType(asset.head)
    return { status: 200 }
  }

  private createPost = async (request: FakeRequest, token: Token): Promise<Answer> => {
    const body = (await request.json().catch(() => undefined)) as Record<string, any> | undefined
    if (body === undefined || typeof body.author !== "string") return error(422, "UNPROCESSABLE_ENTITY", "/author is required")
    const denied = this.mayActAs(token, body.author)
    if (denied !== undefined) return denied
    if (!["PUBLIC", "CONNECTIONS", "LOGGED_IN", "CONTAINER"].includes(body.visibility)) return error(422, "UNPROCESSABLE_ENTITY", "/visibility is invalid")
    if (body.lifecycleState !== "PUBLISHED" || typeof body.distribution?.feedDistribution !== "string") {
      return error(422, "UNPROCESSABLE_ENTITY", "/lifecycleState and /distribution are required")
    }
    const commentary = typeof body.commentary === "string" ? body.commentary : ""
    const parsed = Little.parse(commentary)
    if (parsed.text.length > 3000) return error(422, "UNPROCESSABLE_ENTITY", `/commentary length ${parsed.text.length} exceeds the maximum of 3000`)
    const contentProblem = this.checkContent(body.content, body.author)
    if (contentProblem !== undefined) return contentProblem
    const duplicate = this.posts.find((p) => p.author === body.author && p.commentary === commentary && commentary !== "" && JSON.stringify(p.content) === JSON.stringify(body.content))
    if (duplicate !== undefined) return error(422, "DUPLICATE_POST", `Content is a duplicate of ${duplicate.id}`)
    const limited = this.countDaily(token)
    if (limited !== undefined) return limited
    const id = this.urn("share")
    this.posts.push({
      id,
      author: body.author,
      commentary,
      ...parsed,
      visibility: body.visibility,
      isReshareDisabledByAuthor: body.isReshareDisabledByAuthor === true,
      content: body.content,
      version: header(request, "linkedin-version")!,
      createdAt: this.server.now()
    })
    return { status: 201, headers: { "x-restli-id": id } }
  }

  private checkContent(content: Record<string, any> | undefined, author: string): Answer | undefined {
    if (content === undefined) return undefined
    const keys = Object.keys(content)
    if (keys.length !== 1) return error(422, "UNPROCESSABLE_ENTITY", "/content must hold exactly one of media, multiImage, article")
    const usable = (id: unknown, kinds: ReadonlyArray<string>): Answer | undefined => {
      const asset = typeof id === "string" ? this.assets.get(id) : undefined
      if (asset === undefined || !kinds.includes(asset.kind)) return error(422, "UNPROCESSABLE_ENTITY", `${String(id)} is not a usable ${kinds.join(" or ")}`)
      if (asset.owner !== author) return error(422, "UNPROCESSABLE_ENTITY", `${asset.urn} is owned by ${asset.owner}, not the author ${author}`)
      if (asset.status !== "AVAILABLE") return error(422, "UNPROCESSABLE_ENTITY", `${asset.urn} is ${asset.status}, not AVAILABLE`)
      return undefined
    }
    if (content.media !== undefined) return usable(content.media.id, ["image", "video", "document"])
    if (content.multiImage !== undefined) {
      const images = content.multiImage.images
      if (!Array.isArray(images) || images.length < 2 || images.length > 20) return error(422, "UNPROCESSABLE_ENTITY", "/content/multiImage/images must hold 2 to 20 images")
      for (const image of images) {
        const problem = usable(image?.id, ["image"])
        if (problem !== undefined) return problem
        if (typeof image?.altText === "string" && image.altText.length > 4086) return error(422, "UNPROCESSABLE_ENTITY", "altText is longer than 4086 characters")
      }
      return undefined
    }
    if (content.article !== undefined) {
      const { source, thumbnail, title } = content.article
      if (typeof source !== "string" || !URL.canParse(source) || typeof title !== "string" || title.length === 0) {
        return error(422, "UNPROCESSABLE_ENTITY", "/content/article needs a source URL and a title")
      }
      return thumbnail === undefined ? undefined : usable(thumbnail, ["image"])
    }
    return error(422, "UNPROCESSABLE_ENTITY", `/content/${keys[0]} is not supported here`)
  }

  private findPosts(request: FakeRequest, token: Token): Answer {
    if (request.query.get("q") !== "author") return error(400, "ILLEGAL_ARGUMENT", "Only the author finder is supported")
    const author = request.query.get("author") ?? ""
    const denied = this.mayActAs(token, author)
    if (denied !== undefined) return denied
    const count = Math.min(100, Number(request.query.get("count") ?? "10") || 10)
    const elements = this.posts.filter((p) => p.author === author).sort((a, b) => b.createdAt - a.createdAt).slice(0, count).map((p) => this.view(p))
    return { status: 200, body: { elements, paging: { start: 0, count, links: [] } } }
  }

  private view(post: FakePost) {
    return {
      id: post.id,
      author: post.author,
      commentary: post.commentary,
      visibility: post.visibility,
      lifecycleState: "PUBLISHED",
      isReshareDisabledByAuthor: post.isReshareDisabledByAuthor,
      createdAt: post.createdAt,
      publishedAt: post.createdAt,
      ...(post.content !== undefined ? { content: post.content } : {})
    }
  }
}
