/**
 * The fake Mastodon's OAuth endpoints, as Doorkeeper answers them:
 * `POST /api/v1/apps` (register an app), `GET /oauth/authorize` (the
 * signed-in user approves at once and is redirected back with a code, as
 * after clicking "Authorize"), `POST /oauth/token` (authorization_code with
 * PKCE S256; codes work once and within 10 minutes).
 */
import type { Answer } from "@omnipost/platform-kit/testing"
import { createHash, randomBytes } from "node:crypto"

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

const json = (status: number, body: unknown): Answer => ({ status, body })

export class OAuth {
  readonly apps: Array<FakeApp> = []
  private readonly grants = new Map<string, Grant>()

  constructor(
    /** Issues an access token for a user (the fake's token table). */
    private readonly issue: (user: string) => string
  ) {}

  /** `POST /api/v1/apps`: `client_name`, `redirect_uris` (one per line, or an array), `scopes` (space-separated). */
  registerApp(fields: Record<string, unknown>): Answer {
    const redirectUris = (Array.isArray(fields.redirect_uris) ? fields.redirect_uris : String(fields.redirect_uris ?? "").split(/\s+/))
      .map(String).filter((uri) => uri.length > 0)
    if (typeof fields.client_name !== "string" || fields.client_name === "") {
      return json(422, { error: "Validation failed: Application name can't be blank" })
    }
    if (redirectUris.length === 0 || redirectUris.some((uri) => !/^(https?:\/\/|urn:ietf:wg:oauth:2\.0:oob$)/.test(uri))) {
      return json(422, { error: "Validation failed: Redirect URI must be an absolute URI." })
    }
    const app: FakeApp = {
      clientId: randomBytes(16).toString("base64url"),
      clientSecret: randomBytes(24).toString("base64url"),
      redirectUris,
      scopes: String(fields.scopes ?? "read").split(/\s+/).filter((scope) => scope.length > 0)
    }
    this.apps.push(app)
    return json(200, {
      id: String(this.apps.length),
      name: fields.client_name,
      redirect_uris: redirectUris,
      client_id: app.clientId,
      client_secret: app.clientSecret,
      scopes: app.scopes
    })
  }

  /** `GET /oauth/authorize`: checks the request, then `signedIn` approves and goes back to the app. */
  authorize(query: URLSearchParams, signedIn: string | undefined, nowMs: number): Answer {
    const app = this.apps.find((candidate) => candidate.clientId === query.get("client_id"))
    const redirectUri = query.get("redirect_uri") ?? ""
    // Errors about the client or the redirect URI are shown to the user, never sent to an unverified redirect.
    if (app === undefined) return json(401, { error: "invalid_client", error_description: "Client authentication failed" })
    if (!app.redirectUris.includes(redirectUri)) {
      return json(400, { error: "invalid_redirect_uri", error_description: "The redirect uri included is not valid." })
    }
    const back = (params: Record<string, string>): Answer => {
      const location = new URL(redirectUri)
      for (const [name, value] of Object.entries(params)) location.searchParams.set(name, value)
      const state = query.get("state")
      if (state !== null) location.searchParams.set("state", state)
      return { status: 302, headers: { location: location.toString() } }
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
    if (signedIn === undefined) return back({ error: "access_denied", error_description: "The resource owner denied the request." })
    const code = randomBytes(24).toString("base64url")
    this.grants.set(code, { app, user: signedIn, redirectUri, scopes, codeChallenge: challenge, expiresAtMs: nowMs + 600_000 })
    return back({ code })
  }

  /** `POST /oauth/token` with `grant_type=authorization_code`. */
  token(fields: Record<string, unknown>, nowMs: number): Answer {
    const app = this.apps.find((candidate) => candidate.clientId === fields.client_id && candidate.clientSecret === fields.client_secret)
    if (app === undefined) return json(401, { error: "invalid_client", error_description: "Client authentication failed" })
    if (fields.grant_type !== "authorization_code") return json(400, { error: "unsupported_grant_type" })
    const grant = this.grants.get(String(fields.code ?? ""))
    this.grants.delete(String(fields.code ?? ""))
    const invalidGrant = json(400, {
      error: "invalid_grant",
      error_description:
        "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
    })
    if (grant === undefined || grant.app !== app || grant.expiresAtMs < nowMs || grant.redirectUri !== fields.redirect_uri) {
      return invalidGrant
    }
    if (grant.codeChallenge !== undefined) {
      const verifier = String(fields.code_verifier ?? "")
      if (createHash("sha256").update(verifier).digest("base64url") !== grant.codeChallenge) return invalidGrant
    }
    return json(200, {
      access_token: this.issue(grant.user),
      token_type: "Bearer",
      scope: grant.scopes.join(" "),
      created_at: Math.floor(nowMs / 1000)
    })
  }
}
