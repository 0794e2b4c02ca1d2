/**
 * A small fake of the Mastodon API on the platform kit's `FakeServer`
 * (127.0.0.1, an ephemeral port, the request log and the one fault
 * vocabulary), for driving the publisher and servers running the plugin
 * over real HTTP: bearer tokens, `POST /api/v1/statuses` with the
 * 500-character limit and Mastodon's error bodies, `Idempotency-Key`,
 * replies, media attachments, delete, verify_credentials, `X-RateLimit-*`
 * headers, and the OAuth endpoints (see `internal/OAuth.ts`).
 *
 * `POST /api/v2/media` judges an upload by its bytes (the kit's
 * `FakeMedia`), never by the declared Content-Type, as Mastodon does
 * (Paperclip's content-type detection): images up to 16 MiB
 * (`MediaAttachment::IMAGE_LIMIT`), descriptions up to 1,500 characters;
 * a status takes up to 4 attachments of its own account, each once.
 *
 * @example
 * const fake = await FakeMastodonServer.start()
 * fake.inject("POST /api/v1/statuses", Faults.dropAfterApply()) // posted, the answer lost
 * // … makeMastodonPublisher() with fake.credentials() …
 * await fake.close()
 */
import { type Answer, type Fault, FakeMedia, type FakeRequest, FakeServer, type LoggedRequest } from "@omnipost/platform-kit/testing"
import { Context, Effect, Layer } from "effect"
import { createHash, randomBytes } from "node:crypto"
import { OAuth } from "./internal/OAuth.js"

export { Faults, gate } from "@omnipost/platform-kit/testing"
export type { FakeApp } from "./internal/OAuth.js"

export interface FakeStatus {
  readonly id: string
  readonly accountId: string
  readonly text: string
  readonly visibility: string
  readonly spoilerText: string
  readonly sensitive: boolean
  readonly language: string | null
  readonly inReplyToId: string | null
  readonly mediaIds: ReadonlyArray<string>
  readonly idempotencyKey: string | undefined
  /** When the fake created it (ISO 8601), as Mastodon's `created_at`. */
  readonly createdAt: string
}

/** An uploaded attachment. */
export interface FakeMedia {
  readonly id: string
  readonly accountId: string
  /** The type its bytes are (what Mastodon stores), whatever was declared. */
  readonly mimeType: string
  readonly declaredType: string
  readonly size: number
  readonly sha256: string
  readonly description: string | null
  statusId: string | null
}

/** The operations faults are injected into (`METHOD path`). */
export type FakeMastodonOperation =
  | "POST /api/v1/statuses"
  | "DELETE /api/v1/statuses/:id"
  | "POST /api/v2/media"
  | "GET /api/v1/accounts/verify_credentials"
  | "POST /api/v1/apps"
  | "GET /oauth/authorize"
  | "POST /oauth/token"

interface FakeAccount {
  readonly id: string
  readonly username: string
  readonly acct: string
  readonly display_name: string
  readonly avatar: string
}
const users: Record<string, FakeAccount> = {
  alice: { id: "109", username: "alice", acct: "alice", display_name: "Alice", avatar: "https://files.example/alice.png" },
  bob: { id: "110", username: "bob", acct: "bob", display_name: "Bob", avatar: "https://files.example/bob.png" }
}
const revoked = new Set(["token-revoked"])

/** `MediaAttachment::IMAGE_LIMIT` (16.megabytes) and `IMAGE_MIME_TYPES` (without HEIC/AVIF, which `Sniff` does not tell). */
const imageLimit = 16 * 1024 * 1024
const imageTypes = ["image/jpeg", "image/png", "image/gif", "image/webp"]
/** `MediaAttachment::MAX_DESCRIPTION_LENGTH`. */
const maxDescription = 1_500
/** `configuration.statuses.max_media_attachments`. */
const maxAttachments = 4

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })
/** Mastodon's StatusLengthValidator: URLs 23, graphemes otherwise (remote mentions are not needed here). */
const length = (text: string) => [...segmenter.segment(text.replace(/https?:\/\/\S+/g, "x".repeat(23)))].length

const json = (status: number, body: unknown): Answer => ({ status, body })
const invalid = (message: string) => json(422, { error: `Validation failed: ${message}` })

/** Mastodon's `X-RateLimit-*` headers (the reset as an ISO 8601 date). */
const rateLimitHeaders = (limit: number, remaining: number, resetAtMs: number): Record<string, string> => ({
  "x-ratelimit-limit": String(limit),
  "x-ratelimit-remaining": String(remaining),
  "x-ratelimit-reset": new Date(resetAtMs).toISOString()
})

