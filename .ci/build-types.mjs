// Emits a package's declarations with tsc (one .d.ts per module) and a .d.cts
// twin of each for `require` consumers. tsup's bundled .d.ts (rollup-plugin-dts)
// drops the type half of names that are both a type and a value inside
// `export * as Namespace`, such as `PublishError.PublishError`; tsc does not.
// Run from a package directory after tsup: `node ../../.ci/build-types.mjs`.
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"

const require = createRequire(import.meta.url)
const tsc = require.resolve("typescript/bin/tsc")
execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { stdio: "inherit" })

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]
  )

for (const file of walk("dist").filter((f) => f.endsWith(".d.ts"))) {
  const cjs = readFileSync(file, "utf8").replace(
    /((?:from|import)\s*\(?\s*["'])(\.{1,2}\/[^"']+?)\.js(["'])/g,
    "$1$2.cjs$3"
  )
  writeFileSync(file.replace(/\.d\.ts$/, ".d.cts"), cjs)
}
