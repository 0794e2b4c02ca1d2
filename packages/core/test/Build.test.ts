/**
 * The built package, as users get it: plain Node (no vitest, no aliases)
 * imports `@omnipost/core` from a script outside the repository, once as ESM
 * and once as CommonJS, and uses it; TypeScript type-checks both against the
 * emitted `.d.ts` / `.d.cts` with Node's own module resolution.
 *
 * `npm test` builds every package before vitest runs. Run alone, this suite
 * builds `dist` itself when it is missing or older than the sources.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import {
  ensureBuilt,
  exists,
  exportTargets,
  makeWorkDir,
  packageJson,
  read,
  removeWorkDir,
  runNode,
  typeCheck
} from "./fixtures/BuiltPackage.mjs"

/** What `src/index.ts` exports, read from the source: the built package must export the same names. */
const expectedExports = (): Array<string> => {
  const index = read("src/index.ts")
  const namespaces = [...index.matchAll(/export \* as (\w+) from/g)].map((m) => m[1]!)
  const named = [...index.matchAll(/export \{([^}]+)\} from/g)].flatMap((m) =>
    m[1]!.split(",").map((name) => name.trim().split(/\s+as\s+/).pop()!).filter((name) => name !== "" && !name.startsWith("type "))
  )
  return [...namespaces, ...named].sort()
}

let workDir = ""

/** A TypeScript user of the package, compiled once as ESM (.mts) and once as CommonJS (.cts). */
const check = `import { createOmnipost, Lifecycle, type Post } from "@omnipost/core"
const status: Post.PostStatus = Lifecycle.aggregate(["published"])
const omnipost = createOmnipost({ publishers: [], credentials: {} })
export const answer: Promise<{ readonly status: string }> = omnipost.publish({})
export { status }
`

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
    ensureBuilt()
    workDir = makeWorkDir({
      "probe.mjs": probe(`await import("@omnipost/core")`, `await import("effect")`),
      "check.mts": check,
      "check.cts": check,
      "probe.cjs": `(async () => {\n${probe(`require("@omnipost/core")`, `require("effect")`)}\n})().catch((e) => { console.error(e); process.exit(1) })`
    })
  }, 180_000)

  afterAll(() => {
    if (workDir !== "") removeWorkDir(workDir)
  })

  it("has every file the exports map points at", () => {
    for (const target of [...exportTargets(), packageJson.main, packageJson.module, packageJson.types]) {
      assert.isTrue(exists(target), `${target} is missing`)
    }
    assert.include(read("dist/index.cjs"), "require(\"effect\")", "effect stays external")
  })

  const expected = {
    aggregate: "partially_failed",
    schedule: String(Date.parse("2026-07-01T13:00:00Z")),
    validation: ["CONTENT_TOO_LONG"],
    publish: { status: "published", url: "https://echo.example/" }
  }

  for (const [system, file] of [["ESM (import)", "probe.mjs"], ["CommonJS (require)", "probe.cjs"]] as const) {
    it(`works from plain Node as ${system}`, () => {
      const result = runNode(workDir, file)
      assert.deepStrictEqual(result.keys, expectedExports())
      assert.strictEqual(result.aggregate, expected.aggregate)
      assert.strictEqual(result.schedule, expected.schedule)
      assert.deepStrictEqual(result.validation, expected.validation)
      assert.strictEqual(result.publish.status, expected.publish.status)
      assert.match(result.publish.url, /^https:\/\/echo\.example\/.+:1$/)
    }, 60_000)
  }

  it("type-checks for TypeScript users of both module systems", () => {
    typeCheck(workDir, ["check.mts", "check.cts"])
  }, 120_000)
})
