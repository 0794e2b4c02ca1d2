/**
 * X credentials and OAuth.
 *
 * Two kinds of user-context credentials can post (platform-specs §1.1):
 *
 * - **OAuth 2.0 Authorization Code with PKCE**: build the consent URL with
 *   `authorizationUrl`, send the user there, then `exchangeCode` with the code
 *   X sends to your callback. Access tokens last 2 hours; with the
 *   `offline.access` scope X also returns a refresh token, which the publisher
 *   uses (`refreshAccessToken`) when `expiresAt` has passed or X answers 401.
 * - **OAuth 1.0a user tokens** (consumer key/secret + access token/secret from
 *   the developer portal), signed per RFC 5849 with HMAC-SHA1. They do not
 *   expire.
 *
 * App-only Bearer tokens cannot post or upload media, so they are not accepted.
 */
import { PublishError } from "@omnipost/core"
import { Clock, Effect, Schema } from "effect"
import type { HttpClient } from "effect/http"
import { createHmac } from "node:crypto"
import { OAuth, OAuthApp } from "@omnipost/platform-kit"
import * as Errors from "./Errors.js"

export const defaultApiBaseUrl = "https://api.x.com"
export const defaultAuthorizeUrl = "https://x.com/i/oauth2/authorize"

/** Scopes to post text and media and keep access with a refresh token. */
export const defaultScopes: ReadonlyArray<string> = [
  "tweet.read",
  "tweet.write",
  "users.read",
  "media.write",
  "offline.access"
]

const NonEmpty = Schema.String.check(Schema.isMinLength(1))

/**
 * OAuth 2.0 user-context credentials. `clientSecret` only for confidential
 * clients (X then wants Basic auth on the token endpoint). `expiresAt` is
 * ISO 8601.
 */
export const XOAuth2Credentials = Schema.TaggedStruct("oauth2", {
  accessToken: NonEmpty,
  refreshToken: Schema.optional(Schema.String),
  expiresAt: Schema.optional(Schema.String),
  clientId: NonEmpty,
  clientSecret: Schema.optional(Schema.String),
  /** The account's @username, when known: saves a `GET /2/users/me` to build post URLs. */
  username: Schema.optional(Schema.String)
})
export type XOAuth2Credentials = typeof XOAuth2Credentials.Type

/** OAuth 1.0a user-context credentials (the "Keys and tokens" tab of the developer portal). */
export const XOAuth1Credentials = Schema.TaggedStruct("oauth1", {
  consumerKey: NonEmpty,
  consumerSecret: NonEmpty,
  token: NonEmpty,
  tokenSecret: NonEmpty,
  username: Schema.optional(Schema.String)
})
export type XOAuth1Credentials = typeof XOAuth1Credentials.Type

/**
 * What an X destination stores.
 *
 * @example
 * const credentials: XCredentials = {
 *   _tag: "oauth2",
 *   accessToken: "…",
 *   refreshToken: "…",
 *   expiresAt: "2026-01-01T12:00:00.000Z",
 *   clientId: "your-client-id"
 * }
 */
export const XCredentials = Schema.Union([XOAuth2Credentials, XOAuth1Credentials])
export type XCredentials = typeof XCredentials.Type

// ---------------------------------------------------------------------------
// PKCE (RFC 7636), with Web Crypto so it also runs in a browser or worker

const base64Url = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

const randomToken = (bytes: number): string => base64Url(globalThis.crypto.getRandomValues(new Uint8Array(bytes)))

/** The S256 code challenge of a verifier: BASE64URL(SHA-256(verifier)). */
export const codeChallengeS256 = (codeVerifier: string): Effect.Effect<string> =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier))).pipe(
    Effect.map((digest) => base64Url(new Uint8Array(digest)))
  )

export interface AuthorizationRequest {
  /** Send the user here. */
  readonly url: string
  /** Compare with the `state` X sends back to the callback (CSRF protection). */
  readonly state: string
  /** Keep it (server-side, per login attempt) for `exchangeCode`. */
  readonly codeVerifier: string
}

/**
 * Builds the consent URL for OAuth 2.0 Authorization Code with PKCE (S256).
 * `state` and the verifier are random (32 bytes each) unless given.
 *
 * @example
 * const { url, state, codeVerifier } = yield* authorizationUrl({
 *   clientId: "…",
 *   redirectUri: "https://example.com/callback/x"
 * })
 */
