/**
 * The service's error codes, shared by storage and the API (storage fails with
 * them, the API answers with them). The API's error model: every error answers `{ "error": { "code", "message", "details" } }`
 * with the status its code implies. Each code is its own `Schema.Error` class,
 * so an endpoint declares exactly the errors it can return and the OpenAPI
 * document lists them per status.
 */
import { Problems } from "@omnipost/core"
import type { UrlGuard } from "./internal/platformKit.js"
import type { Cause } from "effect"
import { Schema } from "effect"

const body = <const Code extends string>(code: Code) =>
  Schema.Struct({
    code: Schema.Literal(code),
    message: Schema.String,
    details: Schema.optional(Schema.Unknown),
    /** The request's id (also the `X-Request-Id` header), for finding it in the server's logs. */
    requestId: Schema.optional(Schema.String)
  })

const codes = new WeakMap<object, string>()

/**
 * Builds the class of one error code.
 *
 * @example
 * class PostNotFound extends apiError<PostNotFound>()("PostNotFound", "POST_NOT_FOUND", 404) {}
 * yield* PostNotFound.of("no post post_123")
 */
const apiError = <Self>() => <const Code extends string>(tag: string, code: Code, status: number) => {
  // The conditional `Self` check of `Schema.Error` cannot resolve for a generic `Self`; the cast restates its result.
  const Base = Schema.Error<Self>(tag)({ error: body(code) }, {
    httpApiStatus: status,
    description: `${status} ${code}`
  } as any) as unknown as Schema.Class<Self, Schema.Struct<{ readonly error: ReturnType<typeof body<Code>> }>, Cause.YieldableError>
  codes.set(Base, code)
  return Base
}

