/**
 * The `omnipost` command line (`effect/cli`).
 *
 * - `serve`: the API and the scheduler in one process (`--api-only`,
 *   `--worker-only` to scale them apart); `migrate`: apply migrations;
 * - `keys create|list|revoke`: on the database directly (with embedded PGlite,
 *   only while the server is stopped: PGlite belongs to one process), or
 *   through a running server when an API key is given; `--org <id>` for an
 *   organization's keys, `--admin` for admin keys (on the database only);
 * - `orgs create|list|disable|enable`: the same two ways (through the server
 *   with an admin key);
 * - `mcp`: the MCP tools over stdio, for agents;
 * - `accounts add|list`, `groups create|list|rename|delete|add|remove`, `post`,
 *   `status`, `mcp`: through a running server
 *   (`--url`, default `OMNIPOST_URL` or http://127.0.0.1:3000, and `--key`,
 *   default `OMNIPOST_API_KEY`).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { type Plugin, Schedule } from "@omnipost/core"
import { Clock, Config, ConfigProvider, Console, Context, Data, Effect, Layer, Logger, Option, Result, Runtime } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { HttpServer } from "effect/http"
import { ApiKeys } from "../storage/ApiKeys.js"
import { builtinPlugins } from "../plugins/BuiltinPlugins.js"
import { ServerConfig, type ServerConfigShape } from "../Config.js"
import { Crypto } from "../storage/Crypto.js"
import { Database } from "../storage/Database.js"
import { Leases } from "../storage/Leases.js"
import { Organizations } from "../storage/Organizations.js"
import * as PluginLoader from "../plugins/PluginLoader.js"
import { Plugins } from "../plugins/Plugins.js"
import { Scheduler } from "../scheduler/Scheduler.js"
import * as SchedulerSettings from "../scheduler/SchedulerSettings.js"
import * as Server from "../api/Server.js"
import * as Mcp from "../mcp/Mcp.js"
import { call, progressBar, upload } from "./Client.js"
import { connection, key, print, url } from "./Connection.js"
import { groupsCommand } from "./Groups.js"
import { describeFile, preflight } from "./Preflight.js"

// ---------------------------------------------------------------------------
// Shared flags
// ---------------------------------------------------------------------------

// --url, --key, the connection and `print` are in `Connection` (shared with `Groups`).

// ---------------------------------------------------------------------------
// serve, migrate
// ---------------------------------------------------------------------------

const serveCommand = Command.make("serve", {
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
    if (Option.isSome(flags.dataDir)) process.env.OMNIPOST_DATA_DIR = flags.dataDir.value
    const overrides: Partial<ServerConfigShape> = {
      ...(Option.isSome(flags.port) ? { port: flags.port.value } : {}),
      ...(Option.isSome(flags.host) ? { host: flags.host.value } : {}),
      ...(Option.isSome(flags.dataDir) ? { dataDir: flags.dataDir.value } : {}),
      ...(Option.isSome(flags.publicUrl) ? { publicUrl: flags.publicUrl.value } : {})
    }
    yield* Effect.scoped(serve({
      api: !flags.workerOnly,
      worker: !flags.apiOnly,
      overrides,
      configPath: Option.getOrUndefined(flags.config)
    }))
    // An invalid setting, a port taken or a data directory in use: one line, printed by `oneLineErrors`.
  })).pipe(Command.withDescription("Run the API and the scheduler"))

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
    const base = Layer.mergeAll(Crypto.layer, Database.layer, NodeHttpClient.layerUndici).pipe(
      Layer.provideMerge(Layer.succeed(ServerConfig, config))
    )
    const stack = Server.layerStack({ plugins }).pipe(Layer.provideMerge(base))
    const scheduler = schedulerSettings !== undefined
      ? Scheduler.layer(schedulerSettings).pipe(Layer.provide(Leases.layer))
      : Layer.empty
    const api = options.api ? Layer.mergeAll(Server.layerNode, Server.layerDispatcher) : Layer.empty
    return Layer.mergeAll(api, scheduler).pipe(Layer.provideMerge(stack))
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
      // With --port 0 the system picked the port: show the one actually bound.
      const address = (yield* HttpServer.HttpServer.pipe(Effect.provide(context))).address
      const base = config.port === 0 && address._tag !== "UnixPathAddress"
        ? `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${address.port}`
        : config.publicUrl
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

const migrateCommand = Command.make("migrate", {}, () =>
  Effect.gen(function*() {
    // Building the database layer applies every pending migration.
    yield* Effect.scoped(Layer.build(Database.layer))
    yield* Console.log("migrations applied")
  })).pipe(Command.withDescription("Apply the database migrations"))

// ---------------------------------------------------------------------------
// keys
// ---------------------------------------------------------------------------

const directKeys = <A, E>(f: (keys: ApiKeys["Service"], organizationId: string) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(ApiKeys.layer.pipe(Layer.provideMerge(Database.layer)))
    const keys = yield* ApiKeys.pipe(Effect.provide(context))
    const organizationId = yield* keys.defaultOrganization
    return yield* f(keys, organizationId)
  }))

const hasKey = (flag: Option.Option<string>) =>
  Effect.map(
    Config.option(Config.String("OMNIPOST_API_KEY")),
    (env) => Option.isSome(flag) || Option.isSome(Option.filter(env, (value) => value !== ""))
  )

const org = Flag.String("org").pipe(
  Flag.withDescription("An organization's id (`omnipost orgs list`): act on its keys, as an operator (with --key: an admin key)"),
  Flag.optional
)
const admin = Flag.Boolean("admin").pipe(
  Flag.withDescription("Admin keys (they manage organizations): on the database directly, without --key"),
  Flag.withDefault(false)
)

/** `--org` and `--admin` exclude each other; admin keys are managed on the database only. */
const keyOwner = (flags: { readonly org: Option.Option<string>; readonly admin: boolean; readonly key: Option.Option<string> }) =>
  Effect.gen(function*() {
    if (flags.admin && Option.isSome(flags.org)) return yield* Effect.fail(new Error("--admin and --org exclude each other"))
    const remote = yield* hasKey(flags.key)
    if (flags.admin && remote) {
      return yield* Effect.fail(
        new Error("admin keys are managed on the database directly: run without --key and OMNIPOST_API_KEY (on PGlite, with the server stopped)")
      )
    }
    return { remote, admin: flags.admin, org: Option.getOrUndefined(flags.org) }
  })

