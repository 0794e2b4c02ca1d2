/**
 * A small fake of the Mastodon API on 127.0.0.1 (an ephemeral port), for
 * driving the publisher and servers running the plugin over real HTTP:
 * bearer tokens, `POST /api/v1/statuses` with the 500-character limit and
 * Mastodon's error bodies, `Idempotency-Key`, replies, delete,
 * verify_credentials, `X-RateLimit-*` headers, faults injected for the next
 * calls, and the OAuth endpoints: `POST /api/v1/apps` (register an app),
 * `GET /oauth/authorize` (the signed-in user approves at once and is
 * redirected back with a code, as after clicking "Authorize"), `POST
 * /oauth/token` (authorization_code with PKCE S256; codes work once and
 * within 10 minutes, as Doorkeeper's do).
 */
import { createHash, randomBytes } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { Context, Effect, Layer } from "effect"

export interface FakeStatus {
  readonly id: string
  readonly accountId: string
  readonly text: string
  readonly visibility: string
  readonly spoilerText: string
  readonly sensitive: boolean
  readonly language: string | null
  readonly inReplyToId: string | null
  readonly idempotencyKey: string | undefined
  /** When the fake created it (ISO 8601), as Mastodon's `created_at`. */
  readonly createdAt: string
}

export type Fault =
  /** No fault for this call: lets a fault meet a later call (a later part of a thread). */
  | { readonly _tag: "None" }
  | { readonly _tag: "RateLimited"; readonly resetInSeconds: number }
  | { readonly _tag: "ServerError"; readonly status: number }
  /** Reads the request, then closes the socket without answering; with `apply` the status is created first. */
  | { readonly _tag: "DropConnection"; readonly apply: boolean }

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

/** An app registered with `POST /api/v1/apps`. */
export interface FakeApp {
  readonly clientId: string
  readonly clientSecret: string
  readonly redirectUris: ReadonlyArray<string>
  readonly scopes: ReadonlyArray<string>
}

interface Grant {
  readonly app: FakeApp
  readonly user: string
  readonly redirectUri: string
  readonly scopes: ReadonlyArray<string>
  readonly codeChallenge: string | undefined
  readonly expiresAtMs: number
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })
/** Mastodon's StatusLengthValidator: URLs 23, graphemes otherwise (remote mentions are not needed here). */
const length = (text: string) => [...segmenter.segment(text.replace(/https?:\/\/\S+/g, "x".repeat(23)))].length

export class FakeMastodonServer {
  readonly statuses: Array<FakeStatus> = []
  readonly requests: Array<{ readonly method: string; readonly path: string }> = []
  private faults: Array<Fault> = []
  private nextId = 1000
  private readonly idempotent = new Map<string, FakeStatus>()
  private readonly tokens = new Map<string, FakeAccount>([["token-alice", users.alice!], ["token-bob", users.bob!]])
  readonly apps: Array<FakeApp> = []
  private readonly grants = new Map<string, Grant>()
  /** Who is signed in on the instance's web UI: `/oauth/authorize` approves as them. */
  signedIn: string | undefined = "alice"

  private constructor(private readonly server: ReturnType<typeof createServer>, readonly url: string) {}

