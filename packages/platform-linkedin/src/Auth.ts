/**
 * LinkedIn credentials and OAuth 2.0 (3-legged, authorization code).
 *
 * - Authorize at `https://www.linkedin.com/oauth/v2/authorization` with the
 *   scopes `openid profile w_member_social` (and `w_organization_social` to
 *   post as a Page the member administers); exchange the code at
 *   `POST https://www.linkedin.com/oauth/v2/accessToken` (form-encoded, the
 *   client secret in the body).
 * - The member is `urn:li:person:{sub}`, `sub` from OpenID's
 *   `GET https://api.linkedin.com/v2/userinfo`.
 * - Access tokens last about 60 days. Refresh tokens are issued only to
 *   approved partners' apps: with one, `refresh` gets a new access token;
 *   without, the token cannot be renewed, so `tokenHealth` says from when a
 *   reconnect is required (`reconnectWindowMs` before the expiry) and the
 *   publisher refuses an expired token up front with `AuthFailed` (`expired`)
 *   instead of sending it.
 *
 * Sources: https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow,
 * https://learn.microsoft.com/en-us/linkedin/shared/authentication/programmatic-refresh-tokens,
 * https://learn.microsoft.com/en-us/linkedin/consumer/integrations/self-serve/sign-in-with-linkedin-v2,
 * platform-specs §3.1.
 */
import { PublishError } from "@omnipost/core"
import { OAuth, OAuthApp } from "@omnipost/platform-kit"
import { Clock, Effect, Schema } from "effect"
import { HttpClient } from "effect/http"
import * as Errors from "./Errors.js"
import * as Rest from "./internal/Rest.js"

export const defaultApiBaseUrl = "https://api.linkedin.com"
export const defaultOAuthBaseUrl = "https://www.linkedin.com"

/** The scope to post as the member. */
export const memberScope = "w_member_social"
/** The scope to post as an organization (a Page) the member administers. */
export const organizationScope = "w_organization_social"

/** Scopes asked for by default: sign-in (for `sub`), member posts, organization posts. */
export const defaultScopes: ReadonlyArray<string> = ["openid", "profile", memberScope, organizationScope]

/** How long before the expiry of a token that cannot be refreshed the account asks for a reconnect. */
export const reconnectWindowMs = 7 * 86_400_000

const NonEmpty = Schema.String.check(Schema.isMinLength(1))

/**
 * What a LinkedIn account stores.
 *
 * @example
 * const credentials: LinkedinCredentials = {
 *   accessToken: "AQV…",
 *   expiresAt: "2027-01-30T12:00:00.000Z",
 *   scopes: ["openid", "profile", "w_member_social"],
 *   personUrn: "urn:li:person:8675309"
 * }
 */
export const LinkedinCredentials = Schema.Struct({
  accessToken: NonEmpty,
  /** ISO 8601; from `expires_in`. */
  expiresAt: Schema.optional(Schema.String),
  /** Only for apps LinkedIn issues refresh tokens to. */
  refreshToken: Schema.optional(Schema.String),
  refreshTokenExpiresAt: Schema.optional(Schema.String),
  /** The scopes granted (the token answer's `scope`); an organization author needs `w_organization_social` here. */
  scopes: Schema.optional(Schema.Array(Schema.String)),
  /** `urn:li:person:{sub}`; asked from `/v2/userinfo` when absent. */
  personUrn: Schema.optional(Schema.String.check(Schema.isPattern(/^urn:li:person:[A-Za-z0-9_-]+$/))),
  /** The member's name, for the account list. */
  name: Schema.optional(Schema.String)
})
export type LinkedinCredentials = typeof LinkedinCredentials.Type

/** Where a token stands. */
export interface TokenHealth {
  readonly state: "ok" | "reconnect_required" | "expired"
  /** Whether a refresh token can renew it. */
  readonly refreshable: boolean
  readonly expiresAt?: string | undefined
  /** From when the account should be reconnected (a token that cannot be refreshed). */
  readonly reconnectBy?: string | undefined
  readonly message: string
}

const parseMs = (iso: string | undefined) => {
  const ms = iso === undefined ? Number.NaN : Date.parse(iso)
  return Number.isFinite(ms) ? ms : undefined
}

