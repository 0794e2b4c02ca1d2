/**
 * Several worker processes on one PostgreSQL. PGlite serves one connection at
 * a time and belongs to one process, so these run only when `DATABASE_URL`
 * points at a real PostgreSQL (as `.ci/run` sets it).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { fileURLToPath } from "node:url"
import { AccountStore } from "../src/storage/AccountStore.js"
import { Crypto } from "../src/storage/Crypto.js"
import { Database } from "../src/storage/Database.js"
import { PostStore } from "../src/storage/PostStore.js"
import { FakePlatformServer } from "../src/testing/index.js"
import { awaitSettled, makeOrganization } from "./fixtures.js"

const encryptionKey = randomBytes(32).toString("base64")
const packageRoot = fileURLToPath(new URL("..", import.meta.url))

const env = Layer.mergeAll(AccountStore.layer, PostStore.layer).pipe(
  Layer.provideMerge(Crypto.layerKeyring(encryptionKey)),
  Layer.provideMerge(Database.layerTest("postgres"))
)

interface Worker {
  readonly id: string
  readonly process: ChildProcess
}

interface WorkerOptions {
  readonly id: string
  readonly databaseUrl: string
  readonly publisher: string
  readonly leaseMs?: number
}

/** The worker's calls at once (and per account: every post of a test goes to few accounts). */
const concurrency = 8

/** Starts a worker process and waits for its `ready` line. */
const spawnWorker = (options: WorkerOptions) =>
  Effect.callback<Worker, Error>((resume) => {
    // One process (tsx as a loader, not its wrapper CLI), so a signal reaches the worker itself.
    const child = spawn(process.execPath, ["--import", "tsx", "src/testing/WorkerMain.ts"], {
      cwd: packageRoot,
      env: {
        ...process.env,
        DATABASE_URL: options.databaseUrl,
        OMNIPOST_ENCRYPTION_KEY: encryptionKey,
        OMNIPOST_WORKER_ID: options.id,
        OMNIPOST_WORKER_PUBLISHER: options.publisher,
        OMNIPOST_WORKER_CONCURRENCY: String(concurrency),
        OMNIPOST_WORKER_PER_ACCOUNT: String(concurrency),
        OMNIPOST_WORKER_LEASE_MS: String(options.leaseMs ?? 30_000),
        // A lease is never shorter than the heartbeat (refused at startup).
        OMNIPOST_WORKER_HEARTBEAT_MS: String(Math.min(5_000, options.leaseMs ?? 30_000)),
        OMNIPOST_WORKER_POLL_MS: "500",
        OMNIPOST_DB_POOL_SIZE: "4"
      },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout!.on("data", (chunk) => {
      output += chunk
      if (output.includes(`ready ${options.id}`)) resume(Effect.succeed({ id: options.id, process: child }))
    })
    child.stderr!.on("data", (chunk) => (output += chunk))
    child.on("exit", (code) => resume(Effect.fail(new Error(`worker ${options.id} exited (${code}) before ready:\n${output}`))))
  })

/** Waits until the process has exited (at once if it has). */
const exited = (worker: Worker) =>
  Effect.callback<void>((resume) => {
    if (worker.process.exitCode !== null || worker.process.signalCode !== null) return resume(Effect.void)
    worker.process.once("exit", () => resume(Effect.void))
  })

/** SIGTERM (a graceful shutdown), then SIGKILL if it has not exited after 15 s. */
const stopWorker = (worker: Worker) =>
  Effect.suspend(() => {
    const timer = setTimeout(() => worker.process.kill("SIGKILL"), 15_000)
    worker.process.kill("SIGTERM")
    return exited(worker).pipe(Effect.ensuring(Effect.sync(() => clearTimeout(timer))))
  })

/** Starts the workers together; when the scope closes they are stopped together, not one after another. */
const startWorkers = (list: ReadonlyArray<WorkerOptions>) =>
  Effect.acquireRelease(
    Effect.forEach(list, spawnWorker, { concurrency: "unbounded" }),
    (workers) => Effect.forEach(workers, stopWorker, { concurrency: "unbounded", discard: true })
  )

const withFakePlatform = Effect.acquireRelease(
  Effect.promise(() => FakePlatformServer.startFakePlatform()),
  (platform) => Effect.promise(() => platform.close())
)

const makeAccounts = (org: string, n: number) =>
  Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) =>
    AccountStore.use((s) =>
      s.connect({ organizationId: org, platform: "fake", platformAccountId: `fake-${org}-${i}`, username: `u${i}`, credentials: { token: `t${i}` } })
    ))

