/**
 * What users of the hosted APIs expect, through the HTTP API: a request id on
 * every answer (the caller's own kept, in error bodies too), the results of a
 * post alone (`GET /v1/posts/:id/results`), and `/llms.txt` generated from
 * the same declarations as `/openapi.json`.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { apiLayer, connectBluesky, errorCode, request, TestApi, waitFor } from "./apiHarness.js"
import { testKinds } from "./fixtures.js"

for (const kind of testKinds) {
  describe(`parity with the hosted APIs (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("every answer carries X-Request-Id: the caller's own when sensible, else a new one; error bodies carry it too", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const ok = yield* request(api, "GET", "/v1/accounts")
          assert.strictEqual(ok.status, 200)
          assert.match(ok.headers.get("x-request-id") ?? "", /^req_[0-9a-z]{26}$/)
          const other = yield* request(api, "GET", "/v1/accounts")
          assert.notStrictEqual(other.headers.get("x-request-id"), ok.headers.get("x-request-id"))

          const mine = yield* request(api, "GET", "/v1/posts/post_missing", { headers: { "x-request-id": "trace-42" } })
          assert.strictEqual(mine.status, 404)
          assert.strictEqual(mine.headers.get("x-request-id"), "trace-42")
          assert.strictEqual(errorCode(mine), "POST_NOT_FOUND")
          assert.strictEqual(mine.body.error.requestId, "trace-42")

          for (const answer of [
            yield* request(api, "GET", "/v1/accounts", { key: null }),
            yield* request(api, "GET", "/nowhere"),
            yield* request(api, "POST", "/v1/posts", { body: { content: { text: "x" }, destinations: [], scheduled_at: "2099-01-01T00:00:00Z" } })
          ]) {
            const id = answer.headers.get("x-request-id")
            assert.isString(id, `status ${answer.status}`)
            assert.strictEqual(answer.body.error.requestId, id, JSON.stringify(answer.body))
          }
          // An id that is not one (too long, control characters) is replaced, not echoed.
          const odd = yield* request(api, "GET", "/v1/accounts", { headers: { "x-request-id": "x".repeat(200) } })
          assert.match(odd.headers.get("x-request-id") ?? "", /^req_/)
        }))

      it.effect("GET /v1/posts/:id/results: every destination's result alone; 404 for a post of nobody", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const created = yield* request(api, "POST", "/v1/posts", { body: { content: { text: "results, please" }, destinations: [{ accountId }] } })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const results = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}/results`), (answer) => answer.body.status === "published" ? answer : undefined),
            60_000,
            "the post's results"
          )
          assert.strictEqual(results.status, 200)
          assert.deepStrictEqual(Object.keys(results.body).sort(), ["destinations", "postId", "publishedAt", "status"])
          assert.strictEqual(results.body.postId, created.body.id)
          assert.strictEqual(results.body.destinations.length, 1)
          assert.match(results.body.destinations[0].platformPostId, /^at:\/\//)
          assert.isString(results.body.destinations[0].url)
          const missing = yield* request(api, "GET", "/v1/posts/post_nobody/results")
          assert.strictEqual(missing.status, 404)
          assert.strictEqual(errorCode(missing), "POST_NOT_FOUND")
        }))

      it.effect("/llms.txt describes every operation of /openapi.json, with its errors", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const answer = yield* Effect.promise(() => fetch(`${api.url}/llms.txt`).then(async (response) => ({
            status: response.status,
            type: response.headers.get("content-type"),
            text: await response.text()
          })))
          assert.strictEqual(answer.status, 200)
          assert.match(answer.type ?? "", /^text\/markdown/)
          assert.match(answer.text, /^# Omnipost API\n/)
          const spec = (yield* request(api, "GET", "/openapi.json", { key: null })).body as { paths: Record<string, Record<string, unknown>> }
          let operations = 0
          for (const [path, item] of Object.entries(spec.paths)) {
            for (const method of Object.keys(item).filter((name) => ["get", "post", "put", "patch", "delete"].includes(name))) {
              operations++
              assert.include(answer.text, `\`${method.toUpperCase()} ${path}\``)
            }
          }
          assert.isAbove(operations, 30)
          assert.include(answer.text, "`POST /v1/posts`: Create a post")
          assert.include(answer.text, "400 UNKNOWN_FIELD")
          assert.include(answer.text, "/mcp")
        }))
    })
  })
}
