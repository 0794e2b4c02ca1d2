/**
 * Google's token endpoint through the kit's `OAuth`: the code exchange and the
 * refresh, with Google's answers mapped. `invalid_grant` (a revoked, expired
 * or used grant) is `AuthFailed` `revoked`: the account must reconnect. A 5xx
 * or no answer is `Transient`: the caller keeps the old token.
 */
import { PublishError } from "@omnipost/core"
import { OAuth } from "@omnipost/platform-kit"
import { Clock, Effect } from "effect"
import type { HttpClient } from "effect/http"
import * as Auth from "../Auth.js"
import * as Errors from "../Errors.js"

export const grant = (
  app: Auth.ClientOptions,
  params: Readonly<Record<string, string>>,
  operation: string,
  previous?: OAuth.Tokens
): Effect.Effect<OAuth.Tokens, PublishError.PublishError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const answer = yield* OAuth.postToken({ tokenUrl: Auth.tokenUrl(app), clientId: app.clientId, clientSecret: app.clientSecret, params }).pipe(
      Effect.mapError((error) => Errors.unanswered(error, operation, false))
    )
    const nowMs = yield* Clock.currentTimeMillis
    if (answer.status >= 400) {
      const error = Errors.fromResponse(answer.status, answer.headers, answer.body, operation, nowMs)
      // invalid_client, unauthorized_client: the app's configuration, not the account's.
      return yield* error
    }
    const tokens = OAuth.tokensFrom(answer.body, nowMs, previous)
    if (tokens === undefined) {
      return yield* new PublishError.Transient({ platform: Errors.platform, message: `${operation}: Google's answer had no access token` })
    }
    return tokens
  })
