/**
 * `PluginLoader` against real modules on disk: a temporary working directory
 * with a plugin package in its own `node_modules` (resolved through its
 * `exports`, as Node would), plugin files named by path, a plugin package's
 * directory, a config file, and every way a module can be unusable.
 */
import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Option } from "effect"
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll } from "vitest"
import { builtinPlugins } from "../src/plugins/BuiltinPlugins.js"
import * as PluginLoader from "../src/plugins/PluginLoader.js"

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..")
const cwd = mkdtempSync(join(tmpdir(), "omnipost-plugins-"))
afterAll(() => rmSync(cwd, { recursive: true, force: true }))

const write = (path: string, content: string) => {
  mkdirSync(dirname(join(cwd, path)), { recursive: true })
  writeFileSync(join(cwd, path), content)
}

/** A plugin module's source: a plain object with an effect Config, as `definePlugin` makes. */
const pluginSource = (id: string, exported: "named" | "default" = "named") => `
import { Config, Effect } from "effect"
const plugin = {
  id: ${JSON.stringify(id)},
  displayName: ${JSON.stringify(`Plugin ${id}`)},
  config: Config.succeed({}),
  make: () => Effect.die(new Error("not built in this test"))
}
${exported === "named" ? "export { plugin }" : "export default plugin"}
`

// effect comes from the repository, linked in as an installed dependency would be.
mkdirSync(join(cwd, "node_modules"), { recursive: true })
symlinkSync(join(repoRoot, "node_modules/effect"), join(cwd, "node_modules/effect"), "dir")
write("node_modules/@acme/omnipost-echo/package.json", JSON.stringify({
  name: "@acme/omnipost-echo",
  type: "module",
  exports: { ".": { import: "./dist/main.js" } }
}))
write("node_modules/@acme/omnipost-echo/dist/main.js", pluginSource("echo"))
write("plugins/webhook.js", pluginSource("webhook", "default"))
write("plugins/local-pkg/package.json", JSON.stringify({ name: "local-pkg", type: "module", exports: "./src/index.js" }))
write("plugins/local-pkg/src/index.js", pluginSource("local"))
write("plugins/nothing.js", "export const something = 1\n")
write("plugins/invalid.js", pluginSource("Bad Id"))
write("plugins/broken.js", "export const plugin = ;\n")
write("plugins/x.js", pluginSource("x"))
write("plugins/tiktok.js", pluginSource("tiktok"))
write("plugins/echo-again.js", pluginSource("echo"))

const load = (list: string, configPath?: string) =>
  PluginLoader.fromConfiguration({ cwd, env: { OMNIPOST_PLUGINS: list }, configPath, builtins: builtinPlugins })

const loadError = (list: string) => Effect.flip(load(list))

describe("PluginLoader", () => {
  it.effect("loads a package by name from the working directory, a file by path, and a plugin package's directory", () =>
    Effect.gen(function*() {
      const configured = yield* load("@acme/omnipost-echo, ./plugins/webhook.js,./plugins/local-pkg")
      assert.deepStrictEqual(configured.plugins.map((p) => p.id), ["echo", "webhook", "local"])
      assert.isTrue(Option.isNone(configured.configFile))
    }))

  it.effect("the same module named twice loads once", () =>
    Effect.gen(function*() {
      const configured = yield* load(`./plugins/webhook.js,${join(cwd, "plugins/webhook.js")}`)
      assert.deepStrictEqual(configured.plugins.map((p) => p.id), ["webhook"])
    }))

  const failures: ReadonlyArray<readonly [string, string, RegExp]> = [
    ["a package that is not installed", "@acme/omnipost-missing", /cannot find the package from .* \(install it there: npm install @acme\/omnipost-missing\)/],
    ["a file that does not exist", "./plugins/nope.js", /cannot find the plugin module: no file or directory/],
    ["a module without a plugin export", "./plugins/nothing.js", /exports no plugin: export one as `plugin`/],
    ["a module exporting an invalid plugin", "./plugins/invalid.js", /exports an invalid plugin: .*"id" must be a platform id/],
    ["a module that fails to load", "./plugins/broken.js", /the module failed to load/],
    ["a plugin using a built-in id", "./plugins/x.js", /plugin id "x" is a built-in platform's; give the plugin its own id \(built in: x, bluesky, linkedin, instagram, facebook, threads, youtube, tiktok\)/],
    ["a plugin using TikTok's id (built in)", "./plugins/tiktok.js", /plugin id "tiktok" is a built-in platform's/],
    ["two plugins with one id", "@acme/omnipost-echo,./plugins/echo-again.js", /plugin id "echo" is already used by @acme\/omnipost-echo/]
  ]
  for (const [what, list, message] of failures) {
    it.effect(`refuses ${what}, naming the module and where it was named`, () =>
      Effect.gen(function*() {
        const error = yield* loadError(list)
        assert.strictEqual(error._tag, "PluginLoadError")
        assert.match(error.message, message)
        assert.include(error.message, "(from OMNIPOST_PLUGINS)")
      }))
  }

  it.effect("a config file names plugins relative to itself and gives configuration values the environment overrides", () =>
    Effect.gen(function*() {
      write("conf/omnipost.config.json", JSON.stringify({
        plugins: ["../plugins/webhook.js"],
        env: { OMNIPOST_WEBHOOK_URL: "http://from-file", OMNIPOST_OTHER: "file" }
      }))
      const configured = yield* load("@acme/omnipost-echo", "conf/omnipost.config.json")
      assert.deepStrictEqual(configured.plugins.map((p) => p.id), ["webhook", "echo"])
      const provider = PluginLoader.configProvider(
        configured.configFile,
        ConfigProvider.fromEnv({ env: { OMNIPOST_OTHER: "environment" } })
      )
      const read = Config.all({ url: Config.String("OMNIPOST_WEBHOOK_URL"), other: Config.String("OMNIPOST_OTHER") })
      assert.deepStrictEqual(yield* read.parse(provider), { url: "http://from-file", other: "environment" })
    }))

  it.effect("./omnipost.config.json is read when present; a named config file must exist and hold only known keys", () =>
    Effect.gen(function*() {
      write("omnipost.config.json", JSON.stringify({ plugins: ["./plugins/local-pkg"] }))
      const configured = yield* load("")
      assert.deepStrictEqual(configured.plugins.map((p) => p.id), ["local"])
      rmSync(join(cwd, "omnipost.config.json"))

      const missing = yield* Effect.flip(load("", "conf/nope.json"))
      assert.strictEqual(missing._tag, "ConfigFileError")
      assert.match(missing.message, /does not exist/)
      write("conf/typo.json", JSON.stringify({ plugin: ["./x.js"] }))
      const typo = yield* Effect.flip(load("", "conf/typo.json"))
      assert.strictEqual(typo._tag, "ConfigFileError")
      assert.include(typo.message, "plugin")
      write("conf/bad.json", "{ plugins: ")
      const bad = yield* Effect.flip(load("", "conf/bad.json"))
      assert.match(bad.message, /is not JSON/)
    }))
})
