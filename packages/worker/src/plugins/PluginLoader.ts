/**
 * The plugin modules named in the configuration, loaded for `omnipost serve`:
 *
 * - `OMNIPOST_PLUGINS`: a comma-separated list of module specifiers, resolved
 *   from the working directory: package names (`@acme/omnipost-mastodon`,
 *   found in `node_modules` as Node finds them, `exports` honoured) and paths
 *   (`./plugins/webhook.js`, or a plugin package's directory);
 * - a config file (`--config <file>`, `OMNIPOST_CONFIG`, else
 *   `./omnipost.config.json` when it exists): `{ "plugins": [...], "env": {...} }`,
 *   its specifiers resolved from the file's directory; `env` gives values to
 *   any configuration variable (a plugin's or the server's), the process
 *   environment winning.
 *
 * A module exports its plugin as `plugin` (or as its default export). Every
 * failure is a `PluginLoadError` that says which module and why: not found,
 * failed to load, exports no plugin, exports an invalid one, or uses an id
 * that is built in or already taken.
 */
import { Plugin } from "@omnipost/core"
import { resolve as resolveModule } from "import-meta-resolve"
import { ConfigProvider, Effect, Option, Predicate, Result, Schema } from "effect"
import { existsSync, readFileSync, statSync } from "node:fs"
import { dirname, isAbsolute, join, resolve } from "node:path"
import { pathToFileURL } from "node:url"

/** A plugin module that could not be used. */
export class PluginLoadError extends Schema.TaggedError<PluginLoadError>()("PluginLoadError", {
  specifier: Schema.String,
  message: Schema.String
}) {}

/** The config file is missing, not JSON, or holds something we do not understand. */
export class ConfigFileError extends Schema.TaggedError<ConfigFileError>()("ConfigFileError", {
  path: Schema.String,
  message: Schema.String
}) {}

/** A module to load, and the directory its specifier is resolved from. */
export interface PluginReference {
  readonly specifier: string
  readonly from: string
  /** Where it was named (`OMNIPOST_PLUGINS`, a config file's path), for error messages. */
  readonly origin: string
}

export const defaultConfigFile = "omnipost.config.json"

/** The config file's shape; unknown keys are refused. */
export const ConfigFileSchema = Schema.Struct({
  /** Plugin module specifiers, resolved from the file's directory. */
  plugins: Schema.optional(Schema.Array(Schema.String.check(Schema.isMinLength(1)))),
  /** Values of configuration variables (`OMNIPOST_MASTODON_CLIENT_ID`…); the environment wins. */
  env: Schema.optional(Schema.Record(Schema.String, Schema.String))
})

export interface ConfigFile {
  readonly path: string
  readonly plugins: ReadonlyArray<PluginReference>
  readonly env: Readonly<Record<string, string>>
}

/**
 * Reads the config file: `path` when given (it must exist), else
 * `omnipost.config.json` in `cwd` when there is one.
 */
export const readConfigFile = (options: {
  readonly path?: string | undefined
  readonly cwd: string
}): Effect.Effect<Option.Option<ConfigFile>, ConfigFileError> =>
  Effect.gen(function*() {
    const path = resolve(options.cwd, options.path ?? defaultConfigFile)
    if (!existsSync(path)) {
      return options.path === undefined
        ? Option.none()
        : yield* new ConfigFileError({ path, message: `the config file ${path} does not exist` })
    }
    const text = yield* Effect.try({
      try: () => readFileSync(path, "utf8"),
      catch: (error) => new ConfigFileError({ path, message: `cannot read ${path}: ${(error as Error).message}` })
    })
    const json = yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: (error) => new ConfigFileError({ path, message: `${path} is not JSON: ${(error as Error).message}` })
    })
    const decoded = yield* Schema.decodeUnknownEffect(ConfigFileSchema)(json, { onExcessProperty: "error", errors: "all" }).pipe(
      Effect.mapError((error) =>
        new ConfigFileError({
          path,
          message: `${path}: ${error.message} (the file holds "plugins", a list of module specifiers, and "env", an object of strings)`
        })
      )
    )
    const from = dirname(path)
    return Option.some({
      path,
      plugins: (decoded.plugins ?? []).map((specifier) => ({ specifier, from, origin: path })),
      env: decoded.env ?? {}
    })
  })

/** The references in an `OMNIPOST_PLUGINS` value (comma-separated, blanks ignored). */
export const parsePluginList = (value: string, cwd: string): ReadonlyArray<PluginReference> =>
  value.split(",").map((s) => s.trim()).filter((s) => s.length > 0).map((specifier) => ({
    specifier,
    from: cwd,
    origin: "OMNIPOST_PLUGINS"
  }))

const isPath = (specifier: string) =>
  specifier.startsWith("./") || specifier.startsWith("../") || specifier === "." || specifier === ".." ||
  isAbsolute(specifier) || specifier.startsWith("file:")

const failure = (reference: PluginReference, message: string) =>
  new PluginLoadError({ specifier: reference.specifier, message: `${reference.specifier} (from ${reference.origin}): ${message}` })

/**
 * The URL of a reference's module. A path may name a file or a plugin
 * package's directory (loaded through its own `exports`, as its name would be).
 */
