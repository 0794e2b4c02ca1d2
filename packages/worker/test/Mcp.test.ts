/**
 * The MCP server, driven by the official MCP TypeScript SDK's client: over
 * Streamable HTTP at `/mcp` (authenticated with an API key) and over stdio
 * (`omnipost mcp` as a child process, acting through the same server), end to
 * end against the Bluesky fake: tools listed with strict schemas, the rules
 * read as resources, media fetched from a URL, a group of two accounts made
 * with the group tools, a scheduled post with an image to the group published
 * by the scheduler and its results read back, and
 * refusals carrying the API's codes.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { createServer } from "node:http"
import { fileURLToPath } from "node:url"
import { testKinds } from "./fixtures.js"
import { apiLayer, connectBluesky, request, TestApi, type ApiServer } from "./apiHarness.js"

const toolNames = [
  "add_group_accounts", "cancel_post", "create_group", "create_post", "get_post", "list_accounts", "list_groups", "list_posts", "publish_now",
  "remove_group_accounts", "retry_post", "upload_media_from_url", "validate_post"
]

/** A media host on 127.0.0.1 serving one PNG at /logo.png (the API harness allows private URLs). */
const mediaHost = Effect.acquireRelease(
  Effect.promise(() =>
    new Promise<{ url: string; close: () => Promise<void>; bytes: Uint8Array }>((resolve) => {
      const bytes = Samples.png(5_000, 3)
      const server = createServer((request, response) => {
        if (request.url === "/logo.png") {
          response.writeHead(200, { "content-type": "image/png", "content-length": String(bytes.byteLength) })
          response.end(bytes)
        } else {
          response.writeHead(404).end()
        }
      })
      server.listen(0, "127.0.0.1", () => {
        const address = server.address()
        const port = typeof address === "object" && address !== null ? address.port : 0
        resolve({ url: `http://127.0.0.1:${port}`, bytes, close: () => new Promise((done) => server.close(() => done())) })
      })
    })
  ),
  (host) => Effect.promise(host.close)
)

const connect = (transport: Transport) =>
  Effect.acquireRelease(
    Effect.promise(async () => {
      const client = new Client({ name: "omnipost-test", version: "1.0.0" })
      await client.connect(transport)
      return client
    }),
    (client) => Effect.promise(() => client.close())
  )

const httpTransport = (api: ApiServer, key: string | undefined = api.key) =>
  new StreamableHTTPClientTransport(new URL(`${api.url}/mcp`), {
    requestInit: { headers: key === undefined ? {} : { authorization: `Bearer ${key}` } }
  })

const stdioTransport = (api: ApiServer) =>
  new StdioClientTransport({
    command: process.execPath,
    args: ["--import", "tsx", "src/bin.ts", "mcp", "--url", api.url],
    // The worker package, whatever directory the tests run from (`npm test` runs them from the root).
    cwd: fileURLToPath(new URL("..", import.meta.url)),
    env: { ...process.env as Record<string, string>, OMNIPOST_API_KEY: api.key },
    stderr: "pipe"
  })

/** A tool call's JSON answer: the structured content of a success, the API's error body of a refusal. */
const callTool = (client: Client, name: string, args: Record<string, unknown>) =>
  Effect.promise(async () => {
    const result = await client.callTool({ name, arguments: args })
    const text = (result.content as Array<{ type: string; text?: string }>).find((part) => part.type === "text")?.text
    return { isError: result.isError === true, body: text === undefined ? undefined : JSON.parse(text) as any }
  })

