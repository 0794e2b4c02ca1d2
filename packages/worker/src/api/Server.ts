/**
 * The HTTP server: the API (from `http/Api.ts`), `/openapi.json`, `/docs`,
 * the signed media route and the health checks, over the storage services.
 *
 * - `layerRoutes`: the routes, as router layers;
 * - `layerStack`: every service the routes need, over a database, `Crypto`,
 *   `ServerConfig` and an `HttpClient`;
 * - `layerListen`: Node's HTTP server listening on HOST:PORT, and the
 *   configuration with the port it bound (`PORT=0`: the system's choice);
 * - `layerNode`: the routes served on it;
 * - `layerServer`: all of it + the webhook dispatcher over `layerStack`.
 *
 * The server listens first, so a taken port is reported before the database
 * opens and the public URL names the bound port; until the routes are served
 * it answers `503 STARTING`. The CLI's `serve` adds the scheduler beside
 * them; tests serve the same layers on port 0.
 */
import { NodeHttpServer } from "@effect/platform-node"
import type { Plugin, Publisher as CorePublisher } from "@omnipost/core"
import { UrlGuard } from "../internal/platformKit.js"
import { Config, Effect, Layer, Option, References } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { HttpApiBuilder, HttpApiScalar } from "effect/http-api"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Duplex } from "node:stream"
import { join } from "node:path"
import { AccountGroups } from "../storage/AccountGroups.js"
import { AccountStore } from "../storage/AccountStore.js"
import { ApiKeys } from "../storage/ApiKeys.js"
import { ServerConfig, urlGuardOptions } from "../Config.js"
import { OmnipostApi } from "./Api.js"
import { AccountsHandlers, OAuthCallbackHandlers } from "./AccountsHandlers.js"
import { errorJson } from "../Errors.js"
import { GroupsHandlers } from "./GroupsHandlers.js"
import { HealthHandlers } from "./HealthHandlers.js"
import { RequestsInFlight } from "./InFlight.js"
import { KeysHandlers } from "./KeysHandlers.js"
import { MediaHandlers, SignedMediaRoute } from "./MediaHandlers.js"
import { AdminHandlers } from "./AdminHandlers.js"
import { AdminAuthenticationLive, AuthenticationLive, DecodeErrorsLive, RequestPolicyLive } from "./Middleware.js"
import { PostsHandlers } from "./PostsHandlers.js"
import { WebhooksHandlers } from "./WebhooksHandlers.js"
import { Idempotency } from "./Idempotency.js"
import { MediaLibrary, MediaSigner } from "../storage/MediaLibrary.js"
import { loadSigningKey, makeUrlSigner } from "../storage/MediaStorage.js"
import * as MediaStores from "../storage/MediaStores.js"
import { builtinPlugins } from "../plugins/BuiltinPlugins.js"
import * as Mcp from "../mcp/Mcp.js"
import { LlmsTxtRoute } from "./LlmsTxt.js"
import { RequestShell } from "./RequestShell.js"
import { OAuthProviders, OAuthStates } from "./OAuth.js"
import { Organizations } from "../storage/Organizations.js"
import { Plugins } from "../plugins/Plugins.js"
import { PostStore } from "../storage/PostStore.js"
import * as Publishers from "../plugins/Publishers.js"
import { Admission } from "./Admission.js"
import { KeyGate } from "./KeyGate.js"
import { RateLimiter } from "./RateLimiter.js"
import { Webhooks } from "../webhooks/Webhooks.js"

/** The API's services over the storage services (`PostStore`, `AccountStore`, SQL) and a publisher registry. */
export const layerServices = Layer.mergeAll(
  ApiKeys.layer,
  Organizations.layer,
  Idempotency.layer,
  RateLimiter.layer,
  Admission.layer.pipe(Layer.provideMerge(KeyGate.layer)),
  OAuthStates.layer,
  Webhooks.layer,
  MediaLibrary.layer,
  RequestsInFlight.layer
).pipe(
  Layer.provideMerge(Layer.unwrap(Effect.gen(function*() {
    const config = yield* ServerConfig
    const signingKey = yield* Config.option(Config.String("OMNIPOST_MEDIA_SIGNING_KEY"))
    return Layer.mergeAll(
      // Users' URLs (media, link pages, webhooks) go through the guarded client; platform APIs do not.
      UrlGuard.layerFetch(urlGuardOptions(config)),
      MediaStores.layerConfig(join(config.dataDir, "media")),
      Layer.succeed(MediaSigner, makeUrlSigner(loadSigningKey(config.dataDir, Option.getOrUndefined(signingKey))))
    )
  })))
)

/** The routes: API, OpenAPI document, docs page, `/llms.txt`, signed media, the MCP endpoint. */
export const layerRoutes = Layer.mergeAll(
  HttpApiBuilder.layer(OmnipostApi, { openapiPath: "/openapi.json" }).pipe(
    Layer.provide([
      PostsHandlers,
      AccountsHandlers,
      OAuthCallbackHandlers,
      MediaHandlers,
      KeysHandlers,
      WebhooksHandlers,
      GroupsHandlers,
      AdminHandlers,
      HealthHandlers
    ]),
    Layer.provide([AuthenticationLive, AdminAuthenticationLive, RequestPolicyLive, DecodeErrorsLive])
  ),
  // The Scalar bundle is inlined in the page (`layer`, not `layerCdn`) and its
  // web fonts are off: the page makes no request beyond this server.
  HttpApiScalar.layer(OmnipostApi, {
    path: "/docs",
    scalar: {
      defaultOpenAllTags: true,
      withDefaultFonts: false,
      authentication: { preferredSecurityScheme: "bearer" }
    }
  }),
  SignedMediaRoute,
  LlmsTxtRoute,
  Mcp.layerHttp,
  // Request ids, the error shape, requests in flight and the NUL guard, around every request.
  RequestShell
)