export class InvalidApiKey extends apiError<InvalidApiKey>()("InvalidApiKey", "INVALID_API_KEY", 401) {}
export class ExpiredApiKey extends apiError<ExpiredApiKey>()("ExpiredApiKey", "EXPIRED_API_KEY", 401) {}
export class ReadOnlyApiKey extends apiError<ReadOnlyApiKey>()("ReadOnlyApiKey", "READ_ONLY_API_KEY", 403) {}
export class Forbidden extends apiError<Forbidden>()("Forbidden", "FORBIDDEN", 403) {}
/** The key's organization is disabled by the operator: its keys are refused until it is enabled again. */
export class OrganizationDisabled extends apiError<OrganizationDisabled>()(
  "OrganizationDisabled",
  "ORGANIZATION_DISABLED",
  403
) {}
/** `/v1/admin` takes admin keys only. */
export class AdminKeyRequired extends apiError<AdminKeyRequired>()("AdminKeyRequired", "ADMIN_KEY_REQUIRED", 403) {}
/** An admin key manages organizations; it acts for none (posts, accounts, media, webhooks, keys). */
export class OrganizationKeyRequired extends apiError<OrganizationKeyRequired>()(
  "OrganizationKeyRequired",
  "ORGANIZATION_KEY_REQUIRED",
  403
) {}
export class ValidationFailed extends apiError<ValidationFailed>()("ValidationFailed", "VALIDATION_FAILED", 400) {}
/** Fields (body, multipart part or query parameter) the endpoint does not have; each issue names the field probably meant. */
export class UnknownField extends apiError<UnknownField>()("UnknownField", "UNKNOWN_FIELD", 400) {}
export class InvalidAccounts extends apiError<InvalidAccounts>()("InvalidAccounts", "INVALID_ACCOUNTS", 400) {}
/** A post body refers to media (by id, or a `stored` source such as a thumbnail's) that is unknown or another organization's. */
export class InvalidMedia extends apiError<InvalidMedia>()("InvalidMedia", "INVALID_MEDIA", 400) {}
export class InvalidCredentials extends apiError<InvalidCredentials>()(
  "InvalidCredentials",
  "INVALID_CREDENTIALS",
  400
) {}
export class UnsupportedMediaType extends apiError<UnsupportedMediaType>()(
  "UnsupportedMediaType",
  "UNSUPPORTED_MEDIA_TYPE",
  400
) {}
/** A URL the server will not fetch (loopback, private, metadata…): `details` says why and how to allow it. */
export class UrlNotAllowed extends apiError<UrlNotAllowed>()("UrlNotAllowed", "URL_NOT_ALLOWED", 400) {}
export class UnknownPlatform extends apiError<UnknownPlatform>()("UnknownPlatform", "UNKNOWN_PLATFORM", 400) {}
export class PayloadTooLarge extends apiError<PayloadTooLarge>()("PayloadTooLarge", "PAYLOAD_TOO_LARGE", 413) {}
export class NotFound extends apiError<NotFound>()("NotFound", "NOT_FOUND", 404) {}
export class PostNotFound extends apiError<PostNotFound>()("PostNotFound", "POST_NOT_FOUND", 404) {}
export class AccountNotFound extends apiError<AccountNotFound>()("AccountNotFound", "ACCOUNT_NOT_FOUND", 404) {}
export class MediaNotFound extends apiError<MediaNotFound>()("MediaNotFound", "MEDIA_NOT_FOUND", 404) {}
export class ApiKeyNotFound extends apiError<ApiKeyNotFound>()("ApiKeyNotFound", "API_KEY_NOT_FOUND", 404) {}
export class OrganizationNotFound extends apiError<OrganizationNotFound>()(
  "OrganizationNotFound",
  "ORGANIZATION_NOT_FOUND",
  404
) {}
export class WebhookNotFound extends apiError<WebhookNotFound>()("WebhookNotFound", "WEBHOOK_NOT_FOUND", 404) {}
export class GroupNotFound extends apiError<GroupNotFound>()("GroupNotFound", "GROUP_NOT_FOUND", 404) {}
/** A group name already used in the organization (names ignore case). */
export class GroupNameTaken extends apiError<GroupNameTaken>()("GroupNameTaken", "GROUP_NAME_TAKEN", 409) {}
/** Adding these accounts would pass the most a group holds (`details.max`). */
export class GroupFull extends apiError<GroupFull>()("GroupFull", "GROUP_FULL", 409) {}
/** A post targets a group with no accounts: it would publish nowhere there. */
export class EmptyGroup extends apiError<EmptyGroup>()("EmptyGroup", "EMPTY_GROUP", 400) {}
export class InvalidStatusTransition extends apiError<InvalidStatusTransition>()(
  "InvalidStatusTransition",
  "INVALID_STATUS_TRANSITION",
  409
) {}
/** Media that posts not yet published still use. */
export class MediaInUse extends apiError<MediaInUse>()("MediaInUse", "MEDIA_IN_USE", 409) {}
export class IdempotencyConflict extends apiError<IdempotencyConflict>()(
  "IdempotencyConflict",
  "IDEMPOTENCY_CONFLICT",
  409
) {}
export class RateLimited extends apiError<RateLimited>()("RateLimited", "RATE_LIMITED", 429) {}
/** A URL the server fetched on the caller's behalf answered with an error or could not be read. */
export class MediaUnavailable extends apiError<MediaUnavailable>()("MediaUnavailable", "MEDIA_UNAVAILABLE", 422) {}
export class PlatformError extends apiError<PlatformError>()("PlatformError", "PLATFORM_ERROR", 502) {}
export class NotReady extends apiError<NotReady>()("NotReady", "NOT_READY", 503) {}
/** The database cannot be reached (an outage, a restart): nothing was changed; try again shortly (`Retry-After`). */
export class DatabaseUnavailable extends apiError<DatabaseUnavailable>()("DatabaseUnavailable", "DATABASE_UNAVAILABLE", 503) {}
/** The media store (the disk, or the S3-compatible service) failed or cannot be reached: nothing was kept; try again shortly (`Retry-After`). */
export class MediaStoreUnavailable extends apiError<MediaStoreUnavailable>()("MediaStoreUnavailable", "MEDIA_STORE_UNAVAILABLE", 503) {}
export class InternalError extends apiError<InternalError>()("InternalError", "INTERNAL_ERROR", 500) {}

/**
 * An instance of an error class with its code filled in.
 *
 * @example
 * return yield* make(PostNotFound, `no post ${id}`)
 */
export const make = <T>(
  Class: new(args: { readonly error: any }) => T,
  message: string,
  details?: unknown
): T => {
  // The registered class is the base the exported class extends.
  let owner: object | null = Class
  while (owner !== null && !codes.has(owner)) owner = Object.getPrototypeOf(owner)
  const code = owner === null ? "INTERNAL_ERROR" : codes.get(owner)!
  return new Class({ error: details === undefined ? { code, message } : { code, message, details } })
}

