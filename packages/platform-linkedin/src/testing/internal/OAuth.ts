/**
 * The fake's OAuth 2.0 endpoints, as LinkedIn's 3-legged flow has them:
 * `GET /oauth/v2/authorization` consents at once as the chosen member and
 * redirects with a code; `POST /oauth/v2/accessToken` exchanges it (each code
 * once, for the same redirect URI) or a refresh token (when the app has
 * refresh tokens), authenticating the app by its id and secret in the form.
 */
import type { Answer, FakeRequest } from "@omnipost/platform-kit/testing"
import { randomBytes } from "node:crypto"

interface Member {
  readonly personUrn: string
}

/** What the endpoints read of the fake, and how they issue a token. */
export interface OAuthHost<A extends Member> {
  readonly clientId: string
  readonly clientSecret: string
  readonly consentAs: A | undefined
  readonly grantScopes: ReadonlyArray<string> | undefined
  readonly issueToken: (account: A, scopes: ReadonlyArray<string>, lifetimeSeconds: number) => string
}

export interface OAuthOptions {
  readonly tokenLifetimeSeconds?: number | undefined
  readonly refreshTokens?: boolean | undefined
}

export class LinkedinOAuth<A extends Member> {
  private readonly codes = new Map<string, { account: A; scopes: ReadonlyArray<string>; redirectUri: string }>()
  private readonly refreshTokens = new Map<string, { account: A; scopes: ReadonlyArray<string> }>()
  private readonly fake: OAuthHost<A>
  private readonly options: OAuthOptions

  constructor(fake: OAuthHost<A>, options: OAuthOptions) {
    this.fake = fake
    this.options = options
  }

  authorize(request: FakeRequest): Answer {
    const redirectUri = request.query.get("redirect_uri")
    if (request.query.get("client_id") !== this.fake.clientId || redirectUri === null) {
      return { status: 400, body: "invalid client_id or redirect_uri" }
    }
    const account = this.fake.consentAs
    if (account === undefined) return { status: 400, body: "no member to consent (addAccount first)" }
    const asked = (request.query.get("scope") ?? "").split(/[\s,]+/).filter((s) => s.length > 0)
    const code = `code-${randomBytes(8).toString("hex")}`
    this.codes.set(code, { account, scopes: this.fake.grantScopes ?? asked, redirectUri })
    const location = new URL(redirectUri)
    location.searchParams.set("code", code)
    location.searchParams.set("state", request.query.get("state") ?? "")
    return { status: 302, headers: { location: location.toString() } }
  }

  async accessToken(request: FakeRequest): Promise<Answer> {
    const form = new URLSearchParams(await request.text())
    const oauthError = (description: string) => ({ status: 400, body: { error: "invalid_request", error_description: description } })
    if (form.get("client_id") !== this.fake.clientId || form.get("client_secret") !== this.fake.clientSecret) {
      return { status: 401, body: { error: "invalid_client", error_description: "Client authentication failed" } }
    }
    let grant: { account: A; scopes: ReadonlyArray<string> } | undefined
    if (form.get("grant_type") === "authorization_code") {
      const code = this.codes.get(form.get("code") ?? "")
      if (code === undefined || code.redirectUri !== form.get("redirect_uri")) {
        return oauthError("Unable to retrieve access token: authorization code not found")
      }
      this.codes.delete(form.get("code")!)
      grant = code
    } else if (form.get("grant_type") === "refresh_token") {
      grant = this.refreshTokens.get(form.get("refresh_token") ?? "")
      if (grant === undefined) return oauthError("The provided refresh token is invalid")
    } else {
      return oauthError("A required parameter \"grant_type\" is missing")
    }
    const lifetime = this.options.tokenLifetimeSeconds ?? 5_184_000
    const accessToken = this.fake.issueToken(grant.account, grant.scopes, lifetime)
    const body: Record<string, unknown> = { access_token: accessToken, expires_in: lifetime, scope: grant.scopes.join(",") }
    if (this.options.refreshTokens === true) {
      const refreshToken = `AQX${randomBytes(12).toString("hex")}`
      this.refreshTokens.set(refreshToken, grant)
      Object.assign(body, { refresh_token: refreshToken, refresh_token_expires_in: 31_536_000 })
    }
    return { status: 200, body }
  }
}
