/** Shared test wiring: an isolated database per suite with the stores on top. */
import { PgClient } from "@effect/sql-pg"
import { Config, Effect, Layer } from "effect"
import { Reactivity } from "effect/reactivity"
import { Migrator, SqlClient } from "effect/sql"
import { AccountStore } from "../src/storage/AccountStore.js"
import { Crypto } from "../src/storage/Crypto.js"
import { Database, type DatabaseKind, makeScratchPostgres } from "../src/storage/Database.js"
import * as Ids from "../src/storage/Ids.js"
import { type Claim, Leases } from "../src/storage/Leases.js"
import { migrations } from "../src/storage/Migrations.js"
import { PostStore } from "../src/storage/PostStore.js"

export const storesLayer = (kind: DatabaseKind) =>
  Layer.mergeAll(AccountStore.layer, PostStore.layer).pipe(
    Layer.provideMerge(Crypto.layerTest),
    Layer.provideMerge(Database.layerTest(kind))
  )

/**
 * A fresh database on the server of `DATABASE_URL` with only the migrations
 * before `id` applied (to test the upgrade `id` makes), dropped afterwards.
 */
export const layerMigratedBefore = (id: string) =>
  Layer.effect(SqlClient.SqlClient)(Effect.gen(function*() {
    const url = yield* makeScratchPostgres(yield* Config.Redacted("DATABASE_URL"))
    const client = yield* PgClient.make({ url, maxConnections: 2 })
    const earlier = Object.fromEntries(Object.entries(migrations).filter(([name]) => name < id))
    yield* Migrator.make({})({ loader: Migrator.fromRecord(earlier), table: "omnipost_migrations" }).pipe(
      Effect.provideService(SqlClient.SqlClient, client)
    )
    return client
  })).pipe(Layer.provide(Reactivity.layer))

/** The kinds a test suite runs against: PGlite always, PostgreSQL when `DATABASE_URL` is set. */
/** The OAuth apps of Instagram, Facebook and Threads, as a server's environment (the Meta fake accepts any). */
export const metaAppEnv: Record<string, string> = {
  OMNIPOST_INSTAGRAM_CLIENT_ID: "ig-app",
  OMNIPOST_INSTAGRAM_CLIENT_SECRET: "ig-secret",
  OMNIPOST_FACEBOOK_CLIENT_ID: "fb-app",
  OMNIPOST_FACEBOOK_CLIENT_SECRET: "fb-secret",
  OMNIPOST_THREADS_CLIENT_ID: "th-app",
  OMNIPOST_THREADS_CLIENT_SECRET: "th-secret"
}

export const testKinds: ReadonlyArray<DatabaseKind> = process.env.DATABASE_URL ? ["pglite", "postgres"] : ["pglite"]

export const makeOrganization = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const id = Ids.make("org")
  yield* sql`INSERT INTO organizations (id, name) VALUES (${id}, 'test')`
  return id
})

export const makeAccount = (organizationId: string, platform = "bluesky", credentials: unknown = { accessJwt: "a", refreshJwt: "r" }) =>
  Effect.gen(function*() {
    const accounts = yield* AccountStore
    return yield* accounts.connect({
      organizationId,
      platform,
      platformAccountId: Ids.make("acc"),
      username: `user-${Math.random().toString(36).slice(2, 8)}`,
      credentials
    })
  })

/** Polls until every destination of the given posts (or all) is settled, or fails after `timeoutMs`. */
export const awaitSettled = (options: { readonly postIds?: ReadonlyArray<string>; readonly timeoutMs?: number } = {}) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const deadline = Date.now() + (options.timeoutMs ?? 20_000)
    while (true) {
      const rows = options.postIds === undefined
        ? yield* sql<{ n: string }>`SELECT count(*) AS n FROM destinations WHERE status IN ('queued', 'publishing')`
        : yield* sql<{ n: string }>`SELECT count(*) AS n FROM destinations WHERE status IN ('queued', 'publishing') AND ${sql.in("post_id", options.postIds)}`
      if (Number(rows[0]!.n) === 0) return
      if (Date.now() > deadline) return yield* Effect.die(new Error(`${rows[0]!.n} destinations still unsettled`))
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
    }
  })

/**
 * The publish-once mark of one claimed destination, as a worker makes it
 * (`Leases.markPublishingBatch` for one): tests play a worker by hand with it.
 * `undefined` when it was cancelled, edited away or taken over meanwhile.
 */
export const markPublishing = (options: {
  readonly claim: Claim
  readonly workerId: string
  readonly attemptId: string
  readonly now: Date
  readonly leaseMs: number
}) =>
  Effect.flatMap(Leases, (leases) =>
    leases.markPublishingBatch({
      items: [{ claim: options.claim, attemptId: options.attemptId }],
      workerId: options.workerId,
      now: options.now,
      leaseMs: options.leaseMs
    })).pipe(Effect.map((marked) => marked.get(options.claim.id)))
