/**
 * Server configuration, from environment variables (flags of `omnipost serve`
 * override them). Every variable is listed in the README's Configuration
 * section; none is required.
 */
import { Config, Context, Effect, Layer, Option } from "effect"
import type { UrlGuard } from "./internal/platformKit.js"

export interface ServerConfigShape {
  readonly host: string
  readonly port: number
  /** Where PGlite data, the generated encryption key and media files live. */
  readonly dataDir: string
  /** The base URL clients and platforms reach this server at (signed media URLs use it). */
  readonly publicUrl: string
  /**
   * Whether `publicUrl` was configured (`OMNIPOST_PUBLIC_URL`, `--public-url`)
   * rather than derived from the listening address: only then are stored media
   * handed to platforms that fetch by URL (Instagram, Facebook, Threads) at
   * their signed URLs; without it such posts fail validation.
   */
  readonly publicUrlConfigured: boolean
  /** Requests per minute per API key unless the key sets its own. */
  readonly defaultRateLimitPerMinute: number
  /** Largest accepted upload, in bytes. */
  readonly maxUploadBytes: number
  /**
   * A connection that neither sends nor receives a byte for this long is
   * closed (and its request ends). There is no bound on a whole request's
   * duration: a 5 GiB upload over a slow link may take an hour, a stalled
   * one is cut after this.
   */
  readonly requestIdleTimeoutMs: number
  /** Lifetime of a signed media URL, in seconds. */
  readonly mediaUrlTtlSeconds: number
  /** A queued destination this far past its due time counts as overdue in /readyz. */
  readonly overdueThresholdSeconds: number
  /** A scheduler whose last heartbeat is older than this is not alive. */
  readonly heartbeatStaleSeconds: number
  /** Webhook deliveries: first retry delay (doubling each time, capped at an hour), attempts before giving up, poll interval. */
  readonly webhookBackoffBaseMs: number
  readonly webhookMaxAttempts: number
  readonly webhookPollMs: number
  /**
   * How long a claimed webhook delivery is its process's: a process that dies
   * holding one leaves it to others once this passes. A delivery's request is
   * cut at a third of it (at most 10 s), so a live process settles first.
   */
  readonly webhookLeaseMs: number
  /** Log every HTTP request (method, URL, status, time). */
  readonly logRequests: boolean
  /**
   * Platform API base URLs by plugin id, from code (tests, an embedding
   * application); each wins over the plugin's `OMNIPOST_<ID>_BASE_URL`.
   */
  readonly platformBaseUrls: Readonly<Record<string, string | undefined>>
  /**
   * Fetch users' URLs (media URLs, link pages, webhook targets) even when they
   * are loopback or private addresses: local development and fakes only.
   * Metadata endpoints stay refused.
   */
  readonly allowPrivateUrls: boolean
  /** Hosts (`name`, `name:port`, an address) users' URLs may reach even when private. */
  readonly allowedUrlHosts: ReadonlyArray<string>
  /**
   * The DNS lookup for users' URLs, from code only (tests: a resolver that
   * answers what the test says, such as a name resolving to 127.0.0.1);
   * default: the system's `dns.lookup`.
   */
  readonly urlLookup?: UrlGuard.LookupFunction | undefined
}

/** How to allow a refused private URL, for error messages. */
export const howToAllowPrivateUrls =
  "set OMNIPOST_ALLOW_PRIVATE_URLS=true (local development) or list the host in OMNIPOST_ALLOWED_URL_HOSTS"

/** The URL guard's options from the server's configuration. */
export const urlGuardOptions = (config: ServerConfigShape) => ({
  allowPrivate: config.allowPrivateUrls,
  allowHosts: config.allowedUrlHosts,
  howToAllow: howToAllowPrivateUrls,
  lookup: config.urlLookup
})

/** The public URL when none is configured: the listening address (a wildcard host as 127.0.0.1). */
const derivedPublicUrl = (host: string, port: number) =>
  `http://${host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host}:${port}`

export class ServerConfig extends Context.Service<ServerConfig, ServerConfigShape>()("@omnipost/worker/ServerConfig") {
  /**
   * The configuration once the server listens on `port`: with port 0 the
   * system chose it, and a public URL derived from the address (none was
   * configured) names the port actually bound.
   */
  static readonly boundTo = (config: ServerConfigShape, port: number): ServerConfigShape =>
    config.port !== 0 || port === 0
      ? config
      : {
        ...config,
        port,
        publicUrl: config.publicUrl === derivedPublicUrl(config.host, 0) ? derivedPublicUrl(config.host, port) : config.publicUrl
      }

