/**
 * `omnipost serve` as processes of their own (the built CLI, `dist/bin.js`:
 * build first), for the crash and load suites: started with a role
 * (`--api-only`, `--worker-only`), waited for by the lines they print, killed
 * with a signal, and measured (resident memory and open file descriptors
 * from `/proc`).
 */
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url))

export interface Serve {
  readonly name: string
  readonly child: ChildProcess
  /** Everything it printed (stdout and stderr). */
  readonly output: () => string
  /** Resolves with the exit code or signal. */
  readonly exited: Promise<string>
}

/** `omnipost serve ...args` with `env` (the caller's whole environment: nothing is inherited but PATH). */
export const startServe = (name: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Serve => {
  const child = spawn(process.execPath, [bin, "serve", ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ["ignore", "pipe", "pipe"] })
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? String(code))))
  return { name, child, output: () => output, exited }
}

/**
 * The environment every `serve` process of a run shares: its database and
 * data directory, fresh keys, no request log, the fakes' loopback addresses
 * allowed; `extra` adds the platforms' URLs and settings.
 */
export const serveEnv = (databaseUrl: string, dataDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  DATABASE_URL: databaseUrl,
  OMNIPOST_DB_POOL_SIZE: "4",
  OMNIPOST_DATA_DIR: dataDir,
  OMNIPOST_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  OMNIPOST_MEDIA_SIGNING_KEY: randomBytes(32).toString("hex"),
  OMNIPOST_LOG_REQUESTS: "false",
  OMNIPOST_ALLOW_PRIVATE_URLS: "true",
  ...extra
})

/** `serve --api-only` on `port`, once it listens: the process and the first API key it printed. */
export const startApi = async (port: number, env: NodeJS.ProcessEnv, timeoutMs?: number): Promise<{ readonly serve: Serve; readonly key: string }> => {
  const serve = startServe("api", ["--api-only", "--port", String(port)], env)
  const match = await printed(serve, /API key \(shown once[^:]*:\s+(omp_[0-9a-z]+)/, timeoutMs)
  await printed(serve, "Omnipost API:", timeoutMs)
  return { serve, key: (match as RegExpExecArray)[1]! }
}

/**
 * Resolves once `serve` printed `line` (checked on every chunk it prints: no
 * polling); fails if it exits first or after `timeoutMs`.
 */
export const printed = (serve: Serve, line: string | RegExp, timeoutMs = 60_000): Promise<RegExpExecArray | string> =>
  new Promise((resolve, reject) => {
    const match = () => (typeof line === "string" ? (serve.output().includes(line) ? line : undefined) : (line.exec(serve.output()) ?? undefined))
    const done = (finish: () => void) => {
      clearTimeout(timer)
      serve.child.stdout!.off("data", check)
      serve.child.stderr!.off("data", check)
      serve.child.off("exit", exit)
      finish()
    }
    const check = () => {
      const found = match()
      if (found !== undefined) done(() => resolve(found))
    }
    const exit = () => done(() => reject(new Error(`${serve.name} exited before printing ${line}:\n${serve.output()}`)))
    const timer = setTimeout(() => done(() => reject(new Error(`${serve.name}: no ${line} in ${timeoutMs} ms:\n${serve.output()}`))), timeoutMs)
    serve.child.stdout!.on("data", check)
    serve.child.stderr!.on("data", check)
    serve.child.once("exit", exit)
    check()
  })

/** Sends `signal` and resolves once the process is gone; SIGKILL when it is still there after `killAfterMs`. */
export const stop = (serve: Serve, signal: NodeJS.Signals = "SIGKILL", killAfterMs = 20_000): Promise<string> => {
  if (serve.child.exitCode !== null || serve.child.signalCode !== null) return serve.exited
  serve.child.kill(signal)
  const timer = setTimeout(() => serve.child.kill("SIGKILL"), killAfterMs)
  return serve.exited.finally(() => clearTimeout(timer))
}

/** Runs the teardown's steps one after the other, printing any that took longer than 5 s (a slow teardown says where). */
export const teardown = async (steps: ReadonlyArray<readonly [string, () => Promise<unknown>]>) => {
  for (const [name, step] of steps) {
    const started = Date.now()
    await step()
    const ms = Date.now() - started
    if (ms > 5_000) console.log(`teardown: ${name} took ${ms} ms`)
  }
}

/** Resident set size in bytes (`/proc/<pid>/status`, VmRSS), or undefined once the process is gone. */
export const rssOf = (pid: number): number | undefined => {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

/** Open file descriptors (`/proc/<pid>/fd`), or undefined once the process is gone. */
export const fdsOf = (pid: number): number | undefined => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length
  } catch {
    return undefined
  }
}
