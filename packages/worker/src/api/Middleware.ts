/**
 * The implementations of the API's middleware: authentication with rate
 * limiting and idempotency (`Authentication`), and the rendering of
 * request-decoding failures as `VALIDATION_FAILED` / `UNKNOWN_FIELD` (`DecodeErrors`).
 */
import { Clock, Context, Effect, Exit, Layer, Option, Redacted } from "effect"
import { HttpEffect, HttpServerRequest, HttpServerResponse } from "effect/http"
import { type HttpApiEndpoint, HttpApiMiddleware, type HttpApiError } from "effect/http-api"
import type { SqlError } from "effect/sql"
import { ApiKeys, type AuthenticatedKey, isWellFormed } from "../storage/ApiKeys.js"
import { pendingPrincipal } from "./Admission.js"
import { KeyGate, reads } from "./KeyGate.js"
import { ServerConfig } from "../Config.js"
import { hashRequest, Idempotency } from "./Idempotency.js"
import { headersOf, type RateDecision, RateLimiter } from "./RateLimiter.js"
import { AdminAuthentication, AdminPrincipal, AdmitInRead, Authentication, DecodeErrors, Principal, RequestPolicy } from "./Api.js"
import * as Errors from "../Errors.js"

/** A schema-decoding failure of the request as `VALIDATION_FAILED` or `UNKNOWN_FIELD`, with one `{ path, message }` per issue. */
export const decodeErrorToValidationFailed = (error: HttpApiError.HttpApiSchemaError) =>
  Errors.schemaFailure(error.kind.toLowerCase(), error.cause)

export const DecodeErrorsLive = HttpApiMiddleware.layerSchemaErrorTransform(DecodeErrors, (error) =>
  error.kind === "Body" || error.kind === "ResponseHeaders"
    // A response that does not match its own schema is our bug: let it be a defect (500, reported).
    ? Effect.fail(error)
    : Effect.fail(decodeErrorToValidationFailed(error)))

const bodyOf = (response: HttpServerResponse.HttpServerResponse): unknown => {
  const body = response.body
  if (body._tag === "Uint8Array") {
    const text = new TextDecoder().decode(body.body)
    try {
      return JSON.parse(text)
    } catch {
      return text
    }
  }
  return null
}

/** Content types whose bodies are hashed whole; uploads are fingerprinted by their headers instead of being buffered. */
const isBufferedBody = (contentType: string) =>
  contentType === "" || contentType.includes("json") || contentType.includes("x-www-form-urlencoded")

/**
 * The raw key: the scheme's credential, else the other scheme's header. The
 * framework tries the schemes in turn and answers the last one's failure, so
 * each must judge the key the request did send (a refused key is 403 under
 * either scheme, not "missing" under the one it did not use).
 */
const rawKey = (credential: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const given = Redacted.value(credential).trim()
    if (given !== "") return given
    const headers = (yield* HttpServerRequest.HttpServerRequest).headers
    const bearer = /^bearer\s+(.+)$/i.exec(headers["authorization"] ?? "")?.[1]?.trim()
    return bearer ?? (headers["x-api-key"] ?? "").trim()
  })

/**
 * The key behind a request's credential, or `INVALID_API_KEY`: found by
 * `find` (`ApiKeys.authenticate`, or `KeyGate.admit`, which also counts the
 * request), a refusal explained by `keys.revocation`.
 */
const authenticate = <K extends { readonly key: AuthenticatedKey }>(
  keys: ApiKeys["Service"],
  credential: Redacted.Redacted<string>,
  find: (raw: string) => Effect.Effect<Option.Option<K>, SqlError.SqlError>
) =>
  Effect.gen(function*() {
    const raw = yield* rawKey(credential)
    if (raw === "") {
      return yield* Errors.make(
        Errors.InvalidApiKey,
        "missing API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`"
      )
    }
    const found = yield* find(raw).pipe(Effect.orDie)
    if (Option.isNone(found)) {
      const revoked = yield* keys.revocation(raw).pipe(Effect.orDie)
      return yield* Option.match(revoked, {
        onNone: () => Errors.make(Errors.InvalidApiKey, "invalid API key: no such key (check that it was copied whole)", { reason: "invalid" }),
        onSome: ({ id, revokedAt }) =>
          Errors.make(Errors.InvalidApiKey, `the API key ${id} was revoked at ${revokedAt}; create a new one`, {
            reason: "revoked",
            keyId: id,
            revokedAt
          })
      })
    }
    const key = found.value.key
    if (key.expiresAt !== undefined && Date.parse(key.expiresAt) <= (yield* Clock.currentTimeMillis)) {
      return yield* Errors.make(Errors.ExpiredApiKey, `the API key ${key.id} expired at ${key.expiresAt}; create a new one`, {
        keyId: key.id,
        expiredAt: key.expiresAt
      })
    }
    return found.value
  })