  /** From the environment, with overrides (the CLI's flags). */
  static readonly layer = (overrides: Partial<ServerConfigShape> = {}) =>
    Layer.effect(
      ServerConfig,
      Effect.gen(function*() {
        const opt = (name: string) => Config.option(Config.String(name)).pipe(Effect.map(Option.getOrUndefined))
        const host = overrides.host ?? (yield* Config.String("HOST").pipe(Config.withDefault("127.0.0.1")))
        const port = overrides.port ?? (yield* Config.Int("PORT").pipe(Config.withDefault(3000)))
        const dataDir = overrides.dataDir ?? (yield* Config.String("OMNIPOST_DATA_DIR").pipe(Config.withDefault(".omnipost")))
        const configuredPublicUrl = overrides.publicUrl ?? (yield* opt("OMNIPOST_PUBLIC_URL"))
        const publicUrl = configuredPublicUrl ?? derivedPublicUrl(host, port)
        return ServerConfig.of({
          host,
          port,
          dataDir,
          publicUrl: publicUrl.replace(/\/+$/, ""),
          publicUrlConfigured: overrides.publicUrlConfigured ?? configuredPublicUrl !== undefined,
          defaultRateLimitPerMinute: overrides.defaultRateLimitPerMinute ??
            (yield* Config.Int("OMNIPOST_RATE_LIMIT_PER_MINUTE").pipe(Config.withDefault(600))),
          maxUploadBytes: overrides.maxUploadBytes ??
            (yield* Config.Int("OMNIPOST_MAX_UPLOAD_BYTES").pipe(Config.withDefault(5 * 1024 * 1024 * 1024))),
          requestIdleTimeoutMs: overrides.requestIdleTimeoutMs ??
            (yield* Config.Int("OMNIPOST_REQUEST_IDLE_TIMEOUT_MS").pipe(Config.withDefault(60_000))),
          mediaUrlTtlSeconds: overrides.mediaUrlTtlSeconds ??
            (yield* Config.Int("OMNIPOST_MEDIA_URL_TTL_SECONDS").pipe(Config.withDefault(24 * 3600))),
          overdueThresholdSeconds: overrides.overdueThresholdSeconds ??
            (yield* Config.Int("OMNIPOST_OVERDUE_THRESHOLD_SECONDS").pipe(Config.withDefault(300))),
          heartbeatStaleSeconds: overrides.heartbeatStaleSeconds ??
            (yield* Config.Int("OMNIPOST_HEARTBEAT_STALE_SECONDS").pipe(Config.withDefault(60))),
          webhookBackoffBaseMs: overrides.webhookBackoffBaseMs ??
            (yield* Config.Int("OMNIPOST_WEBHOOK_BACKOFF_BASE_MS").pipe(Config.withDefault(10_000))),
          webhookMaxAttempts: overrides.webhookMaxAttempts ??
            (yield* Config.Int("OMNIPOST_WEBHOOK_MAX_ATTEMPTS").pipe(Config.withDefault(8))),
          webhookPollMs: overrides.webhookPollMs ??
            (yield* Config.Int("OMNIPOST_WEBHOOK_POLL_MS").pipe(Config.withDefault(1000))),
          webhookLeaseMs: overrides.webhookLeaseMs ??
            (yield* Config.Int("OMNIPOST_WEBHOOK_LEASE_MS").pipe(Config.withDefault(60_000))),
          logRequests: overrides.logRequests ??
            (yield* Config.Boolean("OMNIPOST_LOG_REQUESTS").pipe(Config.withDefault(true))),
          // The environment's per-platform variables are read by `Plugins`, which knows the ids.
          platformBaseUrls: overrides.platformBaseUrls ?? {},
          allowPrivateUrls: overrides.allowPrivateUrls ??
            (yield* Config.Boolean("OMNIPOST_ALLOW_PRIVATE_URLS").pipe(Config.withDefault(false))),
          allowedUrlHosts: overrides.allowedUrlHosts ??
            ((yield* opt("OMNIPOST_ALLOWED_URL_HOSTS")) ?? "").split(",").map((host) => host.trim()).filter((host) => host !== ""),
          urlLookup: overrides.urlLookup
        })
      })
    )
}
