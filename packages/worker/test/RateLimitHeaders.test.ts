/**
 * Rate limits through the HTTP API (issue 17): every response of a counted
 * request says the key's state (`RateLimit-Limit`, `-Remaining`, `-Reset`),
 * and the limit is the database's, shared by every API server on it: two
 * servers with services of their own (as two processes) on one database.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { testKinds } from "./fixtures.js"
import { type Answer, apiLayer, errorCode, request, secondServer, TestApi } from "./apiHarness.js"

const state = (answer: Answer) => ({
  limit: answer.headers.get("ratelimit-limit"),
  remaining: answer.headers.get("ratelimit-remaining"),
  reset: answer.headers.get("ratelimit-reset")
})

for (const kind of testKinds) {
  describe(`rate-limit headers (${kind})`, () => {
    layer(apiLayer(kind, {}, { scheduler: false }), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("two API servers on one database share a key's limit; the headers count down on both", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const other = yield* secondServer(api, kind)
          const created = yield* request(api, "POST", "/v1/keys", { body: { name: "shared", rateLimitPerMinute: 6 } })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const key = created.body.key as string
          // Six requests, alternating between the servers: each sees the other's.
          const answers: Array<Answer> = []
          for (let i = 0; i < 6; i++) answers.push(yield* request(i % 2 === 0 ? api : other, "GET", "/v1/posts", { key }))
          assert.deepStrictEqual(answers.map((a) => a.status), [200, 200, 200, 200, 200, 200])
          assert.deepStrictEqual(answers.map((a) => state(a).limit), ["6", "6", "6", "6", "6", "6"])
          assert.deepStrictEqual(answers.map((a) => state(a).remaining), ["5", "4", "3", "2", "1", "0"])
          // One request every 10 s: the whole limit is back 10 s after the first, 60 s after the sixth.
          assert.deepStrictEqual(answers.map((a) => state(a).reset), ["10", "20", "30", "40", "50", "60"])
          // The seventh is refused on either server, in the error shape, with Retry-After.
          for (const server of [api, other]) {
            const refused = yield* request(server, "GET", "/v1/posts", { key })
            assert.strictEqual(refused.status, 429, JSON.stringify(refused.body))
            assert.strictEqual(errorCode(refused), "RATE_LIMITED")
            assert.isString(refused.body.error.message)
            const retryAfter = Number(refused.headers.get("retry-after"))
            assert.isAtLeast(retryAfter, 1)
            assert.isAtMost(retryAfter, 10)
            assert.strictEqual(refused.body.error.details.retryAfterSeconds, retryAfter)
            assert.strictEqual(refused.body.error.details.limitPerMinute, 6)
            assert.strictEqual(state(refused).remaining, "0")
            assert.strictEqual(state(refused).limit, "6")
          }
          // Another key is not affected.
          assert.strictEqual((yield* request(other, "GET", "/v1/posts")).status, 200)
        }).pipe(Effect.scoped))

      it.effect("every counted response carries the state: successes, errors, admin requests", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const key = (yield* request(api, "POST", "/v1/keys", { body: { name: "counted", rateLimitPerMinute: 10 } })).body.key
          const first = yield* request(api, "GET", "/v1/accounts", { key })
          const notFound = yield* request(api, "GET", "/v1/posts/post_nope", { key })
          const invalid = yield* request(api, "POST", "/v1/posts", { body: { content: 1 }, key })
          const admin = yield* request({ ...api, key: api.adminKey }, "GET", "/v1/admin/organizations")
          assert.deepStrictEqual([first.status, notFound.status, invalid.status, admin.status], [200, 404, 400, 200])
          // The same key: counting down across endpoints and statuses.
          assert.deepStrictEqual([first, notFound, invalid].map(state), [
            { limit: "10", remaining: "9", reset: "6" },
            { limit: "10", remaining: "8", reset: "12" },
            { limit: "10", remaining: "7", reset: "18" }
          ])
          assert.strictEqual(state(admin).limit, "100000", "an admin key is counted too")
          for (const answer of [first, notFound, invalid, admin]) assert.isNull(answer.headers.get("retry-after"))
          // Nothing to count without a key: a 401 says nothing of a limit.
          const anonymous = yield* request(api, "GET", "/v1/posts", { key: null })
          assert.strictEqual(anonymous.status, 401)
          assert.isNull(anonymous.headers.get("ratelimit-limit"))
        }))

      it.effect("/openapi.json declares the headers on authenticated responses, Retry-After on 429", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const spec = (yield* request(api, "GET", "/openapi.json", { key: null })).body
          const list = spec.paths["/v1/posts"].get.responses
          for (const name of ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]) {
            assert.deepStrictEqual(list["200"].headers[name], { $ref: `#/components/headers/${name}` })
            assert.isString(spec.components.headers[name].description)
          }
          assert.deepStrictEqual(list["429"].headers["Retry-After"], { $ref: "#/components/headers/Retry-After" })
          assert.isUndefined(list["401"].headers?.["RateLimit-Limit"], "a refused key is not counted")
          assert.isUndefined(spec.paths["/healthz"].get.responses["200"].headers?.["RateLimit-Limit"])
        }))
    })
  })
}