const orgPath = (id: string) => `/v1/admin/organizations/${encodeURIComponent(id)}`

const keysCreate = Command.make("create", {
  name: Flag.String("name").pipe(Flag.withDescription("What the key is for")),
  rateLimit: Flag.Int("rate-limit").pipe(Flag.withDescription("Requests per minute for this key"), Flag.optional),
  expiresAt: Flag.String("expires-at").pipe(
    Flag.withDescription("When the key stops working: an ISO 8601 instant such as 2027-01-01T00:00:00Z"),
    Flag.optional
  ),
  readOnly: Flag.Boolean("read-only").pipe(Flag.withDescription("The key may only read (GET)"), Flag.withDefault(false)),
  org,
  admin,
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const expiresAt = Option.getOrUndefined(flags.expiresAt)
    if (expiresAt !== undefined) {
      // The API checks the same; the direct path must too.
      const parsed = Schedule.parseInstant(expiresAt)
      if (Result.isFailure(parsed)) return yield* Effect.fail(new Error(`--expires-at: ${parsed.failure}`))
      if (Date.parse(expiresAt) <= (yield* Clock.currentTimeMillis)) {
        return yield* Effect.fail(new Error(`--expires-at ${expiresAt} is not in the future`))
      }
    }
    const body = {
      name: flags.name,
      rateLimitPerMinute: Option.getOrUndefined(flags.rateLimit),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(flags.readOnly ? { readOnly: true } : {})
    }
    const owner = yield* keyOwner(flags)
    const created = owner.remote
      ? yield* call(yield* connection(flags), "POST", owner.org === undefined ? "/v1/keys" : `${orgPath(owner.org)}/keys`, body)
      : owner.admin
      ? yield* directOrganizations(({ keys }) => keys.createAdmin(body))
      : owner.org !== undefined
      ? yield* directOrganizations(({ keys, organizations }) =>
        Effect.gen(function*() {
          const organization = yield* existingOrganization(organizations, owner.org!)
          return yield* keys.create({ organizationId: organization.id, ...body })
        })
      )
      : yield* directKeys((keys, organizationId) => keys.create({ organizationId, ...body }))
    yield* print(created)
    yield* Console.error("The key is shown once: store it now.")
  })).pipe(Command.withDescription("Create an API key (--org: of that organization; --admin: an admin key)"))

