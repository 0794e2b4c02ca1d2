/**
 * Mastodon credentials and OAuth.
 *
 * An account's credentials are its instance and an OAuth access token.
 * Mastodon tokens do not expire, so there is no refresh. The token comes from
 * the authorization-code flow against the instance (`GET /oauth/authorize`,
 * then `POST /oauth/token`), with PKCE (S256, Mastodon 4.3 and later), for an
 * app registered once on that instance (`POST /api/v1/apps`, or Preferences →
 * Development), or from a token created by hand under Preferences →
 * Development.
 *
 * Sources: https://docs.joinmastodon.org/methods/oauth/ and
 * https://docs.joinmastodon.org/client/token/
 */
import { PublishError } from "@omnipost/core"
import { Clock, Duration, Effect, Redacted, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { Transport } from "@omnipost/platform-kit"
import { fromResponse, platform } from "./Errors.js"

export const MastodonCredentials = Schema.Struct({
  /** The instance's base URL, such as `https://mastodon.social`. */
  instanceUrl: Schema.String.check(
    Schema.isPattern(/^https?:\/\/[^/\s]+\/?$/, { message: "instanceUrl is the instance's base URL, such as https://mastodon.social" })
  ),
  /** Stored as a string; held as `Redacted` so that it never shows up in logs. */
  accessToken: Schema.RedactedFromValue(Schema.String.check(Schema.isMinLength(1)))
})
export type MastodonCredentials = typeof MastodonCredentials.Type

/** Posting needs `write:statuses`, images `write:media`; checking the account at connect time needs `read:accounts`. */
export const defaultScopes: ReadonlyArray<string> = ["read:accounts", "write:statuses", "write:media"]

/** An app registered on one instance. */
export interface OAuthApp {
  readonly instanceUrl: string
  readonly clientId: string
  readonly clientSecret: Redacted.Redacted<string>
}

/** `GET /oauth/authorize`: where the user approves the app. */
export const authorizationUrl = (app: OAuthApp, request: {
  readonly state: string
  readonly redirectUri: string
  readonly scopes: ReadonlyArray<string>
  readonly codeChallenge?: string | undefined
}): string => {
  const url = new URL("/oauth/authorize", app.instanceUrl)
  url.searchParams.set("response_type", "code")
  url.searchParams.set("client_id", app.clientId)
  url.searchParams.set("redirect_uri", request.redirectUri)
  url.searchParams.set("scope", request.scopes.join(" "))
  url.searchParams.set("state", request.state)
  if (request.codeChallenge !== undefined) {
    url.searchParams.set("code_challenge", request.codeChallenge)
    url.searchParams.set("code_challenge_method", "S256")
  }
  return url.toString()
}

const TokenAnswer = Schema.Struct({
  access_token: Schema.String.check(Schema.isMinLength(1)),
  token_type: Schema.optional(Schema.String),
  scope: Schema.optional(Schema.String),
  created_at: Schema.optional(Schema.Number)
})

/**
 * `POST /oauth/token` with `grant_type=authorization_code`: the code the
 * callback received, for the instance's credentials. A refused code is
 * `AuthFailed` (the user starts again); an instance that cannot be reached
 * is `Transient`.
 */
export const exchangeCode = (
  client: HttpClient.HttpClient,
  app: OAuthApp,
  request: { readonly code: string; readonly redirectUri: string; readonly codeVerifier?: string | undefined },
  timeout: Duration.Input = Duration.seconds(30)
): Effect.Effect<MastodonCredentials, PublishError.PublishError> =>
  Effect.gen(function*() {
    const what = { write: false, what: "the OAuth code exchange" }
    const answer = yield* client.execute(
      HttpClientRequest.post(new URL("/oauth/token", app.instanceUrl).toString()).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.bodyUrlParams({
          grant_type: "authorization_code",
          code: request.code,
          client_id: app.clientId,
          client_secret: Redacted.value(app.clientSecret),
          redirect_uri: request.redirectUri,
          ...(request.codeVerifier !== undefined ? { code_verifier: request.codeVerifier } : {})
        })
      )
    ).pipe(
      Effect.flatMap((response) => Effect.map(response.text, (text) => ({ response, text }))),
      Effect.mapError((error) => Transport.classify(error, { platform, operation: what.what, write: what.write })),
      Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(Transport.noAnswer({ platform, operation: what.what, write: what.write })) })
    )
    let body: unknown
    try {
      body = JSON.parse(answer.text)
    } catch {
      body = undefined
    }
    const status = answer.response.status
    if (status === 400 || status === 401) {
      // OAuth errors (RFC 6749 §5.2): `invalid_grant` for a bad, used or expired code, `invalid_client` for the app.
      const error = body as { error?: unknown; error_description?: unknown } | undefined
      return yield* new PublishError.AuthFailed({
        platform: "mastodon",
        reason: "invalid",
        message: `Mastodon refused the code: ${String(error?.error_description ?? error?.error ?? answer.text.slice(0, 200))}`,
        ...(typeof error?.error === "string" ? { platformCode: error.error } : {}),
        httpStatus: status
      })
    }
    if (status < 200 || status >= 300) {
      return yield* fromResponse({
        status,
        headers: answer.response.headers,
        body,
        text: answer.text,
        nowMs: yield* Clock.currentTimeMillis
      })
    }
    const token = yield* Schema.decodeUnknownEffect(TokenAnswer)(body).pipe(
      Effect.mapError(() =>
        new PublishError.Transient({ platform: "mastodon", message: "the token endpoint answered without an access token" })
      )
    )
    return { instanceUrl: app.instanceUrl, accessToken: Redacted.make(token.access_token) }
  })
