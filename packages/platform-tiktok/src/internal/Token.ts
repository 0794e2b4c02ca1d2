/**
 * TikTok's token endpoint through the kit's `OAuth`: the code exchange and the
 * refresh. TikTok names the client id `client_key`: it is sent as that (the
 * kit's `client_id` goes along and is ignored). TikTok answers a refused
 * grant with `{ error, error_description, log_id }`: a dead code or refresh
 * token (`invalid_grant`, `invalid_request` at 400) is `AuthFailed` `revoked`,
 * the account must reconnect; a 5xx or no answer is `Transient`, the caller
 * keeps the old token.
 *
 * Source: https://developers.tiktok.com/doc/oauth-user-access-token-management
 */
import { PublishError } from "@omnipost/core"
import { Json, OAuth } from "@omnipost/platform-kit"
import { Clock, Effect } from "effect"
import type { HttpClient } from "effect/http"
import * as Auth from "../Auth.js"
import * as Errors from "../Errors.js"

export const grant = (
  app: Auth.ClientOptions,
  params: Readonly<Record<string, string>>,
  operation: string,
  previous?: Auth.TiktokCredentials
): Effect.Effect<Auth.TiktokCredentials, PublishError.PublishError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const answer = yield* OAuth.postToken({
      tokenUrl: Auth.tokenUrl(app),
      clientId: app.clientKey,
      clientSecret: app.clientSecret,
      params: { ...params, client_key: app.clientKey }
    }).pipe(Effect.mapError((error) => Errors.unanswered(error, operation, false)))
    const nowMs = yield* Clock.currentTimeMillis
    // TikTok may answer a refused grant with 200 and an `error` field.
    const record = Json.record(answer.body)
    const refused = answer.status >= 400 || (typeof record?.error === "string" && record.error.length > 0 && record.access_token === undefined)
    if (refused) {
      const error = Errors.fromResponse(answer.status >= 400 ? answer.status : 400, answer.headers, answer.body, operation, nowMs)
      if (error._tag === "Rejected" || error._tag === "AuthFailed") {
        return yield* new PublishError.AuthFailed({
          platform: Errors.platform,
          reason: answer.status < 500 ? "revoked" : "invalid",
          message: `TikTok refused ${operation}; reconnect the account${error.platformMessage !== undefined ? `: ${error.platformMessage}` : ""}`,
          ...(error.platformCode !== undefined ? { platformCode: error.platformCode } : {}),
          ...(error.platformMessage !== undefined ? { platformMessage: error.platformMessage } : {}),
          httpStatus: answer.status
        })
      }
      return yield* error
    }
    const tokens = OAuth.tokensFrom(answer.body, nowMs, previous)
    if (tokens === undefined) {
      return yield* new PublishError.Transient({ platform: Errors.platform, message: `${operation}: TikTok's answer had no access token` })
    }
    const refreshIn = Number(record?.refresh_expires_in)
    const refreshTokenExpiresAt = Number.isFinite(refreshIn) && refreshIn > 0
      ? new Date(nowMs + refreshIn * 1000).toISOString()
      // The same refresh token kept: so is its expiry.
      : tokens.refreshToken === previous?.refreshToken ? previous?.refreshTokenExpiresAt : undefined
    const openId = typeof record?.open_id === "string" && record.open_id.length > 0 ? record.open_id : previous?.openId
    return {
      accessToken: tokens.accessToken,
      ...(tokens.refreshToken !== undefined ? { refreshToken: tokens.refreshToken } : {}),
      ...(tokens.expiresAt !== undefined ? { expiresAt: tokens.expiresAt } : {}),
      ...(refreshTokenExpiresAt !== undefined ? { refreshTokenExpiresAt } : {}),
      ...(tokens.scopes !== undefined ? { scopes: tokens.scopes } : {}),
      ...(openId !== undefined ? { openId } : {})
    } satisfies Auth.TiktokCredentials
  })
