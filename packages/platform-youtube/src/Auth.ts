/**
 * YouTube credentials: a Google OAuth 2.0 access token, with the refresh
 * token of offline access.
 *
 * Sources: https://developers.google.com/identity/protocols/oauth2/web-server,
 * https://developers.google.com/youtube/v3/guides/auth/server-side-web-apps, platform-specs §4.1.
 */
import { OAuthApp } from "@omnipost/platform-kit"
import { Schema } from "effect"

export const defaultApiBaseUrl = "https://www.googleapis.com"

/** Uploading videos. */
export const uploadScope = "https://www.googleapis.com/auth/youtube.upload"
/** Reading the channel (verifyCredentials, the uploads playlist). */
export const readonlyScope = "https://www.googleapis.com/auth/youtube.readonly"

/**
 * Posting comments (`commentThreads.insert`, a post's first comment): only
 * `youtube.force-ssl` grants it. Accounts connected without it get
 * `MISSING_PERMISSION` on their comments until reconnected.
 */
export const forceSslScope = "https://www.googleapis.com/auth/youtube.force-ssl"

export const defaultScopes: ReadonlyArray<string> = [uploadScope, readonlyScope, forceSslScope]

const NonEmpty = Schema.String.check(Schema.isMinLength(1))

/**
 * What a YouTube account stores.
 *
 * @example
 * const credentials: YoutubeCredentials = { accessToken: "ya29.…", refreshToken: "1//0g…", expiresAt: "2026-12-02T10:00:00.000Z" }
 */
export const YoutubeCredentials = Schema.Struct({
  accessToken: NonEmpty,
  /** From offline access (`access_type=offline`). */
  refreshToken: Schema.optional(NonEmpty),
  /** ISO 8601; from `expires_in`. */
  expiresAt: Schema.optional(Schema.String),
  scopes: Schema.optional(Schema.Array(Schema.String)),
  /** The channel, once read (`channels.list?mine=true`). */
  channelId: Schema.optional(Schema.String)
})
export type YoutubeCredentials = typeof YoutubeCredentials.Type

// ---------------------------------------------------------------------------
// OAuth 2.0 (Google, web server flow, offline access)
// ---------------------------------------------------------------------------

export const defaultAuthorizeUrl = "https://accounts.google.com/o/oauth2/v2/auth"
export const defaultTokenUrl = "https://oauth2.googleapis.com/token"

export interface ClientOptions {
  readonly clientId: string
  readonly clientSecret: string
  /** One base for the authorize page (`/o/oauth2/v2/auth`) and the token endpoint (`/token`): a fake. */
  readonly oauthBaseUrl?: string | undefined
}

/** The consent page: offline access (a refresh token) and the consent prompt, so Google issues the refresh token again on a reconnect. */
export const authorizationUrl = (
  app: ClientOptions,
  request: { readonly redirectUri: string; readonly scopes: ReadonlyArray<string>; readonly state: string }
): string => {
  return OAuthApp.consentUrl(app.oauthBaseUrl !== undefined ? `${app.oauthBaseUrl}/o/oauth2/v2/auth` : defaultAuthorizeUrl, {
    client_id: app.clientId,
    redirect_uri: request.redirectUri,
    response_type: "code",
    scope: request.scopes.join(" "),
    state: request.state,
    access_type: "offline",
    prompt: "consent",
    include_granted_scopes: "true"
  })
}

export const tokenUrl = (app: ClientOptions): string => app.oauthBaseUrl !== undefined ? `${app.oauthBaseUrl}/token` : defaultTokenUrl
