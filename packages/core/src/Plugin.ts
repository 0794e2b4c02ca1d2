/**
 * The plugin object every platform package exports: what a server (or an
 * embedding application) needs to run a platform it has never heard of.
 *
 * - `id`, `displayName`: the platform id destinations name (`x`, `mastodon`);
 * - `config`: the platform's own configuration, read through Effect `Config`
 *   (environment variables by default), with `environment` documenting each
 *   variable for operators;
 * - `make`: builds the `PlatformPublisher` from that config and the options
 *   every platform gets (`PluginOptions`: a base URL override, the one
 *   stored-media hook), requiring only an `HttpClient`;
 * - `oauth`: the platform's OAuth provider, when it has one and the config
 *   enables it (authorization URL, code exchange, refresh, scopes, PKCE).
 *
 * `load` turns a plugin into a `LoadedPlugin` (publisher + OAuth provider,
 * neither needing anything from the context); the worker does this for every
 * plugin it is given, built-in or named in `OMNIPOST_PLUGINS`.
 *
 * @example
 * export const plugin = definePlugin({
 *   id: "mastodon",
 *   displayName: "Mastodon",
 *   config: Config.all({ clientId: Config.option(Config.String("OMNIPOST_MASTODON_CLIENT_ID")) }),
 *   environment: [{ name: "OMNIPOST_MASTODON_CLIENT_ID", description: "The app's client id (OAuth connect)" }],
 *   make: (config, options) => makeMastodonPublisher({ baseUrl: options.baseUrl })
 * })
 */
import { Config, Effect, Predicate, Result, Schema, type Stream } from "effect"
import type { HttpClient } from "effect/http"
import { keepRefreshToken } from "./Credentials.js"
import { PlatformId } from "./Platform.js"
import type { PlatformPublisher } from "./Publisher.js"
import * as PublishError from "./PublishError.js"

// ---------------------------------------------------------------------------
// The stored-media hook, shared by every platform

/**
 * A medium the host application stores (a worker media record): its bytes
 * as a stream, their exact size and the type they were stored with. The
 * platform kit's `MediaSource.open` opens `stored` sources through it and
 * checks the type against the bytes like any other source.
 */
export interface StoredMedia {
  readonly stream: Stream.Stream<Uint8Array, PublishError.PublishError>
  readonly sizeBytes: number
  readonly mimeType: string
}

/**
 * The ONE hook through which every platform opens a `stored` media source
 * (`{ _tag: "stored", mediaId }`). A medium that no longer exists fails with
 * `Rejected` (code `MEDIA_NOT_FOUND`); storage that cannot be read right now
 * with `Transient`.
 */
export type ResolveStoredMedia = (mediaId: string) => Effect.Effect<StoredMedia, PublishError.PublishError>

/**
 * A stored medium's public URL, for platforms that fetch media themselves
 * (Meta's Graph APIs, TikTok's PULL_FROM_URL): the host's signed, expiring URL
 * (the worker's, under `OMNIPOST_PUBLIC_URL`); `undefined` when it has none.
 */
export type PublicMediaUrl = (mediaId: string) => Effect.Effect<string | undefined, PublishError.PublishError>

// ---------------------------------------------------------------------------
// The plugin object

/** What every platform gets besides its own config. */
export interface PluginOptions {
  /**
   * The platform's API base URL, overriding its default and its own config:
   * accounts then reach a fake or a proxy (`OMNIPOST_<ID>_BASE_URL` in the
   * worker, see `baseUrlVariable`).
   */
  readonly baseUrl?: string | undefined
  /** Opens `stored` media sources; without it a `stored` source is `Rejected`. */
  readonly resolveStoredMedia?: ResolveStoredMedia | undefined
  /**
   * Public URLs of stored media, when the host serves them (the worker with
   * `OMNIPOST_PUBLIC_URL`). A platform that fetches media by URL and is given
   * none reports stored media as `PUBLIC_URL_REQUIRED` when validating.
   */
  readonly publicMediaUrl?: PublicMediaUrl | undefined
}

/** One configuration variable, as operators see it in `omnipost plugins` and the docs. */
export interface EnvironmentVariable {
  readonly name: string
  readonly description: string
  /** Needed for the plugin to load at all (most variables are optional). */
  readonly required?: boolean | undefined
  /** The value used when it is unset, as text. */
  readonly default?: string | undefined
  /** A secret: never printed. */
  readonly secret?: boolean | undefined
}

/** What the authorization URL is built from. */
export interface AuthorizationRequest {
  /** Opaque, single-use: the callback must bring it back (CSRF protection). */
  readonly state: string
  readonly redirectUri: string
  readonly scopes: ReadonlyArray<string>
  /** With `pkce: true`: the S256 challenge of `codeVerifier`, and the verifier itself for providers that compute their own. */
  readonly codeChallenge?: string | undefined
  readonly codeVerifier?: string | undefined
}

