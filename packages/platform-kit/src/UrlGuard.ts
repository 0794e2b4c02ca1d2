/**
 * The URL guard: whether a URL given by a user (a media URL, a link to
 * preview, a webhook) may be fetched by the server, so that nobody can make
 * it read its own admin endpoints, the private network or the cloud
 * metadata service (server-side request forgery).
 *
 * Refused: schemes other than http and https, URLs with credentials, and
 * hosts that are, or resolve to, loopback, unspecified, private (RFC 1918),
 * carrier-grade NAT, link-local, unique-local IPv6, multicast, broadcast,
 * reserved and documentation addresses, including the IPv6 forms that embed
 * one (`::ffff:127.0.0.1`, `64:ff9b::a00:1`, `2002:c0a8:101::`), and the
 * cloud metadata endpoints (`169.254.169.254`, `fd00:ec2::254`,
 * `metadata.google.internal`…). IP literals are read as the WHATWG URL
 * parser reads them, so `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` are
 * all 127.0.0.1.
 *
 * Three checks, because each alone can be dodged:
 * - `check` reads the URL (literal addresses, names such as `localhost`);
 * - the guarded HTTP client's connections check the DNS answer they actually
 *   connect to (an undici `Agent` whose connector refuses private answers),
 *   so a name that resolves to a public address when checked and to
 *   127.0.0.1 when connecting (DNS rebinding) still cannot pass;
 * - the guarded client checks every request it sends, including each hop of
 *   `HttpClient.followRedirects`.
 *
 * `allowPrivate: true` allows loopback, private, shared, link-local,
 * unique-local and unspecified addresses (local development, test fakes);
 * `allowHosts` trusts named hosts (`pds.lan`, `10.0.0.5:8080`). Metadata,
 * multicast, broadcast and reserved addresses are never fetched.
 *
 * @example
 * // Up front, for a clear error before anything is stored:
 * yield* UrlGuard.check("http://127.0.0.1:8080/internal/admin") // fails with UrlRefused
 * // Every fetch:
 * Effect.provide(UrlGuard.layerHttpClient({ allowPrivate: false }))
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Agent, buildConnector, type Dispatcher } from "@effect/platform-node/Undici"
import { Context, Effect, Layer, Option, type Scope } from "effect"
import { HttpClient, HttpClientError, type HttpClientRequest } from "effect/http"
import * as dns from "node:dns"
import { isIP } from "node:net"
import { compile, defaultPort, type LookupFunction, normalizeHost, type Options, redact, refusalOfUrl, UrlRefused } from "./internal/urlPolicy.js"

export { type LookupFunction, type Options, Reason, UrlRefused } from "./internal/urlPolicy.js"

/**
 * The refusal for a URL, read without DNS (scheme, credentials, IP literals
 * in any spelling, `localhost`, metadata names), or `undefined` when it may
 * be fetched as far as the URL tells.
 */
export const refusal = (url: string | URL, options: Options = {}): UrlRefused | undefined => {
  const result = refusalOfUrl(compile(options), url)
  return result instanceof UrlRefused ? result : undefined
}

/** `refusal` as an Effect: the parsed URL, or `UrlRefused`. */
export const check = (url: string | URL, options: Options = {}): Effect.Effect<URL, UrlRefused> =>
  Effect.suspend(() => {
    const result = refusalOfUrl(compile(options), url)
    return result instanceof UrlRefused ? Effect.fail(result) : Effect.succeed(result)
  })

const lookupAll = (lookup: LookupFunction | undefined, host: string) =>
  Effect.callback<ReadonlyArray<dns.LookupAddress>, NodeJS.ErrnoException>((resume) => {
    const callback = (error: NodeJS.ErrnoException | null, addresses: Array<dns.LookupAddress>) =>
      resume(error !== null ? Effect.fail(error) : Effect.succeed(addresses))
    if (lookup !== undefined) lookup(host, { all: true }, callback)
    else dns.lookup(host, { all: true }, callback)
  })

/**
 * `check`, then the host's DNS answers: a name that resolves to a private
 * address is refused up front with a message naming the address. A name
 * that does not resolve passes (the fetch will fail on its own); the guarded
 * client checks again at connect time, so this is for clear early errors,
 * not the protection itself.
 */
export const checkResolved = (url: string | URL, options: Options = {}): Effect.Effect<URL, UrlRefused> =>
  Effect.gen(function*() {
    const policy = compile(options)
    const parsed = refusalOfUrl(policy, url)
    if (parsed instanceof UrlRefused) return yield* parsed
    const host = normalizeHost(parsed.hostname)
    const port = parsed.port === "" ? defaultPort(parsed.protocol) : Number(parsed.port)
    if (isIP(host) !== 0 || policy.trusted(host, port)) return parsed
    const answers = yield* lookupAll(options.lookup, host).pipe(
      Effect.timeoutOption("5 seconds"),
      Effect.orElseSucceed(() => undefined)
    )
    if (answers === undefined || answers._tag === "None") return parsed
    for (const answer of answers.value) {
      const refused = policy.address(redact(parsed), host, answer.address)
      if (refused !== undefined) return yield* refused
    }
    return parsed
  })

