/**
 * The scheduler's settings are configuration: `omnipost serve` (and
 * `--worker-only`) runs its scheduler with the `OMNIPOST_WORKER_*` values,
 * refuses invalid ones at startup with a one-line message before the database
 * is opened, and the README documents every variable.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Context, Effect, Exit, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { serveLayer } from "../src/cli/Main.js"
import { Scheduler } from "../src/scheduler/Scheduler.js"
import * as SchedulerSettings from "../src/scheduler/SchedulerSettings.js"
import { announceWithinMs, longestPollMs } from "../src/storage/StoredPost.js"

const withEnv = (env: Record<string, string>) =>
  Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))

const read = (env: Record<string, string>) => SchedulerSettings.fromConfig.pipe(withEnv(env))

/** The refusal of `env`: its variable and one-line message. */
const refusal = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(read(env))
    assert.isTrue(Exit.isFailure(exit), `accepted ${JSON.stringify(env)}`)
    const error = yield* Effect.flip(read(env))
    assert.strictEqual(error._tag, "InvalidSetting", String(error))
    const invalid = error as SchedulerSettings.InvalidSetting
    assert.notInclude(invalid.message, "\n")
    assert.include(invalid.message, invalid.variable)
    return invalid
  })

const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "omnipost-settings-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

describe("scheduler settings from configuration", () => {
  it.effect("unset variables keep the scheduler's defaults", () =>
    Effect.gen(function*() {
      const settings = yield* read({})
      assert.deepStrictEqual(settings, SchedulerSettings.resolve({}))
      assert.strictEqual(settings.leaseMs, 30_000)
      assert.strictEqual(settings.pollMs, 5_000)
      assert.strictEqual(settings.concurrency, 16)
      assert.strictEqual(settings.batchSize, 64)
    }))

  it("code may not make a scheduler look less often than daily: the API announces only work due within a day", () => {
    assert.strictEqual(SchedulerSettings.resolve({ pollMs: 10 * longestPollMs }).pollMs, longestPollMs)
    assert.strictEqual(SchedulerSettings.resolve({ pollMs: 50 }).pollMs, 50)
    assert.strictEqual(SchedulerSettings.variables.pollMs.max, longestPollMs)
    assert.isAbove(announceWithinMs, longestPollMs)
  })

  it.effect("every variable sets its option", () =>
    Effect.gen(function*() {
      const settings = yield* read({
        OMNIPOST_WORKER_ID: "wrk_a-1",
        OMNIPOST_WORKER_CONCURRENCY: "32",
        OMNIPOST_WORKER_PER_PLATFORM: "x=2, bluesky=8",
        OMNIPOST_WORKER_PER_ACCOUNT: "3",
        OMNIPOST_WORKER_BATCH_SIZE: "100",
        OMNIPOST_WORKER_PREFETCH_MS: "0",
        OMNIPOST_WORKER_PREFETCH_LIMIT: "500",
        OMNIPOST_WORKER_MARK_AHEAD_MS: "5",
        OMNIPOST_WORKER_LEASE_MS: "60000",
        OMNIPOST_WORKER_POLL_MS: "1000",
        OMNIPOST_WORKER_HEARTBEAT_MS: "2000",
        OMNIPOST_WORKER_MAX_AUTO_RETRIES: "0",
        OMNIPOST_WORKER_BACKOFF_BASE_MS: "500",
        OMNIPOST_WORKER_BACKOFF_MAX_MS: "60000",
        OMNIPOST_WORKER_SETTLE_HOLD_MS: "0",
        OMNIPOST_WORKER_SHUTDOWN_GRACE_MS: "30000"
      })
      assert.deepStrictEqual(settings, {
        workerId: "wrk_a-1",
        concurrency: 32,
        perPlatform: { x: 2, bluesky: 8 },
        perAccount: 3,
        batchSize: 100,
        prefetchMs: 0,
        prefetchLimit: 500,
        markAheadMs: 5,
        leaseMs: 60_000,
        pollMs: 1_000,
        heartbeatMs: 2_000,
        maxAutoRetries: 0,
        backoff: { baseMs: 500, maxMs: 60_000 },
        settleHoldMs: 0,
        shutdownGraceMs: 30_000
      })
      assert.strictEqual((yield* read({ OMNIPOST_WORKER_PER_PLATFORM: "4" })).perPlatform, 4)
      // The batch follows the concurrency unless set.
      assert.strictEqual((yield* read({ OMNIPOST_WORKER_CONCURRENCY: "8" })).batchSize, 32)
    }))

  it.effect("every bound: at the limit accepted, one past it refused", () =>
    Effect.gen(function*() {
      for (const [key, spec] of Object.entries(SchedulerSettings.variables)) {
        // The lease must cover the heartbeat and the backoff cap its base: keep the other side out of the way.
        const companion: Record<string, string> = key === "leaseMs"
          ? { OMNIPOST_WORKER_HEARTBEAT_MS: "100" }
          : key === "heartbeatMs"
          ? { OMNIPOST_WORKER_LEASE_MS: "86400000" }
          : key === "backoffBaseMs"
          ? { OMNIPOST_WORKER_BACKOFF_MAX_MS: "86400000" }
          : key === "backoffMaxMs"
          ? { OMNIPOST_WORKER_BACKOFF_BASE_MS: "100" }
          : {}
        for (const ok of [spec.min, spec.max]) {
          yield* read({ ...companion, [spec.variable]: String(ok) })
        }
        for (const bad of [spec.min - 1, spec.max + 1]) {
          if (bad < 0) continue
          const refused = yield* refusal({ ...companion, [spec.variable]: String(bad) })
          assert.strictEqual(refused.variable, spec.variable)
          assert.include(refused.message, `from ${spec.min} to ${spec.max}`)
        }
      }
    }))

  it.effect("negative, non-numeric and fractional values are refused", () =>
    Effect.gen(function*() {
      for (const value of ["-1", "abc", "1.5", "1e4", "30s", "0x10", "NaN", "Infinity", "99999999999999999999"]) {
        const refused = yield* refusal({ OMNIPOST_WORKER_LEASE_MS: value })
        assert.strictEqual(refused.variable, "OMNIPOST_WORKER_LEASE_MS")
        assert.strictEqual(refused.value, value)
      }
      for (const value of ["x", "x=", "x=0", "=3", "x=2,x=3", "X Y=2", "x=2;y=3", "-4"]) {
        assert.strictEqual((yield* refusal({ OMNIPOST_WORKER_PER_PLATFORM: value })).variable, "OMNIPOST_WORKER_PER_PLATFORM")
      }
      for (const value of ["has space", "a/b", "x".repeat(65)]) {
        assert.strictEqual((yield* refusal({ OMNIPOST_WORKER_ID: value })).variable, "OMNIPOST_WORKER_ID")
      }
    }))

  it.effect("settings at odds with each other are refused", () =>
    Effect.gen(function*() {
      // A lease shorter than the heartbeat, by default (5 s) or as set.
      const lease = yield* refusal({ OMNIPOST_WORKER_LEASE_MS: "4000" })
      assert.strictEqual(lease.variable, "OMNIPOST_WORKER_LEASE_MS")
      assert.include(lease.message, "OMNIPOST_WORKER_HEARTBEAT_MS=5000")
      yield* refusal({ OMNIPOST_WORKER_LEASE_MS: "10000", OMNIPOST_WORKER_HEARTBEAT_MS: "20000" })
      assert.strictEqual((yield* read({ OMNIPOST_WORKER_LEASE_MS: "4000", OMNIPOST_WORKER_HEARTBEAT_MS: "1000" })).leaseMs, 4_000)
      // A backoff cap under its base (here the default cap, 15 minutes).
      const backoff = yield* refusal({ OMNIPOST_WORKER_BACKOFF_BASE_MS: "3600000" })
      assert.strictEqual(backoff.variable, "OMNIPOST_WORKER_BACKOFF_MAX_MS")
    }))

  it("the README's table documents every variable", () => {
    const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8")
    for (const name of SchedulerSettings.variableNames) assert.include(readme, `\`${name}\``, name)
  })
})

