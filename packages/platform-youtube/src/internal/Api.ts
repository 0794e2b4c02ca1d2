/**
 * One call to Google's API with one access token: bearer auth, a timeout,
 * the JSON body read without throwing (kit `Json`), and every call without an
 * answer mapped by the kit's `Transport`. `call` gives every status back (the
 * resumable protocol answers 308); `ok` fails on 400 and more with
 * `Errors.fromResponse`.
 */
import type { PublishError } from "@omnipost/core"
import { Json } from "@omnipost/platform-kit"
import { Clock, type Duration, Effect } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import * as Errors from "../Errors.js"

export interface Connection {
  readonly client: HttpClient.HttpClient
  /** `https://www.googleapis.com` (or a fake). */
  readonly apiBaseUrl: string
  readonly accessToken: string
  readonly timeout: Duration.Input
}

export interface Call {
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  /** A path under the API base, or an absolute URL (a resumable session URI). */
  readonly path: string
  readonly query?: Readonly<Record<string, string>> | undefined
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly json?: unknown
  readonly bytes?: { readonly data: Uint8Array; readonly contentType: string } | undefined
  /** Names the call in messages: `videos.insert`. */
  readonly operation: string
  /** Whether doing it twice could do its effect twice. */
  readonly write?: boolean | undefined
  readonly timeout?: Duration.Input | undefined
}

export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: unknown
}

/** Sends a call; any status comes back as an answer, a call without one fails (kit `Transport`). */
export const call = (connection: Connection, request: Call): Effect.Effect<Answer, PublishError.PublishError> =>
  Effect.gen(function*() {
    const absolute = /^https?:\/\//.test(request.path)
    const url = new URL(absolute ? request.path : `${connection.apiBaseUrl}${request.path}`)
    for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value)
    let http = HttpClientRequest.make(request.method)(url.toString()).pipe(
      HttpClientRequest.bearerToken(connection.accessToken),
      HttpClientRequest.acceptJson,
      HttpClientRequest.setHeaders(request.headers ?? {})
    )
    if (request.json !== undefined) http = HttpClientRequest.bodyJsonUnsafe(http, request.json)
    if (request.bytes !== undefined) http = HttpClientRequest.bodyUint8Array(http, request.bytes.data, request.bytes.contentType)
    return yield* Effect.gen(function*() {
      const response = yield* connection.client.execute(http)
      const text = yield* response.text
      return { status: response.status, headers: response.headers, body: Json.parse(text) } satisfies Answer
    }).pipe(
      Effect.timeout(request.timeout ?? connection.timeout),
      Effect.catch((error) => Effect.fail(Errors.unanswered(error, request.operation, request.write === true)))
    )
  })

/** The error for an answer of 400 or more. */
export const failure = (answer: Answer, operation: string) =>
  Effect.flatMap(Clock.currentTimeMillis, (nowMs) =>
    Effect.fail(Errors.fromResponse(answer.status, answer.headers, answer.body, operation, nowMs)))

/** `call`, failing on 400 and more. */
export const ok = (connection: Connection, request: Call): Effect.Effect<Answer, PublishError.PublishError> =>
  Effect.flatMap(call(connection, request), (answer) => answer.status >= 400 ? failure(answer, request.operation) : Effect.succeed(answer))
