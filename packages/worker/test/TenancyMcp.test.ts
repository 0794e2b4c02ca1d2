/**
 * Tenancy through MCP (issue 18): two organizations; the second one's agent
 * (the MCP SDK client over Streamable HTTP with its key) calls every tool the
 * server lists with the first one's ids (its post, group and account, in
 * every argument that takes an id). Every call is refused with a not-found
 * code (or `INVALID_ACCOUNTS` for an account named in a body), no answer
 * holds the first organization's data, and the first organization's post,
 * group and accounts are unchanged afterwards. A tool added later without a
 * case here fails the test.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { Effect } from "effect"
import { apiLayer, connectBluesky, request, TestApi } from "./apiHarness.js"

const refusedCodes = ["POST_NOT_FOUND", "GROUP_NOT_FOUND", "ACCOUNT_NOT_FOUND", "INVALID_ACCOUNTS", "NOT_FOUND"]

describe("tenancy through MCP (pglite)", () => {
  layer(apiLayer("pglite", {}, { scheduler: false }), { timeout: 180_000, excludeTestServices: true })((it) => {
    it.effect("every tool with the other organization's ids: refused, no data, no change", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        // The first organization: an account, a scheduled post to it, a group of it.
        const accountId = yield* connectBluesky(api)
        const post = yield* request(api, "POST", "/v1/posts", {
          body: { content: { text: "first org's post" }, destinations: [{ accountId }], scheduledAt: "2031-01-01T10:00:00Z" }
        })
        assert.strictEqual(post.status, 201, JSON.stringify(post.body))
        const group = yield* request(api, "POST", "/v1/groups", { body: { name: "First's group", accountIds: [accountId] } })
        assert.strictEqual(group.status, 201, JSON.stringify(group.body))
        const postId = post.body.id as string
        const groupId = group.body.id as string
        const snapshot = Effect.gen(function*() {
          return JSON.stringify([
            (yield* request(api, "GET", `/v1/posts/${postId}`)).body,
            (yield* request(api, "GET", `/v1/groups/${groupId}`)).body,
            (yield* request(api, "GET", "/v1/accounts")).body
          ])
        })
        const before = yield* snapshot

        // The second organization, its key and its agent.
        const asAdmin = { ...api, key: api.adminKey }
        const other = yield* request(asAdmin, "POST", "/v1/admin/organizations", { body: { name: "Other" } })
        const otherKey = yield* request(asAdmin, "POST", `/v1/admin/organizations/${other.body.id}/keys`, { body: { name: "other agent" } })
        assert.strictEqual(otherKey.status, 201, JSON.stringify(otherKey.body))
        const client = new Client({ name: "tenancy-test", version: "1.0.0" })
        yield* Effect.acquireRelease(
          Effect.promise(() =>
            client.connect(new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), {
              requestInit: { headers: { authorization: `Bearer ${otherKey.body.key}` } }
            }))
          ),
          () => Effect.promise(() => client.close())
        )
        const ownGroup = yield* request({ ...api, key: otherKey.body.key }, "POST", "/v1/groups", { body: { name: "Other's group" } })
        assert.strictEqual(ownGroup.status, 201, JSON.stringify(ownGroup.body))

        const content = { text: "from the other organization" }
        /** Each tool's calls with the first organization's ids; `[]` for tools that take no id (checked for no data below). */
        const cases: Record<string, ReadonlyArray<Record<string, unknown>>> = {
          get_post: [{ id: postId }],
          cancel_post: [{ id: postId }],
          publish_now: [{ id: postId }],
          retry_post: [{ id: postId }],
          create_post: [{ content, destinations: [{ accountId }] }, { content, destinations: [{ groupId }] }],
          validate_post: [{ content, destinations: [{ accountId }] }, { content, destinations: [{ groupId }] }],
          create_group: [{ name: "Stolen", accountIds: [accountId] }],
          add_group_accounts: [{ id: groupId, accountIds: [accountId] }, { id: ownGroup.body.id, accountIds: [accountId] }],
          remove_group_accounts: [{ id: groupId, accountIds: [accountId] }],
          list_posts: [],
          list_accounts: [],
          list_groups: [],
          upload_media_from_url: []
        }
        const tools = (yield* Effect.promise(() => client.listTools())).tools.map((tool) => tool.name)
        assert.deepStrictEqual(tools.filter((name) => !(name in cases)), [], "a tool without a tenancy case")
        const foreign = [postId, groupId, accountId, "first org's post", "First's group"]
        let calls = 0
        for (const name of tools) {
          for (const args of cases[name]!) {
            const result = yield* Effect.promise(() => client.callTool({ name, arguments: args }))
            const text = (result.content as Array<{ type: string; text?: string }>).find((part) => part.type === "text")?.text ?? ""
            calls++
            assert.isTrue(result.isError === true, `${name} ${JSON.stringify(args)} succeeded: ${text}`)
            const body = JSON.parse(text)
            assert.include(refusedCodes, body.error?.code, `${name}: ${text}`)
            // The refusal may repeat the id it was given, never anything else of the first organization.
            assert.notInclude(text, "first org's post", name)
            assert.notInclude(text, "First's group", name)
          }
        }
        // The listing tools see none of the first organization's data.
        for (const name of ["list_posts", "list_accounts", "list_groups"]) {
          const result = yield* Effect.promise(() => client.callTool({ name, arguments: {} }))
          const text = (result.content as Array<{ type: string; text?: string }>).find((part) => part.type === "text")?.text ?? ""
          assert.isFalse(result.isError === true, `${name}: ${text}`)
          for (const value of foreign) assert.notInclude(text, value, name)
        }
        assert.strictEqual(yield* snapshot, before, "the first organization's post, group or accounts changed")
        console.log(`tenancy (MCP): ${calls} calls of ${tools.length} tools with the other organization's ids, all refused`)
      }))
  })
})
