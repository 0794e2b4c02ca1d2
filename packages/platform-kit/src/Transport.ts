/**
 * The one answer to "could this failed request have reached the platform?".
 *
 * A request that got no answer either certainly never left this machine (the
 * connection never opened: refused, DNS, TLS, a URL guard's refusal, a
 * connection pool already closed) or may have been received and applied (the
 * connection broke after the request was written, or no answer came in time).
 * A retry of the first kind is safe, so it is core's `Transient`; a write of
 * the second kind is `OutcomeUnknown`, because retrying it could post twice.
 *
 * | failure | `delivery` | a write becomes | a read becomes |
 * |---|---|---|---|
 * | connection refused, DNS failure, unreachable host or network, connect timeout | `NotSent` | `Transient` | `Transient` |
 * | TLS handshake failure (certificate, protocol) | `NotSent` | `Transient` | `Transient` |
 * | undici `UND_ERR_DESTROYED` / `UND_ERR_CLOSED` before the request was written (a closed pool) | `NotSent` | `Transient` | `Transient` |
 * | an invalid URL, a `UrlGuard` refusal | `NotSent` | `Transient` | `Transient` |
 * | the connection broke after the request was written (reset, closed by the server, pool destroyed mid-request) | `MaybeSent` | `OutcomeUnknown` | `Transient` |
 * | no answer in time (`noAnswer`) | `MaybeSent` | `OutcomeUnknown` | `Transient` |
 * | anything else | `MaybeSent` | `OutcomeUnknown` | `Transient` |
 *
 * "Before the request was written" is known, not guessed: undici reports on
 * `node:diagnostics_channel` when it writes a request's headers
 * (`undici:client:sendHeaders`), which request an error ended
 * (`undici:request:error`) and which connections failed to open
 * (`undici:client:connectError`). This module listens from the moment it is
 * loaded, so an error that ended a request already written is `MaybeSent`
 * whatever its code (a pool destroyed mid-request fails it with
 * `UND_ERR_DESTROYED` too). Without that evidence (another client), the error
 * codes decide.
 *
 * @example
 * const response = yield* client.execute(request).pipe(
 *   Effect.mapError((error) => Transport.classify(error, { platform: "x", operation: "POST /2/tweets", write: true }))
 * )
 */
import { PublishError } from "@omnipost/core"
import { Cause } from "effect"
import * as diagnostics from "node:diagnostics_channel"

/** Whether a failed request may have reached the other side. */
export type Delivery = "NotSent" | "MaybeSent"

/** Error codes that only happen before a connection is open: nothing was written. */
export const notSentCodes: ReadonlySet<string> = new Set([
  // DNS
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NONAME",
  "EAI_NODATA",
  // TCP connect
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "EHOSTDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  // TLS handshake (undici writes nothing before `secureConnect`)
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_REVOKED",
  "CERT_UNTRUSTED",
  "ERR_TLS_HANDSHAKE_TIMEOUT",
  // A pool that was closed or destroyed before the request was dispatched
  // (unless the tracker saw the request written: then it broke mid-flight).
  "UND_ERR_DESTROYED",
  "UND_ERR_CLOSED",
  // The request could not even be built
  "ERR_INVALID_URL",
  "UND_ERR_INVALID_ARG"
])

/** Reasons and causes of an effect `HttpClientError` that prove nothing was sent. */
const notSentTags: ReadonlySet<string> = new Set(["InvalidUrlError", "UrlRefused"])

// ---------------------------------------------------------------------------
// What undici tells about each request (node:diagnostics_channel)
// ---------------------------------------------------------------------------

/** undici `Request`s whose headers were handed to the socket. */
const written = new WeakSet<object>()
/** Errors that ended a request already written. */
const endedWritten = new WeakSet<object>()
/** Errors of connections that never opened, and of requests ended before they were written. */
const endedUnwritten = new WeakSet<object>()

const isObject = (u: unknown): u is object => typeof u === "object" && u !== null

const field = (message: unknown, name: string): unknown => isObject(message) ? (message as Record<string, unknown>)[name] : undefined

diagnostics.subscribe("undici:client:sendHeaders", (message) => {
  const request = field(message, "request")
  if (isObject(request)) written.add(request)
})
diagnostics.subscribe("undici:request:error", (message) => {
  const request = field(message, "request")
  const error = field(message, "error")
  if (!isObject(error)) return
  // One error can end several requests (a pool destroyed): written wins.
  if (isObject(request) && written.has(request)) endedWritten.add(error)
  else endedUnwritten.add(error)
})
diagnostics.subscribe("undici:client:connectError", (message) => {
  const error = field(message, "error")
  if (isObject(error)) endedUnwritten.add(error)
})

// ---------------------------------------------------------------------------
// Classification
// ---------------------------------------------------------------------------

