/**
 * The key gate inside a read (`Admission`, issue 19): `GET /v1/posts/:id` and
 * `/results` admit the key in their read's statement. Nothing may be decided
 * differently from the usual way (`GET /v1/posts`, whose key gate runs
 * first): the same answers for every refused key, one count per request, the
 * same headers, authentication's errors before the request's own.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient } from "effect/sql"
import { Database } from "../src/storage/Database.js"
import { testKinds } from "./fixtures.js"
import { type Answer, apiLayer, connectBluesky, errorCode, request, secondServer, TestApi } from "./apiHarness.js"
import * as StatementCounter from "./statementCounter.js"
import * as TcpProxy from "./tcpProxy.js"

const databaseUrl = process.env.DATABASE_URL

/** The statements the server runs on its (scratch) PostgreSQL database, counted through a proxy. */
class Counted extends Context.Service<Counted, { readonly counter: StatementCounter.StatementCounter; readonly url: Redacted.Redacted }>()(
  "test/Counted"
) {
  static readonly layer = Layer.effect(Counted)(Effect.gen(function*() {
    const counter = StatementCounter.make()
    const { url } = yield* TcpProxy.scratchPostgres(databaseUrl!, { tap: counter.tap })
    return { counter, url }
  }))
}

const countedDatabase = Layer.unwrap(Effect.gen(function*() {
  const { url } = yield* Counted
  return Database.layerPostgres({ url, maxConnections: 10 })
})).pipe(Layer.provideMerge(Counted.layer.pipe(Layer.provide(Reactivity.layer))))

/** The key gate's statement alone (`KeyGate.admit`), and with a read in it (`KeyGate.admitWith`). */
const isGate = (sql: string) => sql.includes("INSERT INTO rate_limits") && !sql.includes("gate_read_found")
const isGateWithRead = (sql: string) => sql.includes("INSERT INTO rate_limits") && sql.includes("gate_read_found")
/** Any statement that reads a post (alone, or in the gate's). */
const readsPost = (sql: string) => sql.includes("AS destinations_json") && sql.includes("FROM posts WHERE posts.id")

const remaining = (answer: Answer) => answer.headers.get("ratelimit-remaining")

/** What a client sees of an answer: status, error code and the limit's headers. */
const seen = (answer: Answer) => ({
  status: answer.status,
  code: answer.status >= 400 ? errorCode(answer) : undefined,
  reason: answer.status >= 400 ? answer.body.error.details?.reason : undefined,
  limit: answer.headers.get("ratelimit-limit"),
  retryAfter: answer.headers.get("retry-after") !== null
})

