/**
 * Bluesky credentials and sessions.
 *
 * A user connects with their handle (or email, or DID) and an **app password**
 * (Settings → Privacy and security → App passwords). The publisher logs in
 * once with `com.atproto.server.createSession` and keeps the session (access
 * and refresh JWTs) in the credentials; later calls reuse it and refresh it
 * with `com.atproto.server.refreshSession` when the access token expires,
 * because createSession is limited to 30 per 5 minutes and 300 per day per
 * account (platform-specs §6.1; the bsky.social entryway has been seen
 * enforcing 100 a day, bsky-docs#183).
 */
import { Effect, Schema } from "effect"
import type { HttpClient } from "effect/http"
import * as Xrpc from "./internal/Xrpc.js"

/** The default entryway for login; a self-hosted PDS is set per account with `serviceUrl`. */
export const defaultServiceUrl = "https://bsky.social"

const NonEmpty = Schema.String.check(Schema.isMinLength(1))

/** A logged-in session. Both tokens rotate on every refresh. */
export const Session = Schema.Struct({
  accessJwt: NonEmpty,
  refreshJwt: NonEmpty,
  did: NonEmpty,
  handle: NonEmpty,
  /** The account's own PDS (from the DID document), where the repo lives; the login service when absent. */
  pdsUrl: Schema.optional(Schema.String)
})
export type Session = typeof Session.Type

/**
 * What a Bluesky destination stores. `session` is filled in (and kept fresh)
 * by the publisher through `saveCredentials`.
 *
 * @example
 * const credentials: BlueskyCredentials = {
 *   identifier: "alice.bsky.social",
 *   appPassword: "abcd-efgh-ijkl-mnop"
 * }
 */
export const BlueskyCredentials = Schema.Struct({
  /** Handle (`alice.bsky.social`), email, or DID. */
  identifier: NonEmpty,
  /** An app password, never the account password. */
  appPassword: NonEmpty,
  /** The service to log in at; `https://bsky.social` when absent. */
  serviceUrl: Schema.optional(Schema.String),
  session: Schema.optional(Session)
})
export type BlueskyCredentials = typeof BlueskyCredentials.Type

const SessionAnswer = Schema.Struct({
  accessJwt: Schema.String,
  refreshJwt: Schema.String,
  did: Schema.String,
  handle: Schema.String,
  didDoc: Schema.optional(Schema.Unknown)
})

/** The `#atproto_pds` service endpoint of a DID document, when it has one. */
export const pdsFromDidDoc = (didDoc: unknown): string | undefined => {
  const services = (didDoc as { service?: unknown } | undefined)?.service
  if (!Array.isArray(services)) return undefined
  for (const service of services) {
    const { id, serviceEndpoint, type } = (service ?? {}) as { id?: unknown; type?: unknown; serviceEndpoint?: unknown }
    const isPds = (typeof id === "string" && id.endsWith("#atproto_pds")) || type === "AtprotoPersonalDataServer"
    if (isPds && typeof serviceEndpoint === "string" && /^https?:\/\//.test(serviceEndpoint)) return serviceEndpoint
  }
  return undefined
}

const decodeSession = (nsid: string, previous?: Session) => (body: unknown): Effect.Effect<Session, Xrpc.XrpcFailure> =>
  Schema.decodeUnknownEffect(SessionAnswer)(body).pipe(
    Effect.mapError(() =>
      new Xrpc.XrpcFailure({ nsid, kind: "decode", message: `${nsid}: the answer has no session tokens` })
    ),
    Effect.map((answer): Session => {
      const pdsUrl = pdsFromDidDoc(answer.didDoc) ?? previous?.pdsUrl
      return {
        // Never replace a token with an empty one: a blank value would force a new login later.
        accessJwt: answer.accessJwt || previous?.accessJwt || "",
        refreshJwt: answer.refreshJwt || previous?.refreshJwt || "",
        did: answer.did || previous?.did || "",
        handle: answer.handle || previous?.handle || "",
        ...(pdsUrl !== undefined ? { pdsUrl } : {})
      }
    }),
    Effect.filterOrFail(
      (session) => session.accessJwt !== "" && session.refreshJwt !== "" && session.did !== "",
      () => new Xrpc.XrpcFailure({ nsid, kind: "decode", message: `${nsid}: the answer has empty session tokens` })
    )
  )

/** Logs in with an app password (`com.atproto.server.createSession`). */
export const createSession = (client: HttpClient.HttpClient, options: {
  readonly service: string
  readonly identifier: string
  readonly password: string
  readonly timeout: import("effect").Duration.Input
}): Effect.Effect<Session, Xrpc.XrpcFailure> =>
  Xrpc.call(client, {
    service: options.service,
    nsid: "com.atproto.server.createSession",
    method: "POST",
    json: { identifier: options.identifier, password: options.password },
    timeout: options.timeout
  }).pipe(Effect.flatMap(decodeSession("com.atproto.server.createSession")))

/** Rotates both tokens (`com.atproto.server.refreshSession`, authorised by the refresh JWT). */
export const refreshSession = (client: HttpClient.HttpClient, options: {
  readonly service: string
  readonly session: Session
  readonly timeout: import("effect").Duration.Input
}): Effect.Effect<Session, Xrpc.XrpcFailure> =>
  Xrpc.call(client, {
    service: options.service,
    nsid: "com.atproto.server.refreshSession",
    method: "POST",
    token: options.session.refreshJwt,
    timeout: options.timeout
  }).pipe(Effect.flatMap(decodeSession("com.atproto.server.refreshSession", options.session)))

const ProfileAnswer = Schema.Struct({
  did: Schema.String,
  handle: Schema.String,
  displayName: Schema.optional(Schema.String),
  avatar: Schema.optional(Schema.String)
})
export type Profile = typeof ProfileAnswer.Type

/** `app.bsky.actor.getProfile` for a DID or handle. */
export const getProfile = (client: HttpClient.HttpClient, options: {
  readonly service: string
  readonly token: string
  readonly actor: string
  readonly timeout: import("effect").Duration.Input
}): Effect.Effect<Profile, Xrpc.XrpcFailure> =>
  Xrpc.call(client, {
    service: options.service,
    nsid: "app.bsky.actor.getProfile",
    method: "GET",
    params: { actor: options.actor },
    token: options.token,
    timeout: options.timeout
  }).pipe(
    Effect.flatMap((body) =>
      Schema.decodeUnknownEffect(ProfileAnswer)(body).pipe(
        Effect.mapError(() =>
          new Xrpc.XrpcFailure({ nsid: "app.bsky.actor.getProfile", kind: "decode", message: "the profile has no did/handle" })
        )
      )
    )
  )
