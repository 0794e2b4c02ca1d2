/**
 * One call to LinkedIn's API with one access token: the headers every
 * versioned `/rest/*` call needs (`Authorization`, `LinkedIn-Version`,
 * `X-Restli-Protocol-Version: 2.0.0`), a timeout, and every failure mapped
 * to core's publish errors (`Errors.fromResponse`, the kit's `Transport` for
 * calls without an answer).
 */
import type { PublishError } from "@omnipost/core"
import { Clock, type Duration, Effect, type Stream } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import * as Errors from "../Errors.js"

export interface Connection {
  readonly client: HttpClient.HttpClient
  /** `https://api.linkedin.com` (or a fake). */
  readonly apiBaseUrl: string
  /** `YYYYMM`. */
  readonly version: string
  readonly accessToken: string
  readonly timeout: Duration.Input
}

export interface Call {
  readonly method: "GET" | "POST" | "PUT" | "DELETE"
  /** A path under the API base (`/rest/posts`), or an absolute URL (an upload URL LinkedIn gave). */
  readonly path: string
  readonly query?: Readonly<Record<string, string>> | undefined
  readonly json?: unknown
  readonly bytes?: { readonly stream: Stream.Stream<Uint8Array, PublishError.PublishError>; readonly contentLength: number } | undefined
  /** Names the call in messages: `POST /rest/posts`. */
  readonly operation: string
  /** Whether doing it twice could post twice (only `POST /rest/posts`). */
  readonly write?: boolean | undefined
  /** `/rest/*` calls carry the version headers; `/v2/userinfo` and pre-signed upload URLs do not need them. */
  readonly versioned?: boolean | undefined
  readonly timeout?: Duration.Input | undefined
}

export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: unknown
}

/** Sends a call; an answer of 400 or more fails with the mapped error. */
export const call = (connection: Connection, request: Call): Effect.Effect<Answer, PublishError.PublishError> =>
  Effect.gen(function*() {
    const absolute = /^https?:\/\//.test(request.path)
    const url = new URL(absolute ? request.path : `${connection.apiBaseUrl}${request.path}`)
    for (const [key, value] of Object.entries(request.query ?? {})) url.searchParams.set(key, value)
    // LinkedIn's Rest.li query syntax keeps some characters literal (`List(...)`, `:`): send the query as built.
    let http = HttpClientRequest.make(request.method)(url.toString()).pipe(
      HttpClientRequest.bearerToken(connection.accessToken),
      HttpClientRequest.acceptJson
    )
    if (request.versioned !== false) {
      http = HttpClientRequest.setHeaders(http, {
        "linkedin-version": connection.version,
        "x-restli-protocol-version": "2.0.0"
      })
    }
    if (request.json !== undefined) http = HttpClientRequest.bodyJsonUnsafe(http, request.json)
    if (request.bytes !== undefined) {
      http = HttpClientRequest.bodyStream(http, request.bytes.stream, {
        contentType: "application/octet-stream",
        contentLength: request.bytes.contentLength
      })
    }
    const write = request.write === true
    const answer = yield* Effect.gen(function*() {
      const response = yield* connection.client.execute(http)
      const text = yield* response.text
      return { status: response.status, headers: response.headers, body: Errors.parseJson(text) } satisfies Answer
    }).pipe(
      Effect.timeout(request.timeout ?? connection.timeout),
      Effect.catch((error) =>
        // A failure of the upload stream itself (the media source) is already a publish error.
        Effect.fail(publishErrorIn(error) ?? Errors.unanswered(error, request.operation, write))
      )
    )
    if (answer.status >= 400) {
      return yield* Effect.fail(
        Errors.fromResponse(answer.status, answer.headers, answer.body, request.operation, yield* Clock.currentTimeMillis)
      )
    }
    return answer
  })

const publishTags = new Set(["RateLimited", "Transient", "AuthFailed", "Rejected", "OutcomeUnknown"])

/** The publish error a failed request body (the media stream) ended the request with, looked for through causes. */
const publishErrorIn = (error: unknown): PublishError.PublishError | undefined => {
  let node: unknown = error
  for (let depth = 0; depth < 8 && typeof node === "object" && node !== null; depth++) {
    const tag = (node as { _tag?: unknown })._tag
    if (typeof tag === "string" && publishTags.has(tag) && "platform" in node) return node as PublishError.PublishError
    const next = (node as { cause?: unknown; reason?: { cause?: unknown } }).reason
    node = (node as { cause?: unknown }).cause ?? (typeof next === "object" && next !== null ? next : undefined)
  }
  return undefined
}
