/**
 * The worker behind PgBouncer in transaction mode, started by the test
 * (Debian's `pgbouncer`, which `.ci/run` installs), with two server
 * connections shared by ten client connections, so consecutive statements
 * land on different sessions: migrations, stores (including the
 * transaction-scoped advisory lock of the first start) and concurrent writes
 * work with prepared statements off; LISTEN runs on the direct
 * `listenUrl` connection and receives a NOTIFY sent through the pooler; with
 * no direct URL the process polls (`notifications: "poll"`).
 *
 * Needs `DATABASE_URL` (a real PostgreSQL) and the `pgbouncer` binary: without
 * either the suite is reported as skipped, its title saying which is missing.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Config, Context, Effect, Fiber, Layer, Option, Redacted, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient } from "effect/sql"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ApiKeys } from "../src/storage/ApiKeys.js"
import { AccountStore } from "../src/storage/AccountStore.js"
import { Crypto } from "../src/storage/Crypto.js"
import { Database, makeScratchPostgres } from "../src/storage/Database.js"
import { Organizations } from "../src/storage/Organizations.js"
import { PostStore } from "../src/storage/PostStore.js"
import { makeOrganization } from "./fixtures.js"

const binary = ["/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"].find((path) => existsSync(path))
const missing = !process.env.DATABASE_URL ? "DATABASE_URL is not set" : binary === undefined ? "pgbouncer is not installed" : undefined

// PgBouncer takes no port 0: a port free a moment ago (the only such probe in the suite).
const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => resolve(typeof address === "object" && address !== null ? address.port : 0))
    })
  })

interface Pooler {
  /** `url` with PgBouncer's host and port instead of the server's. */
  readonly through: (url: Redacted.Redacted) => Redacted.Redacted
  /** `SHOW POOLS` on PgBouncer's admin console: the server connections it holds for `database`. */
  readonly serverConnections: (database: string) => number
}
class PgBouncer extends Context.Service<PgBouncer, Pooler>()("test/PgBouncer") {}

/** PgBouncer in transaction mode in front of `DATABASE_URL`'s server, at most 2 server connections per database. */
const pgbouncer = Layer.effect(
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
      "default_pool_size = 2",
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

/** A scratch database; the stores over PgBouncer (transaction mode), LISTEN on the direct URL unless `direct` is false. */
const storesThroughPooler = (direct: boolean) =>
  Layer.mergeAll(PostStore.layer, AccountStore.layer, ApiKeys.layer, Organizations.layer).pipe(
    Layer.provideMerge(Crypto.layerTest),
    Layer.provideMerge(Layer.unwrap(Effect.gen(function*() {
      const pooler = yield* PgBouncer
      const url = yield* makeScratchPostgres(yield* Config.Redacted("DATABASE_URL"))
      return Database.layerPostgres({
        url: pooler.through(url),
        pooler: "transaction",
        listenUrl: direct ? url : undefined,
        maxConnections: 10,
        minConnections: 0
      })
    }))),
    Layer.provideMerge(pgbouncer),
    Layer.provide(Reactivity.layer)
  )

describe.skipIf(missing !== undefined)(`PostgreSQL behind PgBouncer in transaction mode${missing ? ` (skipped: ${missing})` : ""}`, () => {
  layer(storesThroughPooler(true), { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect("migrations, the first start's keys and 200 concurrent posts through two server connections", () =>
      Effect.gen(function*() {
        const pooler = yield* PgBouncer
        const database = yield* Database
        const sql = yield* SqlClient.SqlClient
        const keys = yield* ApiKeys
        const posts = yield* PostStore
        const accounts = yield* AccountStore
        // The bootstrap takes a transaction-scoped advisory lock: no session state.
        const first = yield* keys.bootstrap.pipe(Effect.orDie)
        assert.isTrue(first._tag === "Some")
        const org = yield* makeOrganization
        const account = yield* accounts.connect({
          organizationId: org,
          platform: "fake",
          platformAccountId: "pooled",
          username: "pooled",
          credentials: { token: "t" }
        })
        const created = yield* Effect.forEach(Array.from({ length: 200 }, (_, i) => i), (i) =>
          posts.create(org, { content: { text: `pooled ${i}` }, destinations: [{ platform: "fake", accountId: account.id }] }), {
          concurrency: 10
        })
        assert.strictEqual(new Set(created.map((p) => p.id)).size, 200)
        const [count] = yield* sql<{ n: string }>`SELECT count(*) AS n FROM posts WHERE organization_id = ${org}`
        assert.strictEqual(Number(count!.n), 200)
        const name = new URL(Redacted.value(database.url)).pathname.slice(1)
        const serverConnections = pooler.serverConnections(name)
        assert.isTrue(serverConnections >= 1 && serverConnections <= 2, `PgBouncer held ${serverConnections} server connections`)
        assert.strictEqual(database.notifications, "listen")
      }))

    it.effect("LISTEN on the direct connection hears a NOTIFY sent through the pooler", () =>
      Effect.gen(function*() {
        const database = yield* Database
        const stream = yield* database.listen("omnipost_pooler_test")
        const heard = yield* Effect.forkScoped(Stream.runHead(stream))
        yield* database.notify("omnipost_pooler_test", "through the pooler")
        const payload = yield* Fiber.join(heard)
        assert.deepStrictEqual(Option.getOrUndefined(payload), "through the pooler")
      }).pipe(Effect.scoped))
  })

  layer(storesThroughPooler(false), { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect("without a direct URL the process polls: no LISTEN on pooled connections, the stores still work", () =>
      Effect.gen(function*() {
        const database = yield* Database
        const keys = yield* ApiKeys
        assert.strictEqual(database.notifications, "poll")
        const org = yield* makeOrganization
        const created = yield* keys.create({ organizationId: org, name: "polled" }).pipe(Effect.orDie)
        assert.isTrue(created.key.length > 0)
      }))
  })
})
