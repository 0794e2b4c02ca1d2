/**
 * The fake's Google OAuth 2.0 endpoints: the consent page (consented at once,
 * for the consenting channel) and the token endpoint (authorization_code,
 * each code once; refresh_token, until revoked), issuing access tokens into
 * the fake's token table with their scopes, as Google's do.
 */
import type { FakeRequest } from "@omnipost/platform-kit/testing"
import { randomBytes } from "node:crypto"

/** What the OAuth endpoints read and write of the fake. */
export interface OAuthState {
  readonly channels: ReadonlyMap<string, { readonly id: string }>
  readonly consenting: { readonly id: string } | undefined
  readonly tokens: Map<string, string>
  readonly tokenScopes: Map<string, string>
}

export class GoogleOAuth {
  readonly client = { clientId: "fake-client-id", clientSecret: "fake-client-secret" }
  readonly codes = new Map<string, { readonly channelId: string; readonly scopes: string; readonly redirectUri: string; readonly offline: boolean }>()
  readonly refreshTokens = new Map<string, { readonly channelId: string; readonly scopes: string }>()
  private readonly state: OAuthState

  constructor(state: OAuthState) {
    this.state = state
  }

  /** The consent page, consented at once: a redirect back with a code. */
  authorize(request: FakeRequest) {
    const channel = this.state.consenting ?? [...this.state.channels.values()][0]
    const redirectUri = request.query.get("redirect_uri") ?? ""
    if (channel === undefined || request.query.get("client_id") !== this.client.clientId || redirectUri === "") {
      return { status: 400, body: "Error 400: invalid_request" }
    }
    const code = `4/${randomBytes(8).toString("hex")}`
    this.codes.set(code, { channelId: channel.id, scopes: request.query.get("scope") ?? "", redirectUri, offline: request.query.get("access_type") === "offline" })
    const back = new URL(redirectUri)
    back.searchParams.set("code", code)
    back.searchParams.set("state", request.query.get("state") ?? "")
    back.searchParams.set("scope", request.query.get("scope") ?? "")
    return { status: 302, headers: { location: back.toString() } }
  }

  /** Google's token endpoint: authorization_code (once) and refresh_token grants. */
  async token(request: FakeRequest) {
    const form = new URLSearchParams(await request.text())
    if (form.get("client_id") !== this.client.clientId || form.get("client_secret") !== this.client.clientSecret) {
      return { status: 401, body: { error: "invalid_client", error_description: "The OAuth client was not found." } }
    }
    const issue = (channelId: string, scopes: string, refreshToken?: string) => {
      const accessToken = `ya29.${randomBytes(12).toString("hex")}`
      this.state.tokens.set(accessToken, channelId)
      this.state.tokenScopes.set(accessToken, scopes)
      return { status: 200, body: { access_token: accessToken, expires_in: 3599, scope: scopes, token_type: "Bearer", ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}) } }
    }
    if (form.get("grant_type") === "authorization_code") {
      const grant = this.codes.get(form.get("code") ?? "")
      if (grant === undefined || grant.redirectUri !== form.get("redirect_uri")) {
        return { status: 400, body: { error: "invalid_grant", error_description: "Malformed auth code." } }
      }
      this.codes.delete(form.get("code")!)
      const refreshToken = grant.offline ? `1//${randomBytes(12).toString("hex")}` : undefined
      if (refreshToken !== undefined) this.refreshTokens.set(refreshToken, { channelId: grant.channelId, scopes: grant.scopes })
      return issue(grant.channelId, grant.scopes, refreshToken)
    }
    if (form.get("grant_type") === "refresh_token") {
      const grant = this.refreshTokens.get(form.get("refresh_token") ?? "")
      if (grant === undefined) return { status: 400, body: { error: "invalid_grant", error_description: "Token has been expired or revoked." } }
      return issue(grant.channelId, grant.scopes)
    }
    return { status: 400, body: { error: "unsupported_grant_type" } }
  }
}
