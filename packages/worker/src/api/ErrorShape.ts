/**
 * Every answer in the API's shape, `{ "error": { "code", "message", "details" } }`:
 * unknown routes become `NOT_FOUND`, a database that cannot be reached
 * `DATABASE_UNAVAILABLE` (503), a media store that failed
 * `MEDIA_STORE_UNAVAILABLE` (503), any other defect `INTERNAL_ERROR` (logged,
 * never with its internals), and the framework's own plain-text or bodiless
 * refusals the same shape with their status. (A 429's `Retry-After` is set
 * where the limit is decided: `Middleware`'s rate limit.) Applied to every
 * request by `RequestShell`.
 */
import { Cause, Effect, Option } from "effect"
import { HttpServerResponse } from "effect/http"
import { errorJson } from "../Errors.js"
import { isUnreachable } from "../storage/Database.js"
import { isStorageFailure } from "../storage/MediaStorage.js"

const jsonError = (status: number, code: string, message: string, details?: unknown) =>
  HttpServerResponse.jsonUnsafe(errorJson(code, message, details), { status })

/** The `Retry-After` of a `DATABASE_UNAVAILABLE` answer: about how long a restart of PostgreSQL takes. */
const databaseRetryAfterSeconds = 5

/** The answer to a request that failed (an interruption stays one: the client went away). */
export const answerFailure = <E>(
  cause: Cause.Cause<E>
): Effect.Effect<HttpServerResponse.HttpServerResponse, E> => {
  if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
  const failure = Cause.findErrorOption(cause)
  const reason = Option.isSome(failure) ? (failure.value as { reason?: { _tag?: string } }).reason?._tag : undefined
  if (reason === "RouteNotFound") {
    return Effect.succeed(jsonError(404, "NOT_FOUND", "no such endpoint; see /docs for the API"))
  }
  if (reason === "RequestParseError") {
    return Effect.succeed(jsonError(400, "VALIDATION_FAILED", "the request could not be parsed"))
  }
  // The database is away (an outage, a restart): a 503 the client may retry, not our bug. Logged
  // without the cause's stack, once per request; the scheduler and the pool reconnect by themselves.
  if (isUnreachable(cause)) {
    return Effect.logWarning("request failed: the database is unreachable").pipe(
      Effect.as(HttpServerResponse.setHeader(
        jsonError(503, "DATABASE_UNAVAILABLE", "the database cannot be reached; try again shortly (a create with the same Idempotency-Key is applied once)"),
        "retry-after",
        String(databaseRetryAfterSeconds)
      ))
    )
  }
  // The media store failed (S3 unreachable, a full disk): nothing was kept; a 503 the client may retry.
  if (isStorageFailure(cause)) {
    return Effect.logWarning("request failed: the media store failed", Cause.pretty(cause).split("\n")[0]).pipe(
      Effect.as(HttpServerResponse.setHeader(
        jsonError(503, "MEDIA_STORE_UNAVAILABLE", "the media store failed or cannot be reached; nothing was kept; try again shortly"),
        "retry-after",
        String(databaseRetryAfterSeconds)
      ))
    )
  }
  return Effect.logError("request failed", cause).pipe(
    Effect.as(jsonError(500, "INTERNAL_ERROR", "an internal error occurred; it has been logged"))
  )
}

/** An answer in the error shape: successes as they are, an error answer with a body in the shape. */
export const shapeAnswer = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  if (response.status < 400) return response
  if (response.status >= 500 && response.body._tag === "Empty") {
    return jsonError(response.status, "INTERNAL_ERROR", "an internal error occurred; it has been logged")
  }
  if (response.status === 404 && response.body._tag === "Empty") {
    return jsonError(404, "NOT_FOUND", "no such endpoint; see /docs for the API")
  }
  return inErrorShape(response)
}

/** Codes of the framework's own plain-text refusals, by status (the API's codes where one fits). */
const plainErrorCodes: Readonly<Record<number, string>> = {
  400: "VALIDATION_FAILED",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE"
}

/**
 * An error answer in the error shape: the framework answers some refusals
 * itself in plain text or with no body (a content type no endpoint reads:
 * `415 Unsupported content-type: text/plain`); they become
 * `{ "error": { "code", "message" } }` with the same status, the text as the message.
 */
const inErrorShape = (response: HttpServerResponse.HttpServerResponse): HttpServerResponse.HttpServerResponse => {
  const body = response.body
  const isJson = (body._tag === "Uint8Array" || body._tag === "Raw") && (body.contentType ?? "").includes("json")
  if (isJson || body._tag === "Stream" || body._tag === "FormData") return response
  const text = body._tag === "Uint8Array" ? new TextDecoder().decode(body.body).slice(0, 500) : ""
  const code = plainErrorCodes[response.status] ?? (response.status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST")
  const answer = jsonError(response.status, code, text === "" ? `the request was refused (${response.status})` : text)
  return HttpServerResponse.setHeaders(answer, response.headers)
}