/** A request's fields: a form (as OAuth clients send) or JSON. */
const fieldsOf = async (request: FakeRequest): Promise<Record<string, unknown>> => {
  const body = await request.text()
  if ((request.headers["content-type"] ?? "").includes("json")) {
    try {
      const parsed: unknown = JSON.parse(body)
      return typeof parsed === "object" && parsed !== null ? parsed as Record<string, unknown> : {}
    } catch {
      return {}
    }
  }
  return Object.fromEntries(new URLSearchParams(body))
}

export class FakeMastodonServer {
  static async start(): Promise<FakeMastodonServer> {
    const server = await FakeServer.start({
      errorAnswer: (status) =>
        json(status, { error: status === 404 ? "Not found" : status === 429 ? "Too many requests" : "Something went wrong on our end" }),
      rateLimitHeaders: (state) => rateLimitHeaders(state.limit, state.remaining, state.resetAtMs),
      headers: () => rateLimitHeaders(300, 299, Date.now() + 3 * 3600_000)
    })
    return new FakeMastodonServer(server)
  }

  readonly statuses: Array<FakeStatus> = []
  readonly media: Array<FakeMedia> = []
  /** Who is signed in on the instance's web UI: `/oauth/authorize` approves as them. */
  signedIn: string | undefined = "alice"
  private nextId = 1000
  private readonly idempotent = new Map<string, FakeStatus>()
  private readonly tokens = new Map<string, FakeAccount>([["token-alice", users.alice!], ["token-bob", users.bob!]])
  private readonly oauth = new OAuth((user) => {
    const accessToken = randomBytes(32).toString("base64url")
    this.tokens.set(accessToken, users[user]!)
    return accessToken
  })

  private constructor(
    /** The kit's server underneath: its request log, faults and lifecycle. */
    readonly server: FakeServer
  ) {
    server
      .route("POST", "/api/v1/apps", async (request) => this.oauth.registerApp(await fieldsOf(request)))
      .route("GET", "/oauth/authorize", (request) => this.oauth.authorize(request.query, this.signedIn, Date.now()))
      .route("POST", "/oauth/token", async (request) => this.oauth.token(await fieldsOf(request), Date.now()))
      .route("GET", "/api/v1/accounts/verify_credentials", (request) => this.authenticated(request, (account) => json(200, account)))
      .route("DELETE", "/api/v1/statuses/:id", (request) => this.authenticated(request, (account) => this.deleteStatus(account, request.params.id!)))
      .route("POST", "/api/v1/statuses", (request) => this.authenticated(request, (account, token) => this.createStatus(account, token, request)))
      .route("POST", "/api/v2/media", (request) => this.authenticated(request, (account) => this.upload(account, request)))
  }

  get url(): string {
    return this.server.url
  }

  /** Every request, in arrival order (the kit's log). */
  get requests(): Array<LoggedRequest> {
    return this.server.requests
  }

  get apps() {
    return this.oauth.apps
  }

  close(): Promise<void> {
    return this.server.close()
  }

  /** The next `times` requests of `operation` (after letting `after` through) meet `fault`, from the kit's vocabulary. */
  inject(operation: FakeMastodonOperation | "*", fault: Fault, options?: { readonly times?: number; readonly after?: number }): void {
    this.server.inject(operation, fault, options)
  }

  clearFaults(): void {
    this.server.clearFaults()
  }

  credentials(token = "token-alice") {
    return { instanceUrl: this.url, accessToken: token }
  }

