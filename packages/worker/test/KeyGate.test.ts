/**
 * `KeyGate`: the key's lookup, its `last_used_at` and the rate limit's step
 * in one statement. Its decisions must be `RateLimiter.layer`'s, step for
 * step (same GCRA arithmetic), and a key the request may not use is not
 * counted. On PGlite and PostgreSQL, with time from `TestClock`.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import { KeyGate } from "../src/api/KeyGate.js"
import { RateLimiter } from "../src/api/RateLimiter.js"
import { ApiKeys } from "../src/storage/ApiKeys.js"
import { Database } from "../src/storage/Database.js"
import { testKinds } from "./fixtures.js"

for (const kind of testKinds) {
  describe(`KeyGate (${kind})`, () => {
    const stack = Layer.mergeAll(KeyGate.layer, RateLimiter.layer, ApiKeys.layer).pipe(Layer.provideMerge(Database.layerTest(kind)))
    layer(stack, { timeout: 60_000, excludeTestServices: true })((it) => {
      it.effect("decides as RateLimiter does, step for step, for limits that do not divide the minute", () =>
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const gate = yield* KeyGate
          const limiter = yield* RateLimiter
          const organizationId = yield* keys.createOrganization("gate")
          for (const limit of [1, 3, 7, 600]) {
            const created = yield* keys.create({ organizationId, name: `limit ${limit}`, rateLimitPerMinute: limit })
            const twin = `twin_${created.id}`
            for (let i = 0; i < limit + 2; i++) {
              const admitted = yield* gate.admit(created.key, { method: "POST", defaultLimitPerMinute: 5 })
              const expected = yield* limiter.take(twin, limit)
              assert.deepStrictEqual(Option.getOrThrow(admitted).decision, expected, `limit ${limit}, request ${i + 1}`)
              if (i % 3 === 1) yield* TestClock.adjust(`${Math.round(60_000 / limit / 3)} millis`)
            }
          }
          // A key without its own limit takes the default.
          const plain = yield* keys.create({ organizationId, name: "default limit" })
          const first = Option.getOrThrow(yield* gate.admit(plain.key, { method: "GET", defaultLimitPerMinute: 2 }))
          assert.deepStrictEqual([first.decision?.limit, first.decision?.remaining], [2, 1])
        }).pipe(Effect.provide(TestClock.layer())))

      it.effect("counts no request a key may not make; finds no revoked or unknown key; marks the key used", () =>
        Effect.gen(function*() {
          const keys = yield* ApiKeys
          const gate = yield* KeyGate
          const sql = yield* SqlClient.SqlClient
          const organizationId = yield* keys.createOrganization("refusals")
          const options = { method: "POST", defaultLimitPerMinute: 600 }
          const readOnly = yield* keys.create({ organizationId, name: "read only", readOnly: true })
          assert.isUndefined(Option.getOrThrow(yield* gate.admit(readOnly.key, options)).decision, "a read-only key's POST")
          assert.isDefined(Option.getOrThrow(yield* gate.admit(readOnly.key, { ...options, method: "GET" })).decision)
          const expiring = yield* keys.create({ organizationId, name: "expiring", expiresAt: "2030-01-01T00:00:00.000Z" })
          assert.isDefined(Option.getOrThrow(yield* gate.admit(expiring.key, options)).decision)
          yield* TestClock.setTime(Date.parse("2030-01-01T00:00:00.000Z"))
          assert.isUndefined(Option.getOrThrow(yield* gate.admit(expiring.key, options)).decision, "expired at that instant")
          const admin = yield* keys.createAdmin({ name: "admin" })
          assert.isUndefined(Option.getOrThrow(yield* gate.admit(admin.key, options)).decision, "an admin key on /v1")
          const disabled = yield* keys.create({ organizationId, name: "of a disabled organization" })
          yield* sql`UPDATE organizations SET disabled_at = now() WHERE id = ${organizationId}`
          assert.isUndefined(Option.getOrThrow(yield* gate.admit(disabled.key, options)).decision)
          const counted = yield* sql<{ key: string }>`SELECT key FROM rate_limits WHERE ${sql.in("key", [readOnly.id, expiring.id, admin.id, disabled.id])}`
          assert.sameMembers(counted.map((r) => r.key), [readOnly.id, expiring.id], "only the requests let through were counted")
          const used = yield* sql<{ id: string }>`SELECT id FROM api_keys WHERE last_used_at IS NOT NULL AND ${sql.in("id", [readOnly.id, admin.id])}`
          assert.strictEqual(used.length, 2)
          assert.isTrue(yield* keys.revoke(organizationId, readOnly.id))
          assert.isTrue(Option.isNone(yield* gate.admit(readOnly.key, options)), "revoked")
          assert.isTrue(Option.isNone(yield* gate.admit("omp_nosuchkey", options)))
          assert.isTrue(Option.isNone(yield* gate.admit("not a key", options)))
        }).pipe(Effect.provide(TestClock.layer())))
    })
  })
}