/**
 * A connector for undici (`new Agent({ connect: UrlGuard.connector() })`):
 * refuses IP literals and names by the policy, then connects through a DNS
 * lookup that refuses private answers, so the address checked is the address
 * connected to.
 */
export const connector = (
  options: Options = {},
  connectOptions: buildConnector.BuildOptions = {}
): buildConnector.connector => {
  const policy = compile(options)
  const lookup = (
    hostname: string,
    lookupOptions: dns.LookupOptions,
    callback: (error: NodeJS.ErrnoException | null, address: string | Array<dns.LookupAddress>, family?: number) => void
  ) => {
    const resolve: LookupFunction = options.lookup ?? ((host, opts, cb) => dns.lookup(host, opts, cb))
    resolve(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error !== null) return callback(error, [])
      const host = normalizeHost(hostname)
      for (const answer of addresses) {
        const refused = policy.address(`(a connection to ${host})`, host, answer.address)
        if (refused !== undefined) return callback(refused as unknown as NodeJS.ErrnoException, [])
      }
      if (addresses.length === 0) return callback(Object.assign(new Error(`no address for ${host}`), { code: "ENOTFOUND" }), [])
      if (lookupOptions.all === true) return callback(null, addresses)
      return callback(null, addresses[0]!.address, addresses[0]!.family)
    })
  }
  const guarded = buildConnector({ ...connectOptions, lookup } as buildConnector.BuildOptions)
  const trustedConnector = options.lookup === undefined
    ? buildConnector(connectOptions)
    : buildConnector({ ...connectOptions, lookup: plainLookup(options.lookup) } as buildConnector.BuildOptions)
  return (connectParams, callback) => {
    const host = normalizeHost(connectParams.hostname)
    const port = Number(connectParams.port) || defaultPort(connectParams.protocol)
    const refused = policy.host(`(a connection to ${connectParams.host ?? host})`, host, port)
    if (refused !== undefined) return callback(refused, null)
    return (policy.trusted(host, port) ? trustedConnector : guarded)(connectParams, callback)
  }
}

const plainLookup = (resolve: LookupFunction) =>
(
  hostname: string,
  lookupOptions: dns.LookupOptions,
  callback: (error: NodeJS.ErrnoException | null, address: string | Array<dns.LookupAddress>, family?: number) => void
) =>
  resolve(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
    if (error !== null) return callback(error, [])
    if (lookupOptions.all === true) return callback(null, addresses)
    return callback(null, addresses[0]?.address ?? "", addresses[0]?.family ?? 4)
  })

/** The guard's refusal inside an error (an `HttpClientError`, its reason, causes), if there is one. */
export const refusalOf = (error: unknown): UrlRefused | undefined => {
  let current: unknown = error
  for (let depth = 0; depth < 8 && current !== null && typeof current === "object"; depth++) {
    if (current instanceof UrlRefused) return current
    const next = current as { readonly reason?: unknown; readonly cause?: unknown; readonly errors?: ReadonlyArray<unknown> }
    if (Array.isArray(next.errors)) {
      for (const inner of next.errors) {
        const found = refusalOf(inner)
        if (found !== undefined) return found
      }
    }
    current = typeof next.reason === "object" && next.reason !== null ? next.reason : next.cause
  }
  return undefined
}

/**
 * A client that checks every request it sends (each redirect hop included)
 * and reports refusals, from the URL or from the connection, as an
 * `HttpClientError` whose reason is `InvalidUrlError` with the `UrlRefused`
 * as its cause (`refusalOf` finds it). Give it a client whose dispatcher uses
 * `connector` so DNS answers are checked too (`layerHttpClient` does both).
 */
export const guardClient = (client: HttpClient.HttpClient, options: Options = {}): HttpClient.HttpClient => {
  const policy = compile(options)
  const invalid = (request: HttpClientRequest.HttpClientRequest, refused: UrlRefused) =>
    new HttpClientError.HttpClientError({
      reason: new HttpClientError.InvalidUrlError({ request, cause: refused, description: refused.message })
    })
  return HttpClient.transform(client, (effect, request) => {
    const parsed = refusalOfUrl(policy, request.url)
    if (parsed instanceof UrlRefused) return Effect.fail(invalid(request, parsed))
    return Effect.catchTag(effect, "HttpClientError", (error) => {
      const refused = refusalOf(error)
      if (refused === undefined || error.reason._tag === "InvalidUrlError") return Effect.fail(error)
      // The connector cannot know the URL; the request does.
      const url = redact(parsed)
      return Effect.fail(invalid(
        request,
        new UrlRefused({
          url,
          host: refused.host,
          ...(refused.address !== undefined ? { address: refused.address } : {}),
          reason: refused.reason,
          allowable: refused.allowable,
          message: refused.message.replace(refused.url, url)
        })
      ))
    })
  })
}

