/**
 * YouTube credentials: a Google OAuth 2.0 access token, with the refresh
 * token of offline access.
 *
 * Sources: https://developers.google.com/identity/protocols/oauth2/web-server,
 * https://developers.google.com/youtube/v3/guides/auth/server-side-web-apps, platform-specs §4.1.
 */
import { Schema } from "effect"

export const defaultApiBaseUrl = "https://www.googleapis.com"

/** Uploading videos. */
export const uploadScope = "https://www.googleapis.com/auth/youtube.upload"
/** Reading the channel (verifyCredentials, the uploads playlist). */
export const readonlyScope = "https://www.googleapis.com/auth/youtube.readonly"

export const defaultScopes: ReadonlyArray<string> = [uploadScope, readonlyScope]

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
