/**
 * The embedded database belongs to one process: while `omnipost serve` holds
 * the data directory, `omnipost keys create` on it refuses with
 * DATA_DIR_IN_USE and prints no key (it used to print one the server never
 * saw). Once the directory is free, the same command works; a lock left by a
 * process that died is taken over.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Console, Effect, Layer } from "effect"
import { spawnSync } from "node:child_process"
import { createServer as createHttpServer } from "node:http"
import { createServer } from "node:net"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { runWith } from "../src/cli/Main.js"
import { Database } from "../src/storage/Database.js"

/** Runs the CLI in this process with `args` and these variables only; what it printed on stdout. */
const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  Effect.gen(function*() {
    const out: Array<string> = []
    const err: Array<string> = []
    const captured = {
      ...globalThis.console,
      log: (...parts: ReadonlyArray<unknown>) => void out.push(parts.join(" ")),
      error: (...parts: ReadonlyArray<unknown>) => void err.push(parts.join(" "))
    }
    const exit = yield* runWith(args).pipe(
      Effect.provide(NodeServices.layer),
      Effect.provideService(Console.Console, captured as Console.Console),
      Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env })),
      Effect.exit
    )
    return { exit, out: out.join("\n"), err }
  })

describe("the data directory lock", () => {
  it.live("keys create refuses with DATA_DIR_IN_USE while the server holds the directory, and prints no key", () =>
    Effect.gen(function*() {
      const dataDir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "omnipost-lock-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const env = { OMNIPOST_DATA_DIR: dataDir }
      // The "server": the embedded database open on the directory, as `omnipost serve` has it.
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Layer.build(Database.layerPglite({ dataDir: join(dataDir, "pgdata") }))
        const refused = yield* cli(["keys", "create", "--name", "while serving"], env)
        assert.isTrue(refused.exit._tag === "Failure")
        assert.strictEqual(refused.out, "", "no key may be printed")
        const error = JSON.stringify(refused.exit)
        assert.include(error, "DataDirInUse")
        assert.include(error, `process ${process.pid}`)
        // The second opening in one process is refused the same way.
        const again = yield* Effect.exit(Effect.scoped(Layer.build(Database.layerPglite({ dataDir: join(dataDir, "pgdata") }))))
        assert.isTrue(again._tag === "Failure" && JSON.stringify(again).includes("DataDirInUse"))
      }))
      assert.isFalse(existsSync(join(dataDir, "pgdata.lock")), "the lock is released with the database")
      // Stopped: the same command works, and the key it prints exists.
      const created = yield* cli(["keys", "create", "--name", "stopped"], env)
      assert.strictEqual(created.exit._tag, "Success")
      const key = JSON.parse(created.out)
      const listed = yield* cli(["keys", "list"], env)
      assert.include(listed.out, key.id)
      // A lock left by a process that died (a crash) is taken over.
      const dead = spawnSync(process.execPath, ["-e", ""]).pid
      writeFileSync(join(dataDir, "pgdata.lock"), `${dead}\n`)
      const afterCrash = yield* cli(["keys", "list"], env)
      assert.strictEqual(afterCrash.exit._tag, "Success", JSON.stringify(afterCrash.exit))
    }).pipe(Effect.scoped), 120_000)
})

describe("serve on a port that is taken", () => {
  it.live("one line: PORT_IN_USE, the port, how to choose another; no stack", () =>
    Effect.gen(function*() {
      const dataDir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "omnipost-port-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      const taken = yield* Effect.acquireRelease(
        Effect.promise(() =>
          new Promise<ReturnType<typeof createServer>>((done) => {
            const server = createServer()
            server.listen(0, "127.0.0.1", () => done(server))
          })
        ),
        (server) => Effect.promise(() => new Promise<void>((done) => server.close(() => done())))
      )
      const address = taken.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      // `--data-dir` alone (no OMNIPOST_DATA_DIR) places the database and the generated key there.
      const ran = yield* cli(["serve", "--api-only", "--port", String(port), "--data-dir", dataDir], {})
      assert.isTrue(ran.exit._tag === "Failure")
      assert.strictEqual(ran.err.length, 1, ran.err.join("\n"))
      const line = ran.err[0]!
      assert.notInclude(line, "\n")
      assert.include(line, "PORT_IN_USE")
      assert.include(line, `port ${port}`)
      assert.include(line, "--port")
      assert.include(JSON.stringify(ran.exit), "PortInUse")
      // The server listens before the database opens: the taken port is refused before anything is written
      // (no database, no generated key) and the data directory is not held.
      assert.isFalse(existsSync(join(dataDir, "pgdata")))
      assert.isFalse(existsSync(join(dataDir, "encryption.key")))
      assert.isFalse(existsSync(join(dataDir, "pgdata.lock")))
    }).pipe(Effect.scoped), 120_000)
})

describe("CLI errors", () => {
  it.live("an API error is one line with its code and message, no stack", () =>
    Effect.gen(function*() {
      const server = yield* Effect.acquireRelease(
        Effect.promise(() =>
          new Promise<ReturnType<typeof createHttpServer>>((done) => {
            const server = createHttpServer((_, response) => {
              response.writeHead(401, { "content-type": "application/json" })
              response.end(JSON.stringify({ error: { code: "INVALID_API_KEY", message: "the API key is unknown or revoked" } }))
            })
            server.listen(0, "127.0.0.1", () => done(server))
          })
        ),
        (server) => Effect.promise(() => new Promise<void>((done) => server.close(() => done())))
      )
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      const ran = yield* cli(["status", "post_x", "--url", `http://127.0.0.1:${port}`, "--key", "omp_wrong"], {})
      assert.isTrue(ran.exit._tag === "Failure")
      assert.deepStrictEqual(ran.err, ["omnipost: INVALID_API_KEY: the API key is unknown or revoked"])
      assert.strictEqual(ran.out, "")
    }).pipe(Effect.scoped), 60_000)
})