export const authorizationUrl = (options: {
  readonly clientId: string
  readonly redirectUri: string
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly state?: string | undefined
  readonly codeVerifier?: string | undefined
  readonly authorizeUrl?: string | undefined
}): Effect.Effect<AuthorizationRequest> =>
  Effect.gen(function*() {
    const state = options.state ?? randomToken(32)
    // 32 random bytes give a 43-character verifier, the minimum RFC 7636 allows.
    const codeVerifier = options.codeVerifier ?? randomToken(32)
    const codeChallenge = yield* codeChallengeS256(codeVerifier)
    const url = OAuthApp.consentUrl(options.authorizeUrl ?? defaultAuthorizeUrl, {
      response_type: "code",
      client_id: options.clientId,
      redirect_uri: options.redirectUri,
      scope: (options.scopes ?? defaultScopes).join(" "),
      state,
      code_challenge: codeChallenge,
      code_challenge_method: "S256"
    })
    return { url, state, codeVerifier }
  })

// ---------------------------------------------------------------------------
// Token endpoint: code exchange and refresh

const TokenAnswer = Schema.Struct({
  access_token: NonEmpty,
  refresh_token: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.Number),
  scope: Schema.optional(Schema.String),
  token_type: Schema.optional(Schema.String)
})

interface TokenEndpointOptions {
  readonly clientId: string
  readonly clientSecret?: string | undefined
  readonly apiBaseUrl?: string | undefined
}