export const resolveReference = (reference: PluginReference): Effect.Effect<string, PluginLoadError> =>
  Effect.try({
    try: () => {
      if (!isPath(reference.specifier)) return resolveModule(reference.specifier, pathToFileURL(join(reference.from, "/")).href)
      const path = reference.specifier.startsWith("file:")
        ? new URL(reference.specifier).pathname
        : resolve(reference.from, reference.specifier)
      if (!existsSync(path)) throw new Error(`no file or directory ${path}`)
      if (!statSync(path).isDirectory()) return pathToFileURL(path).href
      const manifest = join(path, "package.json")
      if (!existsSync(manifest)) throw new Error(`${path} is a directory without a package.json; name the module file`)
      const name = (JSON.parse(readFileSync(manifest, "utf8")) as { name?: unknown }).name
      if (typeof name !== "string") throw new Error(`${manifest} has no "name"`)
      // A package resolving its own name uses its `exports`, exactly as when it is installed.
      return resolveModule(name, pathToFileURL(manifest).href)
    },
    catch: (error) => {
      const message = (error as Error).message
      return failure(
        reference,
        isPath(reference.specifier)
          ? `cannot find the plugin module: ${message}`
          : `cannot find the package from ${reference.from} (install it there: npm install ${reference.specifier}): ${message}`
      )
    }
  })

/** The plugin a module exports: `plugin`, else the default export (or its `plugin`). */
const exportedPlugin = (module: Record<string, unknown>): unknown => {
  if (module.plugin !== undefined) return module.plugin
  const fallback = module.default
  return Predicate.isObject(fallback) && "plugin" in fallback && !("make" in fallback) ? fallback.plugin : fallback
}

/** Imports one module and checks its plugin. */
export const importReference = (reference: PluginReference): Effect.Effect<Plugin.Plugin, PluginLoadError> =>
  Effect.gen(function*() {
    const url = yield* resolveReference(reference)
    const module = yield* Effect.tryPromise({
      try: () => import(url) as Promise<Record<string, unknown>>,
      catch: (error) => failure(reference, `the module failed to load: ${(error as Error)?.message ?? String(error)}`)
    })
    const value = exportedPlugin(module)
    if (value === undefined) {
      return yield* failure(
        reference,
        "the module exports no plugin: export one as `plugin` (or as the default export), made with `Plugin.definePlugin` from @omnipost/core"
      )
    }
    const checked = Plugin.check(value, reference.specifier)
    if (Result.isFailure(checked)) return yield* failure(reference, `it exports an invalid plugin: ${checked.failure.message}`)
    return checked.success
  })

/**
 * Loads every reference, in order, refusing a plugin whose id is built in or
 * was taken by an earlier module. The same module named twice loads once.
 */
export const load = (
  references: ReadonlyArray<PluginReference>,
  builtins: ReadonlyArray<Plugin.Plugin>
): Effect.Effect<ReadonlyArray<Plugin.Plugin>, PluginLoadError> =>
  Effect.gen(function*() {
    const builtinIds = new Set(builtins.map((plugin) => plugin.id))
    const byId = new Map<string, string>()
    const seen = new Set<string>()
    const loaded: Array<Plugin.Plugin> = []
    for (const reference of references) {
      const url = yield* resolveReference(reference)
      if (seen.has(url)) continue
      seen.add(url)
      const plugin = yield* importReference(reference)
      if (builtinIds.has(plugin.id)) {
        return yield* failure(
          reference,
          `its plugin id "${plugin.id}" is a built-in platform's; give the plugin its own id (built in: ${[...builtinIds].join(", ")})`
        )
      }
      const earlier = byId.get(plugin.id)
      if (earlier !== undefined) {
        return yield* failure(reference, `its plugin id "${plugin.id}" is already used by ${earlier}; each plugin needs its own id`)
      }
      byId.set(plugin.id, reference.specifier)
      loaded.push(plugin)
    }
    return loaded
  })

/** What the configuration asks for: the plugins to load and the config file's variables. */
export interface Configured {
  readonly plugins: ReadonlyArray<Plugin.Plugin>
  readonly configFile: Option.Option<ConfigFile>
}

/**
 * Reads `OMNIPOST_PLUGINS` (from `env`) and the config file, and loads the
 * plugins both name (the config file's first).
 */
export const fromConfiguration = (options: {
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly configPath?: string | undefined
  readonly builtins: ReadonlyArray<Plugin.Plugin>
}): Effect.Effect<Configured, PluginLoadError | ConfigFileError> =>
  Effect.gen(function*() {
    const configPath = options.configPath ?? (options.env.OMNIPOST_CONFIG || undefined)
    const configFile = yield* readConfigFile({ path: configPath, cwd: options.cwd })
    const references = [
      ...Option.match(configFile, { onNone: () => [], onSome: (file) => file.plugins }),
      ...parsePluginList(options.env.OMNIPOST_PLUGINS ?? "", options.cwd)
    ]
    return { plugins: yield* load(references, options.builtins), configFile }
  })

/**
 * The `ConfigProvider` with the config file's `env` behind the process
 * environment (the environment wins).
 */
export const configProvider = (
  configFile: Option.Option<ConfigFile>,
  current: ConfigProvider.ConfigProvider
): ConfigProvider.ConfigProvider =>
  Option.match(configFile, {
    onNone: () => current,
    onSome: (file) => ConfigProvider.orElse(current, ConfigProvider.fromEnv({ env: { ...file.env } }))
  })
