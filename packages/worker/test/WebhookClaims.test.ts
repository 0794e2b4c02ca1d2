/**
 * Webhook deliveries are claimed from the database by whichever process has
 * capacity: two `omnipost serve --worker-only` processes (the scheduler role
 * sends webhooks too) on one PostgreSQL, one killed with SIGKILL while its
 * requests are in flight. Every delivery reaches the receiver and is recorded
 * delivered; the only repeats are of deliveries the killed process had
 * claimed and sent before dying (at most one claim batch), sent again once
 * its lease passed, with the same `Omnipost-Delivery` id (at least once, with an idempotency key: a receiver that keys on it
 * processes each exactly once). Needs a real PostgreSQL (`DATABASE_URL`).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { type ChildProcess, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, rmSync } from "node:fs"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { webhookSecretAad } from "../src/storage/AccountStore.js"
import { Crypto } from "../src/storage/Crypto.js"
import { Database } from "../src/storage/Database.js"
import * as Ids from "../src/storage/Ids.js"
import { makeOrganization } from "./fixtures.js"

const encryptionKey = randomBytes(32).toString("base64")
const packageRoot = fileURLToPath(new URL("..", import.meta.url))

const env = Crypto.layerKeyring(encryptionKey).pipe(Layer.provideMerge(Database.layerTest("postgres")))

/** A receiver that holds each answer `holdMs` and records every delivery id it is sent. */
const makeReceiver = Effect.acquireRelease(
  Effect.promise(async () => {
    const received: Array<string> = []
    let inFlight = 0
    const state = { holdMs: 1000 }
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      inFlight++
      received.push(String(req.headers["omnipost-delivery"]))
      req.resume()
      const done = () => {
        inFlight--
      }
      res.on("close", done)
      setTimeout(() => res.writeHead(200).end("ok"), state.holdMs)
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
      received,
      inFlight: () => inFlight,
      state,
      server
    }
  }),
  ({ server }) =>
    Effect.promise(() => {
      server.closeAllConnections()
      return new Promise<void>((resolve) => server.close(() => resolve()))
    })
)

/** `omnipost serve --worker-only` in its own data directory; resolves once it runs; SIGTERM (then SIGKILL) at the end. */
const startServe = (name: string, databaseUrl: string) =>
  Effect.acquireRelease(
    Effect.callback<ChildProcess, Error>((resume) => {
      const dataDir = mkdtempSync(join(tmpdir(), `omnipost-${name}-`))
      const child = spawn(process.execPath, ["--import", "tsx", "src/bin.ts", "serve", "--worker-only"], {
        cwd: packageRoot,
        env: {
          ...process.env,
          DATABASE_URL: databaseUrl,
          OMNIPOST_ENCRYPTION_KEY: encryptionKey,
          OMNIPOST_DATA_DIR: dataDir,
          OMNIPOST_WORKER_ID: `wrk_${name}`,
          OMNIPOST_WEBHOOK_POLL_MS: "100",
          OMNIPOST_WEBHOOK_LEASE_MS: "6000",
          OMNIPOST_ALLOW_PRIVATE_URLS: "true",
          OMNIPOST_DB_POOL_SIZE: "4"
        },
        stdio: ["ignore", "pipe", "pipe"]
      })
      child.on("exit", () => rmSync(dataDir, { recursive: true, force: true }))
      let output = ""
      const onData = (chunk: Buffer) => {
        output += chunk
        if (output.includes("Scheduler:     running")) resume(Effect.succeed(child))
      }
      child.stdout!.on("data", onData)
      child.stderr!.on("data", onData)
      child.on("exit", (code) => resume(Effect.fail(new Error(`${name} exited (${code}) before running:\n${output}`))))
    }),
    (child) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve()
          const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
          child.on("exit", () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill("SIGTERM")
        })
      )
  )

/** Waits (checking every 50 ms) until `check` holds, or fails after `timeoutMs`. */
const until = (check: Effect.Effect<boolean, unknown>, timeoutMs: number, what: string) =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (!(yield* Effect.orDie(check))) {
      if (Date.now() > deadline) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
    }
  })

describe.runIf(Boolean(process.env.DATABASE_URL))("webhook deliveries claimed by whichever process has capacity", () => {
  layer(env, { timeout: 180_000, excludeTestServices: true })((it) => {
    it.effect("two worker-only processes, one killed mid-run: every delivery sent, repeats only of its claimed batch, same id", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const crypto = yield* Crypto
        const database = yield* Database
        const url = Redacted.value(database.url)
        const receiver = yield* makeReceiver
        const org = yield* makeOrganization
        const hookId = Ids.make("whk")
        const sealed = crypto.seal("whsec_test", webhookSecretAad(hookId))
        yield* sql`INSERT INTO webhooks (id, organization_id, url, secret_ciphertext, secret_key_id, events)
          VALUES (${hookId}, ${org}, ${receiver.url}, ${sealed.ciphertext}, ${sealed.keyId}, '{post.published}'::text[])`
        // Both processes run before the deliveries exist: they claim them as they appear, each a batch at a time.
        const victim = yield* startServe("victim", url)
        yield* startServe("heir", url)
        const ids = Array.from({ length: 60 }, () => Ids.make("whd"))
        // Inserted not yet due, then made due at once.
        for (const [n, id] of ids.entries()) {
          yield* sql`INSERT INTO webhook_deliveries (id, webhook_id, organization_id, event, payload, status)
            VALUES (${id}, ${hookId}, ${org}, 'post.published', ${JSON.stringify({ n })}::jsonb, 'pending')`
        }
        yield* sql`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE webhook_id = ${hookId}`
        // Mid-run (the receiver holds each answer 1 s): requests in flight, most deliveries not yet sent.
        yield* until(Effect.sync(() => receiver.received.length >= 10), 60_000, "the first requests")
        const inFlightAtKill = new Set(receiver.received)
        victim.kill("SIGKILL")
        receiver.state.holdMs = 0
        assert.isBelow(inFlightAtKill.size, ids.length, "killed mid-run")

        yield* until(
          Effect.map(sql<{ n: string }>`SELECT count(*) AS n FROM webhook_deliveries WHERE webhook_id = ${hookId} AND status = 'delivered'`,
            (rows) => Number(rows[0]!.n) === ids.length),
          90_000,
          "every delivery to be recorded delivered"
        )
        const rows = yield* sql<{ id: string; status: string; attempts: number }>`
          SELECT id, status, attempts FROM webhook_deliveries WHERE webhook_id = ${hookId}`
        assert.deepStrictEqual(rows.map((row) => row.status).filter((s) => s !== "delivered"), [])
        const counts = new Map<string, number>()
        for (const id of receiver.received) counts.set(id, (counts.get(id) ?? 0) + 1)
        assert.deepStrictEqual([...counts.keys()].sort(), [...ids].sort(), "every delivery reached the receiver, none unknown")
        // The repeats are the victim's: what it had claimed (one batch of at most 20) and sent before dying, sent
        // again by the heir once the lease passed, under the same delivery id.
        const repeats = [...counts.entries()].filter(([, count]) => count > 1)
        assert.isAtMost(repeats.length, 20, `repeats: ${repeats.length}`)
        for (const [id, count] of repeats) assert.strictEqual(count, 2, `${id} sent ${count} times`)
        // Recorded once each: the killed process recorded nothing it had in flight.
        for (const row of rows) assert.strictEqual(row.attempts, 1, `${row.id} attempts`)
      }), 180_000)
  })
})