/** What the code exchange gets (the callback's `code`, and the flow's verifier with PKCE). */
export interface CodeExchange {
  readonly code: string
  readonly redirectUri: string
  readonly codeVerifier?: string | undefined
}

/**
 * An OAuth 2.0 authorization-code provider. Its results are credentials in
 * their decoded form (what the publisher's `credentialsSchema` produces).
 * Failures are publish errors: `AuthFailed` for a refused code or a dead
 * refresh token, `Transient` when the platform could not be reached.
 */
export interface OAuthProvider<Credentials = any> {
  /** The scopes asked for, in the order sent. */
  readonly scopes: ReadonlyArray<string>
  /** Whether the flow uses PKCE (RFC 7636, S256): the server then keeps a verifier per flow. */
  readonly pkce: boolean
  readonly authorizationUrl: (request: AuthorizationRequest) => Effect.Effect<string>
  readonly exchangeCode: (request: CodeExchange) => Effect.Effect<Credentials, PublishError.PublishError>
  /** New credentials from a refresh token; absent for platforms whose tokens do not expire. */
  readonly refresh?: ((credentials: Credentials) => Effect.Effect<Credentials, PublishError.PublishError>) | undefined
}

/**
 * The object a platform package exports (`export const plugin = definePlugin({…})`).
 * `C` is the decoded config; `make` and `oauth` receive it.
 */
export interface Plugin<C = any, Settings = any, Credentials = any> {
  /** The platform id (`PlatformId`): what destinations name, and the publisher's `platform`. */
  readonly id: string
  readonly displayName: string
  /** The platform's configuration, read through the current `ConfigProvider` (the environment by default). */
  readonly config: Config.Config<C>
  /** Documentation of every variable `config` reads. */
  readonly environment?: ReadonlyArray<EnvironmentVariable> | undefined
  /** Builds the publisher. Its effects must need nothing from the context (capture the `HttpClient`). */
  readonly make: (
    config: C,
    options: PluginOptions
  ) => Effect.Effect<PlatformPublisher<Settings, Credentials>, never, HttpClient.HttpClient>
  /**
   * Builds the OAuth provider, or `undefined` when the config does not enable
   * it (no client id). Absent for platforms without OAuth.
   */
  readonly oauth?:
    | ((
      config: C,
      options: PluginOptions
    ) => Effect.Effect<OAuthProvider<Credentials> | undefined, never, HttpClient.HttpClient>)
    | undefined
}

/**
 * Types a plugin object (an identity function: the types of `config`,
 * settings and credentials flow from `make` into `oauth`).
 */
export const definePlugin = <C, Settings, Credentials>(
  plugin: Plugin<C, Settings, Credentials>
): Plugin<C, Settings, Credentials> => plugin

/**
 * The environment variable that overrides a platform's base URL in the
 * worker: `OMNIPOST_` + the id in upper case, `-` as `_`, + `_BASE_URL`.
 *
 * @example
 * baseUrlVariable("x") // "OMNIPOST_X_BASE_URL"
 */
export const baseUrlVariable = (id: string): string => `OMNIPOST_${id.toUpperCase().replace(/-/g, "_")}_BASE_URL`

// ---------------------------------------------------------------------------
// Checking and loading

/** A value that is not a usable plugin object (a module exporting something else, a wrong field). */
export class InvalidPlugin extends Schema.TaggedError<InvalidPlugin>()("InvalidPlugin", {
  /** The plugin's id when it has one, else where it came from. */
  plugin: Schema.String,
  message: Schema.String
}) {}

/** The plugin's configuration is missing or malformed. */
export class PluginConfigError extends Schema.TaggedError<PluginConfigError>()("PluginConfigError", {
  plugin: Schema.String,
  message: Schema.String
}) {}

const isValidId = Schema.is(PlatformId)

/**
 * Checks that a value is a plugin object (for values from modules a server
 * loads). `from` names the value in the error (a module specifier).
 */
