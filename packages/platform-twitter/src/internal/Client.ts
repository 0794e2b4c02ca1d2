/**
 * One authorized conversation with the X API for one set of credentials:
 * signs each request (Bearer or OAuth 1.0a), refreshes an expired OAuth 2.0
 * token before a call and once more on a 401, saves refreshed credentials,
 * and maps every failure to core's publish errors.
 */
import { Json, Transport } from "@omnipost/platform-kit"
import { Clock, Duration, Effect, Ref } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import * as Auth from "../Auth.js"
import * as Errors from "../Errors.js"

export type Body =
  | { readonly _tag: "json"; readonly value: unknown }
  | { readonly _tag: "multipart"; readonly form: FormData }

export interface ApiRequest {
  readonly method: "GET" | "POST" | "DELETE"
  /** Path under the API base URL, e.g. `/2/tweets`. */
  readonly path: string
  readonly query?: Readonly<Record<string, string>> | undefined
  readonly body?: Body | undefined
  /** Names the call in error messages: "POST /2/tweets". */
  readonly operation: string
  /**
   * The call creates something visible (a post): a request that got no answer
   * after it may have been sent is an `OutcomeUnknown`, not `Transient`.
   */
  readonly createsPost?: boolean | undefined
  readonly timeout: Duration.Input
}

export interface ApiResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: unknown
}

export interface XApi {
  readonly request: (request: ApiRequest) => Effect.Effect<ApiResponse, Errors.XPublishError>
  /** The credentials as they are now (refreshed ones included). */
  readonly credentials: Effect.Effect<Auth.XCredentials>
}

export interface XApiOptions {
  readonly client: HttpClient.HttpClient
  readonly apiBaseUrl: string
  readonly credentials: Auth.XCredentials
  readonly saveCredentials?: ((credentials: Auth.XCredentials) => Effect.Effect<void>) | undefined
  /** How to refresh; defaults to one `POST /2/oauth2/token` per call. */
  readonly refresh?:
    | ((credentials: Auth.XOAuth2Credentials) => Effect.Effect<Auth.XOAuth2Credentials, Errors.XPublishError>)
    | undefined
}

export const make = (options: XApiOptions): Effect.Effect<XApi> =>
  Effect.gen(function*() {
    const current = yield* Ref.make(options.credentials)

    const refresh = Effect.fn("XApi.refresh")(function*(credentials: Auth.XOAuth2Credentials) {
      const fresh = yield* (options.refresh !== undefined
        ? options.refresh(credentials)
        : Auth.refreshAccessToken(credentials, { apiBaseUrl: options.apiBaseUrl }).pipe(
          Effect.provideService(HttpClient.HttpClient, options.client)
        ))
      yield* Ref.set(current, fresh)
      if (options.saveCredentials !== undefined) yield* options.saveCredentials(fresh)
      return fresh
    })

    const authorize = Effect.fn("XApi.authorize")(function*(
      request: HttpClientRequest.HttpClientRequest,
      url: string,
      credentials: Auth.XCredentials
    ) {
      if (credentials._tag === "oauth2") return HttpClientRequest.bearerToken(request, credentials.accessToken)
      const nowMs = yield* Clock.currentTimeMillis
      return HttpClientRequest.setHeader(
        request,
        "authorization",
        Auth.oauth1AuthorizationHeader({
          method: request.method,
          url,
          consumerKey: credentials.consumerKey,
          consumerSecret: credentials.consumerSecret,
          token: credentials.token,
          tokenSecret: credentials.tokenSecret,
          nonce: Auth.makeNonce(),
          timestamp: Math.floor(nowMs / 1000)
        })
      )
    })

    const once = (request: ApiRequest, credentials: Auth.XCredentials) =>
      Effect.gen(function*() {
        const url = new URL(`${options.apiBaseUrl}${request.path}`)
        for (const [k, v] of Object.entries(request.query ?? {})) url.searchParams.set(k, v)
        let http = HttpClientRequest.make(request.method)(url.toString()).pipe(HttpClientRequest.acceptJson)
        if (request.body?._tag === "json") {
          http = HttpClientRequest.bodyJsonUnsafe(http, request.body.value)
        } else if (request.body?._tag === "multipart") {
          http = HttpClientRequest.bodyFormData(http, request.body.form)
        }
        http = yield* authorize(http, url.toString(), credentials)
        const mayHaveCreated = request.createsPost === true
        const exchange = Effect.gen(function*() {
          const response = yield* options.client.execute(http)
          const text = yield* response.text
          return { status: response.status, headers: response.headers, body: Json.parse(text) }
        })
        return yield* exchange.pipe(
          Effect.timeout(request.timeout),
          Effect.mapError((error) => Transport.classify(error, { platform: Errors.platform, operation: request.operation, write: mayHaveCreated }))
        )
      })

    const requestWithAuth = Effect.fn("XApi.request")(function*(request: ApiRequest) {
      let credentials = yield* Ref.get(current)
      if (credentials._tag === "oauth2" && Auth.isExpired(credentials, yield* Clock.currentTimeMillis)) {
        credentials = yield* refresh(credentials)
      }
      let response = yield* once(request, credentials)
      // A token can be revoked or expire early: one refresh, then give up.
      if (
        response.status === 401 && credentials._tag === "oauth2" && credentials.refreshToken !== undefined &&
        credentials.refreshToken.length > 0
      ) {
        credentials = yield* refresh(credentials)
        response = yield* once(request, credentials)
      }
      if (response.status >= 400) {
        return yield* Effect.flatMap(
          Errors.fromResponse(response.status, response.headers, response.body, request.operation),
          Effect.fail
        )
      }
      return response
    })

    return { request: requestWithAuth, credentials: Ref.get(current) }
  })