const lookup = (keys: ApiKeys["Service"]) => (raw: string) =>
  keys.authenticate(raw).pipe(Effect.map(Option.map((key) => ({ key }))))

/** A new key's `expiresAt` must lie ahead: a key born expired would be refused at once. */
export const futureExpiry = (expiresAt: string | undefined) =>
  Effect.gen(function*() {
    if (expiresAt === undefined || Date.parse(expiresAt) > (yield* Clock.currentTimeMillis)) return
    return yield* Errors.make(Errors.ValidationFailed, `expiresAt ${expiresAt} is not in the future`, {
      issues: [{ path: ["payload", "expiresAt"], message: "must be in the future" }]
    })
  })

/** A read-only key may only read: GET and HEAD. */
const allowedFor = (key: { readonly id: string; readonly readOnly: boolean }, method: string) =>
  key.readOnly && method !== "GET" && method !== "HEAD"
    ? Errors.make(Errors.ReadOnlyApiKey, `the API key ${key.id} is read-only: it may only GET`, { keyId: key.id, method })
    : Effect.void

/** A valid key of an enabled organization (not an admin key), or the error that says why not. */
export const organizationKey = (keys: ApiKeys["Service"], credential: Redacted.Redacted<string>) =>
  Effect.map(admittedOrganizationKey(keys, credential, lookup(keys)), ({ key }) => key)

const admittedOrganizationKey = <K extends { readonly key: AuthenticatedKey }>(
  keys: ApiKeys["Service"],
  credential: Redacted.Redacted<string>,
  find: (raw: string) => Effect.Effect<Option.Option<K>, SqlError.SqlError>
) =>
  Effect.gen(function*() {
    const found = yield* authenticate(keys, credential, find)
    const key = found.key
    if (key.scope === "admin") {
      return yield* Errors.make(
        Errors.OrganizationKeyRequired,
        "an admin key manages organizations (/v1/admin) and acts for none: use a key of the organization"
      )
    }
    if (key.organizationDisabled) {
      return yield* Errors.make(
        Errors.OrganizationDisabled,
        `organization ${key.organizationId} is disabled: its keys are refused until an operator enables it`,
        { organizationId: key.organizationId }
      )
    }
    return { ...found, key }
  })

/**
 * Counts the request against the key's limit. Every response of the request,
 * whatever it turns out to be, carries the limit's state (`RateLimit-*`, and
 * `Retry-After` on a refusal); `RATE_LIMITED` when the key has spent its
 * requests of the minute.
 */
const rateLimit = (limiter: RateLimiter["Service"], keyId: string, perMinute: number, taken?: RateDecision) =>
  Effect.gen(function*() {
    const decision = taken ?? (yield* limiter.take(keyId, perMinute).pipe(Effect.orDie))
    const headers = headersOf(decision)
    yield* HttpEffect.appendPreResponseHandler((_request, response) =>
      Effect.succeed(HttpServerResponse.setHeaders(response, headers))
    )
    if (!decision.allowed) {
      return yield* Errors.make(
        Errors.RateLimited,
        `rate limit of ${decision.limit} requests per minute exceeded; retry in ${decision.retryAfterSeconds}s`,
        { retryAfterSeconds: decision.retryAfterSeconds, limitPerMinute: decision.limit }
      )
    }
  })

export const AuthenticationLive = Layer.effect(
  Authentication,
  Effect.gen(function*() {
    const keys = yield* ApiKeys
    const gate = yield* KeyGate
    const config = yield* ServerConfig
    const authenticated = Effect.fnUntraced(function*(
      httpEffect: Effect.Effect<HttpServerResponse.HttpServerResponse, any, Principal>,
      credential: Redacted.Redacted<string>,
      method: string
    ) {
      // One round trip finds the key and counts the request (when the key may make it; see KeyGate).
      const { decision, key } = yield* admittedOrganizationKey(
        keys,
        credential,
        (raw) => gate.admit(raw, { method, defaultLimitPerMinute: config.defaultRateLimitPerMinute })
      )
      yield* allowedFor(key, method)
      const principal = Principal.of({
        organizationId: key.organizationId,
        apiKeyId: key.id,
        rateLimitPerMinute: key.rateLimitPerMinute,
        rateDecision: decision
      })
      return yield* Effect.provideService(httpEffect, Principal, principal)
    })
    const run = Effect.fnUntraced(function*(
      httpEffect: Effect.Effect<HttpServerResponse.HttpServerResponse, any, Principal>,
      credential: Redacted.Redacted<string>,
      endpoint: HttpApiEndpoint.Top
    ) {
      const method = endpoint.method
      if (reads(method) && Option.isSome(Context.getOption(endpoint.annotations, AdmitInRead))) {
        // The key is admitted by the handler's read, in its statement (see Admission).
        const raw = yield* rawKey(credential)
        if (isWellFormed(raw)) {
          const principal = pendingPrincipal(raw, method)
          const exit = yield* Effect.exit(Effect.provideService(httpEffect, Principal, principal))
          if (principal.pending?.admitted === true || Exit.hasInterrupts(exit)) return yield* exit
          // Not admitted (refused, or failed before its read): the usual way decides, and answers.
        }
      }
      return yield* authenticated(httpEffect, credential, method)
    })
    return Authentication.of({
      bearer: (httpEffect, { credential, endpoint }) => run(httpEffect, credential, endpoint),
      apiKey: (httpEffect, { credential, endpoint }) => run(httpEffect, credential, endpoint)
    })
  })
)

