/**
 * Who is calling and the middlewares that decide it: the principal an
 * authenticated request carries, the security schemes, authentication (keys
 * and admin keys), the request policy (rate limit, idempotency) and the
 * decoding errors' shape. Declarations only; `Middleware.ts` implements them.
 */
import { Context } from "effect"
import { HttpApiMiddleware, HttpApiSecurity, OpenApi } from "effect/http-api"
import type { AuthenticatedKey } from "../storage/ApiKeys.js"
import * as Errors from "../Errors.js"
import type * as RateLimiter from "./RateLimiter.js"

export class Principal extends Context.Service<Principal, {
  readonly organizationId: string
  readonly apiKeyId: string
  /** The key's own limit; the server default when undefined. */
  readonly rateLimitPerMinute: number | undefined
  /** The rate limit's decision, when authentication already counted the request (`KeyGate`); else the limiter is asked. */
  readonly rateDecision?: RateLimiter.RateDecision | undefined
  /**
   * Set on an endpoint annotated `AdmitInRead` while the key is not yet
   * admitted: the handler's read admits it in the same statement
   * (`Admission.read`). Until then the other fields are not known and reading
   * them is a defect (the request is then authenticated the usual way).
   */
  readonly pending?: PendingAdmission | undefined
}>()("@omnipost/worker/http/Principal") {}

/** A request's key waiting to be admitted by its endpoint's read (`Admission`). */
export interface PendingAdmission {
  readonly rawKey: string
  readonly method: string
  /** Whether the read admitted the key (the principal's fields are then known). */
  readonly admitted: boolean
  readonly admit: (admitted: { readonly key: AuthenticatedKey; readonly decision: RateLimiter.RateDecision | undefined }) => void
}

/**
 * Marks a read-only endpoint (GET) whose handler reads through
 * `Admission.read`: the key gate runs inside that read's statement (one
 * round trip instead of two), not before it.
 */
export class AdmitInRead extends Context.Service<AdmitInRead, true>()("@omnipost/worker/http/AdmitInRead") {}

// `HttpApiSecurity.bearer` declares the scheme as "Bearer"; Scalar only knows
// the lowercase IANA name and fell back to `Authorization: Basic username:password`
// in its samples. Credentials are still read case-insensitively (RFC 9110).
const security = {
  bearer: HttpApiSecurity.annotate(
    HttpApiSecurity.http({ scheme: "bearer" }),
    OpenApi.Description,
    "An API key: `Authorization: Bearer <key>`."
  ),
  apiKey: HttpApiSecurity.apiKey({ key: "x-api-key", in: "header" })
}

/**
 * Authenticates every `/v1` request but `/v1/admin`: `Authorization: Bearer <key>`
 * or `x-api-key: <key>`, an organization's key, its organization not disabled.
 */
export class Authentication extends HttpApiMiddleware.Service<Authentication, { provides: Principal }>()(
  "@omnipost/worker/http/Authentication",
  { error: [Errors.InvalidApiKey, Errors.ExpiredApiKey, Errors.ReadOnlyApiKey, Errors.OrganizationDisabled, Errors.OrganizationKeyRequired], security }
) {}

/** Who is calling `/v1/admin`: an admin key. */
export class AdminPrincipal extends Context.Service<AdminPrincipal, {
  readonly apiKeyId: string
  readonly rateLimitPerMinute: number | undefined
}>()("@omnipost/worker/http/AdminPrincipal") {}

/** Authenticates `/v1/admin` requests (admin keys only) and applies the key's rate limit. */
export class AdminAuthentication extends HttpApiMiddleware.Service<AdminAuthentication, { provides: AdminPrincipal }>()(
  "@omnipost/worker/http/AdminAuthentication",
  { error: [Errors.InvalidApiKey, Errors.ExpiredApiKey, Errors.ReadOnlyApiKey, Errors.AdminKeyRequired, Errors.RateLimited], security }
) {}

/**
 * After authentication: applies the key's rate limit and answers repeated
 * `Idempotency-Key` POSTs from the stored first response.
 */
export class RequestPolicy extends HttpApiMiddleware.Service<RequestPolicy, { requires: Principal }>()(
  "@omnipost/worker/http/RequestPolicy",
  { error: [Errors.RateLimited, Errors.IdempotencyConflict] }
) {}

/**
 * Turns request-decoding failures into `VALIDATION_FAILED`, or `UNKNOWN_FIELD`
 * when the only problems are fields the endpoint does not take (instead of
 * the framework's empty 400).
 */
export class DecodeErrors extends HttpApiMiddleware.Service<DecodeErrors>()("@omnipost/worker/http/DecodeErrors", {
  error: [Errors.ValidationFailed, Errors.UnknownField]
}) {}
