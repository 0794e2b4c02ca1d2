/**
 * A small Graph API client over effect's `HttpClient`: `GET` with query
 * parameters, `POST` with a form body (as Meta's docs send them), raw
 * streamed bodies for rupload, JSON answers. Every failure is already core's
 * error (`Errors.fromAnswer` for answers, the kit's `Transport` for no answer).
 */
import { Clock, Duration, Effect, type Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { PublishError } from "@omnipost/core"
import { Json, Transport } from "@omnipost/platform-kit"
import * as Errors from "../Errors.js"

export type Params = Readonly<Record<string, string | number | boolean | undefined>>

export interface GraphRequest {
  readonly platform: string
  /** For messages and error mapping: `POST /{ig-user-id}/media`. */
  readonly operation: string
  readonly method: "GET" | "POST"
  /** The full URL (base + path). */
  readonly url: string
  readonly params?: Params | undefined
  /** Sent as `access_token` (query for GET, form field for POST); rupload takes `Authorization: OAuth`. */
  readonly accessToken?: string | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** A raw body (rupload); the params then go in the query. */
  readonly raw?: { readonly stream: Stream.Stream<Uint8Array, unknown>; readonly contentLength?: number | undefined } | undefined
  /** Whether doing it twice could publish twice (an unanswered write is `OutcomeUnknown`). */
  readonly write: boolean
  readonly timeout: Duration.Input
}

/** An empty answer is an empty object (a Graph call that returns nothing succeeded); bad JSON is `undefined`. */
const parseJson = (text: string): unknown => (text.trim().length === 0 ? {} : Json.parse(text))

const stringParams = (params: Params | undefined, token: string | undefined): Array<[string, string]> => {
  const entries: Array<[string, string]> = []
  for (const [key, value] of Object.entries(params ?? {})) if (value !== undefined) entries.push([key, String(value)])
  if (token !== undefined) entries.push(["access_token", token])
  return entries
}

/** Sends one Graph call and returns its JSON body (an object). */
export const call = (
  client: HttpClient.HttpClient,
  request: GraphRequest
): Effect.Effect<Record<string, unknown>, PublishError.PublishError> => {
  const entries = stringParams(request.params, request.raw === undefined ? request.accessToken : undefined)
  let http = request.method === "GET" ? HttpClientRequest.get(request.url) : HttpClientRequest.post(request.url)
  if (request.method === "GET" || request.raw !== undefined) {
    for (const [key, value] of entries) http = HttpClientRequest.setUrlParam(http, key, value)
  } else {
    http = HttpClientRequest.bodyUrlParams(http, entries)
  }
  for (const [key, value] of Object.entries(request.headers ?? {})) http = HttpClientRequest.setHeader(http, key, value)
  if (request.raw !== undefined) {
    http = HttpClientRequest.bodyStream(http, request.raw.stream, {
      contentType: "application/octet-stream",
      contentLength: request.raw.contentLength
    })
  }
  http = HttpClientRequest.acceptJson(http)
  const meta = { platform: request.platform, operation: request.operation, write: request.write }
  return Effect.gen(function*() {
    const response = yield* client.execute(http)
    const text = yield* response.text
    return { status: response.status, headers: response.headers as Errors.Headers, text }
  }).pipe(
    Effect.mapError((error) => Transport.classify(error, meta)),
    Effect.timeoutOrElse({
      duration: request.timeout,
      orElse: () =>
        Effect.fail(Transport.noAnswer({ ...meta, after: Duration.format(Duration.fromInputUnsafe(request.timeout)) }))
    }),
    Effect.flatMap(({ headers, status, text }) => answerOf({ status, headers, body: parseJson(text), text }, meta))
  )
}

/**
 * A Graph answer's JSON object; an error status, or a 2xx carrying Meta's
 * `error` object, fails with `Errors.fromAnswer`; a 2xx that is not a JSON
 * object is `Transient` (`OutcomeUnknown` for a write).
 */
export const answerOf = (
  answer: { readonly status: number; readonly headers: Errors.Headers; readonly body: unknown; readonly text: string },
  request: { readonly platform: string; readonly operation: string; readonly write: boolean }
): Effect.Effect<Record<string, unknown>, PublishError.PublishError> =>
  Effect.gen(function*() {
    const { body, status } = answer
    const nowMs = yield* Clock.currentTimeMillis
    if (status >= 200 && status < 300 && Errors.graphErrorOf(body) === undefined) {
      const record = Json.record(body)
      if (record !== undefined) return record
      const message = `${request.operation}: the answer was not a JSON object`
      return yield* (request.write
        ? new PublishError.OutcomeUnknown({ platform: request.platform, httpStatus: status, message: `${message}; it may have been applied` })
        : new PublishError.Transient({ platform: request.platform, httpStatus: status, message }))
    }
    return yield* Effect.fail(
      Errors.fromAnswer(status, answer.headers, body ?? answer.text, { platform: request.platform, operation: request.operation, nowMs })
    )
  })

/** A string field of an answer, or a `Transient`/`OutcomeUnknown` saying it was missing. */
export const field = (
  body: Record<string, unknown>,
  key: string,
  context: { readonly platform: string; readonly operation: string; readonly write: boolean }
): Effect.Effect<string, PublishError.PublishError> => {
  const value = body[key]
  if (typeof value === "string" && value !== "") return Effect.succeed(value)
  if (typeof value === "number") return Effect.succeed(String(value))
  const message = `${context.operation}: the answer has no "${key}"`
  return Effect.fail(
    context.write
      ? new PublishError.OutcomeUnknown({ platform: context.platform, message: `${message}; it may have been applied` })
      : new PublishError.Transient({ platform: context.platform, message })
  )
}