const postToken = (
  options: TokenEndpointOptions,
  params: Record<string, string>,
  operation: string
): Effect.Effect<typeof TokenAnswer.Type, Errors.XPublishError, HttpClient.HttpClient> =>
  // Public clients identify themselves with client_id in the body; confidential
  // clients authenticate with Basic auth instead. A dead refresh token or code
  // is 400 invalid_request/invalid_grant: the user must reconnect.
  OAuth.grant({
    tokenUrl: `${options.apiBaseUrl ?? defaultApiBaseUrl}/2/oauth2/token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    clientAuthentication: "basic",
    params,
    platform: Errors.platform,
    label: "X",
    operation,
    schema: TokenAnswer,
    fromResponse: (answer) => Errors.fromResponse(answer.status, answer.headers, answer.body, operation)
  })

const credentialsFrom = (
  answer: typeof TokenAnswer.Type,
  options: TokenEndpointOptions,
  nowMs: number,
  previous?: XOAuth2Credentials
): XOAuth2Credentials => {
  // Never replace a refresh token with nothing: a missing or empty one in the
  // answer keeps the old one (what-users-hit #4).
  const refreshToken = answer.refresh_token !== undefined && answer.refresh_token.length > 0
    ? answer.refresh_token
    : previous?.refreshToken
  return {
    _tag: "oauth2",
    accessToken: answer.access_token,
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(answer.expires_in !== undefined ? { expiresAt: new Date(nowMs + answer.expires_in * 1000).toISOString() } : {}),
    clientId: options.clientId,
    ...(options.clientSecret !== undefined ? { clientSecret: options.clientSecret } : {}),
    ...(previous?.username !== undefined ? { username: previous.username } : {})
  }
}

/** Exchanges the code X sent to the callback for tokens (`grant_type=authorization_code`). */
export const exchangeCode = (options: {
  readonly clientId: string
  readonly clientSecret?: string | undefined
  readonly code: string
  readonly redirectUri: string
  readonly codeVerifier: string
  readonly apiBaseUrl?: string | undefined
}): Effect.Effect<XOAuth2Credentials, Errors.XPublishError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const answer = yield* postToken(options, {
      grant_type: "authorization_code",
      code: options.code,
      redirect_uri: options.redirectUri,
      code_verifier: options.codeVerifier
    }, "the OAuth 2.0 code exchange")
    return credentialsFrom(answer, options, yield* Clock.currentTimeMillis)
  })

/**
 * Gets a new access token with the refresh token. X rotates refresh tokens,
 * so the result must be saved; an answer without a refresh token keeps the
 * old one. A transient failure fails with `Transient` and changes nothing.
 */
export const refreshAccessToken = (
  credentials: XOAuth2Credentials,
  options?: { readonly apiBaseUrl?: string | undefined }
): Effect.Effect<XOAuth2Credentials, Errors.XPublishError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    if (credentials.refreshToken === undefined || credentials.refreshToken.length === 0) {
      return yield* new PublishError.AuthFailed({
        platform: Errors.platform,
        reason: "expired",
        message: "The X access token expired and there is no refresh token (grant the offline.access scope)"
      })
    }
    const endpoint = { ...credentials, apiBaseUrl: options?.apiBaseUrl }
    const answer = yield* postToken(endpoint, {
      grant_type: "refresh_token",
      refresh_token: credentials.refreshToken
    }, "the OAuth 2.0 token refresh")
    return credentialsFrom(answer, endpoint, yield* Clock.currentTimeMillis, credentials)
  })

/** Whether an OAuth 2.0 access token is past (or within `skewSeconds` of) its expiry. */
export const isExpired = (credentials: XCredentials, nowMs: number, skewSeconds = 60): boolean => {
  if (credentials._tag !== "oauth2" || credentials.expiresAt === undefined) return false
  const expiresAtMs = Date.parse(credentials.expiresAt)
  return Number.isFinite(expiresAtMs) && expiresAtMs - skewSeconds * 1000 <= nowMs
}

// ---------------------------------------------------------------------------
// OAuth 1.0a (RFC 5849) HMAC-SHA1 signatures

/** RFC 3986 percent-encoding, as RFC 5849 §3.6 requires (stricter than `encodeURIComponent`). */
export const percentEncode = (value: string): string =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

/** The base string URI (RFC 5849 §3.4.1.2): lowercase scheme and host, no default port, no query. */
export const baseStringUri = (url: string): string => {
  const parsed = new URL(url)
  const defaultPort = (parsed.protocol === "http:" && parsed.port === "80") ||
    (parsed.protocol === "https:" && parsed.port === "443") || parsed.port === ""
  return `${parsed.protocol.toLowerCase()}//${parsed.hostname.toLowerCase()}${defaultPort ? "" : `:${parsed.port}`}${parsed.pathname}`
}

/**
 * The signature base string (RFC 5849 §3.4.1): method, base URI and the
 * normalized parameters (query, form body and `oauth_*` except the signature),
 * each percent-encoded, sorted by name then value, joined with `&`.
 */
export const signatureBaseString = (
  method: string,
  url: string,
  parameters: ReadonlyArray<readonly [string, string]>
): string => {
  const query = [...new URL(url).searchParams.entries()]
  const normalized = [...query, ...parameters]
    .map(([k, v]) => [percentEncode(k), percentEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&")
  return [method.toUpperCase(), percentEncode(baseStringUri(url)), percentEncode(normalized)].join("&")
}

/** HMAC-SHA1 of the base string keyed with `consumerSecret&tokenSecret`, base64. */
export const hmacSha1Signature = (baseString: string, consumerSecret: string, tokenSecret: string): string =>
  createHmac("sha1", `${percentEncode(consumerSecret)}&${percentEncode(tokenSecret)}`).update(baseString).digest("base64")

export interface OAuth1SignOptions {
  readonly method: string
  /** The full URL, query included. */
  readonly url: string
  readonly consumerKey: string
  readonly consumerSecret: string
  readonly token: string
  readonly tokenSecret: string
  readonly nonce: string
  /** Seconds since the epoch. */
  readonly timestamp: number
  /** Form-encoded body parameters; JSON and multipart bodies are not signed (RFC 5849 §3.4.1.3.1). */
  readonly bodyParameters?: ReadonlyArray<readonly [string, string]> | undefined
  /** RFC 5849's own examples omit `oauth_version`; X's include `1.0`. */
  readonly includeVersion?: boolean | undefined
}

/** The `Authorization: OAuth …` header value for a request. */
export const oauth1AuthorizationHeader = (options: OAuth1SignOptions): string => {
  const oauth: Array<readonly [string, string]> = [
    ["oauth_consumer_key", options.consumerKey],
    ["oauth_nonce", options.nonce],
    ["oauth_signature_method", "HMAC-SHA1"],
    ["oauth_timestamp", String(options.timestamp)],
    ["oauth_token", options.token],
    ...(options.includeVersion === false ? [] : [["oauth_version", "1.0"] as const])
  ]
  const baseString = signatureBaseString(options.method, options.url, [...oauth, ...(options.bodyParameters ?? [])])
  const signature = hmacSha1Signature(baseString, options.consumerSecret, options.tokenSecret)
  return "OAuth " + [...oauth, ["oauth_signature", signature] as const]
    .map(([k, v]) => `${percentEncode(k)}="${percentEncode(v)}"`)
    .join(", ")
}

/** A fresh nonce: 32 random bytes, URL-safe. */
export const makeNonce = (): string => randomToken(32).replace(/[-_]/g, "A")

/** Parses an `Authorization: OAuth …` header into its parameters (used by the fake). */
export const parseOAuth1Header = (header: string): ReadonlyArray<readonly [string, string]> | undefined => {
  if (!header.startsWith("OAuth ")) return undefined
  const parameters: Array<readonly [string, string]> = []
  for (const part of header.slice(6).split(",")) {
    const match = /^\s*([^=\s]+)="([^"]*)"\s*$/.exec(part)
    if (match === null) return undefined
    parameters.push([decodeURIComponent(match[1]!), decodeURIComponent(match[2]!)])
  }
  return parameters
}
