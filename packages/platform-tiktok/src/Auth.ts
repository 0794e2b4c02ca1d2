/**
 * TikTok credentials and OAuth 2.0 (Login Kit for Web, authorization code).
 *
 * - Authorize at `https://www.tiktok.com/v2/auth/authorize/` with
 *   `client_key` (TikTok's name for the client id), a comma-separated
 *   `scope`, `redirect_uri`, `state`, `response_type=code`.
 * - Exchange and refresh at `POST https://open.tiktokapis.com/v2/oauth/token/`
 *   (form-encoded, `client_key` and `client_secret` in the body). The answer
 *   carries `open_id`, `expires_in` (24 h), `refresh_token` and
 *   `refresh_expires_in` (365 days), and `scope`.
 * - The access token is renewed from the refresh token; what ends an
 *   account's connection is the refresh token's own expiry, so that is the
 *   date the account shows (`tokenExpiresAt`), and `tokenHealth` says when to
 *   reconnect.
 *
 * Sources: https://developers.tiktok.com/doc/login-kit-web,
 * https://developers.tiktok.com/doc/oauth-user-access-token-management,
 * https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info, platform-specs §5.1.
 */
import type { AccountHealth } from "@omnipost/core"
import { OAuthApp } from "@omnipost/platform-kit"
import { Schema } from "effect"

export const defaultApiBaseUrl = "https://open.tiktokapis.com"
export const defaultAuthorizeUrl = "https://www.tiktok.com/v2/auth/authorize/"

/** Reading the user (open_id, display name, avatar). */
export const userInfoScope = "user.info.basic"
/** Direct Post and creator_info. */
export const publishScope = "video.publish"
/** Upload to the creator's inbox (drafts). */
export const uploadScope = "video.upload"

export const defaultScopes: ReadonlyArray<string> = [userInfoScope, publishScope, uploadScope]

/**
 * What each scope lets an account post (core's `AccountHealth.ScopeRule`):
 * `video.publish` Direct Posts and `video.upload` inbox uploads, each of
 * videos and photos; `user.info.basic` posts nothing.
 */
export const scopeRules: ReadonlyArray<AccountHealth.ScopeRule> = [
  { scope: publishScope, placements: ["video", "photo"], source: "https://developers.tiktok.com/doc/content-posting-api-get-started" },
  { scope: uploadScope, placements: ["video", "photo"], source: "https://developers.tiktok.com/doc/content-posting-api-get-started-upload-content" }
]

/** How long before the refresh token expires the account asks for a reconnect. */
export const reconnectWindowMs = 14 * 86_400_000

const NonEmpty = Schema.String.check(Schema.isMinLength(1))

/**
 * What a TikTok account stores.
 *
 * @example
 * const credentials: TiktokCredentials = {
 *   accessToken: "act.…", refreshToken: "rft.…",
 *   expiresAt: "2026-12-03T10:00:00.000Z", refreshTokenExpiresAt: "2027-12-02T10:00:00.000Z",
 *   openId: "-000OcjX…"
 * }
 */
export const TiktokCredentials = Schema.Struct({
  accessToken: NonEmpty,
  refreshToken: Schema.optional(NonEmpty),
  /** ISO 8601; from `expires_in` (24 h). */
  expiresAt: Schema.optional(Schema.String),
  /** ISO 8601; from `refresh_expires_in` (365 days). */
  refreshTokenExpiresAt: Schema.optional(Schema.String),
  scopes: Schema.optional(Schema.Array(Schema.String)),
  /** The user's id for this app (`open_id`). */
  openId: Schema.optional(Schema.String),
  /** The creator's @username, for post URLs (read when connecting). */
  username: Schema.optional(Schema.String)
})
export type TiktokCredentials = typeof TiktokCredentials.Type

export interface ClientOptions {
  /** TikTok's `client_key`. */
  readonly clientKey: string
  readonly clientSecret: string
  /** One base for the authorize page and the token endpoint: a fake. */
  readonly oauthBaseUrl?: string | undefined
}

export const authorizationUrl = (
  app: ClientOptions,
  request: { readonly redirectUri: string; readonly scopes: ReadonlyArray<string>; readonly state: string }
): string => {
  return OAuthApp.consentUrl(app.oauthBaseUrl !== undefined ? `${app.oauthBaseUrl}/v2/auth/authorize/` : defaultAuthorizeUrl, {
    client_key: app.clientKey,
    scope: request.scopes.join(","),
    redirect_uri: request.redirectUri,
    state: request.state,
    response_type: "code"
  })
}

export const tokenUrl = (app: ClientOptions): string => `${app.oauthBaseUrl ?? defaultApiBaseUrl}/v2/oauth/token/`

const parseMs = (iso: string | undefined) => {
  const ms = iso === undefined ? Number.NaN : Date.parse(iso)
  return Number.isFinite(ms) ? ms : undefined
}

/** Whether a refresh token is there and has not expired. */
export const refreshable = (credentials: TiktokCredentials, nowMs: number): boolean => {
  if (credentials.refreshToken === undefined) return false
  const until = parseMs(credentials.refreshTokenExpiresAt)
  return until === undefined || until > nowMs
}

/**
 * When the connection ends: the refresh token's expiry when there is one
 * (the access token is renewed from it until then), else the access token's.
 */
export const connectionExpiresAt = (credentials: TiktokCredentials): string | undefined =>
  credentials.refreshToken !== undefined && parseMs(credentials.refreshTokenExpiresAt) !== undefined
    ? credentials.refreshTokenExpiresAt
    : credentials.expiresAt

export interface TokenHealth {
  readonly state: "ok" | "reconnect_required" | "expired"
  readonly expiresAt?: string | undefined
  readonly message: string
}

/** `expired` past the connection's end, `reconnect_required` within `windowMs` of it, else `ok`. */
export const tokenHealth = (credentials: TiktokCredentials, nowMs: number, windowMs = reconnectWindowMs): TokenHealth => {
  const expiresAt = connectionExpiresAt(credentials)
  const ms = parseMs(expiresAt)
  const what = credentials.refreshToken !== undefined ? "the TikTok refresh token" : "the TikTok access token (no refresh token)"
  if (ms === undefined) return { state: "ok", message: "the token's expiry is unknown" }
  if (ms <= nowMs) return { state: "expired", expiresAt, message: `${what} expired at ${expiresAt}: reconnect the account` }
  if (ms - windowMs <= nowMs) {
    return { state: "reconnect_required", expiresAt, message: `${what} expires at ${expiresAt}: reconnect the account before then` }
  }
  return { state: "ok", expiresAt, message: `${what} expires at ${expiresAt}` }
}
