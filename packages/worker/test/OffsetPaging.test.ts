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
import { AccountStore } from "../src/storage/AccountStore.js"
import { type ApiServer, apiLayer, errorCode, request, TestApi } from "./apiHarness.js"

/**
 * A list that answers whole without paging parameters: still the array; with
 * `limit` + `offset` a page of `expected` (in order) with `total`, walking
 * every page; by cursor the same items; cursor with offset a 400.
 */
const assertPagedList = (api: ApiServer, path: string, expected: ReadonlyArray<string>, options: { readonly whole?: boolean } = {}) =>
  Effect.gen(function*() {
    const separator = path.includes("?") ? "&" : "?"
    if (options.whole !== false) {
      const whole = yield* request(api, "GET", path)
      assert.strictEqual(whole.status, 200, JSON.stringify(whole.body))
      assert.isArray(whole.body, "no paging parameter: the array, as before")
      assert.deepStrictEqual(whole.body.map((item: any) => item.id), expected)
    }
    const byOffset: Array<string> = []
    for (let offset = 0; offset < expected.length; offset += 2) {
      const page = yield* request(api, "GET", `${path}${separator}limit=2&offset=${offset}`)
      assert.strictEqual(page.status, 200, JSON.stringify(page.body))
      assert.strictEqual(page.body.total, expected.length)
      byOffset.push(...page.body.data.map((item: any) => item.id))
    }
    assert.deepStrictEqual(byOffset, expected)
    const past = yield* request(api, "GET", `${path}${separator}limit=2&offset=${expected.length + 5}`)
    assert.deepStrictEqual([past.body.data, past.body.total], [[], expected.length])
    const byCursor: Array<string> = []
    let cursor: string | undefined
    do {
      const page = yield* request(api, "GET", `${path}${separator}limit=2${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`)
      assert.strictEqual(page.status, 200, JSON.stringify(page.body))
      assert.isUndefined(page.body.total, "cursor pages count nothing")
      byCursor.push(...page.body.data.map((item: any) => item.id))
      cursor = page.body.nextCursor
    } while (cursor !== undefined && byCursor.length <= expected.length)
    assert.deepStrictEqual(byCursor, expected)
    const first = yield* request(api, "GET", `${path}${separator}limit=1`)
    const both = yield* request(api, "GET", `${path}${separator}offset=1&cursor=${encodeURIComponent(first.body.nextCursor)}`)
    assert.strictEqual(both.status, 400, JSON.stringify(both.body))
    assert.strictEqual(both.body.error.details.issues[0].code, "CURSOR_WITH_OFFSET")
    const tooDeep = yield* request(api, "GET", `${path}${separator}offset=10001`)
    assert.strictEqual(tooDeep.status, 400)
    assert.strictEqual(errorCode(tooDeep), "VALIDATION_FAILED")
    const badCursor = yield* request(api, "GET", `${path}${separator}cursor=garbage`)
    assert.strictEqual(badCursor.status, 400)
    assert.strictEqual(errorCode(badCursor), "VALIDATION_FAILED")
  })

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

      it.effect("GET /v1/accounts, /v1/keys and /v1/webhooks: the array without paging parameters, pages with a total with them", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accounts = yield* AccountStore
          const connected: Array<string> = []
          for (const [i, platform] of ["bluesky", "x", "bluesky", "x", "bluesky"].entries()) {
            const account = yield* accounts.connect({
              organizationId: api.organizationId,
              platform,
              platformAccountId: `paged-${i}`,
              username: `paged${i}`,
              credentials: { token: `t${i}` }
            })
            connected.push(account.id)
          }
          yield* assertPagedList(api, "/v1/accounts", connected)
          // The platform filter applies to the page and to the total.
          yield* assertPagedList(api, "/v1/accounts?platform=x", [connected[1]!, connected[3]!])

          const keys = [(yield* request(api, "GET", "/v1/keys")).body[0].id as string]
          for (const name of ["k1", "k2", "k3", "k4"]) {
            keys.push((yield* request(api, "POST", "/v1/keys", { body: { name } })).body.id)
          }
          yield* assertPagedList(api, "/v1/keys", keys)

          const hooks: Array<string> = []
          for (let i = 0; i < 3; i++) {
            const hook = yield* request(api, "POST", "/v1/webhooks", {
              body: { url: `http://127.0.0.1:9/hook${i}`, secret: "0123456789abcdef", events: ["post.published"] }
            })
            assert.strictEqual(hook.status, 201, JSON.stringify(hook.body))
            hooks.push(hook.body.id)
          }
          yield* assertPagedList(api, "/v1/webhooks", hooks)
        }))

      it.effect("GET /v1/webhooks/:id/deliveries pages by offset with a total too, newest first", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const sql = yield* SqlClient.SqlClient
          const hook = yield* request(api, "POST", "/v1/webhooks", {
            body: { url: "http://127.0.0.1:9/deliveries", secret: "0123456789abcdef", events: ["post.published"] }
          })
          const ids: Array<string> = []
          for (let i = 0; i < 5; i++) {
            const id = Ids.make("whd")
            const at = new Date(Date.UTC(2026, 2, 1, 12, 0, i)).toISOString()
            // Delivered already: the dispatcher leaves them alone.
            yield* sql`INSERT INTO webhook_deliveries (id, webhook_id, organization_id, event, payload, status, attempts, created_at, delivered_at)
              VALUES (${id}, ${hook.body.id}, ${api.organizationId}, 'post.published', '{}'::jsonb, 'delivered', 1, ${at}::timestamptz, ${at}::timestamptz)`
            ids.push(id)
          }
          yield* assertPagedList(api, `/v1/webhooks/${hook.body.id}/deliveries`, [...ids].reverse(), { whole: false })
          const unpaged = yield* request(api, "GET", `/v1/webhooks/${hook.body.id}/deliveries`)
          assert.deepStrictEqual(Object.keys(unpaged.body).sort(), ["data"], "a page as before: no total without offset")
          const elsewhere = yield* request(api, "GET", "/v1/webhooks/whk_nope/deliveries?offset=0")
          assert.strictEqual(elsewhere.status, 404)
        }))
    })
  })
}
