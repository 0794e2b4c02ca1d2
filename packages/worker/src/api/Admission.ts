/**
 * The key gate inside a read: on an endpoint annotated `AdmitInRead` (the
 * GETs of one post), authentication does not run its own statement first.
 * The handler's read takes the key gate's common table expressions in front
 * (`KeyGate.admitWith`): the key found, marked used, counted against its
 * limit, and the read run for its organization only when the key is admitted.
 * A GET is then one round trip, as a plain server's would be (the key gate's
 * statement was half of a `GET /v1/posts/:id`'s server time).
 *
 * Nothing is decided differently. The read runs only for a key of an enabled
 * organization, unexpired, allowed the method and within its limit, exactly
 * the keys `KeyGate.admit` counts; the rate limit's headers are the same.
 * Whenever the read did not admit the key (no such key, revoked, expired, of
 * a disabled organization, an admin key, over its limit, or the request
 * failed before its read, such as an undecodable id), `Authentication`
 * forgets the attempt and authenticates the request the usual way, which
 * answers the precise error in the usual order (authentication's errors before
 * a request's own). A refused key was not counted by the read, and one over
 * its limit is refused again without a count, so no request counts twice; the
 * read changed nothing, so running the request again is safe.
 *
 * Until the read admits the key, the principal's organization and key are
 * unknown: reading them is a defect of the handler, and the request is then
 * also authenticated the usual way (a mis-annotated endpoint is slower, never
 * wrong).
 */
import { Context, Effect, Layer, Option } from "effect"
import { HttpEffect, type HttpServerRequest, HttpServerResponse } from "effect/http"
import type { SqlError, Statement } from "effect/sql"
import { ServerConfig } from "../Config.js"
import type { AuthenticatedKey } from "../storage/ApiKeys.js"
import { type PendingAdmission, Principal } from "./Api.js"
import { KeyGate } from "./KeyGate.js"
import { headersOf, type RateDecision } from "./RateLimiter.js"

/** The defect of reading a pending principal's fields before the read admitted its key. */
export class ReadBeforeAdmission extends Error {
  constructor(field: string) {
    super(`the principal's ${field} was read before its key was admitted (see Admission)`)
    this.name = "ReadBeforeAdmission"
  }
}

/** The defect that ends a request whose read did not admit its key; `Authentication` then authenticates it the usual way. */
export class NotAdmitted extends Error {
  constructor() {
    super("the key was not admitted by the read; authenticating the usual way")
    this.name = "NotAdmitted"
  }
}

/** A principal whose key waits for its read: its fields become known when the read admits the key. */
export const pendingPrincipal = (rawKey: string, method: string): Principal["Service"] => {
  let admitted: { readonly key: AuthenticatedKey & { readonly scope: "organization" }; readonly decision: RateDecision | undefined } | undefined
  const known = (field: string) => {
    if (admitted === undefined) throw new ReadBeforeAdmission(field)
    return admitted
  }
  const pending: PendingAdmission = {
    rawKey,
    method,
    get admitted() {
      return admitted !== undefined
    },
    admit: (value) => {
      if (value.key.scope !== "organization") throw new NotAdmitted()
      admitted = { key: value.key, decision: value.decision }
    }
  }
  return Principal.of({
    get organizationId() {
      return known("organizationId").key.organizationId
    },
    get apiKeyId() {
      return known("apiKeyId").key.id
    },
    get rateLimitPerMinute() {
      return known("rateLimitPerMinute").key.rateLimitPerMinute
    },
    get rateDecision() {
      return known("rateDecision").decision
    },
    pending
  })
}

export interface AdmissionShape {
  /**
   * Reads `query` for the principal's organization: in the key gate's
   * statement when the principal is pending (and admits it), else as is.
   * `decode` turns the row (undefined: none) into the answer.
   */
  readonly read: <Row extends object, A, E>(
    query: (organizationId: Statement.Fragment | string) => Statement.Statement<Row>,
    decode: (row: Row | undefined) => Effect.Effect<A, E>
  ) => Effect.Effect<A, E | SqlError.SqlError, Principal | HttpServerRequest.HttpServerRequest>
}

export class Admission extends Context.Service<Admission, AdmissionShape>()("@omnipost/worker/http/Admission") {
  static readonly layer: Layer.Layer<Admission, never, KeyGate | ServerConfig> = Layer.effect(
    Admission,
    Effect.gen(function*() {
      const gate = yield* KeyGate
      const config = yield* ServerConfig
      const read: AdmissionShape["read"] = (query, decode) =>
        Effect.gen(function*() {
          const principal = yield* Principal
          const pending = principal.pending
          if (pending === undefined || pending.admitted) {
            const rows = yield* query(principal.organizationId)
            return yield* decode(rows[0])
          }
          const { admitted, row } = yield* gate.admitWith(
            pending.rawKey,
            { method: pending.method, defaultLimitPerMinute: config.defaultRateLimitPerMinute },
            query
          )
          // Admitted: a key of an organization the statement counted and allowed (and only then did it read).
          const value = Option.getOrUndefined(admitted)
          if (value === undefined || value.key.scope !== "organization" || value.decision?.allowed !== true) {
            return yield* Effect.die(new NotAdmitted())
          }
          pending.admit(value)
          const headers = headersOf(value.decision)
          yield* HttpEffect.appendPreResponseHandler((_request, response) =>
            Effect.succeed(HttpServerResponse.setHeaders(response, headers))
          )
          return yield* decode(row)
        })
      return Admission.of({ read })
    })
  )
}
