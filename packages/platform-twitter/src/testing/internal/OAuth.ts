/**
 * The fake X's authorization: OAuth 2.0 clients, codes with PKCE S256,
 * access and rotating refresh tokens, and OAuth 1.0a user credentials whose
 * HMAC-SHA1 signatures are recomputed per RFC 5849 (no replayed nonce).
 */
import type { Answer, FakeRequest } from "@omnipost/platform-kit/testing"
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import type { XOAuth1Credentials, XOAuth2Credentials } from "../../Auth.js"
import { parseOAuth1Header, signatureBaseString } from "../../Auth.js"
import { oauthError, unauthorized } from "./Answers.js"
import type { Store } from "./Model.js"

export type Principal = { readonly userId: string; readonly scopes: ReadonlySet<string> | "all" }

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

const sha256Base64Url = (text: string) => createHash("sha256").update(text).digest("base64url")

const token = (bytes = 24) => randomBytes(bytes).toString("base64url")

const safeEqual = (a: string, b: string) => {
  const ab = Buffer.from(a)
  const bb = Buffer.from(b)
  return ab.length === bb.length && timingSafeEqual(ab, bb)
}

/** The URL the client signed: the request's path and query on the host it addressed (with its port). */
export const signedUrl = (request: FakeRequest): string =>
  new URL(request.url.pathname + request.url.search, `http://${request.headers.host ?? "127.0.0.1"}`).toString()

export class OAuth {
  private readonly clients = new Map<string, { readonly secret?: string | undefined }>()
  private readonly accessTokens = new Map<string, AccessToken>()
  private readonly refreshTokens = new Map<string, { readonly userId: string; readonly clientId: string; readonly scopes: ReadonlyArray<string> }>()
  private readonly codes = new Map<string, AuthorizationCode>()
  private readonly oauth1 = new Map<string, { readonly userId: string; readonly consumerKey: string; readonly consumerSecret: string; readonly tokenSecret: string }>()
  private readonly nonces = new Set<string>()

  constructor(private readonly store: Store) {}

  registerClient(input: { readonly clientId: string; readonly clientSecret?: string | undefined }): void {
    this.clients.set(input.clientId, { secret: input.clientSecret })
  }

  issueOAuth2Token(input: {
    readonly username: string
    readonly clientId?: string
    readonly clientSecret?: string
    readonly scopes?: ReadonlyArray<string>
    readonly expiresInSeconds?: number
    readonly withRefreshToken?: boolean
  }): XOAuth2Credentials {
    const user = this.store.addUser({ username: input.username })
    const clientId = input.clientId ?? "fake-client-id"
    if (!this.clients.has(clientId)) this.registerClient({ clientId, clientSecret: input.clientSecret })
    const scopes = input.scopes ?? ["tweet.read", "tweet.write", "users.read", "media.write", "offline.access"]
    const issued = this.issueTokens(user.id, clientId, scopes, input.expiresInSeconds, input.withRefreshToken)
    return {
      _tag: "oauth2",
      accessToken: issued.access_token,
      ...(issued.refresh_token !== undefined ? { refreshToken: issued.refresh_token } : {}),
      expiresAt: new Date(this.store.now() + issued.expires_in * 1000).toISOString(),
      clientId,
      ...(input.clientSecret !== undefined ? { clientSecret: input.clientSecret } : {})
    }
  }

  issueOAuth1Token(input: { readonly username: string }): XOAuth1Credentials {
    const user = this.store.addUser({ username: input.username })
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
    const user = this.store.addUser({ username })
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

  expireAccessToken(accessToken: string): void {
    const entry = this.accessTokens.get(accessToken)
    if (entry !== undefined) entry.expiresAtMs = this.store.now() - 1
  }

  revokeRefreshToken(refreshToken: string): void {
    this.refreshTokens.delete(refreshToken)
  }

  private issueTokens(
    userId: string,
    clientId: string,
    scopes: ReadonlyArray<string>,
    expiresInSeconds?: number,
    withRefreshToken?: boolean
  ) {
    const ttl = expiresInSeconds ?? this.store.options.accessTokenTtlSeconds ?? 7200
    const accessToken = token()
    this.accessTokens.set(accessToken, { userId, clientId, scopes: new Set(scopes), expiresAtMs: this.store.now() + ttl * 1000 })
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

  /** Who is calling: a Bearer user token or a signed OAuth 1.0a header; X's 401 otherwise. */
  authenticate(request: FakeRequest, body: Buffer): Principal | Answer {
    const header = request.headers.authorization ?? ""
    if (header.startsWith("Bearer ")) {
      const entry = this.accessTokens.get(header.slice(7))
      if (entry === undefined || entry.expiresAtMs <= this.store.now()) return unauthorized()
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
        !Number.isFinite(timestamp) || Math.abs(timestamp - this.store.now() / 1000) > 300 || this.nonces.has(nonce)
      ) {
        return unauthorized()
      }
      const signed = parameters.filter(([k]) => k !== "oauth_signature" && k !== "realm")
      const contentType = request.headers["content-type"] ?? ""
      const form = contentType.startsWith("application/x-www-form-urlencoded")
        ? [...new URLSearchParams(body.toString("utf8")).entries()]
        : []
      const base = signatureBaseString(request.method, signedUrl(request), [...signed, ...form])
      const key = `${encodeURIComponent(entry.consumerSecret)}&${encodeURIComponent(entry.tokenSecret)}`
      const expected = createHmac("sha1", key).update(base).digest("base64")
      if (!safeEqual(expected, signature)) return unauthorized()
      this.nonces.add(nonce)
      return { userId: entry.userId, scopes: "all" }
    }
    return unauthorized()
  }

  /** `POST /2/oauth2/token`: authorization codes (PKCE) and rotating refresh tokens. */
  tokenEndpoint(request: FakeRequest, body: Buffer): Answer {
    if (!(request.headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded")) {
      return oauthError(400, "invalid_request", "Missing required parameter [grant_type].")
    }
    const form = new URLSearchParams(body.toString("utf8"))
    // Client authentication: Basic for confidential clients, client_id for public ones.
    const header = request.headers.authorization ?? ""
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
}