/** A URL the guard refused, at `path` of the request: why, and whether (and how) it can be allowed. */
export const urlNotAllowed = (refused: UrlGuard.UrlRefused, path: string): UrlNotAllowed =>
  make(UrlNotAllowed, `${path}: ${refused.message}`, {
    path,
    url: refused.url,
    host: refused.host,
    ...(refused.address !== undefined ? { address: refused.address } : {}),
    reason: refused.reason,
    allowable: refused.allowable
  })

/** The wire shape of every error, for clients and tests. */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    code: Schema.String,
    message: Schema.String,
    details: Schema.optional(Schema.Unknown)
  })
})
export type ErrorBody = typeof ErrorBody.Type

/** An error body as JSON, for responses produced outside the typed endpoints (404 routes, defects). */
export const errorJson = (code: string, message: string, details?: unknown): ErrorBody => ({
  error: details === undefined ? { code, message } : { code, message, details }
})

/** One problem of a request, as it appears in `details.issues`. */
export interface RequestIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
  readonly code?: "UNKNOWN_FIELD"
  readonly suggestions?: ReadonlyArray<string>
}

const summary = (issues: ReadonlyArray<RequestIssue>, omitted: number) => {
  const shown = issues.slice(0, 3).map((issue) =>
    issue.code === "UNKNOWN_FIELD" ? issue.message : `${issue.path.slice(1).join(".") || issue.path[0]}: ${issue.message}`
  )
  const more = issues.length - shown.length + omitted
  return `${shown.join("; ")}${more > 0 ? ` (and ${more} more)` : ""}`
}

/**
 * Problems of a request as one error: `UNKNOWN_FIELD` when every problem is
 * a field the endpoint does not have, else `VALIDATION_FAILED`; `details.issues`
 * lists each with its path (starting with `slot`: `payload`, `query`…), and
 * unknown fields with the fields probably meant (`suggestions`).
 */
export const requestProblems = (
  slot: ReadonlyArray<string | number>,
  result: { readonly problems: ReadonlyArray<Problems.Problem>; readonly omitted: number }
): ValidationFailed | UnknownField => {
  const issues: Array<RequestIssue> = result.problems.map((problem) => ({
    path: [...slot, ...problem.path],
    message: problem.message,
    ...(problem.code !== undefined ? { code: problem.code } : {}),
    ...(problem.suggestions !== undefined ? { suggestions: problem.suggestions } : {})
  }))
  const details = result.omitted > 0 ? { issues, omitted: result.omitted } : { issues }
  const where = `the request ${slot.join(".")}`
  return issues.length > 0 && issues.every((issue) => issue.code === "UNKNOWN_FIELD")
    ? make(UnknownField, `${where} has fields this endpoint does not take: ${summary(issues, result.omitted)}`, details)
    : make(ValidationFailed, `${where} is invalid: ${summary(issues, result.omitted)}`, details)
}

/** Unknown fields named by their paths (under `slot`), each with the fields probably meant among `known`. */
export const unknownFields = (
  slot: ReadonlyArray<string | number>,
  names: ReadonlyArray<string>,
  known: ReadonlyArray<string>
): UnknownField =>
  requestProblems(slot, { problems: names.map((name) => Problems.unknownField([name], known)), omitted: 0 }) as UnknownField

/**
 * A value that does not match its schema (decoded with `errors: "all"` and
 * `onExcessProperty: "error"`), as `UNKNOWN_FIELD` or `VALIDATION_FAILED`
 * with one `{ path, message }` per problem; `slot` (`payload`, `query`,
 * `credentials`…) starts each path.
 */
export const schemaFailure = (
  slot: string | ReadonlyArray<string | number>,
  error: Schema.SchemaError
): ValidationFailed | UnknownField =>
  requestProblems(typeof slot === "string" ? [slot] : slot, Problems.fromIssue(error.issue))

/** The parse options of every request decoding: all problems at once, unknown fields refused. */
export const strictParseOptions = { errors: "all", onExcessProperty: "error" } as const

/** A page cursor that cannot be used (see `Cursor`), as `VALIDATION_FAILED` on `query.cursor`. */
export const invalidCursor = (error: { readonly message: string }): ValidationFailed =>
  make(ValidationFailed, error.message, { issues: [{ path: ["query", "cursor"], message: error.message }] })
