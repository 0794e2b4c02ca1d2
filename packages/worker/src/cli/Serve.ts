/**
 * `omnipost serve` (the API and the scheduler, or one of them with
 * `--api-only` / `--worker-only`) and `omnipost migrate`: the commands that
 * run the service itself.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { type Plugin } from "@omnipost/core"
import { Config, ConfigProvider, Console, Data, Effect, Layer, Option, Runtime } from "effect"
import { Command, Flag } from "effect/cli"
import { ApiKeys } from "../storage/ApiKeys.js"
import { builtinPlugins } from "../plugins/BuiltinPlugins.js"
import { ServerConfig, type ServerConfigShape } from "../Config.js"
import { Crypto } from "../storage/Crypto.js"
import { Database } from "../storage/Database.js"
import { Leases } from "../storage/Leases.js"
import * as PluginLoader from "../plugins/PluginLoader.js"
import { Plugins } from "../plugins/Plugins.js"
import { Scheduler } from "../scheduler/Scheduler.js"
import * as SchedulerSettings from "../scheduler/SchedulerSettings.js"
import * as Server from "../api/Server.js"

export const serveCommand = Command.make("serve", {
  port: Flag.Int("port").pipe(Flag.withDescription("Port (default: PORT, else 3000)"), Flag.optional),
  host: Flag.String("host").pipe(Flag.withDescription("Interface (default: HOST, else 127.0.0.1)"), Flag.optional),
  dataDir: Flag.String("data-dir").pipe(
    Flag.withDescription("Data directory (default: OMNIPOST_DATA_DIR, else ./.omnipost)"),
    Flag.optional
  ),
  publicUrl: Flag.String("public-url").pipe(
    Flag.withDescription("Public base URL (default: OMNIPOST_PUBLIC_URL)"),
    Flag.optional
  ),
  config: Flag.String("config").pipe(
    Flag.withDescription("Config file: plugins and configuration values (default: OMNIPOST_CONFIG, else ./omnipost.config.json if present)"),
    Flag.optional
  ),
  apiOnly: Flag.Boolean("api-only").pipe(Flag.withDescription("Serve the API only (no scheduler)"), Flag.withDefault(false)),
  workerOnly: Flag.Boolean("worker-only").pipe(Flag.withDescription("Run the scheduler only (no API)"), Flag.withDefault(false))
}, (flags) =>
  Effect.gen(function*() {
    if (flags.apiOnly && flags.workerOnly) return yield* Effect.fail(new Error("--api-only and --worker-only exclude each other"))
    const overrides: Partial<ServerConfigShape> = {
      ...(Option.isSome(flags.port) ? { port: flags.port.value } : {}),
      ...(Option.isSome(flags.host) ? { host: flags.host.value } : {}),
      ...(Option.isSome(flags.dataDir) ? { dataDir: flags.dataDir.value } : {}),
      ...(Option.isSome(flags.publicUrl) ? { publicUrl: flags.publicUrl.value } : {})
    }
    const run = Effect.scoped(serve({
      api: !flags.workerOnly,
      worker: !flags.apiOnly,
      overrides,
      configPath: Option.getOrUndefined(flags.config)
    }))
    // `--data-dir` also reaches the layers that read `OMNIPOST_DATA_DIR` themselves (the database, the key file).
    yield* Option.isSome(flags.dataDir) ? run.pipe(withSetting("OMNIPOST_DATA_DIR", flags.dataDir.value)) : run
    // An invalid setting, a port taken or a data directory in use: one line, printed by `oneLineErrors`.
  })).pipe(Command.withDescription("Run the API and the scheduler"))

/** Runs `effect` with `name` set to `value` in front of the configuration it would read (the environment, the config file). */
const withSetting = (name: string, value: string) => <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const current = yield* ConfigProvider.ConfigProvider
    return yield* effect.pipe(Effect.provideService(
      ConfigProvider.ConfigProvider,
      ConfigProvider.orElse(ConfigProvider.fromEnv({ env: { [name]: value } }), current)
    ))
  })

/** Runs the server and/or the scheduler until interrupted (SIGTERM/SIGINT), then shuts down gracefully. */
export const serve = (options: {
  readonly api: boolean
  readonly worker: boolean
  readonly overrides?: Partial<ServerConfigShape> | undefined
  /** The config file (`--config`); else `OMNIPOST_CONFIG`, else ./omnipost.config.json when present. */
  readonly configPath?: string | undefined
}) =>
  Effect.gen(function*() {
    // The plugins named by OMNIPOST_PLUGINS and the config file, whose `env` then backs every Config read.
    const configured = yield* PluginLoader.fromConfiguration({
      cwd: process.cwd(),
      env: {
        OMNIPOST_PLUGINS: yield* Config.String("OMNIPOST_PLUGINS").pipe(Config.withDefault("")),
        OMNIPOST_CONFIG: Option.getOrUndefined(yield* Config.option(Config.String("OMNIPOST_CONFIG")))
      },
      configPath: options.configPath,
      builtins: builtinPlugins
    })
    const provider = PluginLoader.configProvider(configured.configFile, yield* ConfigProvider.ConfigProvider)
    return yield* runServer(options, configured.plugins).pipe(Effect.provideService(ConfigProvider.ConfigProvider, provider))
  })