const keysList = Command.make("list", { org, admin, url, key }, (flags) =>
  Effect.gen(function*() {
    const owner = yield* keyOwner(flags)
    const list = owner.remote
      ? yield* call(yield* connection(flags), "GET", owner.org === undefined ? "/v1/keys" : `${orgPath(owner.org)}/keys`)
      : owner.admin
      ? yield* directOrganizations(({ keys }) => keys.listAdmin)
      : owner.org !== undefined
      ? yield* directOrganizations(({ keys, organizations }) =>
        Effect.flatMap(existingOrganization(organizations, owner.org!), (organization) => keys.list(organization.id))
      )
      : yield* directKeys((keys, organizationId) => keys.list(organizationId))
    yield* print(list)
  })).pipe(Command.withDescription("List API keys (--org: of that organization; --admin: the admin keys)"))

const keysRevoke = Command.make("revoke", { id: Argument.String("id"), admin, url, key }, (flags) =>
  Effect.gen(function*() {
    const owner = yield* keyOwner({ ...flags, org: Option.none() })
    if (owner.remote) {
      yield* call(yield* connection(flags), "DELETE", `/v1/keys/${encodeURIComponent(flags.id)}`)
    } else {
      const revoked = owner.admin
        ? yield* directOrganizations(({ keys }) => keys.revokeAdmin(flags.id))
        : yield* directKeys((keys, organizationId) => keys.revoke(organizationId, flags.id))
      if (!revoked) return yield* Effect.fail(new Error(`no active ${owner.admin ? "admin " : ""}API key ${flags.id}`))
    }
    yield* Console.log(`revoked ${flags.id}`)
  })).pipe(Command.withDescription("Revoke an API key (--admin: an admin key)"))

const keysCommand = Command.make("keys").pipe(
  Command.withDescription("Manage API keys"),
  Command.withSubcommands([keysCreate, keysList, keysRevoke])
)

// ---------------------------------------------------------------------------
// orgs (organizations, for the operator)
// ---------------------------------------------------------------------------

/** The key and organization stores on the database directly (with PGlite only while the server is stopped). */
const directOrganizations = <A, E>(
  f: (services: { readonly keys: ApiKeys["Service"]; readonly organizations: Organizations["Service"] }) => Effect.Effect<A, E>
) =>
  Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(Layer.mergeAll(ApiKeys.layer, Organizations.layer).pipe(Layer.provideMerge(Database.layer)))
    return yield* f({ keys: Context.get(context, ApiKeys), organizations: Context.get(context, Organizations) })
  }))

const existingOrganization = (organizations: Organizations["Service"], id: string) =>
  Effect.flatMap(organizations.get(id), (found) =>
    Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new Error(`no organization ${id}`)))

const orgsCreate = Command.make("create", {
  name: Flag.String("name").pipe(Flag.withDescription("The organization's name (a client, a brand)")),
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const created = (yield* hasKey(flags.key))
      ? yield* call(yield* connection(flags), "POST", "/v1/admin/organizations", { name: flags.name })
      : yield* directOrganizations(({ organizations }) => organizations.create(flags.name))
    yield* print(created)
    yield* Console.error(`Next: its first key, \`omnipost keys create --org ${created.id} --name <what for>\``)
  })).pipe(Command.withDescription("Create an organization"))

const orgsList = Command.make("list", { url, key }, (flags) =>
  Effect.gen(function*() {
    const all: Array<unknown> = []
    let cursor: string | undefined
    const remote = yield* hasKey(flags.key)
    const conn = remote ? yield* connection(flags) : undefined
    do {
      const page: { readonly data: ReadonlyArray<unknown>; readonly nextCursor?: string | undefined } = conn !== undefined
        ? yield* call(conn, "GET", `/v1/admin/organizations?limit=100${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`)
        : yield* directOrganizations(({ organizations }) =>
          Effect.map(organizations.list({ limit: 100, cursor }), (p) => ({ data: p.items, nextCursor: p.nextCursor }))
        )
      all.push(...page.data)
      cursor = page.nextCursor
    } while (cursor !== undefined)
    yield* print(all)
  })).pipe(Command.withDescription("List organizations"))

