/**
 * The outcome outbox (`events`) is read after a cursor by the webhook fan-out
 * and by `PostStore.events`. Event ids come from a sequence, taken when the
 * row is written but visible only at commit: a transaction holding a smaller
 * id can commit after a reader has passed a larger one. Neither reader may
 * skip such an event. PostgreSQL only (PGlite runs one transaction at a
 * time, so it cannot interleave them).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, layer } from "@effect/vitest"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { ServerConfig } from "../src/Config.js"
import { migrations } from "../src/storage/Migrations.js"
import { Crypto } from "../src/storage/Crypto.js"
import { PostStore } from "../src/storage/PostStore.js"
import { Webhooks } from "../src/webhooks/Webhooks.js"
import { layerMigratedBefore, makeOrganization, storesLayer } from "./fixtures.js"

const outboxLayer = Webhooks.layer.pipe(
  Layer.provideMerge(storesLayer("postgres")),
  Layer.provide(ServerConfig.layer({})),
  Layer.provide(NodeHttpClient.layerUndici)
)

const insertEvent = (organizationId: string, postId: string) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string }>`
      INSERT INTO events (organization_id, type, post_id, payload)
      VALUES (${organizationId}, 'post.published', ${postId}, '{}'::jsonb) RETURNING id`
    return Number(rows[0]!.id)
  })

describe.runIf(process.env.DATABASE_URL)("outbox readers and commit order (postgres)", () => {
  layer(outboxLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("an event committed after a later one is still fanned out to webhooks and read by PostStore.events", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        const webhooks = yield* Webhooks
        const posts = yield* PostStore
        const org = yield* makeOrganization
        const hook = yield* webhooks.create(org, {
          url: "http://127.0.0.1:9/hook",
          secret: "0123456789abcdef",
          events: ["post.published"]
        })
        // Everything before this test is behind both readers.
        yield* webhooks.fanOut
        const before = yield* posts.events({ organizationId: org })

        const inserted = yield* Deferred.make<number>()
        const commit = yield* Deferred.make<void>()
        const slow = yield* Effect.gen(function*() {
          yield* Deferred.succeed(inserted, yield* insertEvent(org, "post_slow"))
          yield* Deferred.await(commit)
        }).pipe(sql.withTransaction, Effect.forkChild)
        const slowId = yield* Deferred.await(inserted)
        const fastId = yield* insertEvent(org, "post_fast")
        assert.isAbove(fastId, slowId)

        // While the slow transaction is open, the readers go no further than what is settled.
        yield* webhooks.fanOut
        const middle = yield* posts.events({ organizationId: org, after: before.next })

        yield* Deferred.succeed(commit, undefined)
        yield* Fiber.join(slow)
        yield* webhooks.fanOut
        const after = yield* posts.events({ organizationId: org, after: middle.next })

        const delivered = yield* sql<{ post_id: string }>`
          SELECT payload->'data'->>'postId' AS post_id FROM webhook_deliveries WHERE webhook_id = ${hook.id}`
        assert.deepStrictEqual(delivered.map((d) => d.post_id).sort(), ["post_fast", "post_slow"])
        const read = [...middle.items, ...after.items].map((e) => e.postId)
        assert.deepStrictEqual([...read].sort(), ["post_fast", "post_slow"])
        // A reader that resumes from the end finds nothing more.
        assert.deepStrictEqual((yield* posts.events({ organizationId: org, after: after.next })).items, [])
      }))
  })
})

const beforeOutboxOrder = layerMigratedBefore("0006")

describe.runIf(process.env.DATABASE_URL)("migration 0006 (postgres)", () => {
  layer(beforeOutboxOrder, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("events fanned out before the upgrade stay behind the webhook cursor, the others are still ahead", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO organizations (id, name) VALUES ('org_m', 'm')`
        const ids: Array<number> = []
        for (const post of ["post_a", "post_b", "post_c"]) ids.push(yield* insertEvent("org_m", post))
        yield* sql`UPDATE webhook_cursor SET last_event_id = ${ids[1]!} WHERE name = 'deliveries'`
        yield* Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: "omnipost_migrations" })
        const webhooks = yield* Webhooks.pipe(
          Effect.provide(Webhooks.layer.pipe(Layer.provide(Layer.mergeAll(
            Layer.succeed(SqlClient.SqlClient, sql),
            Crypto.layerTest,
            ServerConfig.layer({}),
            NodeHttpClient.layerUndici
          ))))
        )
        const hook = yield* webhooks.create("org_m", { url: "http://127.0.0.1:9/h", secret: "0123456789abcdef", events: ["post.published"] })
        yield* webhooks.fanOut
        const delivered = yield* sql<{ post_id: string }>`
          SELECT payload->'data'->>'postId' AS post_id FROM webhook_deliveries WHERE webhook_id = ${hook.id}`
        assert.deepStrictEqual(delivered.map((d) => d.post_id), ["post_c"])
      }))
  })
})
