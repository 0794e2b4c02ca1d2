/**
 * The server encodes success bodies by their schema's shape without running
 * its checks again (`OmnipostApi`'s `HttpApi.SuccessParseOptions`): it built them from what it
 * validated on the way in. This suite holds it to that: the answers of the
 * endpoints that carry posts, accounts and keys (a thread, a first comment,
 * per-platform overrides, a schedule with a time zone, a page of posts) are
 * decoded here with the endpoint's own success schema and every check on.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { OmnipostApi } from "../src/api/Api.js"
import { testKinds } from "./fixtures.js"
import { apiLayer, connectBluesky, request, TestApi } from "./apiHarness.js"

/** The success schema of `group`.`endpoint` for `status`. */
const successSchema = (group: string, endpoint: string, status: number): Schema.Codec<unknown, unknown> => {
  const found = (OmnipostApi as any).groups[group]?.endpoints[endpoint]
  assert.isDefined(found, `${group}.${endpoint}`)
  const schemas = [...(found.success as ReadonlySet<Schema.Top>)]
  const withStatus = schemas.find((schema) => (schema.ast.annotations as any)?.httpApiStatus === status) ?? schemas[0]!
  return withStatus as Schema.Codec<unknown, unknown>
}

/** Decodes an answer's body with every check on; the failure names the endpoint and the issue. */
const checked = (group: string, endpoint: string, answer: { readonly status: number; readonly body: unknown }) =>
  Effect.gen(function*() {
    assert.isBelow(answer.status, 300, `${group}.${endpoint}: ${answer.status} ${JSON.stringify(answer.body)}`)
    const exit = yield* Effect.exit(Schema.decodeUnknownEffect(successSchema(group, endpoint, answer.status))(answer.body, { errors: "all" }))
    if (Exit.isFailure(exit)) assert.fail(`${group}.${endpoint} does not pass its schema's checks: ${String(exit.cause)}`)
  })

for (const kind of testKinds) {
  describe(`success bodies pass every check of their schema (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("posts, a page of them, their results, accounts and keys", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: {
                text: "The first part, with a link https://example.com and #tags",
                link: "https://example.com/a",
                thread: [{ text: "second part" }, { text: "third part ✨" }],
                comment: "a first comment"
              },
              platformOverrides: { bluesky: { text: "Bluesky's own text", comment: "" } },
              destinations: [{ accountId }],
              scheduledAt: "2031-07-01T09:30",
              timezone: "Europe/London"
            }
          })
          yield* checked("posts", "create", created)
          const draft = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "a draft" }, destinations: [{ accountId }], status: "draft" }
          })
          yield* checked("posts", "create", draft)
          yield* checked("posts", "get", yield* request(api, "GET", `/v1/posts/${created.body.id}`))
          yield* checked("posts", "results", yield* request(api, "GET", `/v1/posts/${created.body.id}/results`))
          yield* checked("posts", "update", yield* request(api, "PATCH", `/v1/posts/${draft.body.id}`, { body: { content: { text: "edited" } } }))
          const page = yield* request(api, "GET", "/v1/posts?limit=50")
          assert.isAtLeast(page.body.data.length, 2)
          yield* checked("posts", "list", page)
          yield* checked("posts", "cancel", yield* request(api, "POST", `/v1/posts/${draft.body.id}/cancel`))
          yield* checked("accounts", "list", yield* request(api, "GET", "/v1/accounts"))
          yield* checked("accounts", "get", yield* request(api, "GET", `/v1/accounts/${accountId}`))
          yield* checked("keys", "create", yield* request(api, "POST", "/v1/keys", { body: { name: "checked", rateLimitPerMinute: 50 } }))
          yield* checked("keys", "list", yield* request(api, "GET", "/v1/keys"))
        }))
    })
  })
}
