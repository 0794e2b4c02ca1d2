/**
 * What an Instagram, Facebook Page or Threads account stores. Tokens are
 * kept as Meta issued them; `expiresAt` (ISO 8601) is when a long-lived user
 * token runs out (Page tokens derived from a long-lived user token do not).
 *
 * @example
 * const credentials: InstagramCredentials = { accessToken: "IGAA…", userId: "17841400000000000", login: "instagram" }
 */
import { Schema } from "effect"

const NonEmpty = Schema.String.check(Schema.isMinLength(1))

/**
 * An Instagram professional account. `login: "instagram"` (Instagram API
 * with Instagram Login, host `graph.instagram.com`) or `"facebook"` (with
 * Facebook Login, reached through its Page, host `graph.facebook.com`; only
 * this one offers the resumable video upload).
 */
export const InstagramCredentials = Schema.Struct({
  accessToken: NonEmpty,
  /** The IG user id (`ig-user-id`). */
  userId: NonEmpty,
  login: Schema.Literals(["instagram", "facebook"]),
  username: Schema.optional(Schema.String),
  expiresAt: Schema.optional(Schema.String)
})
export type InstagramCredentials = typeof InstagramCredentials.Type

/** A Facebook Page: its id and Page access token (from `GET /me/accounts`). */
export const FacebookCredentials = Schema.Struct({
  pageId: NonEmpty,
  pageAccessToken: NonEmpty,
  /** The long-lived user token the Page token was derived from (to list Pages again). */
  userAccessToken: Schema.optional(Schema.String),
  pageName: Schema.optional(Schema.String),
  expiresAt: Schema.optional(Schema.String)
})
export type FacebookCredentials = typeof FacebookCredentials.Type

/** A Threads profile: its long-lived token (60 days, refreshable) and user id. */
export const ThreadsCredentials = Schema.Struct({
  accessToken: NonEmpty,
  userId: NonEmpty,
  username: Schema.optional(Schema.String),
  expiresAt: Schema.optional(Schema.String)
})
export type ThreadsCredentials = typeof ThreadsCredentials.Type