/** What `serve` runs. */
export interface ServeOptions {
  readonly api: boolean
  readonly worker: boolean
  readonly overrides?: Partial<ServerConfigShape> | undefined
}

/**
 * What `serve` runs, as one layer: the stack over the database, with the API
 * (and the webhook dispatcher) and/or the scheduler. The configuration is read
 * and checked first, so an invalid setting (`SchedulerSettings.InvalidSetting`)
 * is refused before the database is opened.
 */
export const serveLayer = (options: ServeOptions, plugins: ReadonlyArray<Plugin.Plugin>) =>
  Effect.gen(function*() {
    const config = yield* ServerConfig.pipe(Effect.provide(ServerConfig.layer(options.overrides)))
    const schedulerSettings = options.worker ? yield* SchedulerSettings.fromConfig : undefined
    if (schedulerSettings !== undefined) {
      const problem = SchedulerSettings.checkReadiness(schedulerSettings, config.heartbeatStaleSeconds)
      if (problem !== undefined) return yield* problem
    }
    // The stack over the database, and over the listening server when there is an API: it listens before the
    // database opens, so a taken port is reported at once, and with `--port 0` the configuration every service
    // reads names the port bound (`Server.layerListen`).
    const stackOver = <A, E>(listening: Layer.Layer<A, E, ServerConfig>) =>
      Server.layerStack({ plugins }).pipe(
        Layer.provideMerge(Layer.mergeAll(Crypto.layer, Database.layer, NodeHttpClient.layerUndici)),
        Layer.provideMerge(listening),
        Layer.provideMerge(Layer.succeed(ServerConfig, config))
      )
    const scheduler = schedulerSettings !== undefined
      ? Scheduler.layer(schedulerSettings).pipe(Layer.provide(Leases.layer))
      : Layer.empty
    // Every process sends webhooks, whatever its role: deliveries are claimed from the database by whoever has capacity.
    const background = Layer.mergeAll(scheduler, Server.layerDispatcher)
    return options.api
      ? Layer.mergeAll(Server.layerNode, background).pipe(Layer.provideMerge(stackOver(Server.layerListen)))
      : background.pipe(Layer.provideMerge(stackOver(Layer.empty)))
  })

/** The port to listen on is taken (`EADDRINUSE`). */
export class PortInUse extends Data.TaggedError("PortInUse")<{
  readonly port: number
  readonly host: string
  readonly message: string
}> {
  readonly code = "PORT_IN_USE"
  override readonly [Runtime.errorReported] = false
}

const portInUse = (error: unknown, config: { readonly port: number; readonly host: string }) => {
  const cause = (error as { readonly _tag?: string; readonly cause?: { readonly code?: string } })
  return cause?._tag === "ServeError" && cause.cause?.code === "EADDRINUSE"
    ? new PortInUse({
      port: config.port,
      host: config.host,
      message: `PORT_IN_USE: port ${config.port} on ${config.host} is taken by another program; choose another with --port <n> or PORT=<n> (for example PORT=${config.port + 1} npm start), or stop the other program`
    })
    : error
}

const runServer = (options: ServeOptions, plugins: ReadonlyArray<Plugin.Plugin>) =>
  Effect.gen(function*() {
    const requested = yield* ServerConfig.pipe(Effect.provide(ServerConfig.layer(options.overrides)))
    const context = yield* Layer.build(yield* serveLayer(options, plugins)).pipe(
      Effect.mapError((error) => portInUse(error, requested))
    )
    const config = yield* ServerConfig.pipe(Effect.provide(context))
    const keys = yield* ApiKeys.pipe(Effect.provide(context))
    const first = yield* keys.bootstrap.pipe(Effect.orDie)
    const loaded = yield* Plugins.pipe(Effect.provide(context))
    const lines: Array<string> = []
    if (options.api) {
      // With --port 0 the system picked the port: show where it listens (the configuration names the port bound).
      const base = requested.port === 0 ? `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.port}` : config.publicUrl
      lines.push(`Omnipost API:  ${base}/v1`, `Docs:          ${base}/docs`)
    }
    if (options.worker) lines.push(`Scheduler:     running`)
    lines.push(`Platforms:     ${loaded.map(describePlugin).join(", ")}`)
    if (Option.isSome(first)) {
      lines.push(
        "",
        `First start: an organization (${first.value.organizationId}) and its first API key were created, and an admin key.`,
        `API key (shown once, store it now):  ${first.value.key}`,
        `Try:  curl -H "Authorization: Bearer ${first.value.key}" ${config.publicUrl}/v1/posts`,
        `Admin key (shown once: it manages organizations, /v1/admin and \`omnipost orgs\`):  ${first.value.adminKey.key}`
      )
    }
    yield* Console.log(lines.join("\n"))
    return yield* Effect.never
  })

const describePlugin = (loaded: { readonly plugin: { readonly id: string }; readonly oauth?: unknown }) =>
  loaded.oauth !== undefined ? `${loaded.plugin.id} (OAuth)` : loaded.plugin.id

export const migrateCommand = Command.make("migrate", {}, () =>
  Effect.gen(function*() {
    // Building the database layer applies every pending migration.
    yield* Effect.scoped(Layer.build(Database.layer))
    yield* Console.log("migrations applied")
  })).pipe(Command.withDescription("Apply the database migrations"))
