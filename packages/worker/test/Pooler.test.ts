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
import { Config, Effect, Fiber, Layer, Option, Redacted, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient } from "effect/sql"
import { ApiKeys } from "../src/storage/ApiKeys.js"
import { AccountStore } from "../src/storage/AccountStore.js"
import { Crypto } from "../src/storage/Crypto.js"
import { Database, makeScratchPostgres } from "../src/storage/Database.js"
import { Organizations } from "../src/storage/Organizations.js"
import { PostStore } from "../src/storage/PostStore.js"
import { makeOrganization } from "./fixtures.js"
import { PgBouncer, pgbouncer, pgbouncerMissing as missing } from "./pgbouncerHarness.js"

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
    Layer.provideMerge(pgbouncer()),
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
