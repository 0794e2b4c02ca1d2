/**
 * An OAuth 2.0 token endpoint call (RFC 6749 §4.1.3 code exchange, §6
 * refresh), once for every platform: the form-encoded POST with the client's
 * id and secret, the JSON answer read without throwing, and the credentials'
 * token fields from it. A refresh answer without a refresh token keeps the
 * old one (Google and others omit it on refresh): never replace a refresh
 * token with nothing.
 *
 * @example
 * const answer = yield* OAuth.postToken({ tokenUrl, clientId, clientSecret, params: { grant_type: "refresh_token", refresh_token } })
 * if (answer.status >= 400) ... // the platform's Errors map answer.body
 * const tokens = OAuth.tokensFrom(answer.body, nowMs, previous)
 */
import { PublishError } from "@omnipost/core"
import { Clock, Duration, Effect, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as Json from "./Json.js"
import * as Transport from "./Transport.js"

export interface TokenCall {
  readonly tokenUrl: string
  readonly clientId: string
  /** Absent or empty for a public client (PKCE): it sends only its `client_id`. */
  readonly clientSecret?: string | undefined
  /**
   * How a confidential client authenticates (RFC 6749 §2.3.1): `"body"`
   * (default) sends `client_id` and `client_secret` as form fields; `"basic"`
   * sends them as HTTP Basic auth (X asks for it), the form then without them.
   */
  readonly clientAuthentication?: "body" | "basic" | undefined
  readonly params: Readonly<Record<string, string>>
  readonly timeout?: Duration.Input | undefined
}

export interface TokenAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The JSON of the answer, `undefined` when it is empty or not JSON (`Json.parse`). */
  readonly body: unknown
  /** The answer as sent (an HTML error page says more than nothing). */
  readonly text: string
}

/** POSTs the form; any status comes back; a call without an answer fails with the client's error (map it with `Transport`). */
export const postToken = (call: TokenCall) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const secret = call.clientSecret !== undefined && call.clientSecret.length > 0 ? call.clientSecret : undefined
    const basic = secret !== undefined && call.clientAuthentication === "basic"
    const form = basic
      ? call.params
      : { ...call.params, client_id: call.clientId, ...(secret !== undefined ? { client_secret: secret } : {}) }
    const base = HttpClientRequest.post(call.tokenUrl).pipe(HttpClientRequest.acceptJson, HttpClientRequest.bodyUrlParams(form))
    const request = basic ? HttpClientRequest.basicAuth(base, call.clientId, secret) : base
    const response = yield* client.execute(request)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, body: Json.parse(text), text } satisfies TokenAnswer
  }).pipe(Effect.timeout(call.timeout ?? Duration.seconds(30)))

export interface Tokens {
  readonly accessToken: string
  readonly refreshToken?: string | undefined
  /** ISO 8601, from `expires_in`. */
  readonly expiresAt?: string | undefined
  readonly scopes?: ReadonlyArray<string> | undefined
}

/** The token fields of a successful answer (`undefined` when it has no access token); the previous refresh token and scopes kept when absent. */
export const tokensFrom = (body: unknown, nowMs: number, previous?: Tokens): Tokens | undefined => {
  const record = Json.record(body)
  const accessToken = record?.access_token
  if (typeof accessToken !== "string" || accessToken.length === 0) return undefined
  const refreshToken = typeof record!.refresh_token === "string" && record!.refresh_token.length > 0 ? record!.refresh_token : previous?.refreshToken
  const expiresIn = typeof record!.expires_in === "number" ? record!.expires_in : Number(record!.expires_in)
  const scopes = typeof record!.scope === "string" ? record!.scope.split(/[\s,]+/).filter((s) => s.length > 0) : previous?.scopes
  return {
    accessToken,
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(Number.isFinite(expiresIn) && expiresIn > 0 ? { expiresAt: new Date(nowMs + expiresIn * 1000).toISOString() } : {}),
    ...(scopes !== undefined ? { scopes } : {})
  }
}

export interface Grant<A> extends TokenCall {
  readonly platform: string
  /** The platform's name in messages: `LinkedIn refused the OAuth code exchange: …`. */
  readonly label: string
  /** What is being done, for messages: `the OAuth code exchange`. */
  readonly operation: string
  /** The token answer's schema (the platform's fields besides `access_token`). */
  readonly schema: Schema.Decoder<A>
  /** The platform's error for an answer of 400 or more (its `Errors.fromResponse`). */
  readonly fromResponse: (answer: TokenAnswer, nowMs: number) => Effect.Effect<PublishError.PublishError>
  /**
   * The statuses at which a refused grant is dead (a used, expired or revoked
   * code or refresh token: RFC 6749 §5.2 answers 400 `invalid_grant`), so the
   * account must reconnect: `AuthFailed` `revoked`. Default `[400]`.
   */
  readonly revokedStatuses?: ReadonlyArray<number> | undefined
}

/**
 * A code exchange or refresh, answers mapped to core's errors the same way on
 * every platform: no answer is the kit's `Transport` classification (a token
 * call publishes nothing, so never `OutcomeUnknown`); a refusal the platform
 * maps to `Rejected` or `AuthFailed` is `AuthFailed` (`revoked` at
 * `revokedStatuses`, else `invalid`), the platform's code and message kept;
 * rate limits and 5xx stay as the platform maps them; a success without an
 * access token (or not matching `schema`) is `Transient`.
 *
 * @example
 * const answer = yield* OAuth.grant({ tokenUrl, clientId, clientSecret, params, platform: "linkedin", label: "LinkedIn",
 *   operation: "the OAuth token refresh", schema: TokenAnswer, fromResponse: (a, nowMs) => Effect.succeed(Errors.fromResponse(a.status, a.headers, a.body, "…", nowMs)) })
 */
export const grant = <A>(call: Grant<A>): Effect.Effect<A, PublishError.PublishError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const answer = yield* postToken(call).pipe(
      Effect.mapError((error) => Transport.classify(error, { platform: call.platform, operation: call.operation, write: false }))
    )
    if (answer.status >= 400) {
      const error = yield* call.fromResponse(answer, yield* Clock.currentTimeMillis)
      if (error._tag === "Rejected" || error._tag === "AuthFailed") {
        return yield* new PublishError.AuthFailed({
          platform: call.platform,
          reason: (call.revokedStatuses ?? [400]).includes(answer.status) ? "revoked" : "invalid",
          message: `${call.label} refused ${call.operation}${error.platformMessage !== undefined ? `: ${error.platformMessage}` : ""}`,
          platformCode: error.platformCode,
          platformMessage: error.platformMessage,
          httpStatus: answer.status
        })
      }
      return yield* error
    }
    return yield* Schema.decodeUnknownEffect(call.schema)(answer.body).pipe(
      Effect.mapError(() =>
        new PublishError.Transient({
          platform: call.platform,
          message: `${call.operation}: ${call.label} answered ${answer.status} without an access token`,
          httpStatus: answer.status
        })
      )
    )
  })