export const AdminAuthenticationLive = Layer.effect(
  AdminAuthentication,
  Effect.gen(function*() {
    const keys = yield* ApiKeys
    const limiter = yield* RateLimiter
    const config = yield* ServerConfig
    const run = Effect.fnUntraced(function*(
      httpEffect: Effect.Effect<HttpServerResponse.HttpServerResponse, any, AdminPrincipal>,
      credential: Redacted.Redacted<string>,
      method: string
    ) {
      const { key } = yield* authenticate(keys, credential, lookup(keys))
      yield* allowedFor(key, method)
      if (key.scope !== "admin") {
        return yield* Errors.make(
          Errors.AdminKeyRequired,
          "/v1/admin takes an admin key (`omnipost keys create --admin`); an organization's key acts only for its organization"
        )
      }
      yield* rateLimit(limiter, key.id, key.rateLimitPerMinute ?? config.defaultRateLimitPerMinute)
      const principal = AdminPrincipal.of({ apiKeyId: key.id, rateLimitPerMinute: key.rateLimitPerMinute })
      return yield* Effect.provideService(httpEffect, AdminPrincipal, principal)
    })
    return AdminAuthentication.of({
      bearer: (httpEffect, { credential, endpoint }) => run(httpEffect, credential, endpoint.method),
      apiKey: (httpEffect, { credential, endpoint }) => run(httpEffect, credential, endpoint.method)
    })
  })
)

export const RequestPolicyLive = Layer.effect(
  RequestPolicy,
  Effect.gen(function*() {
    const limiter = yield* RateLimiter
    const idempotency = yield* Idempotency
    const config = yield* ServerConfig

    return RequestPolicy.of((httpEffect) =>
      Effect.gen(function*() {
        const principal = yield* Principal
        // A key admitted by the endpoint's read is counted there, and a read takes no Idempotency-Key.
        if (principal.pending !== undefined) return yield* httpEffect
        yield* rateLimit(
          limiter,
          principal.apiKeyId,
          principal.rateLimitPerMinute ?? config.defaultRateLimitPerMinute,
          principal.rateDecision
        )
        const request = yield* HttpServerRequest.HttpServerRequest
        const idempotencyKey = request.headers["idempotency-key"]
        if (request.method !== "POST" || idempotencyKey === undefined || idempotencyKey === "") return yield* httpEffect
        if (idempotencyKey.length > 255) {
          return yield* Errors.make(Errors.IdempotencyConflict, "an Idempotency-Key is at most 255 characters")
        }
        const organizationId = principal.organizationId
        const contentType = (request.headers["content-type"] ?? "").toLowerCase()
        const path = request.url.split("?")[0]!
        const fingerprint = isBufferedBody(contentType)
          ? [request.url, yield* request.text.pipe(Effect.orElseSucceed(() => ""))]
          // The multipart boundary is random per request: a repeat is recognized by type and length.
          : [request.url, contentType.split(";")[0]!.trim(), request.headers["content-length"] ?? ""]
        const reservation = yield* idempotency.reserve({
          organizationId,
          key: idempotencyKey,
          method: request.method,
          path,
          requestHash: hashRequest(fingerprint)
        }).pipe(Effect.orDie)
        switch (reservation._tag) {
          case "Replay":
            return HttpServerResponse.jsonUnsafe(reservation.response.body, {
              status: reservation.response.status,
              headers: { "idempotent-replayed": "true" }
            })
          case "Mismatch":
            return yield* Errors.make(
              Errors.IdempotencyConflict,
              "this Idempotency-Key was used with a different request; use a new key for a new request"
            )
          case "InProgress":
            return yield* Errors.make(
              Errors.IdempotencyConflict,
              "a request with this Idempotency-Key is still in progress; retry once it has finished"
            )
          case "Reserved":
            break
        }
        // Only successes are replayed: a failed request changed nothing, so its key is released for a corrected retry.
        return yield* httpEffect.pipe(
          Effect.tap((response) =>
            response.status < 300
              ? idempotency.complete(organizationId, idempotencyKey, { status: response.status, body: bodyOf(response) })
              : idempotency.release(organizationId, idempotencyKey)
          ),
          Effect.onError(() => idempotency.release(organizationId, idempotencyKey).pipe(Effect.ignore)),
          Effect.catchTag("SqlError", Effect.die)
        )
      })
    )
  })
)