/** The full journey an agent makes, through one transport. */
const journey = (client: Client, api: ApiServer, media: { url: string; bytes: Uint8Array }, name: string) =>
  Effect.gen(function*() {
    const tools = yield* Effect.promise(() => client.listTools())
    assert.deepStrictEqual(tools.tools.map((tool) => tool.name).sort(), toolNames)
    const create = tools.tools.find((tool) => tool.name === "create_post")!
    assert.strictEqual(create.inputSchema.additionalProperties, false, "unknown fields are refused, not dropped")
    assert.includeMembers(Object.keys(create.inputSchema.properties ?? {}), ["content", "destinations", "scheduledAt"])

    // The rules as resources: an agent reads Bluesky's limit before writing.
    const resources = yield* Effect.promise(() => client.listResources())
    assert.includeMembers(resources.resources.map((resource) => resource.uri), ["omnipost://rules", "omnipost://rules/bluesky", "omnipost://rules/x"])
    const rules = yield* Effect.promise(() => client.readResource({ uri: "omnipost://rules/bluesky" }))
    const blueskyRules = JSON.parse((rules.contents[0] as { text: string }).text)
    assert.strictEqual(blueskyRules.displayName, "Bluesky")
    assert.include(JSON.stringify(blueskyRules), "\"max\":300", "the 300-grapheme limit")

    const first = yield* connectBluesky(api)
    const handle = `${name}.second.test`
    api.bluesky.createAccount({ handle, password: "second-app-password" })
    const connected = yield* request(api, "POST", "/v1/accounts", { body: { platform: "bluesky", credentials: api.bluesky.credentials(handle) } })
    assert.strictEqual(connected.status, 201, JSON.stringify(connected.body))
    const second = connected.body.id as string
    const accounts = yield* callTool(client, "list_accounts", { platform: "bluesky" })
    assert.isFalse(accounts.isError, JSON.stringify(accounts.body))
    assert.includeMembers(accounts.body.accounts.map((account: { id: string }) => account.id), [first, second])

    const uploaded = yield* callTool(client, "upload_media_from_url", { url: `${media.url}/logo.png` })
    assert.isFalse(uploaded.isError, JSON.stringify(uploaded.body))
    assert.strictEqual(uploaded.body.mimeType, "image/png")
    assert.strictEqual(uploaded.body.sizeBytes, media.bytes.byteLength)
    assert.strictEqual(uploaded.body.fileName, "logo.png")

    // A typo'd field is refused, never dropped (it would publish at once).
    const typo = yield* Effect.promise(() =>
      client.callTool({
        name: "create_post",
        arguments: { content: { text: "hi" }, destinations: [{ accountId: first }], scheduled_at: "2099-01-01T00:00:00Z" }
      }).then((result) => ({ refused: result.isError === true, text: JSON.stringify(result.content) }), (error) => ({ refused: true, text: String(error) }))
    )
    assert.isTrue(typo.refused, typo.text)
    assert.include(typo.text, "scheduled_at")

    // A post the rules refuse: the API's code, the platform's reason.
    const tooLong = yield* callTool(client, "validate_post", { content: { text: "x".repeat(301) }, destinations: [{ accountId: first }] })
    assert.isFalse(tooLong.isError)
    assert.isFalse(tooLong.body.valid)

    // The two accounts as a group, built through the tools (issue 17's "done means": a post to a group's accounts).
    const group = yield* callTool(client, "create_group", { name: `Agents ${name}`, accountIds: [first] })
    assert.isFalse(group.isError, JSON.stringify(group.body))
    const grown = yield* callTool(client, "add_group_accounts", { id: group.body.id, accountIds: [second] })
    assert.isFalse(grown.isError, JSON.stringify(grown.body))
    assert.deepStrictEqual(grown.body.accounts.map((account: { id: string }) => account.id), [first, second])
    const groups = yield* callTool(client, "list_groups", {})
    assert.include(groups.body.data.map((item: { id: string }) => item.id), group.body.id)
    const taken = yield* callTool(client, "create_group", { name: `AGENTS ${name}` })
    assert.isTrue(taken.isError)
    assert.strictEqual(taken.body.error.code, "GROUP_NAME_TAKEN")
    const scratch = yield* callTool(client, "create_group", { name: `Scratch ${name}`, accountIds: [first] })
    const emptied = yield* callTool(client, "remove_group_accounts", { id: scratch.body.id, accountIds: [first] })
    assert.deepStrictEqual(emptied.body.accounts, [])
    const toEmpty = yield* callTool(client, "create_post", { content: { text: "nowhere" }, destinations: [{ groupId: scratch.body.id }] })
    assert.isTrue(toEmpty.isError)
    assert.strictEqual(toEmpty.body.error.code, "EMPTY_GROUP")
    const toUnknown = yield* callTool(client, "create_post", { content: { text: "nowhere" }, destinations: [{ groupId: "grp_missing" }] })
    assert.isTrue(toUnknown.isError)
    assert.strictEqual(toUnknown.body.error.code, "GROUP_NOT_FOUND")

    const scheduledAt = new Date(Date.now() + 1_500).toISOString()
    const created = yield* callTool(client, "create_post", {
      content: { text: "Scheduled by an agent", media: [{ mediaId: uploaded.body.id, altText: "the logo" }] },
      destinations: [{ groupId: group.body.id }],
      scheduledAt
    })
    assert.isFalse(created.isError, JSON.stringify(created.body))
    assert.strictEqual(created.body.status, "scheduled")
    assert.deepStrictEqual(created.body.destinations.map((d: { accountId: string }) => d.accountId), [first, second], "the group's accounts")

    let post: any
    for (let attempt = 0; attempt < 600; attempt++) {
      post = (yield* callTool(client, "get_post", { id: created.body.id })).body
      if (post.status === "published" || post.status === "failed" || post.status === "partially_failed") break
      yield* Effect.promise(() => new Promise((done) => setTimeout(done, 100)))
    }
    assert.strictEqual(post.status, "published", JSON.stringify(post.destinations))
    assert.strictEqual(post.destinations.length, 2)
    for (const destination of post.destinations) {
      assert.strictEqual(destination.status, "published")
      assert.match(destination.platformPostId, /^at:\/\//)
    }

    const listed = yield* callTool(client, "list_posts", { status: "published", limit: 10 })
    assert.include(listed.body.data.map((item: { id: string }) => item.id), created.body.id)

    const missing = yield* callTool(client, "get_post", { id: "post_missing" })
    assert.isTrue(missing.isError)
    assert.strictEqual(missing.body.error.code, "POST_NOT_FOUND")
    const cancelPublished = yield* callTool(client, "cancel_post", { id: created.body.id })
    assert.isTrue(cancelPublished.isError)
    assert.strictEqual(cancelPublished.body.error.code, "INVALID_STATUS_TRANSITION")
  })

for (const kind of testKinds) {
  describe(`MCP (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("/mcp without a valid key answers 401 in the API's error shape", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          for (const authorization of [undefined, "Bearer omp_wrong"]) {
            const answer = yield* Effect.promise(() =>
              fetch(`${api.url}/mcp`, {
                method: "POST",
                headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...(authorization ? { authorization } : {}) },
                body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })
              }).then(async (response) => ({ status: response.status, body: await response.json() as any }))
            )
            assert.strictEqual(answer.status, 401)
            assert.strictEqual(answer.body.error.code, "INVALID_API_KEY")
          }
        }))

      it.effect("over Streamable HTTP: an agent uploads an image by URL, groups two accounts and schedules the image to the group, then reads the results", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const media = yield* mediaHost
          const client = yield* connect(httpTransport(api))
          yield* journey(client, api, media, "http")
        }).pipe(Effect.scoped))

      it.effect("over stdio (`omnipost mcp`): the same journey through a running server", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const media = yield* mediaHost
          const client = yield* connect(stdioTransport(api))
          yield* journey(client, api, media, "stdio")
        }).pipe(Effect.scoped))
    })
  })
}
