/**
 * Mastodon credentials: the instance and an OAuth access token (an app's
 * token from the instance's /oauth/token, or one created under Preferences →
 * Development). Mastodon tokens do not expire, so there is no refresh.
 */
import { Schema } from "effect"

export const MastodonCredentials = Schema.Struct({
  /** The instance's base URL, such as `https://mastodon.social`. */
  instanceUrl: Schema.String.check(
    Schema.isPattern(/^https?:\/\/[^/\s]+\/?$/, { message: "instanceUrl is the instance's base URL, such as https://mastodon.social" })
  ),
  /** Stored as a string; held as `Redacted` so that it never shows up in logs. */
  accessToken: Schema.RedactedFromValue(Schema.String.check(Schema.isMinLength(1)))
})
export type MastodonCredentials = typeof MastodonCredentials.Type
