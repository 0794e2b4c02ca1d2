/**
 * One authorized call to a platform's JSON API, written once: the bearer
 * token, `Accept: application/json`, the query, a JSON, byte or streamed
 * body, a timeout, the body read without throwing (`Json.parse`), and every
 * failure mapped to core's publish errors by the platform's own `Errors`:
 * an answer of 400 or more by its `fromResponse` (status → typed error), a
 * call without an answer by the kit's `Transport` (`Transient`, or
 * `OutcomeUnknown` for a write that may have been sent). A request body
 * streamed from a media source that fails ends the call with the source's
 * own error.
 *
 * @example
 * const Api = Rest.make({ platform: "youtube", fromResponse: Errors.fromResponse })
 * const answer = yield* Api.ok(connection, { method: "GET", path: "/youtube/v3/channels", query: { part: "id", mine: "true" }, operation: "channels.list" })
 */
import type { PublishError } from "@omnipost/core"
import { Clock, type Duration, Effect, type Stream } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import * as Json from "./Json.js"
import * as RateLimit from "./RateLimit.js"
import * as Transport from "./Transport.js"

export interface Connection {
  readonly client: HttpClient.HttpClient
  /** The API's base URL (`https://api.linkedin.com`, or a fake's). */
  readonly apiBaseUrl: string
  readonly accessToken: string
  readonly timeout: Duration.Input
  /** Headers every call of this connection carries (LinkedIn's version headers). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

export interface Call {
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  /** A path under the API base, or an absolute URL (an upload URL or a resumable session the platform gave). */
  readonly path: string
  /** Set on the URL as built; values kept literal where the platform wants them so (LinkedIn's `List(...)`). */
  readonly query?: Readonly<Record<string, string>> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly json?: unknown
  /** Bytes in memory. */
  readonly bytes?: { readonly data: Uint8Array; readonly contentType: string } | undefined
  /** Bytes streamed from a media source, with their length. */
  readonly stream?:
    | {
      readonly stream: Stream.Stream<Uint8Array, PublishError.PublishError>
      readonly contentLength: number
      readonly contentType?: string | undefined
    }
    | undefined
  /** Names the call in messages: `POST /rest/posts`, `videos.insert`. */
  readonly operation: string
  /** Whether doing it twice could do its effect twice (create a post). Default `false`. */
  readonly write?: boolean | undefined
  readonly timeout?: Duration.Input | undefined
}

export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: unknown
}

/** A platform's error for an error answer (its `Errors.fromResponse`): the status decides, with the body's code and message. */
export type FromResponse = (
  status: number,
  headers: RateLimit.Headers,
  body: unknown,
  operation: string,
  nowMs: number
) => PublishError.PublishError

/** How a platform maps what its API answers. */
export interface Mapping {
  readonly platform: string
  /** The error for an answer of 400 or more. */
  readonly fromResponse: FromResponse
}

/**
 * The fields every publish error made from an answer carries: the platform,
 * the HTTP status, and the platform's own code and message, each only when
 * known (core's errors keep them verbatim for support).
 *
 * @example
 * new PublishError.Transient({ ...Rest.errorFields(platform, status, details), message })
 */
export const errorFields = (
  platform: string,
  status: number | undefined,
  details: { readonly code?: string | undefined; readonly message?: string | undefined }
) => ({
  platform,
  ...(status !== undefined ? { httpStatus: status } : {}),
  ...(details.code !== undefined ? { platformCode: details.code } : {}),
  ...(details.message !== undefined ? { platformMessage: details.message } : {})
})

export interface Api {
  /** Sends a call; any status comes back as an answer (a resumable upload's 308 included); a call without one fails. */
  readonly call: (connection: Connection, request: Call) => Effect.Effect<Answer, PublishError.PublishError>
  /** `call`, failing with the mapped error on 400 and more. */
  readonly ok: (connection: Connection, request: Call) => Effect.Effect<Answer, PublishError.PublishError>
  /** The mapped error for an answer of 400 or more. */
  readonly failure: (answer: Answer, operation: string) => Effect.Effect<never, PublishError.PublishError>
}

const build = (connection: Connection, request: Call): HttpClientRequest.HttpClientRequest => {
  const absolute = /^https?:\/\//.test(request.path)
  const url = new URL(absolute ? request.path : `${connection.apiBaseUrl}${request.path}`)
  for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value)
  let http = HttpClientRequest.make(request.method)(url.toString()).pipe(
    HttpClientRequest.bearerToken(connection.accessToken),
    HttpClientRequest.acceptJson,
    HttpClientRequest.setHeaders(connection.headers ?? {}),
    HttpClientRequest.setHeaders(request.headers ?? {})
  )
  if (request.json !== undefined) http = HttpClientRequest.bodyJsonUnsafe(http, request.json)
  if (request.bytes !== undefined) http = HttpClientRequest.bodyUint8Array(http, request.bytes.data, request.bytes.contentType)
  if (request.stream !== undefined) {
    http = HttpClientRequest.bodyStream(http, request.stream.stream, {
      contentType: request.stream.contentType ?? "application/octet-stream",
      contentLength: request.stream.contentLength
    })
  }
  return http
}

/** The calls of one platform's API, its errors mapped by `mapping`. */
export const make = (mapping: Mapping): Api => {
  const call = (connection: Connection, request: Call): Effect.Effect<Answer, PublishError.PublishError> =>
    Effect.gen(function*() {
      const response = yield* connection.client.execute(build(connection, request))
      const text = yield* response.text
      return { status: response.status, headers: response.headers, body: Json.parse(text) } satisfies Answer
    }).pipe(
      Effect.timeout(request.timeout ?? connection.timeout),
      Effect.catch((error) =>
        Effect.fail(
          Transport.publishErrorIn(error) ??
            Transport.classify(error, { platform: mapping.platform, operation: request.operation, write: request.write === true })
        )
      )
    )
  const failure = (answer: Answer, operation: string) =>
    Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
      Effect.fail(mapping.fromResponse(answer.status, answer.headers, answer.body, operation, nowMs)))
  const ok = (connection: Connection, request: Call) =>
    Effect.flatMap(call(connection, request), (answer) => answer.status >= 400 ? failure(answer, request.operation) : Effect.succeed(answer))
  return { call, ok, failure }
}
