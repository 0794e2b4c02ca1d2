import { assert, describe, layer } from "@effect/vitest"
import { Effect, Fiber, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { migrations } from "../src/storage/Migrations.js"
import { Database } from "../src/storage/Database.js"
import { testKinds } from "./fixtures.js"

for (const kind of testKinds) {
  describe(`Database (${kind})`, () => {
    layer(Database.layerTest(kind), { timeout: 60_000 })((it) => {
      it.effect("applies the migrations: every table of the schema exists", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const rows = yield* sql<{ table_name: string }>`
            SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`
          const names = rows.map((r) => r.table_name)
          for (const table of ["accounts", "attempts", "destinations", "events", "posts", "workers", "rate_limit_pauses"]) {
            assert.include(names, table)
          }
          const applied = yield* sql<{ migration_id: number }>`SELECT migration_id FROM omnipost_migrations ORDER BY migration_id`
          // Every registered migration ran, in order (ids are the numbers their names start with).
          assert.deepStrictEqual(applied.map((r) => Number(r.migration_id)), Object.keys(migrations).map((name) => Number(name.slice(0, 4))))
          assert.isAtLeast(applied.length, 5)
        }))

      it.effect("runs transactions, and a failed one leaves nothing behind", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* sql`INSERT INTO organizations (id, name) VALUES ('org_tx_ok', 'ok')`.pipe(sql.withTransaction)
          const failed = yield* Effect.gen(function*() {
            yield* sql`INSERT INTO organizations (id, name) VALUES ('org_tx_bad', 'bad')`
            return yield* Effect.fail("boom" as const)
          }).pipe(sql.withTransaction, Effect.flip)
          assert.strictEqual(failed, "boom")
          const rows = yield* sql<{ id: string }>`SELECT id FROM organizations WHERE id LIKE 'org_tx_%' ORDER BY id`
          assert.deepStrictEqual(rows.map((r) => r.id), ["org_tx_ok"])
        }))

      it.effect("runs concurrent transactions without mixing them up", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) =>
            Effect.gen(function*() {
              yield* sql`INSERT INTO organizations (id, name) VALUES (${`org_c_${i}`}, 'c')`
              if (i % 2 === 1) return yield* Effect.fail(i)
            }).pipe(sql.withTransaction, Effect.ignore), { concurrency: 10 })
          const rows = yield* sql<{ id: string }>`SELECT id FROM organizations WHERE id LIKE 'org_c_%'`
          assert.strictEqual(rows.length, 10)
          assert.isTrue(rows.every((r) => Number(r.id.slice(6)) % 2 === 0))
        }))

      if (kind === "postgres") {
        it.effect("keeps a minimum of connections open, so that a burst does not wait for new ones", () =>
          Effect.gen(function*() {
            const sql = yield* SqlClient.SqlClient
            let open = 0
            for (let i = 0; i < 100 && open < 4; i++) {
              const rows = yield* sql<{ n: string }>`
                SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'omnipost'`
              open = Number(rows[0]!.n)
              if (open < 4) yield* Effect.sleep("20 millis")
            }
            assert.isAtLeast(open, 4)
          }))
      }

      it.effect("delivers notifications to listeners", () =>
        Effect.gen(function*() {
          const db = yield* Database
          const stream = yield* db.listen("omnipost_test")
          const fiber = yield* stream.pipe(Stream.take(2), Stream.runCollect, Effect.forkChild)
          yield* db.notify("omnipost_test", "one")
          yield* db.notify("omnipost_other", "ignored")
          yield* db.notify("omnipost_test", "two")
          const got = yield* Fiber.join(fiber)
          assert.deepStrictEqual(Array.from(got), ["one", "two"])
        }).pipe(Effect.scoped))
    })
  })
}