for (const kind of testKinds) {
  describe(`Admission: the key gate in the read (${kind})`, () => {
    layer(apiLayer(kind, {}, { scheduler: false }), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("a GET of a post counts once against the key's limit, shared with the other endpoints and servers, then 429", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const other = yield* secondServer(api, kind)
          const accountId = yield* connectBluesky(api)
          const post = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "admitted in the read" }, destinations: [{ accountId }], status: "draft" }
          })
          assert.strictEqual(post.status, 201, JSON.stringify(post.body))
          const key = (yield* request(api, "POST", "/v1/keys", { body: { name: "limited", rateLimitPerMinute: 5 } })).body.key as string

          const answers: Array<Answer> = [
            yield* request(api, "GET", `/v1/posts/${post.body.id}`, { key }),
            yield* request(other, "GET", `/v1/posts/${post.body.id}/results`, { key }),
            yield* request(api, "GET", "/v1/posts", { key }),
            yield* request(other, "GET", `/v1/posts/${post.body.id}`, { key }),
            yield* request(api, "GET", "/v1/posts/post_of_nobody", { key })
          ]
          assert.deepStrictEqual(answers.map((a) => a.status), [200, 200, 200, 200, 404])
          assert.deepStrictEqual(answers.map(remaining), ["4", "3", "2", "1", "0"], "one count per request, whichever the endpoint or server")
          assert.strictEqual(answers[0]!.body.id, post.body.id)
          assert.strictEqual(answers[0]!.body.destinations[0].accountId, accountId)
          assert.strictEqual(answers[1]!.body.postId, post.body.id)
          assert.strictEqual(errorCode(answers[4]!), "POST_NOT_FOUND")

          // Over the limit: refused as on any endpoint, and the post is not in the answer.
          const refused = yield* request(api, "GET", `/v1/posts/${post.body.id}`, { key })
          assert.deepStrictEqual(seen(refused), { ...seen(yield* request(api, "GET", "/v1/posts", { key })), status: 429 })
          assert.strictEqual(errorCode(refused), "RATE_LIMITED")
          assert.strictEqual(remaining(refused), "0")
          assert.isUndefined(refused.body.id)
        }).pipe(Effect.scoped))

      it.effect("every refused key is answered as on an endpoint that authenticates first, and reads nothing", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const sql = yield* SqlClient.SqlClient
          const accountId = yield* connectBluesky(api)
          const post = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "not for refused keys" }, destinations: [{ accountId }], status: "draft" }
          })
          assert.strictEqual(post.status, 201, JSON.stringify(post.body))
          const path = `/v1/posts/${post.body.id}`
          const newKey = (name: string, extra: Record<string, unknown> = {}) =>
            Effect.map(request(api, "POST", "/v1/keys", { body: { name, ...extra } }), (answer) => answer.body as { id: string; key: string })

          const revoked = yield* newKey("revoked")
          assert.strictEqual((yield* request(api, "DELETE", `/v1/keys/${revoked.id}`)).status, 204)
          const expired = yield* newKey("expired", { expiresAt: "2099-01-01T00:00:00Z" })
          yield* sql`UPDATE api_keys SET expires_at = now() - interval '1 minute' WHERE id = ${expired.id}`
          const reader = yield* newKey("reader", { readOnly: true, rateLimitPerMinute: 10 })
          const admin = { ...api, key: api.adminKey }
          /** A new organization and its first key. */
          const organizationKey = (name: string) =>
            Effect.gen(function*() {
              const organization = yield* request(admin, "POST", "/v1/admin/organizations", { body: { name } })
              assert.strictEqual(organization.status, 201, JSON.stringify(organization.body))
              const created = yield* request(admin, "POST", `/v1/admin/organizations/${organization.body.id}/keys`, { body: { name } })
              assert.strictEqual(created.status, 201, JSON.stringify(created.body))
              return { organizationId: organization.body.id as string, key: created.body.key as string }
            })
          const toDisable = yield* organizationKey("to disable")

          const refusals: ReadonlyArray<readonly [string, string | null, string]> = [
            ["no key", null, "INVALID_API_KEY"],
            ["an unknown key", "omp_nosuchkeyaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "INVALID_API_KEY"],
            ["a malformed key", "not-a-key", "INVALID_API_KEY"],
            ["a revoked key", revoked.key, "INVALID_API_KEY"],
            ["an expired key", expired.key, "EXPIRED_API_KEY"],
            ["an admin key", api.adminKey, "ORGANIZATION_KEY_REQUIRED"]
          ]
          for (const [what, key, code] of refusals) {
            const read = yield* request(api, "GET", path, { key })
            const usual = yield* request(api, "GET", "/v1/posts", { key })
            assert.strictEqual(errorCode(read), code, `${what}: ${JSON.stringify(read.body)}`)
            assert.deepStrictEqual(seen(read), seen(usual), what)
            assert.isUndefined(read.body.id, what)
          }
          // A key of a disabled organization.
          assert.strictEqual((yield* request(admin, "POST", `/v1/admin/organizations/${toDisable.organizationId}/disable`)).status, 200)
          const ofDisabled = yield* request(api, "GET", path, { key: toDisable.key })
          assert.strictEqual(errorCode(ofDisabled), "ORGANIZATION_DISABLED", JSON.stringify(ofDisabled.body))
          assert.deepStrictEqual(seen(ofDisabled), seen(yield* request(api, "GET", "/v1/posts", { key: toDisable.key })))

          // A read-only key reads; another organization's key finds nothing (and is counted, as on any endpoint).
          const read = yield* request(api, "GET", path, { key: reader.key })
          assert.strictEqual(read.status, 200, JSON.stringify(read.body))
          assert.strictEqual(remaining(read), "9")
          const foreign = yield* request(api, "GET", path, { key: (yield* organizationKey("elsewhere")).key })
          assert.strictEqual(foreign.status, 404)
          assert.strictEqual(errorCode(foreign), "POST_NOT_FOUND")
          assert.isNotNull(remaining(foreign))
          // The key was marked used by the read's statement.
          const [used] = yield* sql<{ used: boolean }>`SELECT last_used_at IS NOT NULL AS used FROM api_keys WHERE id = ${reader.id}`
          assert.isTrue(used!.used)
        }))

      it.effect("authentication's errors come before the request's own; a refused request is not counted twice", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          // A query string the endpoint does not take is the request's error, answered only to a valid key.
          const anonymous = yield* request(api, "GET", "/v1/posts/post_x?unknown=1", { key: null })
          assert.strictEqual(anonymous.status, 401)
          assert.strictEqual(errorCode(anonymous), "INVALID_API_KEY")
          const key = (yield* request(api, "POST", "/v1/keys", { body: { name: "counted once", rateLimitPerMinute: 3 } })).body.key as string
          const invalid = yield* request(api, "GET", "/v1/posts/post_x?unknown=1", { key })
          assert.strictEqual(invalid.status, 400, JSON.stringify(invalid.body))
          assert.strictEqual(remaining(invalid), "2", "counted once though authenticated twice")
          assert.strictEqual(remaining(yield* request(api, "GET", "/v1/posts/post_x", { key })), "1")
          assert.strictEqual(remaining(yield* request(api, "GET", "/v1/posts/post_x", { key })), "0")
          const limited = yield* request(api, "GET", "/v1/posts/post_x?unknown=1", { key })
          assert.strictEqual(limited.status, 429, "the limit before the request's own error")
        }))
    })
  })
}