const orgsSetDisabled = (disabled: boolean) =>
  Command.make(disabled ? "disable" : "enable", { id: Argument.String("id"), url, key }, (flags) =>
    Effect.gen(function*() {
      const updated = (yield* hasKey(flags.key))
        ? yield* call(yield* connection(flags), "POST", `${orgPath(flags.id)}/${disabled ? "disable" : "enable"}`)
        : yield* directOrganizations(({ organizations }) =>
          Effect.flatMap(organizations.setDisabled(flags.id, disabled), (found) =>
            Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new Error(`no organization ${flags.id}`)))
        )
      yield* print(updated)
    })).pipe(Command.withDescription(
      disabled ? "Disable an organization: its keys are refused until it is enabled" : "Enable a disabled organization"
    ))

const orgsCommand = Command.make("orgs").pipe(
  Command.withDescription("Manage organizations (an admin key through the server, or the database directly)"),
  Command.withSubcommands([orgsCreate, orgsList, orgsSetDisabled(true), orgsSetDisabled(false)])
)

// ---------------------------------------------------------------------------
// accounts, post, status (through the API)
// ---------------------------------------------------------------------------

const accountsAdd = Command.make("add", {
  platform: Flag.String("platform").pipe(Flag.withDescription("A platform id (the Platforms line of `omnipost serve` lists them)")),
  credentials: Flag.String("credentials").pipe(
    Flag.withDescription("The credentials as JSON, e.g. {\"identifier\":\"alice.bsky.social\",\"appPassword\":\"…\"}")
  ),
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const credentials = yield* Effect.try({
      try: () => JSON.parse(flags.credentials) as unknown,
      catch: () => new Error("--credentials must be JSON")
    })
    yield* print(yield* call(yield* connection(flags), "POST", "/v1/accounts", { platform: flags.platform, credentials }))
  })).pipe(Command.withDescription("Connect an account (the credentials are verified first)"))

const accountsList = Command.make("list", {
  platform: Flag.String("platform").pipe(Flag.optional),
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const query = Option.isSome(flags.platform) ? `?platform=${encodeURIComponent(flags.platform.value)}` : ""
    yield* print(yield* call(yield* connection(flags), "GET", `/v1/accounts${query}`))
  })).pipe(Command.withDescription("List connected accounts"))

const accountsCommand = Command.make("accounts").pipe(
  Command.withDescription("Connected accounts"),
  Command.withSubcommands([accountsAdd, accountsList])
)

const postCommand = Command.make("post", {
  text: Argument.String("text").pipe(Argument.withDescription("The post's text")),
  files: Flag.String("file").pipe(Flag.withDescription("A file to attach (repeatable)"), Flag.atLeast(0)),
  accounts: Flag.String("account").pipe(Flag.withDescription("An account id to publish to (repeatable)"), Flag.atLeast(1)),
  at: Flag.String("at").pipe(
    Flag.withDescription("When: an ISO instant, or a local time with --timezone (default: now)"),
    Flag.optional
  ),
  timezone: Flag.String("timezone").pipe(Flag.withDescription("IANA time zone for --at"), Flag.optional),
  draft: Flag.Boolean("draft").pipe(Flag.withDescription("Save as a draft"), Flag.withDefault(false)),
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const conn = yield* connection(flags)
    const when = {
      ...(flags.draft ? { status: "draft" } : {}),
      ...(Option.isSome(flags.at) ? { scheduledAt: flags.at.value } : {}),
      ...(Option.isSome(flags.timezone) ? { timezone: flags.timezone.value } : {})
    }
    // Files are checked against the destinations' rules before any upload.
    if (flags.files.length > 0) {
      const facts = yield* Effect.forEach(flags.files, describeFile)
      yield* preflight(conn, { text: flags.text, accounts: flags.accounts, extra: when }, facts)
    }
    const mediaIds: Array<string> = []
    for (const file of flags.files) {
      const tty = process.stderr.isTTY
      let last = 0
      const media = yield* upload(conn, file, (sent, total) => {
        const now = Date.now()
        if (sent === total || now - last > 100) {
          last = now
          const line = progressBar(sent, total, file)
          process.stderr.write(tty ? `\r${line}` : `${line}\n`)
        }
      })
      if (tty) process.stderr.write("\n")
      mediaIds.push(media.id)
    }
    const post = yield* call(conn, "POST", "/v1/posts", {
      content: { text: flags.text, ...(mediaIds.length > 0 ? { media: mediaIds.map((mediaId) => ({ mediaId })) } : {}) },
      destinations: flags.accounts.map((accountId) => ({ accountId })),
      ...when
    })
    yield* print(post)
  })).pipe(Command.withDescription("Create a post (files upload first, with progress)"))

