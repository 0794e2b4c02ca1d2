/**
 * Every endpoint of the OpenAPI document, driven with bad input: path
 * parameters of odd Unicode and any length, unknown and malformed query
 * parameters (impossible dates, huge numbers), bodies of wrong types,
 * unknown fields, huge strings and deeply nested values. Whatever comes in,
 * the answer is never a 5xx (bar /readyz's documented 503) and every error
 * has the shape `{ "error": { "code", "message" } }`, never INTERNAL_ERROR.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { testKinds } from "./fixtures.js"
import { apiLayer, request, TestApi } from "./apiHarness.js"

/** Strings people and programs send by mistake, and the odd ones. */
const oddString = fc.oneof(
  fc.string(),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "", " ", "\u0000", "\uD800", "..%2F..%2Fetc%2Fpasswd", "'; DROP TABLE posts; --", "2027-02-30T10:00:00Z",
    "2026-13-45", "yesterday", "1700000000", "-1", "1e309", "NaN", "null", "true", "[]", "{}", "🏳️‍🌈".repeat(50),
    "a".repeat(5000), "%", "%zz", "med_", "pst_00000000000000000000000000"
  )
)

/** JSON text nested `depth` levels (text, so that a counterexample prints without recursion). */
const nested = (depth: number, asArray: boolean): string =>
  asArray ? `${"[".repeat(depth)}"x"${"]".repeat(depth)}` : `${"{\"content\":".repeat(depth)}"x"${"}".repeat(depth)}`

/** Bodies as JSON text: huge or deeply nested. */
const hugeOrDeep = fc.oneof(
  fc.integer({ min: 10, max: 5000 }).chain((depth) => fc.boolean().map((asArray) => nested(depth, asArray))),
  fc.constant(JSON.stringify({ content: { text: "x".repeat(300_000) }, destinations: [] })),
  fc.constant(JSON.stringify({ content: { text: "é".repeat(120_000) }, destinations: [{ accountId: "acc_x" }] })),
  fc.constant(JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ accountId: `acc_${i}` }))))
)

const withUnknownFields = fc.dictionary(oddString, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 })

/** Every body is sent as text: JSON of any shape, unknown fields, huge or deep JSON, and text that is not JSON. */
const body = fc.oneof(
  fc.jsonValue().map((value) => JSON.stringify(value)),
  withUnknownFields.map((value) => JSON.stringify(value)),
  hugeOrDeep,
  oddString
)

const query = fc.dictionary(
  fc.oneof(fc.constantFrom("from", "to", "cursor", "limit", "status", "platform", "type", "fileName", "scheduled_at"), fc.string()),
  oddString,
  { maxKeys: 4 }
)

for (const kind of testKinds) {
  describe(`every endpoint with bad input (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 300_000, excludeTestServices: true })((it) => {
      it.effect("never a 5xx, always the error shape", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const openapi = yield* request(api, "GET", "/openapi.json", { key: null })
          const endpoints: Array<readonly [string, string]> = []
          for (const [path, operations] of Object.entries(openapi.body.paths as Record<string, Record<string, unknown>>)) {
            for (const method of Object.keys(operations)) {
              if (["get", "post", "patch", "put", "delete"].includes(method)) endpoints.push([method.toUpperCase(), path])
            }
          }
          // Every route of the document is driven, not a hand-picked list.
          assert.isAtLeast(endpoints.length, 20)
          const seen = new Set<string>()
          yield* Effect.promise(() =>
            fc.assert(
              fc.asyncProperty(
                fc.constantFrom(...endpoints),
                fc.array(oddString, { minLength: 2, maxLength: 2 }),
                query,
                fc.option(body, { nil: undefined }),
                async ([method, template], params, parameters, value) => {
                  let index = 0
                  const path = template.replace(/\{[^}]+\}/g, () => encodeURIComponent(Buffer.from(params[index++ % 2]!, "utf8").toString("utf8")))
                  const search = new URLSearchParams(parameters).toString()
                  const url = `${api.url}${path}${search === "" ? "" : `?${search}`}`
                  const hasBody = value !== undefined && method !== "GET" && method !== "DELETE"
                  const response = await fetch(url, {
                    method,
                    headers: { authorization: `Bearer ${api.key}`, ...(hasBody ? { "content-type": "application/json" } : {}) },
                    ...(hasBody ? { body: value } : {})
                  })
                  const text = await response.text()
                  seen.add(`${method} ${template}`)
                  const readiness = template === "/readyz" && response.status === 503
                  if (response.status >= 500 && !readiness) {
                    throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 500)}`)
                  }
                  if (response.status >= 400 && !readiness) {
                    let parsed: any
                    try {
                      parsed = JSON.parse(text)
                    } catch {
                      throw new Error(`${method} ${url} ${response.status}: not JSON: ${text.slice(0, 300)}`)
                    }
                    if (typeof parsed?.error?.code !== "string" || typeof parsed?.error?.message !== "string") {
                      throw new Error(`${method} ${url} ${response.status}: not the error shape: ${text.slice(0, 300)}`)
                    }
                  }
                }
              ),
              { numRuns: 400 }
            )
          )
          // NUL characters (PostgreSQL text cannot hold them) in a path, a query and a body.
          for (const [method, path, text] of [
            ["GET", `/v1/posts/pst_%00`, undefined],
            ["GET", `/v1/posts?status=draft%00`, undefined],
            ["GET", `/v1/posts?platform=%00`, undefined],
            ["GET", `/v1/accounts/acc_%00x`, undefined],
            ["GET", `/v1/media/med_%00`, undefined],
            ["POST", "/v1/keys", JSON.stringify({ name: "a\u0000b" })],
            ["POST", "/v1/posts", JSON.stringify({ content: { text: "a\u0000b" }, destinations: [] })],
            ["POST", "/v1/webhooks", JSON.stringify({ url: "https://example.com/\u0000", secret: "0123456789abcdef\u0000", events: ["post.published"] })]
          ] as const) {
            const answer = yield* request(api, method, path, text === undefined ? {} : { body: text })
            assert.strictEqual(answer.status, 400, `${method} ${path}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(answer.body.error.code, "VALIDATION_FAILED")
            assert.strictEqual(answer.body.error.details.issues[0].code, "NUL_CHARACTER")
          }
          // Most endpoints were reached (the draw is random; 400 runs over ~30 endpoints).
          assert.isAtLeast(seen.size, Math.floor(endpoints.length * 0.8), [...seen].join(", "))
        }))
    })
  })
}