/** Whether the credentials carry a refresh token that has not expired. */
export const refreshable = (credentials: LinkedinCredentials, nowMs: number): boolean => {
  if (credentials.refreshToken === undefined || credentials.refreshToken.length === 0) return false
  const until = parseMs(credentials.refreshTokenExpiresAt)
  return until === undefined || until > nowMs
}

/**
 * The token's health: `expired` past `expiresAt`; `reconnect_required`
 * within `reconnectWindowMs` of it when no refresh token can renew it;
 * `ok` otherwise (or when the expiry is unknown).
 */
export const tokenHealth = (credentials: LinkedinCredentials, nowMs: number, windowMs = reconnectWindowMs): TokenHealth => {
  const expiresMs = parseMs(credentials.expiresAt)
  const canRefresh = refreshable(credentials, nowMs)
  if (expiresMs === undefined) return { state: "ok", refreshable: canRefresh, message: "the token's expiry is unknown" }
  const expiresAt = new Date(expiresMs).toISOString()
  if (canRefresh) {
    return { state: "ok", refreshable: true, expiresAt, message: `the token expires at ${expiresAt} and is refreshed` }
  }
  const reconnectBy = new Date(expiresMs - windowMs).toISOString()
  if (expiresMs <= nowMs) {
    return {
      state: "expired",
      refreshable: false,
      expiresAt,
      reconnectBy,
      message: `the LinkedIn token expired at ${expiresAt} and this app gets no refresh tokens: reconnect the account`
    }
  }
  if (expiresMs - windowMs <= nowMs) {
    return {
      state: "reconnect_required",
      refreshable: false,
      expiresAt,
      reconnectBy,
      message: `the LinkedIn token expires at ${expiresAt} and this app gets no refresh tokens: reconnect the account before then`
    }
  }
  return { state: "ok", refreshable: false, expiresAt, reconnectBy, message: `the token expires at ${expiresAt}; reconnect from ${reconnectBy}` }
}

/** Scopes from a token answer: LinkedIn separates them with commas (RFC 6749 says spaces; both are read). */
export const parseScopes = (scope: string | undefined): ReadonlyArray<string> | undefined =>
  scope === undefined ? undefined : scope.split(/[\s,]+/).filter((s) => s.length > 0)

// ---------------------------------------------------------------------------
// OAuth endpoints

export interface ClientOptions {
  readonly clientId: string
  readonly clientSecret: string
  /** `https://www.linkedin.com` unless given (a fake). */
  readonly oauthBaseUrl?: string | undefined
  /** `https://api.linkedin.com` unless given (a fake). */
  readonly apiBaseUrl?: string | undefined
}

/** The consent URL for the authorization-code flow. */
export const authorizationUrl = (options: {
  readonly clientId: string
  readonly redirectUri: string
  readonly state: string
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly oauthBaseUrl?: string | undefined
}): string => {
  return OAuthApp.consentUrl(`${options.oauthBaseUrl ?? defaultOAuthBaseUrl}/oauth/v2/authorization`, {
    response_type: "code",
    client_id: options.clientId,
    redirect_uri: options.redirectUri,
    state: options.state,
    scope: (options.scopes ?? defaultScopes).join(" ")
  })
}

const TokenAnswer = Schema.Struct({
  access_token: NonEmpty,
  expires_in: Schema.optional(Schema.Number),
  refresh_token: Schema.optional(Schema.String),
  refresh_token_expires_in: Schema.optional(Schema.Number),
  scope: Schema.optional(Schema.String)
})

const UserInfo = Schema.Struct({
  sub: NonEmpty,
  name: Schema.optional(Schema.String),
  given_name: Schema.optional(Schema.String),
  family_name: Schema.optional(Schema.String),
  picture: Schema.optional(Schema.String)
})
export type UserInfo = typeof UserInfo.Type

