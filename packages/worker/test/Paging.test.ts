/**
 * Cursor paging is exact: rows created within one millisecond (the columns
 * keep microseconds) on both sides of a page boundary are each listed once,
 * and a cursor is opaque: malformed, tampered or borrowed from another list,
 * it is refused with `VALIDATION_FAILED` instead of silently restarting.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { testKinds } from "./fixtures.js"
import * as Ids from "../src/storage/Ids.js"
import { type ApiServer, apiLayer, errorCode, request, TestApi } from "./apiHarness.js"

/** `count` instants inside one millisecond, some of them equal (ties are broken by id), newest last. */
const microInstants = (count: number) =>
  Array.from({ length: count }, (_, i) => `2026-03-01T12:00:00.123${String(100 + Math.floor(i * 0.8)).padStart(3, "0")}Z`)

/** Every page of `path` (`limit` per page), following `nextCursor`; fails on a page that is not 200. */
const allPages = (api: ApiServer, path: string, limit: number) =>
  Effect.gen(function*() {
    const ids: Array<string> = []
    let cursor: string | undefined
    for (let page = 0; page < 100; page++) {
      const separator = path.includes("?") ? "&" : "?"
      const answer = yield* request(
        api,
        "GET",
        `${path}${separator}limit=${limit}${cursor === undefined ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
      )
      assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
      for (const item of answer.body.data) ids.push(item.id)
      cursor = answer.body.nextCursor
      if (cursor === undefined) return ids
    }
    return yield* Effect.die(new Error("more than 100 pages"))
  })

const assertEachOnce = (listed: ReadonlyArray<string>, expected: ReadonlyArray<string>) => {
  assert.strictEqual(new Set(listed).size, listed.length, "a row was listed twice")
  assert.deepStrictEqual([...listed].sort(), [...expected].sort())
}

/** Flips one character in the middle of a cursor. */
const tamper = (cursor: string) => {
  const at = Math.floor(cursor.length / 2)
  return cursor.slice(0, at) + (cursor[at] === "A" ? "B" : "A") + cursor.slice(at + 1)
}

const assertBadCursor = (api: ApiServer, path: string, cursor: string) =>
  Effect.gen(function*() {
    const separator = path.includes("?") ? "&" : "?"
    const answer = yield* request(api, "GET", `${path}${separator}cursor=${encodeURIComponent(cursor)}`)
    assert.strictEqual(answer.status, 400, `${cursor}: ${JSON.stringify(answer.body)}`)
    assert.strictEqual(errorCode(answer), "VALIDATION_FAILED")
    assert.deepStrictEqual(answer.body.error.details.issues[0].path, ["query", "cursor"])
  })

for (const kind of testKinds) {
  describe(`cursor paging (${kind})`, () => {
    layer(apiLayer(kind, {}, { scheduler: false }), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("GET /v1/posts lists posts created within one millisecond across page boundaries exactly once", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const sql = yield* SqlClient.SqlClient
          const instants = microInstants(25)
          const ids = instants.map(() => Ids.make("post"))
          for (const [i, at] of instants.entries()) {
            yield* sql`INSERT INTO posts (id, organization_id, status, content, created_at, updated_at)
              VALUES (${ids[i]!}, ${api.organizationId}, 'draft', ${JSON.stringify({ text: `p${i}` })}::jsonb, ${at}::timestamptz, ${at}::timestamptz)`
          }
          for (const limit of [1, 4, 10, 24]) {
            assertEachOnce(yield* allPages(api, "/v1/posts", limit), ids)
          }
          // Newest first, ties by id descending.
          const firstPage = yield* request(api, "GET", "/v1/posts?limit=5")
          const expectedOrder = ids.map((id, i) => ({ id, at: instants[i]! }))
            .sort((a, b) => a.at < b.at ? 1 : a.at > b.at ? -1 : a.id < b.id ? 1 : -1)
            .slice(0, 5)
            .map((p) => p.id)
          assert.deepStrictEqual(firstPage.body.data.map((p: any) => p.id), expectedOrder)
          // The creation instant keeps its microseconds in the cursor, not in the view (ISO milliseconds).
          assert.match(firstPage.body.data[0].createdAt, /^2026-03-01T12:00:00\.123Z$/)
        }))

      it.effect("GET /v1/webhooks/:id/deliveries pages deliveries created within one millisecond exactly once", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const sql = yield* SqlClient.SqlClient
          const hook = yield* request(api, "POST", "/v1/webhooks", {
            body: { url: "http://127.0.0.1:9/hook", secret: "0123456789abcdef", events: ["post.published"] }
          })
          assert.strictEqual(hook.status, 201)
          const instants = microInstants(23)
          const ids = instants.map(() => Ids.make("whd"))
          for (const [i, at] of instants.entries()) {
            // Delivered already: the dispatcher leaves them alone.
            yield* sql`INSERT INTO webhook_deliveries (id, webhook_id, organization_id, event, payload, status, attempts, created_at, delivered_at)
              VALUES (${ids[i]!}, ${hook.body.id}, ${api.organizationId}, 'post.published', '{}'::jsonb, 'delivered', 1,
                      ${at}::timestamptz, ${at}::timestamptz)`
          }
          const path = `/v1/webhooks/${hook.body.id}/deliveries`
          for (const limit of [1, 5, 22]) {
            assertEachOnce(yield* allPages(api, path, limit), ids)
          }
          // A cursor belongs to its list.
          const page = yield* request(api, "GET", `${path}?limit=2`)
          yield* assertBadCursor(api, "/v1/posts", page.body.nextCursor)
          yield* assertBadCursor(api, path, "garbage")
          yield* assertBadCursor(api, path, tamper(page.body.nextCursor))
        }))

      it.effect("a malformed, tampered or foreign cursor is VALIDATION_FAILED, never a restart from the top", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const sql = yield* SqlClient.SqlClient
          for (const at of microInstants(2)) {
            yield* sql`INSERT INTO posts (id, organization_id, status, content, created_at)
              VALUES (${Ids.make("post")}, ${api.organizationId}, 'draft', '{"text":"x"}'::jsonb, ${at}::timestamptz)`
          }
          const page = yield* request(api, "GET", "/v1/posts?limit=1")
          const cursor = page.body.nextCursor as string
          assert.isString(cursor)
          // The cursor is opaque: no instant or id in clear.
          assert.notInclude(cursor, "2026")
          assert.notInclude(cursor, "post_")
          for (const bad of ["garbage", "", "x".repeat(600), tamper(cursor), `${cursor}x`, Buffer.from("2026-03-01T12:00:00.123Z|post_1").toString("base64url")]) {
            yield* assertBadCursor(api, "/v1/posts", bad)
          }
        }))
    })
  })
}
