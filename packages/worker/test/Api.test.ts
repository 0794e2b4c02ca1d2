import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { testKinds } from "../src/Database.js"
import { apiLayer, request, TestApi } from "./apiHarness.js"

for (const kind of testKinds) {
  describe(`HTTP API (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 120_000 })((it) => {
      it.effect("health and the OpenAPI document", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const health = yield* request(api, "GET", "/healthz", { key: null })
          assert.strictEqual(health.status, 200)
          assert.deepStrictEqual(health.body, { status: "ok" })
          const openapi = yield* request(api, "GET", "/openapi.json", { key: null })
          assert.strictEqual(openapi.status, 200)
          assert.match(openapi.body.openapi, /^3\.1/)
          assert.property(openapi.body.paths, "/v1/posts")
        }))

      it.effect("rejects a missing or unknown key with INVALID_API_KEY", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const missing = yield* request(api, "GET", "/v1/posts", { key: null })
          assert.strictEqual(missing.status, 401, JSON.stringify(missing.body))
          assert.strictEqual(missing.body.error.code, "INVALID_API_KEY")
          const unknown = yield* request(api, "GET", "/v1/posts", { key: "omp_nope" })
          assert.strictEqual(unknown.status, 401)
        }))

      it.effect("connects a Bluesky account on the fake and creates a post", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const connected = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          assert.strictEqual(connected.status, 201, JSON.stringify(connected.body))
          assert.strictEqual(connected.body.username, "alice.bsky.social")
          assert.notProperty(connected.body, "credentials")
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "hello" }, destinations: [{ accountId: connected.body.id }], status: "draft" }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          assert.strictEqual(created.body.status, "draft")
          const got = yield* request(api, "GET", `/v1/posts/${created.body.id}`)
          assert.strictEqual(got.status, 200)
          assert.strictEqual(got.body.destinations[0].platform, "bluesky")
          const bad = yield* request(api, "POST", "/v1/posts", { body: { content: 5 } })
          assert.strictEqual(bad.status, 400)
          assert.strictEqual(bad.body.error.code, "VALIDATION_FAILED", JSON.stringify(bad.body))
          const none = yield* request(api, "GET", "/v1/nope")
          assert.strictEqual(none.status, 404, JSON.stringify(none.body))
          assert.strictEqual(none.body.error.code, "NOT_FOUND")
        }))
    })
  })
}