/** An undici `Agent` whose connections go through `connector`, closed with the scope. */
export const makeDispatcher = (options: Options = {}): Effect.Effect<Dispatcher, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new Agent({ connect: connector(options) })),
    (agent) => Effect.promise(() => agent.destroy())
  )

export interface UrlGuardShape {
  readonly options: Options
  /** `check` with this guard's options. */
  readonly check: (url: string | URL) => Effect.Effect<URL, UrlRefused>
  /** `checkResolved` with this guard's options. */
  readonly checkResolved: (url: string | URL) => Effect.Effect<URL, UrlRefused>
}

/** The guard's options as a service, for code that checks URLs up front with the same settings as the client. */
export class UrlGuard extends Context.Service<UrlGuard, UrlGuardShape>()("@omnipost/platform-kit/UrlGuard") {
  static readonly make = (options: Options = {}): UrlGuardShape => ({
    options,
    check: (url) => check(url, options),
    checkResolved: (url) => checkResolved(url, options)
  })

  static readonly layer = (options: Options = {}): Layer.Layer<UrlGuard> => Layer.succeed(UrlGuard, UrlGuard.make(options))
}

/**
 * The HTTP client for URLs that users give (media URLs, link pages, webhook
 * targets), as distinct from the platform APIs an operator configured. A
 * host that provides it (the worker does, `layerFetch`) gives it the
 * DNS-checking dispatcher; without it, `fetcher` guards the ambient client
 * by URL checks on every request and redirect hop.
 */
export class GuardedHttpClient extends Context.Service<GuardedHttpClient, HttpClient.HttpClient>()(
  "@omnipost/platform-kit/GuardedHttpClient"
) {}

/** What fetching a user's URL needs: the guarded client and the guard its hops are checked with. */
export interface Fetcher {
  readonly client: HttpClient.HttpClient
  readonly guard: UrlGuardShape
}

/**
 * The `Fetcher` of the current context, taken once when a publisher is
 * built: the `GuardedHttpClient` when the host gave one, else the ambient
 * `HttpClient` guarded with the `UrlGuard`'s options (strict without one).
 *
 * @example
 * const fetch = yield* UrlGuard.fetcher // at build time
 * const page = yield* fetch.client.execute(HttpClientRequest.get(url)) // when publishing
 */
export const fetcher: Effect.Effect<Fetcher, never, HttpClient.HttpClient> = Effect.gen(function*() {
  const guard = Option.getOrElse(yield* Effect.serviceOption(UrlGuard), () => UrlGuard.make())
  const provided = yield* Effect.serviceOption(GuardedHttpClient)
  if (Option.isSome(provided)) return { client: provided.value, guard }
  return { client: guardClient(yield* HttpClient.HttpClient, guard.options), guard }
})

/**
 * `fetcher`, unless the publisher's options say how to guard: then the
 * ambient `HttpClient` guarded with those options (a test's fake on
 * 127.0.0.1 with `allowPrivate`). Every publisher takes its `Fetcher` this way.
 *
 * @example
 * const fetch = yield* UrlGuard.fetcherFor(options.urlGuard)
 */
export const fetcherFor = (options: Options | undefined): Effect.Effect<Fetcher, never, HttpClient.HttpClient> =>
  options === undefined
    ? fetcher
    : Effect.gen(function*() {
      return { client: guardClient(yield* HttpClient.HttpClient, options), guard: UrlGuard.make(options) }
    })

/**
 * The `GuardedHttpClient` (undici through `makeDispatcher`, every request
 * checked) and the `UrlGuard` with the same options, for a host that also
 * talks to platform APIs with its own, unguarded `HttpClient`.
 */
export const layerFetch = (options: Options = {}): Layer.Layer<GuardedHttpClient | UrlGuard> =>
  Layer.merge(
    Layer.effect(
      GuardedHttpClient,
      Effect.map(NodeHttpClient.makeUndici, (client) => guardClient(client, options))
    ).pipe(Layer.provide(Layer.effect(NodeHttpClient.Dispatcher, makeDispatcher(options)))),
    UrlGuard.layer(options)
  )

/**
 * The guarded `HttpClient` (undici, through `makeDispatcher`, every request
 * checked) and the `UrlGuard` with the same options.
 */
export const layerHttpClient = (options: Options = {}): Layer.Layer<HttpClient.HttpClient | UrlGuard> =>
  Layer.merge(
    HttpClient.layerMergedContext(Effect.map(NodeHttpClient.makeUndici, (client) => guardClient(client, options))).pipe(
      Layer.provide(Layer.effect(NodeHttpClient.Dispatcher, makeDispatcher(options)))
    ),
    UrlGuard.layer(options)
  )