describe.runIf(Boolean(process.env.DATABASE_URL))("worker processes on one PostgreSQL", () => {
  layer(env, { timeout: 120_000, excludeTestServices: true })((it) => {
    it.effect("four worker processes publish 2,000 posts: every destination exactly once, none left behind", () =>
      Effect.gen(function*() {
        const database = yield* Database
        const posts = yield* PostStore
        const platform = yield* withFakePlatform
        const org = yield* makeOrganization
        const accounts = yield* makeAccounts(org, 8)
        const url = Redacted.value(database.url)
        yield* startWorkers([1, 2, 3, 4].map((n) => ({ id: `wrk_mp_${n}`, databaseUrl: url, publisher: `http:${platform.url}` })))
        // Created while the workers run: they learn of the posts through NOTIFY.
        const created = yield* Effect.forEach(Array.from({ length: 2000 }, (_, i) => i), (i) =>
          posts.create(org, { content: { text: `post ${i}` }, destinations: [{ platform: "fake", accountId: accounts[i % 8]!.id }] }).pipe(
            Effect.map((p) => p.destinations[0]!.id)
          ), { concurrency: 16 })
        yield* awaitSettled({ timeoutMs: 100_000 })
        assert.strictEqual(platform.posts.size, 2000, "every destination reached the platform")
        assert.isTrue(created.every((id) => platform.posts.get(id) === 1), "each exactly once")
        const sql = yield* SqlClient.SqlClient
        const statuses = yield* sql<{ status: string; n: string }>`SELECT status, count(*) AS n FROM destinations GROUP BY status`
        assert.deepStrictEqual(statuses.map((s) => [s.status, Number(s.n)]), [["published", 2000]])
        const byWorker = yield* sql<{ worker_id: string; n: string }>`SELECT worker_id, count(*) AS n FROM attempts GROUP BY worker_id`
        assert.strictEqual(byWorker.length, 4, "all four workers took part")
        const attempts = yield* sql<{ n: string }>`SELECT count(*) AS n FROM attempts`
        assert.strictEqual(Number(attempts[0]!.n), 2000, "one attempt per destination")
      }), 180_000)

    for (const variant of ["no lookup", "lookup"] as const) {
      it.effect(`a worker killed with SIGKILL mid-publish: the others take over; nothing twice, nothing lost (${variant})`, () =>
        Effect.gen(function*() {
          const database = yield* Database
          const posts = yield* PostStore
          const sql = yield* SqlClient.SqlClient
          const platform = yield* withFakePlatform
          platform.holdMs = 60_000
          const org = yield* makeOrganization
          const accounts = yield* makeAccounts(org, 4)
          const url = Redacted.value(database.url)
          const publisher = `${variant === "lookup" ? "http-lookup" : "http"}:${platform.url}`
          const victim = (yield* startWorkers([{ id: `wrk_victim_${variant.replace(" ", "_")}`, databaseUrl: url, publisher, leaseMs: 1_500 }]))[0]!
          const created = yield* Effect.forEach(Array.from({ length: 40 }, (_, i) => i), (i) =>
            posts.create(org, { content: { text: `k${i}` }, destinations: [{ platform: "fake", accountId: accounts[i % 4]!.id }] }).pipe(
              Effect.map((p) => ({ postId: p.id, destinationId: p.destinations[0]!.id }))
            ))
          // The victim's calls are all in flight (the platform holds the answers): kill it there.
          yield* Effect.promise(() => platform.until(() => platform.inFlight >= concurrency))
          victim.process.kill("SIGKILL")
          yield* exited(victim)
          // Its connections closed: the platform has read everything it sent before it died.
          yield* Effect.promise(() => platform.until(() => platform.connections() === 0))
          const reachedBeforeKill = new Set(platform.posts.keys())
          platform.holdMs = 0
          yield* startWorkers([1, 2].map((n) => ({
            id: `wrk_heir_${variant.replace(" ", "_")}_${n}`,
            databaseUrl: url,
            publisher,
            leaseMs: 1_500
          })))
          yield* awaitSettled({ postIds: created.map((c) => c.postId), timeoutMs: 60_000 })
          assert.isAbove(reachedBeforeKill.size, 0)
          for (const { destinationId } of created) {
            assert.isAtMost(platform.posts.get(destinationId) ?? 0, 1, `destination ${destinationId} published at most once`)
          }
          const rows = yield* sql<{ id: string; status: string; last_error: { code: string } | null; victim_attempts: string }>`
            SELECT d.id, d.status, d.last_error,
              (SELECT count(*) FROM attempts a WHERE a.destination_id = d.id AND a.worker_id = ${victim.id}) AS victim_attempts
            FROM destinations d WHERE ${sql.in("d.id", created.map((c) => c.destinationId))}`
          const unknown = (r: (typeof rows)[number]) => r.status === "failed" && r.last_error?.code === "OUTCOME_UNKNOWN"
          for (const r of rows) {
            const count = platform.posts.get(r.id)
            if (variant === "lookup") {
              // Found on the platform: reconciled as published; not found: published by an heir. Once either way.
              assert.strictEqual(r.status, "published", `destination ${r.id}`)
              assert.strictEqual(count, 1, `destination ${r.id} on the platform once`)
            } else if (reachedBeforeKill.has(r.id)) {
              assert.isTrue(unknown(r), `the victim's call in flight for ${r.id} is reported as an unknown outcome`)
            } else if (count === undefined) {
              // Marked publishing by the victim, killed before its request left: unknown to the heirs too.
              assert.isTrue(unknown(r) && Number(r.victim_attempts) === 1, `destination ${r.id} lost`)
            } else {
              assert.strictEqual(r.status, "published", `destination ${r.id}`)
            }
          }
          if (variant === "lookup") {
            const reconciled = yield* sql<{ n: string }>`SELECT count(*) AS n FROM attempts WHERE outcome = 'reconciled_published'
              AND ${sql.in("destination_id", [...reachedBeforeKill])}`
            assert.strictEqual(Number(reconciled[0]!.n), reachedBeforeKill.size, "the calls in flight were found by lookup")
          }
        }), 180_000)
    }
  })
})