describe.skipIf(databaseUrl === undefined)("Admission: one statement per GET of a post (PostgreSQL, counted on the wire)", () => {
  layer(apiLayer<Counted>("postgres", {}, { scheduler: false, database: countedDatabase }), { timeout: 120_000, excludeTestServices: true })(
    (it) => {
      it.effect("GET /v1/posts/:id and /results run the key gate and the read as one statement; the list runs two", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const { counter } = yield* Counted
          const accountId = yield* connectBluesky(api)
          const post = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "one round trip" }, destinations: [{ accountId }], status: "draft" }
          })
          assert.strictEqual(post.status, 201, JSON.stringify(post.body))
          const before = { gate: counter.count(isGate), fused: counter.count(isGateWithRead), reads: counter.count(readsPost) }
          for (let i = 0; i < 5; i++) {
            assert.strictEqual((yield* request(api, "GET", `/v1/posts/${post.body.id}`)).status, 200)
            assert.strictEqual((yield* request(api, "GET", `/v1/posts/${post.body.id}/results`)).status, 200)
          }
          assert.strictEqual(counter.count(isGateWithRead) - before.fused, 10, "each GET: the gate with its read")
          assert.strictEqual(counter.count(isGate) - before.gate, 0, "no gate of its own")
          assert.strictEqual(counter.count(readsPost) - before.reads, 10, "and no read of its own")
          // An endpoint that is not annotated authenticates first, in its own statement.
          assert.strictEqual((yield* request(api, "GET", "/v1/posts")).status, 200)
          assert.strictEqual(counter.count(isGate) - before.gate, 1)
          assert.strictEqual(counter.count(isGateWithRead) - before.fused, 10)
        }))
    }
  )
})
