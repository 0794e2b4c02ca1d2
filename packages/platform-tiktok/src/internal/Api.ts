/**
 * One call to TikTok's Content Posting API: Bearer token, JSON with
 * `charset=UTF-8`, a timeout, and every failure mapped to core's publish
 * errors. TikTok says failure both by HTTP status and by `error.code` other
 * than `ok` (platform-specs §5.6); both go through `Errors.fromResponse`.
 */
import type { PublishError } from "@omnipost/core"
import { Clock, type Duration, Effect, type Stream } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import * as Errors from "../Errors.js"

export interface Connection {
  readonly client: HttpClient.HttpClient
  /** `https://open.tiktokapis.com` (or a fake). */
  readonly apiBaseUrl: string
  readonly accessToken: string
  readonly timeout: Duration.Input
}

export interface Answer {
  readonly status: number
  readonly body: unknown
}

const send = (
  connection: Connection,
  http: HttpClientRequest.HttpClientRequest,
  operation: string,
  write: boolean
): Effect.Effect<Answer, PublishError.PublishError> =>
  Effect.gen(function*() {
    const response = yield* connection.client.execute(http)
    const text = yield* response.text
    return { status: response.status, headers: response.headers, body: Errors.parseJson(text) }
  }).pipe(
    Effect.timeout(connection.timeout),
    // Bodies are whole chunks in memory, so a failure here is the transport's, never the media's.
    Effect.catch((error) => Effect.fail(Errors.unanswered(error, operation, write))),
    Effect.flatMap((answer) =>
      Effect.gen(function*() {
        const failed = answer.status >= 400 || (answer.body !== undefined && !Errors.isOk(answer.body))
        if (failed) {
          return yield* Effect.fail(Errors.fromResponse(answer.status, answer.headers, answer.body, operation, yield* Clock.currentTimeMillis))
        }
        return { status: answer.status, body: answer.body }
      })
    )
  )

/** A JSON `POST` under the API base; `write` when doing it twice could post twice. */
export const post = (connection: Connection, path: string, json: unknown, write = false) =>
  send(
    connection,
    HttpClientRequest.post(`${connection.apiBaseUrl}${path}`).pipe(
      HttpClientRequest.bearerToken(connection.accessToken),
      HttpClientRequest.acceptJson,
      json === undefined
        ? HttpClientRequest.setHeader("content-type", "application/json; charset=UTF-8")
        : HttpClientRequest.bodyText(JSON.stringify(json), "application/json; charset=UTF-8")
    ),
    `POST ${path}`,
    write
  )

/** A `GET` under the API base, with a query. */
export const get = (connection: Connection, path: string, query: Readonly<Record<string, string>>) =>
  send(
    connection,
    HttpClientRequest.get(`${connection.apiBaseUrl}${path}`).pipe(
      HttpClientRequest.bearerToken(connection.accessToken),
      HttpClientRequest.acceptJson,
      HttpClientRequest.setUrlParams(query)
    ),
    `GET ${path}`,
    false
  )

/** One chunk `PUT` to an upload URL TikTok gave (absolute). */
export const putChunk = (
  connection: Connection,
  uploadUrl: string,
  bytes: Uint8Array,
  contentType: string,
  contentRange: string,
  operation: string
) =>
  send(
    connection,
    HttpClientRequest.put(uploadUrl).pipe(
      HttpClientRequest.setHeader("content-range", contentRange),
      HttpClientRequest.bodyUint8Array(bytes, contentType)
    ),
    operation,
    false
  )

export type ByteStream = Stream.Stream<Uint8Array, PublishError.PublishError>