  private authenticated(request: FakeRequest, answer: (account: FakeAccount, token: string) => Answer | Promise<Answer>) {
    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1]
    if (token !== undefined && revoked.has(token)) return json(401, { error: "The access token was revoked" })
    const account = token === undefined ? undefined : this.tokens.get(token)
    if (account === undefined || token === undefined) return json(401, { error: "The access token is invalid" })
    return answer(account, token)
  }

  private deleteStatus(account: FakeAccount, id: string): Answer {
    const index = this.statuses.findIndex((s) => s.id === id && s.accountId === account.id)
    if (index < 0) return json(404, { error: "Record not found" })
    const [removed] = this.statuses.splice(index, 1)
    return json(200, { id: removed!.id, text: removed!.text })
  }

  /** `POST /api/v2/media` (multipart `file`, `description`): judged by the bytes; images are processed at once (200). */
  private async upload(account: FakeAccount, request: FakeRequest): Promise<Answer> {
    const contentType = request.headers["content-type"] ?? ""
    if (!contentType.startsWith("multipart/form-data")) return invalid("File can't be blank")
    const form = await new Response(new Uint8Array(await request.body()), { headers: { "content-type": contentType } }).formData()
      .catch(() => undefined)
    const file = form?.get("file")
    if (form === undefined || file === null || file === undefined || typeof file === "string") return invalid("File can't be blank")
    const bytes = new Uint8Array(await file.arrayBuffer())
    const verdict = FakeMedia.check(bytes, { accept: imageTypes, maxBytes: imageLimit })
    if (verdict._tag === "Refused") {
      return invalid(verdict.reason === "size" ? "File file size must be less than 16 MB" : "File content type is invalid, File is invalid")
    }
    const description = form.get("description")
    if (typeof description === "string" && [...description].length > maxDescription) {
      return invalid(`Description is too long (maximum is ${maxDescription} characters)`)
    }
    const media: FakeMedia = {
      id: String(this.nextId++),
      accountId: account.id,
      mimeType: verdict.mimeType,
      declaredType: file.type,
      size: bytes.byteLength,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      description: typeof description === "string" ? description : null,
      statusId: null
    }
    this.media.push(media)
    return json(200, {
      id: media.id,
      type: "image",
      url: `${this.url}/system/media_attachments/${media.id}/original`,
      preview_url: `${this.url}/system/media_attachments/${media.id}/small`,
      description: media.description
    })
  }

  private async createStatus(account: FakeAccount, token: string, request: FakeRequest): Promise<Answer> {
    let fields: Record<string, unknown>
    try {
      fields = (await request.json() ?? {}) as Record<string, unknown>
    } catch {
      return json(400, { error: "Invalid JSON" })
    }
    const key = request.headers["idempotency-key"] as string | undefined
    const answer = (status: FakeStatus) =>
      json(200, {
        id: status.id,
        uri: `${this.url}/users/${account.username}/statuses/${status.id}`,
        url: `${this.url}/@${account.username}/${status.id}`,
        created_at: status.createdAt,
        in_reply_to_id: status.inReplyToId,
        visibility: status.visibility,
        media_attachments: status.mediaIds.map((id) => ({ id, type: "image" }))
      })
    const repeat = key === undefined ? undefined : this.idempotent.get(`${token}:${key}`)
    if (repeat !== undefined) return answer(repeat)

    const text = typeof fields.status === "string" ? fields.status : ""
    const spoilerText = typeof fields.spoiler_text === "string" ? fields.spoiler_text : ""
    const mediaIds = Array.isArray(fields.media_ids) ? fields.media_ids.map(String) : []
    if (mediaIds.length > maxAttachments) return invalid(`Cannot attach more than ${maxAttachments} files`)
    const attachments = mediaIds.map((id) => this.media.find((m) => m.id === id && m.accountId === account.id && m.statusId === null))
    if (attachments.some((m) => m === undefined) || new Set(mediaIds).size !== mediaIds.length) {
      return invalid(`Media ${mediaIds.join(", ")} not found or already attached to another post`)
    }
    if (text.trim() === "" && mediaIds.length === 0) return invalid("Text can't be blank")
    if (length(text) + length(spoilerText) > 500) return invalid("Text character limit of 500 exceeded")
    const visibility = fields.visibility ?? "public"
    if (typeof visibility !== "string" || !["public", "unlisted", "private", "direct"].includes(visibility)) {
      return invalid("Visibility is not included in the list")
    }
    const inReplyToId = typeof fields.in_reply_to_id === "string" ? fields.in_reply_to_id : null
    if (inReplyToId !== null && !this.statuses.some((s) => s.id === inReplyToId)) return json(404, { error: "Record not found" })
    const status: FakeStatus = {
      id: String(this.nextId++),
      accountId: account.id,
      text,
      visibility,
      spoilerText,
      sensitive: fields.sensitive === true,
      language: typeof fields.language === "string" ? fields.language : null,
      inReplyToId,
      mediaIds,
      idempotencyKey: key,
      createdAt: new Date().toISOString()
    }
    for (const media of attachments) media!.statusId = status.id
    this.statuses.push(status)
    if (key !== undefined) this.idempotent.set(`${token}:${key}`, status)
    return answer(status)
  }
}

/** The fake as a scoped service for `layer(...)` suites. */
export class FakeMastodon extends Context.Service<FakeMastodon, FakeMastodonServer>()("test/FakeMastodon") {
  static readonly layer = Layer.effect(
    FakeMastodon,
    Effect.acquireRelease(Effect.promise(() => FakeMastodonServer.start()), (fake) => Effect.promise(() => fake.close()))
  )
}