describe("omnipost serve runs its scheduler with the configured settings", () => {
  it.live("--worker-only: the scheduler's lease, poll, bounds and id are the configuration's", () =>
    Effect.gen(function*() {
      const dataDir = yield* tempDir
      // Only these variables (no DATABASE_URL): PGlite in the data directory, as a fresh install.
      const env = {
        OMNIPOST_DATA_DIR: dataDir,
        OMNIPOST_WORKER_ID: "wrk_configured",
        OMNIPOST_WORKER_LEASE_MS: "45000",
        OMNIPOST_WORKER_POLL_MS: "750",
        OMNIPOST_WORKER_CONCURRENCY: "3",
        OMNIPOST_WORKER_PER_ACCOUNT: "2",
        OMNIPOST_WORKER_HEARTBEAT_MS: "1500",
        OMNIPOST_WORKER_SHUTDOWN_GRACE_MS: "2000"
      }
      const layer = yield* serveLayer({ api: false, worker: true, overrides: { dataDir } }, []).pipe(withEnv(env))
      const context = yield* Layer.build(layer).pipe(withEnv(env))
      const scheduler = Context.get(context, Scheduler)
      assert.strictEqual(scheduler.workerId, "wrk_configured")
      assert.deepStrictEqual(scheduler.settings, {
        ...SchedulerSettings.resolve({}),
        workerId: "wrk_configured",
        leaseMs: 45_000,
        pollMs: 750,
        concurrency: 3,
        perPlatform: 3,
        batchSize: 12,
        perAccount: 2,
        heartbeatMs: 1_500,
        shutdownGraceMs: 2_000
      })
      // The worker it runs is the one the database sees.
      const sql = Context.get(context, SqlClient.SqlClient)
      const workers = yield* sql<{ id: string }>`SELECT id FROM workers WHERE id = 'wrk_configured'`
      assert.strictEqual(workers.length, 1)
    }).pipe(Effect.scoped), 60_000)

  it.live("an invalid setting is refused before the database is opened", () =>
    Effect.gen(function*() {
      const dataDir = yield* tempDir
      const rows: ReadonlyArray<readonly [api: boolean, env: Record<string, string>, variable: string]> = [
        [true, { OMNIPOST_WORKER_LEASE_MS: "-5" }, "OMNIPOST_WORKER_LEASE_MS"],
        [false, { OMNIPOST_WORKER_POLL_MS: "often" }, "OMNIPOST_WORKER_POLL_MS"],
        [false, { OMNIPOST_WORKER_LEASE_MS: "2000" }, "OMNIPOST_WORKER_LEASE_MS"],
        // /readyz's staleness limit (60 s) must exceed the heartbeat.
        [true, { OMNIPOST_WORKER_HEARTBEAT_MS: "60000", OMNIPOST_WORKER_LEASE_MS: "120000" }, "OMNIPOST_WORKER_HEARTBEAT_MS"]
      ]
      for (const [api, env, variable] of rows) {
        const error = yield* serveLayer({ api, worker: true, overrides: { dataDir } }, []).pipe(
          Effect.flatMap((layer) => Layer.build(layer)),
          withEnv({ OMNIPOST_DATA_DIR: dataDir, ...env }),
          Effect.flip
        )
        assert.instanceOf(error, SchedulerSettings.InvalidSetting, String(error))
        const invalid = error as SchedulerSettings.InvalidSetting
        assert.strictEqual(invalid.variable, variable)
        assert.notInclude(invalid.message, "\n")
        assert.isFalse(existsSync(join(dataDir, "pgdata")), "the database was opened")
      }
      // --api-only runs no scheduler: its settings are not read.
      const apiOnly = yield* serveLayer({ api: true, worker: false, overrides: { dataDir } }, []).pipe(
        withEnv({ OMNIPOST_DATA_DIR: dataDir, OMNIPOST_WORKER_LEASE_MS: "-5" }),
        Effect.exit
      )
      assert.isTrue(Exit.isSuccess(apiOnly))
    }).pipe(Effect.scoped))

  it.live("the command prints one line and exits 1", () =>
    Effect.gen(function*() {
      const dataDir = yield* tempDir
      const env: Record<string, string | undefined> = { ...process.env, OMNIPOST_DATA_DIR: dataDir, OMNIPOST_WORKER_POLL_MS: "-1" }
      delete env.DATABASE_URL
      const result = yield* Effect.promise(() =>
        new Promise<{ code: number | null; stderr: string }>((resolve) => {
          // tsx as a loader, as the multi-process tests start workers.
          const child = spawn(process.execPath, ["--import", "tsx", "src/bin.ts", "serve", "--worker-only"], {
            cwd: join(__dirname, ".."),
            env,
            stdio: ["ignore", "ignore", "pipe"]
          })
          let stderr = ""
          child.stderr.on("data", (chunk) => (stderr += chunk))
          child.on("exit", (code) => resolve({ code, stderr }))
        })
      )
      assert.strictEqual(result.code, 1)
      // One line, no stack after it.
      assert.match(result.stderr, /^[^\n]*OMNIPOST_WORKER_POLL_MS="-1" is refused: expected a whole number from 50 to 86400000\n$/)
      assert.isFalse(existsSync(join(dataDir, "pgdata")), "the database was opened")
    }).pipe(Effect.scoped), 60_000)
})