export const check = (value: unknown, from = "the plugin"): Result.Result<Plugin, InvalidPlugin> => {
  const fail = (message: string, plugin = from) => Result.fail(new InvalidPlugin({ plugin, message }))
  if (!Predicate.isObject(value)) return fail(`${from} is not a plugin object (got ${value === null ? "null" : typeof value})`)
  const candidate = value as Record<string, unknown>
  if (typeof candidate.id !== "string" || !isValidId(candidate.id)) {
    return fail(
      `${from}: "id" must be a platform id (1-40 lowercase letters, digits, '-' or '_', starting with a letter), got ${
        JSON.stringify(candidate.id)
      }`
    )
  }
  const id = candidate.id
  if (typeof candidate.displayName !== "string" || candidate.displayName.length === 0) {
    return fail(`plugin "${id}" (${from}): "displayName" must be a non-empty string`, id)
  }
  // `isConfig` checks a string-keyed type id, so a config made by another copy of effect passes too.
  if (!Config.isConfig(candidate.config)) {
    return fail(`plugin "${id}" (${from}): "config" must be an effect Config (Config.succeed({}) when it has none)`, id)
  }
  if (typeof candidate.make !== "function") return fail(`plugin "${id}" (${from}): "make" must be a function`, id)
  if (candidate.oauth !== undefined && typeof candidate.oauth !== "function") {
    return fail(`plugin "${id}" (${from}): "oauth" must be a function when present`, id)
  }
  if (candidate.environment !== undefined && !Array.isArray(candidate.environment)) {
    return fail(`plugin "${id}" (${from}): "environment" must be an array when present`, id)
  }
  return Result.succeed(value as unknown as Plugin)
}

/** A plugin with its config read: the publisher and the OAuth provider, ready to use. */
export interface LoadedPlugin {
  readonly plugin: Plugin
  readonly publisher: PlatformPublisher
  readonly oauth?: OAuthProvider | undefined
}

/**
 * Reads the plugin's config, builds its publisher and OAuth provider, and
 * checks that the publisher is the plugin's platform. When the OAuth
 * provider can refresh and the publisher cannot, the publisher refreshes
 * through the provider (see `withOAuthRefresh`).
 */
export const load = (
  plugin: Plugin,
  options: PluginOptions = {}
): Effect.Effect<LoadedPlugin, InvalidPlugin | PluginConfigError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const config = yield* Effect.mapError(
      plugin.config,
      (error) => new PluginConfigError({ plugin: plugin.id, message: `plugin "${plugin.id}": ${error.message}` })
    )
    const publisher = yield* plugin.make(config, options)
    if (!Predicate.isObject(publisher) || publisher.platform !== plugin.id) {
      return yield* new InvalidPlugin({
        plugin: plugin.id,
        message: `plugin "${plugin.id}" built a publisher for "${
          Predicate.isObject(publisher) ? String(publisher.platform) : typeof publisher
        }"; a plugin's publisher must carry its id`
      })
    }
    const oauth = plugin.oauth !== undefined ? yield* plugin.oauth(config, options) : undefined
    return { plugin, publisher: withOAuthRefresh(publisher, oauth), ...(oauth !== undefined ? { oauth } : {}) }
  })

/**
 * A publisher that refreshes its credentials through an OAuth provider when
 * it has no `refreshCredentials` of its own: `refreshCredentials` is the
 * provider's `refresh`, and a publish that fails with an expired token
 * refreshes once, hands the fresh credentials to `saveCredentials` (refresh
 * tokens the answer left out kept) and publishes again. A publisher that
 * refreshes by itself, or a provider without `refresh`, is left as it is.
 */
export const withOAuthRefresh = <S, C>(
  publisher: PlatformPublisher<S, C>,
  oauth: OAuthProvider<C> | undefined
): PlatformPublisher<S, C> => {
  const refresh = oauth?.refresh
  if (refresh === undefined || publisher.refreshCredentials !== undefined) return publisher
  return {
    ...publisher,
    refreshCredentials: refresh,
    publish: (request) =>
      publisher.publish(request).pipe(
        Effect.catchIf(
          (error): error is PublishError.AuthFailed => error._tag === "AuthFailed" && error.reason === "expired",
          () =>
            Effect.gen(function*() {
              const fresh = keepRefreshToken(request.credentials, yield* refresh(request.credentials)) as C
              if (request.saveCredentials !== undefined) yield* request.saveCredentials(fresh)
              return yield* publisher.publish({ ...request, credentials: fresh })
            })
        )
      )
  }
}

// ---------------------------------------------------------------------------
// PKCE (RFC 7636), with Web Crypto so it runs in a browser too

const base64Url = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

/** A fresh code verifier: 48 random bytes, 64 URL-safe characters (RFC 7636 allows 43-128). */
export const makeCodeVerifier = (): string => base64Url(globalThis.crypto.getRandomValues(new Uint8Array(48)))

/** The S256 challenge of a verifier: BASE64URL(SHA-256(verifier)). */
export const codeChallengeS256 = (codeVerifier: string): Effect.Effect<string> =>
  Effect.promise(() => globalThis.crypto.subtle.digest("SHA-256", new TextEncoder().encode(codeVerifier))).pipe(
    Effect.map((digest) => base64Url(new Uint8Array(digest)))
  )
