/**
 * PgBouncer for tests, started by the test (Debian's `pgbouncer`, which
 * `.ci/run` installs) in transaction mode in front of `DATABASE_URL`'s
 * server, on a port free a moment before, its files in a temporary directory;
 * SIGINT when the scope closes. Used by `Pooler.test.ts` and
 * `MultiHost.test.ts`. `pgbouncerMissing` says why a suite cannot run
 * (no `DATABASE_URL`, no binary), for its skipped title.
 */
import { Config, Context, Effect, Layer, Redacted } from "effect"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { freePort } from "./ports.js"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((path) => existsSync(path))
/** Why PgBouncer suites cannot run here, or undefined. */
export const pgbouncerMissing = !process.env.DATABASE_URL ? "DATABASE_URL is not set" : binary === undefined ? "pgbouncer is not installed" : undefined


export interface Pooler {
  /** `url` with PgBouncer's host and port instead of the server's. */
  readonly through: (url: Redacted.Redacted) => Redacted.Redacted
  /** `SHOW POOLS` on PgBouncer's admin console: the server connections it holds for `database`. */
  readonly serverConnections: (database: string) => number
}
export class PgBouncer extends Context.Service<PgBouncer, Pooler>()("test/PgBouncer") {}

/** PgBouncer in transaction mode in front of `DATABASE_URL`'s server, at most `poolSize` (default 2) server connections per database. */
export const pgbouncer = (options: { readonly poolSize?: number } = {}) => Layer.effect(
  PgBouncer,
  Effect.gen(function*() {
    const server = new URL(yield* Config.String("DATABASE_URL"))
    const port = yield* Effect.promise(freePort)
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "omnipost-pgbouncer-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const ini = join(dir, "pgbouncer.ini")
    writeFileSync(ini, [
      "[databases]",
      `* = host=${server.hostname} port=${server.port || 5432} user=${decodeURIComponent(server.username || "postgres")}${server.password ? ` password=${decodeURIComponent(server.password)}` : ""}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      "auth_type = any",
      "admin_users = pgbouncer",
      "pool_mode = transaction",
      `default_pool_size = ${options.poolSize ?? 2}`,
      "max_client_conn = 200",
      "ignore_startup_parameters = extra_float_digits,options",
      `pidfile = ${join(dir, "pgbouncer.pid")}`
    ].join("\n") + "\n")
    // PgBouncer refuses to run as root: it switches to the postgres user (`-u`), which must read its directory.
    const asRoot = process.getuid?.() === 0
    if (asRoot) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim())
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim())
      chownSync(dir, uid, gid)
      chownSync(ini, uid, gid)
    }
    yield* Effect.acquireRelease(
      Effect.callback<ChildProcess, Error>((resume) => {
        const child = spawn(binary!, [...(asRoot ? ["-u", "postgres"] : []), ini], { stdio: ["ignore", "pipe", "pipe"] })
        let output = ""
        const onData = (chunk: Buffer) => {
          output += chunk
          if (/process up|listening on/.test(output)) resume(Effect.succeed(child))
        }
        child.stdout!.on("data", onData)
        child.stderr!.on("data", onData)
        child.on("exit", (code) => resume(Effect.fail(new Error(`pgbouncer exited (${code}):\n${output}`))))
      }),
      (child) =>
        Effect.promise(() =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve()
            child.on("exit", () => resolve())
            child.kill("SIGINT")
          })
        )
    )
    const through = (url: Redacted.Redacted) => {
      const pooled = new URL(Redacted.value(url))
      pooled.hostname = "127.0.0.1"
      pooled.port = String(port)
      return Redacted.make(pooled.toString())
    }
    const serverConnections = (database: string) => {
      const out = execFileSync("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "pgbouncer", "-A", "-F", "|", "-c", "SHOW POOLS", "pgbouncer"])
        .toString()
      const [header, ...rows] = out.trim().split("\n").map((line) => line.split("|"))
      const row = rows.find((cells) => cells[0] === database)
      if (header === undefined || row === undefined) throw new Error(`no pool for ${database} in SHOW POOLS:\n${out}`)
      // Server connections in any state: sv_active, sv_idle, sv_used, sv_tested, sv_login (and sv_active_cancel…).
      return header.reduce((sum, name, i) => name.startsWith("sv_") ? sum + Number(row[i] ?? 0) : sum, 0)
    }
    return PgBouncer.of({ through, serverConnections })
  })
)