  static async start(): Promise<FakeMastodonServer> {
    let fake: FakeMastodonServer | undefined
    const server = createServer((request, response) => void fake!.handle(request, response))
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    fake = new FakeMastodonServer(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    return fake
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }

  /** Faults for the next status creations, in order. */
  inject(...faults: ReadonlyArray<Fault>) {
    this.faults.push(...faults)
  }

  credentials(token = "token-alice") {
    return { instanceUrl: this.url, accessToken: token }
  }

  private async handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Array<Buffer> = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const path = new URL(request.url ?? "/", this.url).pathname
    this.requests.push({ method: request.method ?? "", path })
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, {
        "content-type": "application/json; charset=utf-8",
        "x-ratelimit-limit": "300",
        "x-ratelimit-remaining": "299",
        "x-ratelimit-reset": new Date(Date.now() + 3 * 3600_000).toISOString(),
        ...headers
      })
      response.end(JSON.stringify(body))
    }

    const url = new URL(request.url ?? "/", this.url)
    const body = Buffer.concat(chunks).toString("utf8")
    if (request.method === "POST" && path === "/api/v1/apps") return this.registerApp(form(request, body), send)
    if (request.method === "GET" && path === "/oauth/authorize") return this.authorize(url.searchParams, response, send)
    if (request.method === "POST" && path === "/oauth/token") return this.token(form(request, body), send)

    const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1]
    if (token !== undefined && revoked.has(token)) return send(401, { error: "The access token was revoked" })
    const account = token === undefined ? undefined : this.tokens.get(token)
    if (account === undefined) return send(401, { error: "The access token is invalid" })

    if (request.method === "GET" && path === "/api/v1/accounts/verify_credentials") return send(200, account)

    const deleting = /^\/api\/v1\/statuses\/([^/]+)$/.exec(path)
    if (request.method === "DELETE" && deleting !== null) {
      const index = this.statuses.findIndex((s) => s.id === deleting[1] && s.accountId === account.id)
      if (index < 0) return send(404, { error: "Record not found" })
      const [removed] = this.statuses.splice(index, 1)
      return send(200, { id: removed!.id, text: removed!.text })
    }

    if (request.method === "POST" && path === "/api/v1/statuses") {
      const fault = this.faults.shift()
      if (fault?._tag === "RateLimited") {
        return send(429, { error: "Too many requests" }, {
          "x-ratelimit-remaining": "0",
          "x-ratelimit-reset": new Date(Date.now() + fault.resetInSeconds * 1000).toISOString()
        })
      }
      if (fault?._tag === "ServerError") return send(fault.status, { error: "Something went wrong on our end" })
      if (fault?._tag === "DropConnection" && !fault.apply) return request.socket.destroy()
      let fields: Record<string, unknown>
      try {
        fields = JSON.parse(body)
      } catch {
        return send(400, { error: "Invalid JSON" })
      }
      const key = request.headers["idempotency-key"] as string | undefined
      const answer = (status: FakeStatus) =>
        send(200, {
          id: status.id,
          uri: `${this.url}/users/${account.username}/statuses/${status.id}`,
          url: `${this.url}/@${account.username}/${status.id}`,
          created_at: status.createdAt,
          in_reply_to_id: status.inReplyToId,
          visibility: status.visibility
        })
      const repeat = key === undefined ? undefined : this.idempotent.get(`${token}:${key}`)
      if (repeat !== undefined) return answer(repeat)

      const text = typeof fields.status === "string" ? fields.status : ""
      const spoilerText = typeof fields.spoiler_text === "string" ? fields.spoiler_text : ""
      if (text.trim() === "") return send(422, { error: "Validation failed: Text can't be blank" })
      if (length(text) + length(spoilerText) > 500) {
        return send(422, { error: "Validation failed: Text character limit of 500 exceeded" })
      }
      const visibility = fields.visibility ?? "public"
      if (typeof visibility !== "string" || !["public", "unlisted", "private", "direct"].includes(visibility)) {
        return send(422, { error: "Validation failed: Visibility is not included in the list" })
      }
      const inReplyToId = typeof fields.in_reply_to_id === "string" ? fields.in_reply_to_id : null
      if (inReplyToId !== null && !this.statuses.some((s) => s.id === inReplyToId)) {
        return send(404, { error: "Record not found" })
      }
      const status: FakeStatus = {
        id: String(this.nextId++),
        accountId: account.id,
        text,
        visibility,
        spoilerText,
        sensitive: fields.sensitive === true,
        language: typeof fields.language === "string" ? fields.language : null,
        inReplyToId,
        idempotencyKey: key,
        createdAt: new Date().toISOString()
      }
      this.statuses.push(status)
      if (key !== undefined) this.idempotent.set(`${token}:${key}`, status)
      if (fault?._tag === "DropConnection") return request.socket.destroy()
      return answer(status)
    }
    return send(404, { error: "Not found" })
  }

  /** `POST /api/v1/apps`: `client_name`, `redirect_uris` (one per line, or an array), `scopes` (space-separated). */
  private registerApp(fields: Record<string, unknown>, send: Send) {
    const redirectUris = (Array.isArray(fields.redirect_uris) ? fields.redirect_uris : String(fields.redirect_uris ?? "").split(/\s+/))
      .map(String).filter((uri) => uri.length > 0)
    if (typeof fields.client_name !== "string" || fields.client_name === "") {
      return send(422, { error: "Validation failed: Application name can't be blank" })
    }
    if (redirectUris.length === 0 || redirectUris.some((uri) => !/^(https?:\/\/|urn:ietf:wg:oauth:2\.0:oob$)/.test(uri))) {
      return send(422, { error: "Validation failed: Redirect URI must be an absolute URI." })
    }
    const app: FakeApp = {
      clientId: randomBytes(16).toString("base64url"),
      clientSecret: randomBytes(24).toString("base64url"),
      redirectUris,
      scopes: String(fields.scopes ?? "read").split(/\s+/).filter((scope) => scope.length > 0)
    }
    this.apps.push(app)
    return send(200, {
      id: String(this.apps.length),
      name: fields.client_name,
      redirect_uris: redirectUris,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scopes: app.scopes
    })
  }

  /** `GET /oauth/authorize`: checks the request, then the signed-in user approves and goes back to the app. */
  private authorize(query: URLSearchParams, response: ServerResponse, send: Send) {
    const app = this.apps.find((candidate) => candidate.clientId === query.get("client_id"))
    const redirectUri = query.get("redirect_uri") ?? ""
    // Errors about the client or the redirect URI are shown to the user, never sent to an unverified redirect.
    if (app === undefined) return send(401, { error: "invalid_client", error_description: "Client authentication failed" })
    if (!app.redirectUris.includes(redirectUri)) {
      return send(400, { error: "invalid_redirect_uri", error_description: "The redirect uri included is not valid." })
    }
    const back = (params: Record<string, string>) => {
      const location = new URL(redirectUri)
      for (const [name, value] of Object.entries(params)) location.searchParams.set(name, value)
      const state = query.get("state")
      if (state !== null) location.searchParams.set("state", state)
      response.writeHead(302, { location: location.toString() })
      response.end()
    }
    const scopes = (query.get("scope") ?? "read").split(/\s+/).filter((scope) => scope.length > 0)
    if (query.get("response_type") !== "code") return back({ error: "unsupported_response_type" })
    if (scopes.some((scope) => !app.scopes.includes(scope) && !app.scopes.includes(scope.split(":")[0]!))) {
      return back({ error: "invalid_scope", error_description: "The requested scope is invalid, unknown, or malformed." })
    }
    const challenge = query.get("code_challenge") ?? undefined
    if (challenge !== undefined && query.get("code_challenge_method") !== "S256") {
      return back({ error: "invalid_request", error_description: "code_challenge_method must be S256" })
    }
    if (this.signedIn === undefined) return back({ error: "access_denied", error_description: "The resource owner denied the request." })
    const code = randomBytes(24).toString("base64url")
    this.grants.set(code, { app, user: this.signedIn, redirectUri, scopes, codeChallenge: challenge, expiresAtMs: Date.now() + 600_000 })
    return back({ code })
  }

  /** `POST /oauth/token` with `grant_type=authorization_code`. */
  private token(fields: Record<string, unknown>, send: Send) {
    const app = this.apps.find((candidate) => candidate.clientId === fields.client_id && candidate.clientSecret === fields.client_secret)
    if (app === undefined) return send(401, { error: "invalid_client", error_description: "Client authentication failed" })
    if (fields.grant_type !== "authorization_code") return send(400, { error: "unsupported_grant_type" })
    const grant = this.grants.get(String(fields.code ?? ""))
    this.grants.delete(String(fields.code ?? ""))
    const invalidGrant = () =>
      send(400, {
        error: "invalid_grant",
        error_description:
          "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
      })
    if (grant === undefined || grant.app !== app || grant.expiresAtMs < Date.now() || grant.redirectUri !== fields.redirect_uri) {
      return invalidGrant()
    }
    if (grant.codeChallenge !== undefined) {
      const verifier = String(fields.code_verifier ?? "")
      if (createHash("sha256").update(verifier).digest("base64url") !== grant.codeChallenge) return invalidGrant()
    }
    const accessToken = randomBytes(32).toString("base64url")
    this.tokens.set(accessToken, users[grant.user]!)
    return send(200, { access_token: accessToken, token_type: "Bearer", scope: grant.scopes.join(" "), created_at: Math.floor(Date.now() / 1000) })
  }
}

type Send = (status: number, body: unknown, headers?: Record<string, string>) => void

/** A request's fields: a form (as OAuth clients send) or JSON. */
const form = (request: IncomingMessage, body: string): Record<string, unknown> => {
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

/** The fake as a scoped service for `layer(...)` suites. */
export class FakeMastodon extends Context.Service<FakeMastodon, FakeMastodonServer>()("test/FakeMastodon") {
  static readonly layer = Layer.effect(
    FakeMastodon,
    Effect.acquireRelease(Effect.promise(() => FakeMastodonServer.start()), (fake) => Effect.promise(() => fake.close()))
  )
}
