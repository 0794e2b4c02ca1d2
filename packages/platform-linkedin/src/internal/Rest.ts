/**
 * One call to LinkedIn's API with one access token, on the kit's `Rest`
 * (bearer token, timeout, body read without throwing, failures mapped by
 * `Errors.fromResponse` and the kit's `Transport`), plus the headers every
 * versioned `/rest/*` call needs: `LinkedIn-Version` and
 * `X-Restli-Protocol-Version: 2.0.0`.
 */
import type { PublishError } from "@omnipost/core"
import { Rest } from "@omnipost/platform-kit"
import type { Duration, Effect, Stream } from "effect"
import type { HttpClient } from "effect/http"
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
  /** LinkedIn's Rest.li query syntax keeps some characters literal (`List(...)`, `:`): the query is sent as built. */
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

export type Answer = Rest.Answer

const api = Rest.make({ platform: Errors.platform, fromResponse: Errors.fromResponse })

/** Sends a call; an answer of 400 or more fails with the mapped error. */
export const call = (connection: Connection, request: Call): Effect.Effect<Answer, PublishError.PublishError> =>
  api.ok({
    ...connection,
    headers: request.versioned === false
      ? {}
      : { "linkedin-version": connection.version, "x-restli-protocol-version": "2.0.0" }
  }, {
    method: request.method,
    path: request.path,
    query: request.query,
    json: request.json,
    stream: request.bytes,
    operation: request.operation,
    write: request.write,
    timeout: request.timeout
  })
