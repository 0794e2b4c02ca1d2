/**
 * Offset paging with a total (issue 17: PostEverywhere and Ampost page by
 * offset): `limit` + `offset` give a page and `total`, the number of items
 * the filter selects; `cursor` with `offset` is a 400; the offset is bounded.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { testKinds } from "./fixtures.js"
import * as Ids from "../src/storage/Ids.js"
import { apiLayer, errorCode, request, TestApi } from "./apiHarness.js"

for (const kind of testKinds) {
  describe(`offset paging (${kind})`, () => {
    layer(apiLayer(kind, {}, { scheduler: false }), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("GET /v1/posts?limit&offset: the pages in order, total counts what the filter selects", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const sql = yield* SqlClient.SqlClient
          // 12 drafts and 5 cancelled posts, one second apart, newest last.
          const ids: Array<string> = []
          for (let i = 0; i < 17; i++) {
            const id = Ids.make("post")
            const at = new Date(Date.UTC(2026, 2, 1, 12, 0, i)).toISOString()
            yield* sql`INSERT INTO posts (id, organization_id, status, content, created_at, updated_at)
              VALUES (${id}, ${api.organizationId}, ${i < 12 ? "draft" : "cancelled"}, ${JSON.stringify({ text: `p${i}` })}::jsonb,
                ${at}::timestamptz, ${at}::timestamptz)`
            ids.push(id)
          }
          const newestFirst = [...ids].reverse()
          const seen: Array<string> = []
          for (let offset = 0; offset < 17; offset += 5) {
            const page = yield* request(api, "GET", `/v1/posts?limit=5&offset=${offset}`)
            assert.strictEqual(page.status, 200, JSON.stringify(page.body))
            assert.strictEqual(page.body.total, 17)
            seen.push(...page.body.data.map((p: any) => p.id))
          }
          assert.deepStrictEqual(seen, newestFirst)
          const drafts = yield* request(api, "GET", "/v1/posts?status=draft&limit=5&offset=10")
          assert.strictEqual(drafts.body.total, 12, "only what the filter selects")
          assert.deepStrictEqual(drafts.body.data.map((p: any) => p.id), ids.slice(0, 2).reverse())
          const past = yield* request(api, "GET", "/v1/posts?limit=5&offset=100")
          assert.deepStrictEqual(past.body.data, [])
          assert.strictEqual(past.body.total, 17)
          // Cursor pages carry no total (no count on that path).
          const byCursor = yield* request(api, "GET", "/v1/posts?limit=5")
          assert.isUndefined(byCursor.body.total)
          assert.isString(byCursor.body.nextCursor)

          const both = yield* request(api, "GET", `/v1/posts?offset=5&cursor=${encodeURIComponent(byCursor.body.nextCursor)}`)
          assert.strictEqual(both.status, 400, JSON.stringify(both.body))
          assert.strictEqual(errorCode(both), "VALIDATION_FAILED")
          assert.strictEqual(both.body.error.details.issues[0].code, "CURSOR_WITH_OFFSET")
          for (const offset of ["10001", "-1", "1.5", "x"]) {
            const bad = yield* request(api, "GET", `/v1/posts?offset=${offset}`)
            assert.strictEqual(bad.status, 400, `offset=${offset}`)
          }
          assert.strictEqual((yield* request(api, "GET", "/v1/posts?offset=10000")).status, 200, "10,000 is the deepest offset")
        }))

      it.effect("GET /v1/groups and /v1/admin/organizations page by offset with a total too", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const names = ["a", "b", "c", "d", "e"]
          const made: Array<string> = []
          for (const name of names) made.push((yield* request(api, "POST", "/v1/groups", { body: { name } })).body.id)
          const page = yield* request(api, "GET", "/v1/groups?limit=2&offset=2")
          assert.strictEqual(page.status, 200, JSON.stringify(page.body))
          assert.strictEqual(page.body.total, 5)
          assert.deepStrictEqual(page.body.data.map((g: any) => g.id), made.slice(2, 4))
          const both = yield* request(api, "GET", `/v1/groups?offset=1&cursor=${encodeURIComponent(page.body.nextCursor)}`)
          assert.strictEqual(both.status, 400)

          const admin = { ...api, key: api.adminKey }
          for (const name of ["Org 1", "Org 2"]) yield* request(admin, "POST", "/v1/admin/organizations", { body: { name } })
          const all = yield* request(admin, "GET", "/v1/admin/organizations?limit=100")
          const orgs = yield* request(admin, "GET", "/v1/admin/organizations?limit=1&offset=1")
          assert.strictEqual(orgs.status, 200, JSON.stringify(orgs.body))
          assert.strictEqual(orgs.body.total, all.body.data.length)
          assert.deepStrictEqual(orgs.body.data.map((o: any) => o.id), [all.body.data[1].id])
        }))
    })
  })
}
