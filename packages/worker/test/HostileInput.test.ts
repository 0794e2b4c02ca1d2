/**
 * What the hostile-input run (`test-reliability/Hostile.test.ts`) found, kept
 * as regression tests: refusals made before any of our handlers runs used to
 * answer in plain text or with no body instead of the error shape.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { apiLayer, request, TestApi } from "./apiHarness.js"
import { rawRequest } from "./rawHttp.js"

const raw = (url: string, text: string | Buffer) =>
  Effect.promise(() =>
    rawRequest(Number(new URL(url).port), [typeof text === "string" ? Buffer.from(text, "latin1") : text], { after: "end", deadlineMs: 10_000 })
  )

describe("refusals before the handlers, in the error shape", () => {
  layer(apiLayer("pglite"), { excludeTestServices: true })((it) => {
    it.effect("a content type no endpoint reads: 415 UNSUPPORTED_MEDIA_TYPE (was the framework's plain text)", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        // seed 1's counterexample: fetch's text/plain body on a JSON endpoint.
        const answer = yield* request(api, "POST", "/v1/groups/grp_x/accounts", { raw: "{}", headers: { "content-type": "text/plain" } })
        assert.strictEqual(answer.status, 415)
        assert.strictEqual(answer.body.error.code, "UNSUPPORTED_MEDIA_TYPE")
        assert.include(answer.body.error.message, "text/plain")
        // The answer keeps the headers set before it (the request id).
        assert.isNotNull(answer.headers.get("x-request-id"))
      }))

    it.effect("bytes Node's parser refuses: 400 VALIDATION_FAILED in JSON (was Node's bodiless 400)", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        // seed 1's counterexample: invalid UTF-8 (non-ASCII bytes) in the query.
        const answer = yield* raw(api.url, Buffer.concat([
          Buffer.from("POST /v1/admin/organizations?limit="),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(" HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        ]))
        assert.strictEqual(answer.status, 400)
        assert.strictEqual(answer.headers["content-type"], "application/json")
        assert.strictEqual(JSON.parse(answer.body).error.code, "VALIDATION_FAILED")
        const garbage = yield* raw(api.url, "GET /v1/posts HTTP/9.9\r\n\xff nonsense\r\n\r\n")
        assert.strictEqual(garbage.status, 400)
        assert.strictEqual(JSON.parse(garbage.body).error.code, "VALIDATION_FAILED")
      }))

    it.effect("headers over 16 KiB: 431 HEADERS_TOO_LARGE in JSON", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const answer = yield* raw(api.url, `GET /v1/posts HTTP/1.1\r\nhost: x\r\nx-giant: ${"a".repeat(40_000)}\r\n\r\n`)
        assert.strictEqual(answer.status, 431)
        assert.deepStrictEqual(JSON.parse(answer.body).error.code, "HEADERS_TOO_LARGE")
        assert.isTrue(answer.closed)
      }))
  })
})
