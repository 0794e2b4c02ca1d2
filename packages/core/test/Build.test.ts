/**
 * The built package, as users get it: plain Node (no vitest, no aliases)
 * imports `@omnipost/core` from a script outside the repository, once as ESM
 * and once as CommonJS, and uses it; TypeScript type-checks both against the
 * emitted `.d.ts` / `.d.cts` with Node's own module resolution.
 *
 * `npm test` builds every package before vitest runs. Run alone, this suite
 * builds `dist` itself when it is missing or older than the sources.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"

const coreDir = fileURLToPath(new URL("..", import.meta.url))
const repoRoot = path.resolve(coreDir, "../..")
const distDir = path.join(coreDir, "dist")
const packageJson = JSON.parse(fs.readFileSync(path.join(coreDir, "package.json"), "utf8"))

const newestMtime = (dir: string): number =>
  fs.readdirSync(dir, { withFileTypes: true }).reduce((newest, entry) => {
    const full = path.join(dir, entry.name)
    return Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs)
  }, 0)

/** The files the `exports` map points at. */
const exportTargets = (): Array<string> => {
  const targets: Array<string> = []
  const walk = (node: unknown) => {
    if (typeof node === "string") targets.push(node)
    else if (node !== null && typeof node === "object") Object.values(node).forEach(walk)
  }
  walk(packageJson.exports["."])
  return targets
}

const needsBuild = () => {
  const targets = exportTargets().map((target) => path.join(coreDir, target))
  if (!targets.every((target) => fs.existsSync(target))) return true
  return Math.min(...targets.map((target) => fs.statSync(target).mtimeMs)) < newestMtime(path.join(coreDir, "src"))
}

/** What `src/index.ts` exports, read from the source: the built package must export the same names. */
const expectedExports = (): Array<string> => {
  const index = fs.readFileSync(path.join(coreDir, "src/index.ts"), "utf8")
  const namespaces = [...index.matchAll(/export \* as (\w+) from/g)].map((m) => m[1]!)
  const named = [...index.matchAll(/export \{([^}]+)\} from/g)].flatMap((m) =>
    m[1]!.split(",").map((name) => name.trim().split(/\s+as\s+/).pop()!).filter((name) => name !== "" && !name.startsWith("type "))
  )
  return [...namespaces, ...named].sort()
}

let workDir = ""

const runNode = (file: string): any => {
  const output = execFileSync(process.execPath, [file], { cwd: workDir, encoding: "utf8", timeout: 60_000 })
  return JSON.parse(output.trim().split("\n").at(-1)!)
}

/** The same checks in both module systems; `load` is `await import(...)` or `require(...)`. */
const probe = (load: string, loadEffect: string) => `
const core = ${load}
const { Effect } = ${loadEffect}
const schedule = core.Schedule.resolve({ _tag: "local", localTime: "2026-07-01T09:00", timeZone: "America/New_York" })
const validation = core.Validation.validatePost({ content: { text: "x".repeat(281) }, destinations: [{ platform: "x", accountId: "1" }] })
const publisher = {
  platform: "echo",
  displayName: "Echo",
  rules: { ...core.Rules.bluesky, platform: "echo", displayName: "Echo" },
  settingsSchema: core.Settings.settingsSchemas.bluesky,
  credentialsSchema: core.Settings.settingsSchemas.bluesky,
  publish: (request) => Effect.succeed({
    platformPostId: request.attemptId,
    url: "https://echo.example/" + request.attemptId,
    publishedAt: "2026-01-01T00:00:00.000Z",
    parts: []
  })
}
const omnipost = core.createOmnipost({ publishers: [publisher], credentials: { a1: {} } })
const report = await omnipost.publish({ content: { text: "hello" }, destinations: [{ platform: "echo", accountId: "a1" }] })
console.log(JSON.stringify({
  keys: Object.keys(core).filter((key) => key !== "default" && key !== "__esModule").sort(),
  aggregate: core.Lifecycle.aggregate(["published", "failed"]),
  schedule: schedule._tag === "Success" ? String(schedule.success.epochMilliseconds) : schedule.failure._tag,
  validation: validation.issues.map((issue) => issue.code),
  publish: { status: report.status, url: report.destinations?.[0]?.url }
}))
`

describe("the built package", () => {
  beforeAll(() => {
    if (needsBuild()) {
      execFileSync(process.execPath, [path.join(repoRoot, "node_modules/tsup/dist/cli-default.js")], {
        cwd: coreDir,
        stdio: "pipe",
        timeout: 170_000
      })
    }
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), "omnipost-build-"))
    // Resolve packages as an installed app would: through node_modules, never through the repository's sources.
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(workDir, "node_modules"), "dir")
    fs.writeFileSync(path.join(workDir, "probe.mjs"), probe(`await import("@omnipost/core")`, `await import("effect")`))
    fs.writeFileSync(
      path.join(workDir, "probe.cjs"),
      `(async () => {\n${probe(`require("@omnipost/core")`, `require("effect")`)}\n})().catch((e) => { console.error(e); process.exit(1) })`
    )
  }, 180_000)

  afterAll(() => {
    if (workDir !== "") fs.rmSync(workDir, { recursive: true, force: true })
  })

  it("has every file the exports map points at", () => {
    for (const target of [...exportTargets(), packageJson.main, packageJson.module, packageJson.types]) {
      assert.isTrue(fs.existsSync(path.join(coreDir, target)), `${target} is missing`)
    }
    assert.isTrue(fs.readFileSync(path.join(distDir, "index.cjs"), "utf8").includes("require(\"effect\")"), "effect stays external")
  })

  const expected = {
    aggregate: "partially_failed",
    schedule: String(Date.parse("2026-07-01T13:00:00Z")),
    validation: ["CONTENT_TOO_LONG"],
    publish: { status: "published", url: "https://echo.example/" }
  }

  for (const [system, file] of [["ESM (import)", "probe.mjs"], ["CommonJS (require)", "probe.cjs"]] as const) {
    it(`works from plain Node as ${system}`, () => {
      const result = runNode(file)
      assert.deepStrictEqual(result.keys, expectedExports())
      assert.strictEqual(result.aggregate, expected.aggregate)
      assert.strictEqual(result.schedule, expected.schedule)
      assert.deepStrictEqual(result.validation, expected.validation)
      assert.strictEqual(result.publish.status, expected.publish.status)
      assert.match(result.publish.url, /^https:\/\/echo\.example\/.+:1$/)
    }, 60_000)
  }

  it("type-checks for TypeScript users of both module systems", () => {
    const check = `import { createOmnipost, Lifecycle, type Post } from "@omnipost/core"
const status: Post.PostStatus = Lifecycle.aggregate(["published"])
const omnipost = createOmnipost({ publishers: [], credentials: {} })
export const answer: Promise<{ readonly status: string }> = omnipost.publish({})
export { status }
`
    fs.writeFileSync(path.join(workDir, "check.mts"), check)
    fs.writeFileSync(path.join(workDir, "check.cts"), check)
    const tsc = path.join(repoRoot, "node_modules/typescript/bin/tsc")
    const args = ["--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--skipLibCheck", "--types", "node"]
    execFileSync(process.execPath, [tsc, ...args, "check.mts", "check.cts"], { cwd: workDir, encoding: "utf8", timeout: 120_000 })
  }, 120_000)
})
