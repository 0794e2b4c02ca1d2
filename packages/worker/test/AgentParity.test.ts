/**
 * What users of the hosted APIs expect, through the HTTP API: a request id on
 * every answer (the caller's own kept, in error bodies too), the results of a
 * post alone (`GET /v1/posts/:id/results`), and `/llms.txt` generated from
 * the same declarations as `/openapi.json`, and API keys that expire or only
 * read.
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

      it.effect("API keys that expire (401 EXPIRED_API_KEY once past) and read-only keys (403 READ_ONLY_API_KEY on anything but GET)", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const past = yield* request(api, "POST", "/v1/keys", { body: { name: "born expired", expiresAt: "2020-01-01T00:00:00Z" } })
          assert.strictEqual(past.status, 400, JSON.stringify(past.body))
          assert.strictEqual(errorCode(past), "VALIDATION_FAILED")
          const impossible = yield* request(api, "POST", "/v1/keys", { body: { name: "bad date", expiresAt: "2027-02-30T10:00:00Z" } })
          assert.strictEqual(impossible.status, 400, JSON.stringify(impossible.body))

          const expiresAt = new Date(Date.now() + 2_000).toISOString()
          const brief = yield* request(api, "POST", "/v1/keys", { body: { name: "brief", expiresAt } })
          assert.strictEqual(brief.status, 201, JSON.stringify(brief.body))
          assert.strictEqual(brief.body.expiresAt, expiresAt)
          assert.isFalse(brief.body.readOnly)
          const early = yield* request(api, "GET", "/v1/accounts", { key: brief.body.key })
          assert.strictEqual(early.status, 200, "usable before it expires")
          const expired = yield* waitFor(
            Effect.map(request(api, "GET", "/v1/accounts", { key: brief.body.key }), (answer) => answer.status === 401 ? answer : undefined),
            30_000,
            "the key to expire"
          )
          assert.strictEqual(errorCode(expired), "EXPIRED_API_KEY")
          assert.strictEqual(expired.body.error.details.expiredAt, expiresAt)
          assert.isTrue(Date.now() >= Date.parse(expiresAt), "refused only once past its expiry")
          const listed = yield* request(api, "GET", "/v1/keys")
          assert.strictEqual(listed.body.find((key: { id: string }) => key.id === brief.body.id).expiresAt, expiresAt)

          const reader = yield* request(api, "POST", "/v1/keys", { body: { name: "dashboard", readOnly: true } })
          assert.strictEqual(reader.status, 201, JSON.stringify(reader.body))
          assert.isTrue(reader.body.readOnly)
          assert.strictEqual((yield* request(api, "GET", "/v1/posts", { key: reader.body.key })).status, 200)
          for (const [method, path, body] of [
            ["POST", "/v1/posts", { content: { text: "no" }, destinations: [] }],
            ["POST", "/v1/keys", { name: "escalate" }],
            ["DELETE", `/v1/keys/${reader.body.id}`, undefined]
          ] as const) {
            const refused = yield* request(api, method, path, { key: reader.body.key, ...(body === undefined ? {} : { body }) })
            assert.strictEqual(refused.status, 403, `${method} ${path}: ${JSON.stringify(refused.body)}`)
            assert.strictEqual(errorCode(refused), "READ_ONLY_API_KEY")
          }
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
