/**
 * A small XRPC client over effect's `HttpClient`: `GET|POST <service>/xrpc/<nsid>`,
 * JSON in and out, raw streamed bodies for uploads. Every failure becomes an
 * `XrpcFailure` that keeps what `Errors.ts` needs to map it: the HTTP status,
 * the platform's `error` name and `message`, the rate-limit headers, and
 * the client's error when no answer came (the kit's `Transport` tells whether
 * the request may have reached the server).
 */
import { Data, Duration, Effect, type Stream } from "effect"
import { Json, Transport } from "@omnipost/platform-kit"
import { HttpClient, HttpClientRequest, type HttpClientError } from "effect/http"

export type FailureKind =
  /** The server answered with a non-2xx status. */
  | "status"
  /**
   * No answer: the connection failed (`cause` says whether the request was
   * sent; the kit's `Transport` decides).
   */
  | "transport"
  /** No answer within the time limit: the request may have arrived. */
  | "timeout"
  /** A 2xx answer whose body was not the expected JSON. */
  | "decode"

export class XrpcFailure extends Data.TaggedError("XrpcFailure")<{
  readonly nsid: string
  readonly kind: FailureKind
  readonly status?: number | undefined
  /** The XRPC error name (`ExpiredToken`, `InvalidRequest`, `RateLimitExceeded`…). */
  readonly error?: string | undefined
  readonly message: string
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** The answer's JSON body, when there was one (a 409 from the video service carries a job). */
  readonly body?: unknown
  /** The client's error, for `transport` failures. */
  readonly cause?: unknown
}> {}

export interface RawBody {
  readonly stream: Stream.Stream<Uint8Array, unknown>
  readonly contentType: string
  readonly contentLength?: number | undefined
}

export interface XrpcRequest {
  /** Base URL of the service (`https://bsky.social`, the user's PDS, the video service). */
  readonly service: string
  readonly nsid: string
  readonly method: "GET" | "POST"
  readonly params?: Readonly<Record<string, string | number | boolean | undefined>> | undefined
  /** A JSON body; mutually exclusive with `raw`. */
  readonly json?: unknown
  /** A streamed raw body (blob and video uploads). */
  readonly raw?: RawBody | undefined
  readonly token?: string | undefined
  readonly timeout: Duration.Input
}

const fromClientError = (nsid: string, error: HttpClientError.HttpClientError): XrpcFailure =>
  new XrpcFailure({ nsid, kind: "transport", message: `${nsid}: ${Transport.describe(error)}`, cause: error })

/** An empty answer is an empty object (XRPC procedures may return nothing); bad JSON is `undefined`. */
const parseJson = (text: string): unknown => (text.trim().length === 0 ? {} : Json.parse(text))

export const urlFor = (service: string, nsid: string): string => `${service.replace(/\/+$/, "")}/xrpc/${nsid}`

/**
 * Sends one XRPC call and returns its JSON body. A non-2xx answer fails with
 * the platform's `error` and `message`; the headers are kept for rate limits.
 */
export const call = (client: HttpClient.HttpClient, request: XrpcRequest): Effect.Effect<unknown, XrpcFailure> => {
  const { nsid } = request
  let httpRequest = request.method === "GET"
    ? HttpClientRequest.get(urlFor(request.service, nsid))
    : HttpClientRequest.post(urlFor(request.service, nsid))
  for (const [key, value] of Object.entries(request.params ?? {})) {
    if (value !== undefined) httpRequest = HttpClientRequest.setUrlParam(httpRequest, key, String(value))
  }
  httpRequest = HttpClientRequest.acceptJson(httpRequest)
  if (request.token !== undefined) httpRequest = HttpClientRequest.bearerToken(httpRequest, request.token)
  if (request.raw !== undefined) {
    httpRequest = HttpClientRequest.bodyStream(httpRequest, request.raw.stream, {
      contentType: request.raw.contentType,
      contentLength: request.raw.contentLength
    })
  } else if (request.json !== undefined) {
    httpRequest = HttpClientRequest.bodyJsonUnsafe(httpRequest, request.json)
  }

  const exchange = Effect.gen(function*() {
    const response = yield* client.execute(httpRequest)
    const text = yield* response.text
    return { status: response.status, headers: response.headers as Readonly<Record<string, string>>, text }
  }).pipe(Effect.mapError((error) => fromClientError(nsid, error)))

  return exchange.pipe(
    Effect.timeoutOrElse({
      duration: request.timeout,
      orElse: () =>
        Effect.fail(
          new XrpcFailure({
            nsid,
            kind: "timeout",
            message: `${nsid}: no answer within ${Duration.format(Duration.fromInputUnsafe(request.timeout))}`
          })
        )
    }),
    Effect.flatMap(({ headers, status, text }) => {
      const body = parseJson(text)
      if (status >= 200 && status < 300) {
        return body === undefined
          ? Effect.fail(new XrpcFailure({ nsid, kind: "decode", status, headers, message: `${nsid}: the answer was not JSON` }))
          : Effect.succeed(body)
      }
      const error = typeof (body as { error?: unknown } | undefined)?.error === "string"
        ? (body as { error: string }).error
        : undefined
      const message = typeof (body as { message?: unknown } | undefined)?.message === "string"
        ? (body as { message: string }).message
        : text.slice(0, 300) || `HTTP ${status}`
      return Effect.fail(new XrpcFailure({ nsid, kind: "status", status, error, message, headers, body }))
    })
  )
}