/** The error and everything it wraps: an `HttpClientError`'s reason, causes, an `AggregateError`'s errors. */
const chain = (error: unknown): ReadonlyArray<object> => {
  const seen = new Set<object>()
  const queue: Array<unknown> = [error]
  while (queue.length > 0 && seen.size < 32) {
    const current = queue.shift()
    if (!isObject(current) || seen.has(current)) continue
    seen.add(current)
    const record = current as { readonly reason?: unknown; readonly cause?: unknown; readonly errors?: unknown }
    if (isObject(record.reason)) queue.push(record.reason)
    if (record.cause !== undefined) queue.push(record.cause)
    if (Array.isArray(record.errors)) queue.push(...record.errors.slice(0, 8))
  }
  return [...seen]
}

const codeOf = (node: object): string | undefined => {
  const code = (node as { readonly code?: unknown }).code
  return typeof code === "string" ? code : undefined
}

const tagOf = (node: object): string | undefined => {
  const tag = (node as { readonly _tag?: unknown })._tag
  return typeof tag === "string" ? tag : undefined
}

/**
 * Whether a failed request may have reached the other side. `NotSent` only
 * with proof: a connection that never opened, a request undici never wrote,
 * or an error that cannot happen once a request is written.
 */
export const delivery = (error: unknown): Delivery => {
  const nodes = chain(error)
  if (nodes.some((node) => endedWritten.has(node))) return "MaybeSent"
  const proof = nodes.some((node) => {
    const tag = tagOf(node)
    const code = codeOf(node)
    return endedUnwritten.has(node) ||
      (tag !== undefined && notSentTags.has(tag)) ||
      (code !== undefined && notSentCodes.has(code))
  })
  return proof ? "NotSent" : "MaybeSent"
}

/** `delivery(error) === "NotSent"`. */
export const neverSent = (error: unknown): boolean => delivery(error) === "NotSent"

/** A short description: the first error code in the chain and the innermost informative message. */
export const describe = (error: unknown): string => {
  const nodes = chain(error)
  const code = nodes.map(codeOf).find((c) => c !== undefined)
  const messages = nodes
    .map((node) => (node as { readonly message?: unknown }).message)
    .filter((m): m is string => typeof m === "string" && m.length > 0)
  const message = messages.length === 0 ? String(error) : messages[messages.length - 1]!
  return code !== undefined && !message.includes(code) ? `${code}: ${message}` : message
}

const publishTags: ReadonlySet<string> = new Set(["RateLimited", "Transient", "AuthFailed", "Rejected", "OutcomeUnknown"])

/**
 * The publish error a request ended with before any answer, when it is one:
 * a request body streamed from a media source fails with the source's error
 * (`MEDIA_TOO_LARGE`, a media host's 5xx), wrapped in the client's. That error
 * is already core's, and says more than "no answer".
 */
export const publishErrorIn = (error: unknown): PublishError.PublishError | undefined =>
  chain(error).find((node) => {
    const tag = tagOf(node)
    return tag !== undefined && publishTags.has(tag) && "platform" in node
  }) as PublishError.PublishError | undefined

export interface Request {
  readonly platform: string
  /** What was being done, for the message (`POST /2/tweets`, `com.atproto.repo.createRecord`). */
  readonly operation: string
  /**
   * Whether doing the request twice could do its effect twice (creating a
   * post). A write that may have been sent is `OutcomeUnknown`; anything else
   * is `Transient`. Default `true`: say `false` for reads and for uploads that
   * publish nothing by themselves.
   */
  readonly write?: boolean | undefined
}

/**
 * Core's error for a request that got no answer: `Transient` when it was
 * certainly not sent, or when it was not a write; otherwise `OutcomeUnknown`.
 * An effect `TimeoutError` (from `Effect.timeout` around the call) is
 * `noAnswer`, so the whole failure channel of a call can be mapped at once.
 */
export const classify = (error: unknown, request: Request): PublishError.Transient | PublishError.OutcomeUnknown => {
  if (Cause.isTimeoutError(error)) return noAnswer(request)
  const detail = describe(error)
  if (delivery(error) === "NotSent") {
    return new PublishError.Transient({
      platform: request.platform,
      message: `${request.operation} was not sent (${detail}); nothing reached the platform`
    })
  }
  return unanswered(request, `failed (${detail})`)
}

/**
 * Core's error for a request that got no answer in time: it may have been
 * received, so a write is `OutcomeUnknown` and a read `Transient`.
 */
export const noAnswer = (
  request: Request & { readonly after?: string | undefined }
): PublishError.Transient | PublishError.OutcomeUnknown =>
  unanswered(request, `timed out without an answer${request.after !== undefined ? ` within ${request.after}` : ""}`)

const unanswered = (request: Request, what: string) =>
  request.write === false
    ? new PublishError.Transient({ platform: request.platform, message: `${request.operation} ${what}` })
    : new PublishError.OutcomeUnknown({
      platform: request.platform,
      message: `${request.operation} ${what} after it may have been sent; the platform may or may not have applied it`
    })
