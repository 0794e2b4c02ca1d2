/**
 * A database outage (issue 18): the server's PostgreSQL is reached through a
 * TCP proxy this test cuts and restores, so the shared server other suites
 * use is never stopped. While it is cut the API answers 503
 * `DATABASE_UNAVAILABLE` in the error shape (never a 500, never a hang);
 * once it is back the API and the scheduler carry on by themselves, and
 * every post is published exactly once, including those that fell due
 * during the outage.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient } from "effect/sql"
import { Database } from "../src/storage/Database.js"
import { type Answer, apiLayer, connectBluesky, errorCode, request, TestApi, waitFor } from "./apiHarness.js"
import * as TcpProxy from "./tcpProxy.js"

const databaseUrl = process.env.DATABASE_URL

/** A scratch database of the test server, reached through a proxy. */
class Proxied extends Context.Service<Proxied, { readonly proxy: TcpProxy.TcpProxy; readonly url: Redacted.Redacted }>()("test/Proxied") {
  static readonly layer = Layer.effect(Proxied)(TcpProxy.scratchPostgres(databaseUrl!))
}

/** The server's database through the proxy, and the proxy. */
const database = Layer.unwrap(Effect.gen(function*() {
  const { url } = yield* Proxied
  return Database.layerPostgres({ url, maxConnections: 10 })
})).pipe(Layer.provideMerge(Proxied.layer.pipe(Layer.provide(Reactivity.layer))))

/** A request that must answer within `ms`: a hang fails the test. */
const answered = (api: Parameters<typeof request>[0], method: string, path: string, options: Parameters<typeof request>[3] = {}, ms = 20_000) =>
  request(api, method, path, options).pipe(
    Effect.timeoutOrElse({ duration: ms, orElse: () => Effect.die(new Error(`${method} ${path}: no answer within ${ms} ms`)) })
  )

const isUnavailable = (answer: Answer) => {
  assert.strictEqual(answer.status, 503, JSON.stringify(answer.body))
  assert.strictEqual(errorCode(answer), "DATABASE_UNAVAILABLE")
  assert.strictEqual(answer.headers.get("retry-after"), "5")
}

describe.skipIf(databaseUrl === undefined)("database outage (PostgreSQL behind a proxy)", () => {
  layer(apiLayer<Proxied>("postgres", {}, { database }), { timeout: 120_000, excludeTestServices: true })(
    (it) => {
      it.effect("503 DATABASE_UNAVAILABLE while it is away; afterwards the API and the scheduler carry on, every post published once", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const { proxy } = yield* Proxied
          const accountId = yield* connectBluesky(api)
          const create = (text: string, scheduledAt?: Date) =>
            answered(api, "POST", "/v1/posts", {
              body: { content: { text }, destinations: [{ accountId }], ...(scheduledAt ? { scheduledAt: scheduledAt.toISOString() } : {}) }
            })
          const published = (id: string) =>
            waitFor(
              request(api, "GET", `/v1/posts/${id}`).pipe(Effect.map((a) => a.status === 200 && a.body.status === "published" ? true : undefined)),
              30_000,
              `post ${id} published`
            )
          const before = yield* create("before the outage")
          assert.strictEqual(before.status, 201, JSON.stringify(before.body))
          yield* published(before.body.id)
          // Due while the database is away: the scheduler publishes it once it is back. Due well after the
          // cut, so that no statement about it is in flight when the connections drop: a claim whose answer
          // is lost in the cut holds its destination until its lease expires (30 s), then it is reconciled.
          const dueAt = Date.now() + 3_000
          const dueDuring = yield* create("due during the outage", new Date(dueAt))
          assert.strictEqual(dueDuring.status, 201)

          yield* proxy.cut
          isUnavailable(yield* answered(api, "GET", "/v1/posts"))
          isUnavailable(yield* answered(api, "GET", `/v1/posts/${before.body.id}`))
          isUnavailable(yield* create("during the outage"))
          isUnavailable(yield* answered(api, "GET", "/v1/accounts"))
          assert.isAbove(proxy.refused(), 0, "the server tried to reconnect")
          // Past the due time, still cut: the scheduler's rounds fail and are retried, nothing is lost.
          const refused = proxy.refused()
          yield* waitFor(Effect.sync(() => (Date.now() > dueAt && proxy.refused() >= refused + 3 ? true : undefined)), 20_000, "rounds failing")

          yield* proxy.restore
          const restoredAt = Date.now()
          yield* waitFor(request(api, "GET", "/v1/posts").pipe(Effect.map((a) => (a.status === 200 ? true : undefined))), 20_000, "the API back")
          // The scheduler listens again (a LISTEN on a new connection), not only polls.
          const sql = yield* SqlClient.SqlClient
          yield* waitFor(
            sql<{ n: string }>`SELECT count(*) AS n FROM pg_stat_activity
              WHERE datname = current_database() AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()`.pipe(
              Effect.map((rows) => (Number(rows[0]!.n) > 0 ? true : undefined)),
              Effect.orElseSucceed(() => undefined)
            ),
            20_000,
            "LISTEN again"
          )
          const after = yield* create("after the outage")
          assert.strictEqual(after.status, 201, JSON.stringify(after.body))
          yield* published(dueDuring.body.id)
          yield* published(after.body.id)
          // Claims given back while it was away are released once it is back, not left to their 30 s leases.
          assert.isBelow(Date.now() - restoredAt, 15_000, "recovered without waiting for leases to expire")

          const texts = api.bluesky.posts().map((record) => (record.value as { text?: string }).text)
          for (const text of ["before the outage", "due during the outage", "after the outage"]) {
            assert.strictEqual(texts.filter((t) => t === text).length, 1, `${text}: published exactly once`)
          }
          assert.notInclude(texts, "during the outage", "a refused create published nothing")
        }))
    }
  )
})
