/**
 * What the tests that run `omnipost serve` as real processes share: the built
 * CLI, a spawned `serve` (on port 0: the URL it prints) with its output kept, and the
 * environment of a fresh PostgreSQL database (dropped when `scope` closes).
 */
import { Database } from "@omnipost/worker"
import { Context, Effect, Layer, Redacted, type Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"

export const bin = resolve(import.meta.dirname, "../../../packages/worker/dist/bin.js")

/** Where a `serve --port 0` listens, from its printed `Omnipost API:` line (undefined until printed). */
export const printedApiUrl = (output: string): string | undefined => /Omnipost API:\s+(http:\/\/\S+)\/v1/.exec(output)?.[1]

export interface Serving {
  readonly child: ChildProcess
  /** Everything it printed so far, stdout and stderr. */
  readonly output: () => string
}

/** `omnipost serve ...args` in a child process. */
export const spawnServe = (args: ReadonlyArray<string>, env?: NodeJS.ProcessEnv): Serving => {
  const child = spawn(process.execPath, [bin, "serve", ...args], { ...(env !== undefined ? { env } : {}), stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  return { child, output: () => output }
}

/** A fresh database on DATABASE_URL's server and a data directory: the environment every process of one test shares. */
export const sharedEnvironment = async (scope: Scope.Scope, dataDirPrefix: string) => {
  const context = await Effect.runPromise(Layer.buildWithScope(Database.Database.layerTest("postgres"), scope))
  const dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: Redacted.value(Context.get(context, Database.Database).url),
    OMNIPOST_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
    OMNIPOST_MEDIA_SIGNING_KEY: randomBytes(32).toString("hex"),
    OMNIPOST_LOG_REQUESTS: "false",
    OMNIPOST_DATA_DIR: dataDir
  }
  return { env, dataDir }
}
