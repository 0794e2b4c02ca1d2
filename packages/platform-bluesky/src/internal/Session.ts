/**
 * The session of one publish (or delete, verify…) call: reuses the stored
 * session, logs in only when there is none, refreshes once when a call is
 * refused for its token, and hands every new session to `saveCredentials`.
 */
import { Clock, Duration, Effect, Ref } from "effect"
import type { HttpClient } from "effect/http"
import type { PublishError } from "@omnipost/core"
import { type BlueskyCredentials, createSession, refreshSession, type Session } from "../Auth.js"
import { isAuthRefusal, isTokenProblem, toPublishError } from "../Errors.js"
import type { XrpcFailure } from "./Xrpc.js"

export interface SessionOptions {
  readonly client: HttpClient.HttpClient
  readonly credentials: BlueskyCredentials
  readonly defaultServiceUrl: string
  readonly timeout: Duration.Input
  readonly save?: ((credentials: BlueskyCredentials) => Effect.Effect<void>) | undefined
}

export interface SessionManager {
  /** The current session, logging in when the credentials hold none. */
  readonly current: Effect.Effect<Session, PublishError.PublishError>
  /** The latest credentials (with the latest session). */
  readonly credentials: Effect.Effect<BlueskyCredentials>
  /** Replaces the session: refresh, or log in again when the refresh token is refused. */
  readonly renew: Effect.Effect<Session, PublishError.PublishError>
  /**
   * Runs an authenticated call; on a token problem renews the session once and
   * runs it again. `write` marks calls whose unanswered sending is `OutcomeUnknown`.
   */
  readonly run: <A, E extends PublishError.PublishError = never>(
    call: (session: Session) => Effect.Effect<A, XrpcFailure | E>,
    options?: { readonly write?: boolean }
  ) => Effect.Effect<A, PublishError.PublishError>
}

/** Where the account's repo lives. */
export const pdsOf = (session: Session, fallback: string): string => session.pdsUrl ?? fallback

export const mapFailure = (failure: XrpcFailure, write = false) =>
  Effect.flatMap(Clock.currentTimeMillis, (nowMillis) => Effect.fail(toPublishError(failure, { nowMillis, write })))

export const makeSessionManager = Effect.fn("Bluesky.makeSessionManager")(function*(options: SessionOptions) {
  const state = yield* Ref.make(options.credentials)
  const loginService = options.credentials.serviceUrl ?? options.defaultServiceUrl

  const store = (session: Session) =>
    Effect.gen(function*() {
      const updated = yield* Ref.updateAndGet(state, (credentials) => ({ ...credentials, session }))
      if (options.save !== undefined) yield* options.save(updated)
      return session
    })

  const login = Effect.gen(function*() {
    const credentials = yield* Ref.get(state)
    const session = yield* createSession(options.client, {
      service: loginService,
      identifier: credentials.identifier,
      password: credentials.appPassword,
      timeout: options.timeout
    }).pipe(Effect.catch((failure) => mapFailure(failure)))
    return yield* store(session)
  })

  const renew: Effect.Effect<Session, PublishError.PublishError> = Effect.gen(function*() {
    const { session } = yield* Ref.get(state)
    if (session === undefined) return yield* login
    const refreshed = yield* refreshSession(options.client, {
      service: pdsOf(session, loginService),
      session,
      timeout: options.timeout
    }).pipe(
      Effect.map((fresh) => ({ _tag: "fresh" as const, fresh })),
      // A refused refresh token (expired after months, or revoked) needs a new
      // login; any other failure keeps the stored tokens untouched.
      Effect.catch((failure) =>
        isAuthRefusal(failure) ? Effect.succeed({ _tag: "refused" as const }) : mapFailure(failure)
      )
    )
    return refreshed._tag === "fresh" ? yield* store(refreshed.fresh) : yield* login
  }).pipe(Effect.withSpan("Bluesky.renewSession"))

  const current = Effect.flatMap(Ref.get(state), (credentials) =>
    credentials.session !== undefined ? Effect.succeed(credentials.session) : login)

  const run = <A, E extends PublishError.PublishError = never>(
    call: (session: Session) => Effect.Effect<A, XrpcFailure | E>,
    runOptions?: { readonly write?: boolean }
  ): Effect.Effect<A, PublishError.PublishError> => {
    const write = runOptions?.write ?? false
    const mapped = (failure: XrpcFailure | E) =>
      failure._tag === "XrpcFailure" ? mapFailure(failure, write) : Effect.fail(failure)
    return Effect.gen(function*() {
      const session = yield* current
      const first = yield* Effect.result(call(session))
      if (first._tag === "Success") return first.success
      const failure = first.failure
      if (failure._tag !== "XrpcFailure" || !isTokenProblem(failure)) return yield* mapped(failure)
      const renewed = yield* renew
      return yield* call(renewed).pipe(Effect.catch(mapped))
    })
  }

  return { current, credentials: Ref.get(state), renew, run } satisfies SessionManager
})
