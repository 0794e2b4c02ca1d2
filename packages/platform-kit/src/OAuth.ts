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
import { Duration, Effect } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as Json from "./Json.js"

export interface TokenCall {
  readonly tokenUrl: string
  readonly clientId: string
  readonly clientSecret: string
  readonly params: Readonly<Record<string, string>>
  readonly timeout?: Duration.Input | undefined
}

export interface TokenAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: unknown
}

/** POSTs the form; any status comes back; a call without an answer fails with the client's error (map it with `Transport`). */
export const postToken = (call: TokenCall) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const request = HttpClientRequest.post(call.tokenUrl).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bodyUrlParams({ ...call.params, client_id: call.clientId, client_secret: call.clientSecret })
    )
    const response = yield* client.execute(request)
    return { status: response.status, headers: response.headers, body: Json.parse(yield* response.text) } satisfies TokenAnswer
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