const statusCommand = Command.make("status", { post: Argument.String("post"), url, key }, (flags) =>
  Effect.gen(function*() {
    const post = yield* call(yield* connection(flags), "GET", `/v1/posts/${encodeURIComponent(flags.post)}`)
    const lines = [`${post.id}  ${post.status}${post.scheduledAt ? `  (scheduled ${post.scheduledAt})` : ""}`]
    for (const d of post.destinations as ReadonlyArray<any>) {
      lines.push(
        `  ${d.platform.padEnd(10)} ${d.status.padEnd(11)} attempts ${d.attempts}` +
          (d.url ? `  ${d.url}` : "") +
          (d.nextRetryAt ? `  next retry ${d.nextRetryAt}` : "") +
          (d.lastError ? `  ${d.lastError.code}: ${d.lastError.message}` : "")
      )
    }
    yield* Console.log(lines.join("\n"))
  })).pipe(Command.withDescription("Show a post and every destination's status"))

// ---------------------------------------------------------------------------
// mcp
// ---------------------------------------------------------------------------

const mcpCommand = Command.make("mcp", { url, key }, (flags) =>
  Effect.gen(function*() {
    const target = yield* connection(flags)
    // stdout carries the protocol: every log line goes to stderr.
    return yield* Layer.launch(Mcp.layerStdio(target)).pipe(Effect.provideService(Logger.LogToStderr, true))
  })).pipe(Command.withDescription("Serve the MCP tools (for agents) over stdio, acting through a running server with an API key"))

export const omnipost = Command.make("omnipost").pipe(
  Command.withDescription("Self-hosted publishing to social platforms, built in or plugins"),
  Command.withSubcommands([serveCommand, migrateCommand, keysCommand, orgsCommand, accountsCommand, groupsCommand, postCommand, statusCommand, mcpCommand])
)

/** A failure the CLI has printed as its one line (so the runtime prints no stack after it). */
class Reported extends Data.TaggedError("Reported")<{ readonly cause: unknown; readonly message: string }> {
  override readonly [Runtime.errorReported] = false
}

/**
 * Every failure of a command as one line, `omnipost: <CODE>: <message>` (an
 * API error's code, or the error's own code or tag), never a stack: the
 * CLI's errors are read by people. The argument parser's own errors keep
 * their help text.
 */
export const oneLineErrors = <A, R>(effect: Effect.Effect<A, unknown, R>) =>
  effect.pipe(
    Effect.catch((error: unknown) => {
      if (error === null || typeof error !== "object" || (error as { _tag?: unknown })._tag === "ShowHelp") return Effect.fail(error)
      const { code, _tag, message } = error as { code?: unknown; _tag?: unknown; message?: unknown }
      const label = typeof code === "string" ? code : typeof _tag === "string" ? _tag : "ERROR"
      const text = typeof message === "string" && message !== "" ? message.split("\n")[0]! : String(error)
      const line = text.startsWith(`${label}: `) ? `omnipost: ${text}` : `omnipost: ${label}: ${text}`
      return Console.error(line).pipe(Effect.andThen(Effect.fail(new Reported({ cause: error, message: line }))))
    })
  )

/** Runs the CLI with these arguments (tests), failures as one line. */
export const runWith = (args: ReadonlyArray<string>) => oneLineErrors(Command.runWith(omnipost, { version: "0.1.0" })(args))

export const run = oneLineErrors(Command.run(omnipost, { version: "0.1.0" }))