/**
 * Node's HTTP server with our timeouts: Node's default `requestTimeout`
 * (300 s for a whole request, body included) would cut a large upload over a
 * slow link with an empty 408, so a request has no overall bound; instead a
 * connection idle for `requestIdleTimeoutMs` (no byte either way) is closed,
 * and headers must arrive within 60 s.
 */
export const makeNodeServer = (requestIdleTimeoutMs: number) => () => {
  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000 })
  server.setTimeout(requestIdleTimeoutMs)
  // An idle keep-alive connection is closed (and its `Keep-Alive: timeout` announced) well before the idle
  // timeout destroys it: a client reusing a connection the idle timeout is cutting would see a reset.
  server.keepAliveTimeout = Math.min(server.keepAliveTimeout, Math.floor(requestIdleTimeoutMs / 2))
  server.on("clientError", answerClientError)
  // Listening comes before the routes are served (`layerListen`): until the router's handler is added, a request is
  // answered 503 instead of waiting unanswered; the answer steps aside as the handler arrives.
  server.on("request", answerStarting)
  server.on("newListener", function stepAside(event) {
    if (event !== "request") return
    server.off("request", answerStarting)
    server.off("newListener", stepAside)
  })
  return server
}

const startingBody = JSON.stringify(errorJson("STARTING", "the server is starting; retry in a moment"))

/** A request that arrives while the server listens but does not serve yet. */
const answerStarting = (_request: IncomingMessage, response: ServerResponse) => {
  response.writeHead(503, { "content-type": "application/json", "retry-after": "1", "content-length": Buffer.byteLength(startingBody) })
  response.end(startingBody)
}

/**
 * A request Node's parser refuses before any route sees it (bytes that are
 * not HTTP, a path of non-ASCII bytes, headers over 16 KiB, conflicting
 * lengths) is answered in the error shape, not Node's bodiless 400/431,
 * and its connection closed.
 */
export const answerClientError = (error: Error & { code?: string }, socket: Duplex) => {
  const started = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true
  if (error.code === "ECONNRESET" || !socket.writable || started) {
    socket.destroy()
    return
  }
  const [status, reason, code, message] = error.code === "HPE_HEADER_OVERFLOW"
    ? [431, "Request Header Fields Too Large", "HEADERS_TOO_LARGE", "the request's headers are over 16 KiB"]
    : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
    ? [408, "Request Timeout", "REQUEST_TIMEOUT", "the request's headers did not arrive in time"]
    : [400, "Bad Request", "VALIDATION_FAILED", "the request is not valid HTTP/1.1"]
  const body = JSON.stringify(errorJson(code, message))
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body}`
  )
}

/**
 * Node's HTTP server listening on the configured host and port, with the
 * configuration it bound (`ServerConfig.boundTo`: with port 0, the port the
 * system chose, and the public URL from it unless one was configured).
 */
export const layerListen = Layer.unwrap(Effect.gen(function*() {
  const config = yield* ServerConfig
  const bound = Layer.effect(
    ServerConfig,
    Effect.map(HttpServer.HttpServer, ({ address }) =>
      ServerConfig.boundTo(config, address._tag === "UnixPathAddress" ? config.port : address.port))
  )
  return bound.pipe(
    Layer.provideMerge(NodeHttpServer.layer(makeNodeServer(config.requestIdleTimeoutMs), { port: config.port, host: config.host }))
  )
}))

/**
 * Serves the routes on the listening server (`layerListen`). Spans are not
 * registered: the worker configures no tracer, so the spans of requests and
 * SQL statements would be built for no one (about a tenth of a request's CPU).
 */
export const layerNode = Layer.unwrap(Effect.gen(function*() {
  const config = yield* ServerConfig
  return HttpRouter.serve(layerRoutes, { disableListenLog: true, disableLogger: !config.logRequests }).pipe(
    Layer.provide(Layer.succeed(References.TracerEnabled, false))
  )
}))

/** What runs besides the built-in plugins. */
export interface StackOptions {
  /** Plugins loaded after the built-in ones (`PluginLoader.load` reads them from the configuration). */
  readonly plugins?: ReadonlyArray<Plugin.Plugin> | undefined
  /** Publishers registered as they are, for applications that build their own. */
  readonly publishers?: ReadonlyArray<CorePublisher.PlatformPublisher> | undefined
}

/**
 * Everything the routes need, over a database (`Database.layer…`, providing
 * SQL), `Crypto`, `ServerConfig` and an `HttpClient`: the stores, the API's
 * services, the loaded plugins (built-ins plus `options.plugins`), the
 * publisher registry and OAuth providers from them, and the webhook dispatcher.
 */
export const layerStack = (options: StackOptions = {}) =>
  Layer.mergeAll(Publishers.layer(options.publishers), OAuthProviders.layerFromPlugins).pipe(
    Layer.provideMerge(Plugins.layer([...builtinPlugins, ...(options.plugins ?? [])])),
    Layer.provideMerge(layerServices),
    Layer.provideMerge(Layer.mergeAll(PostStore.layer, AccountStore.layer, AccountGroups.layer))
  )

/** The webhook dispatcher (fan-out and delivery loop). */
export const layerDispatcher = Webhooks.layerDispatcher

/** The HTTP server over `layerStack`, with the webhook dispatcher running beside it. */
export const layerServer = (options: StackOptions = {}) =>
  Layer.mergeAll(layerNode, Webhooks.layerDispatcher).pipe(Layer.provideMerge(layerStack(options)), Layer.provideMerge(layerListen))