/** The token endpoint through the kit's `OAuth.grant` (client secret in the form). */
const postToken = (options: ClientOptions, params: Record<string, string>, operation: string) =>
  OAuth.grant({
    tokenUrl: `${options.oauthBaseUrl ?? defaultOAuthBaseUrl}/oauth/v2/accessToken`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    params,
    platform: Errors.platform,
    label: "LinkedIn",
    operation,
    schema: TokenAnswer,
    fromResponse: (answer, nowMs) => Effect.succeed(Errors.fromResponse(answer.status, answer.headers, answer.body, operation, nowMs)),
    // A used, expired or unknown code or refresh token: 400 invalid_request/invalid_grant, or 401.
    revokedStatuses: [400, 401]
  })

const fromAnswer = (
  answer: typeof TokenAnswer.Type,
  nowMs: number,
  previous?: LinkedinCredentials
): LinkedinCredentials => {
  // Never replace a refresh token with nothing (what-users-hit #4).
  const refreshToken = answer.refresh_token !== undefined && answer.refresh_token.length > 0
    ? answer.refresh_token
    : previous?.refreshToken
  const refreshTokenExpiresAt = answer.refresh_token_expires_in !== undefined
    ? new Date(nowMs + answer.refresh_token_expires_in * 1000).toISOString()
    : previous?.refreshTokenExpiresAt
  const scopes = parseScopes(answer.scope) ?? previous?.scopes
  return {
    accessToken: answer.access_token,
    ...(answer.expires_in !== undefined ? { expiresAt: new Date(nowMs + answer.expires_in * 1000).toISOString() } : {}),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(refreshTokenExpiresAt !== undefined ? { refreshTokenExpiresAt } : {}),
    ...(scopes !== undefined ? { scopes } : {}),
    ...(previous?.personUrn !== undefined ? { personUrn: previous.personUrn } : {}),
    ...(previous?.name !== undefined ? { name: previous.name } : {})
  }
}

/** `GET /v2/userinfo` (OpenID Connect): the member's `sub` and name. */
export const userInfo = (
  connection: Omit<Rest.Connection, "version"> & { readonly version?: string }
): Effect.Effect<UserInfo, PublishError.PublishError> =>
  Rest.call({ version: "", ...connection }, {
    method: "GET",
    path: "/v2/userinfo",
    operation: "GET /v2/userinfo",
    versioned: false
  }).pipe(
    Effect.flatMap((answer) =>
      Schema.decodeUnknownEffect(UserInfo)(answer.body).pipe(
        Effect.mapError(() =>
          new PublishError.Transient({ platform: Errors.platform, message: "GET /v2/userinfo: LinkedIn answered without a member id (sub)" })
        )
      )
    )
  )

/** Exchanges the callback's code for credentials, with the member's URN and name. */
export const exchangeCode = (options: ClientOptions & { readonly code: string; readonly redirectUri: string }) =>
  Effect.gen(function*() {
    const answer = yield* postToken(options, {
      grant_type: "authorization_code",
      code: options.code,
      redirect_uri: options.redirectUri
    }, "the OAuth code exchange")
    const credentials = fromAnswer(answer, yield* Clock.currentTimeMillis)
    const me = yield* userInfo({
      client: yield* HttpClient.HttpClient,
      apiBaseUrl: options.apiBaseUrl ?? defaultApiBaseUrl,
      accessToken: credentials.accessToken,
      timeout: "30 seconds"
    })
    return { ...credentials, personUrn: `urn:li:person:${me.sub}`, ...(me.name !== undefined ? { name: me.name } : {}) }
  })

/**
 * A new access token from the refresh token. Without one (most apps), fails
 * `AuthFailed` (`expired`) saying to reconnect; a transient failure changes nothing.
 */
export const refresh = (credentials: LinkedinCredentials, options: ClientOptions) =>
  Effect.gen(function*() {
    const nowMs = yield* Clock.currentTimeMillis
    if (!refreshable(credentials, nowMs)) {
      return yield* new PublishError.AuthFailed({
        platform: Errors.platform,
        reason: "expired",
        message: tokenHealth(credentials, nowMs).state === "ok"
          ? "this LinkedIn app receives no refresh tokens: the token cannot be renewed, only replaced by reconnecting"
          : tokenHealth(credentials, nowMs).message
      })
    }
    const answer = yield* postToken(options, {
      grant_type: "refresh_token",
      refresh_token: credentials.refreshToken!
    }, "the OAuth token refresh")
    return fromAnswer(answer, yield* Clock.currentTimeMillis, credentials)
  })
