/**
 * Secrets (issue 18): a full run of the worker (API with request logging on,
 * scheduler, webhook dispatcher) under a logger that captures every line at
 * every level, Debug included: X connected by OAuth (a confidential client)
 * against FakeX, Bluesky by app password, API keys created, webhooks
 * delivered and failing, posts published to both, an access token expired
 * (the scheduler refreshes and the refresh token rotates), a refresh token
 * revoked (the refresh fails), requests with a wrong key. Then:
 *
 * - no captured line (message, annotations, cause) holds any secret the run
 *   handled: access and refresh tokens (current and rotated-out, as FakeX saw
 *   them), the app password, API keys (the admin's, the first, a created one,
 *   a wrong one), webhook secrets, the OAuth client secret;
 * - the raw rows of `accounts`, `webhooks` and `api_keys` hold none either:
 *   credentials and webhook secrets are sealed, API keys stored as hashes.
 */
import { assert, describe, layer } from "@effect/vitest"
import { FakeX } from "@omnipost/platform-twitter/testing"
import { Effect, Layer, Logger, References } from "effect"
import { SqlClient } from "effect/sql"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { AccountStore } from "../src/storage/AccountStore.js"
import { hashKey } from "../src/storage/ApiKeys.js"
import { apiLayer, connectBluesky, request, TestApi, waitFor } from "./apiHarness.js"

const clientId = "omnipost-secrets-client"
const clientSecret = "cs_9f8e7d6c5b4a39281706f5e4d3c2b1a0"

/** Every line, as JSON (message, level, annotations, spans, cause). */
const lines: Array<string> = []
const capture = Logger.map(Logger.formatJson, (line) => {
  lines.push(line)
})

/** Webhook receivers: one answers 200, one 500 (its failures are logged). */
const received: Array<string> = []
const receiver = createServer((request, response) => {
  request.resume()
  received.push(request.url ?? "")
  response.writeHead(request.url === "/fail" ? 500 : 200).end("nope")
})
const receiverPort = await new Promise<number>((resolve) => receiver.listen(0, "127.0.0.1", () => resolve((receiver.address() as AddressInfo).port)))

const withFakes = Layer.unwrap(Effect.gen(function*() {
  const fakeX = yield* FakeX.make()
  fakeX.registerClient({ clientId, clientSecret })
  return apiLayer("pglite", { platformBaseUrls: { x: fakeX.url }, logRequests: true }, {
    env: { OMNIPOST_X_CLIENT_ID: clientId, OMNIPOST_X_CLIENT_SECRET: clientSecret }
  }).pipe(Layer.merge(Layer.succeed(FakeX, fakeX)))
})).pipe(
  Layer.provide(Logger.layer([capture])),
  Layer.provide(Layer.succeed(References.MinimumLogLevel, "All"))
)

/** Every string of at least 8 characters in a value (the credentials' tokens, passwords, secrets). */
const secretStrings = (value: unknown): Array<string> =>
  typeof value === "string" ? (value.length >= 8 ? [value] : [])
  : Array.isArray(value) ? value.flatMap(secretStrings)
  : value !== null && typeof value === "object" ? Object.values(value).flatMap(secretStrings)
  : []

describe("secrets never in logs nor in raw rows (pglite)", () => {
  layer(withFakes, { timeout: 180_000, excludeTestServices: true })((it) => {
    it.effect("a full run: OAuth, refresh and rotation, publishing, webhooks, keys, errors", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const fakeX = yield* FakeX
        const accounts = yield* AccountStore
        const sql = yield* SqlClient.SqlClient
        const secrets = new Set<string>([clientSecret, api.key, api.adminKey])

        // X by OAuth (confidential client), Bluesky by app password.
        const started = yield* request(api, "POST", "/v1/accounts/oauth/x/start", { body: {} })
        assert.strictEqual(started.status, 200, JSON.stringify(started.body))
        const approved = fakeX.approveAuthorization(started.body.authorizationUrl, "alice")
        const callback = yield* request(api, "GET", `/v1/accounts/oauth/x/callback?code=${encodeURIComponent(approved.code)}&state=${encodeURIComponent(approved.state)}`, { key: null })
        assert.strictEqual(callback.status, 200, JSON.stringify(callback.body))
        const xId = callback.body.id as string
        const blueskyId = yield* connectBluesky(api)
        for (const secret of secretStrings(api.bluesky.credentials())) if (!secret.startsWith("http")) secrets.add(secret)

        // Keys: one created, one wrong; webhooks: one delivered, one failing.
        const created = yield* request(api, "POST", "/v1/keys", { body: { name: "ci" } })
        assert.strictEqual(created.status, 201, JSON.stringify(created.body))
        secrets.add(created.body.key)
        const wrongKey = `${String(created.body.key).slice(0, 12)}${"0".repeat(32)}`
        secrets.add(wrongKey)
        assert.strictEqual((yield* request(api, "GET", "/v1/posts", { key: wrongKey })).status, 401)
        assert.strictEqual((yield* request(api, "GET", "/v1/posts", { headers: { "x-api-key": wrongKey }, key: null })).status, 401)
        for (const [path, secret] of [["/ok", "whsec_0123456789abcdef0123"], ["/fail", "whsec_fedcba9876543210fedc"]] as const) {
          secrets.add(secret)
          const hook = yield* request(api, "POST", "/v1/webhooks", {
            body: { url: `http://127.0.0.1:${receiverPort}${path}`, secret, events: ["post.published", "post.failed"] }
          })
          assert.strictEqual(hook.status, 201, JSON.stringify(hook.body))
        }

        const publish = (text: string) =>
          Effect.gen(function*() {
            const post = yield* request(api, "POST", "/v1/posts", { body: { content: { text }, destinations: [{ accountId: xId }, { accountId: blueskyId }] } })
            assert.strictEqual(post.status, 201, JSON.stringify(post.body))
            return yield* waitFor(
              Effect.map(request(api, "GET", `/v1/posts/${post.body.id}`), (r) => ["published", "failed", "partially_published"].includes(r.body.status) ? r.body : undefined),
              30_000,
              "the post settled"
            )
          })
        const first = yield* publish("first, with fresh tokens")
        assert.strictEqual(first.status, "published", JSON.stringify(first.destinations))

        // The access token expires: the scheduler refreshes it (the refresh token rotates) and publishes.
        const before = (yield* accounts.credentials(xId)) as { accessToken: string; refreshToken: string }
        fakeX.expireAccessToken(before.accessToken)
        const second = yield* publish("second, after a refresh")
        assert.strictEqual(second.status, "published", JSON.stringify(second.destinations))
        const after = (yield* accounts.credentials(xId)) as { accessToken: string; refreshToken: string }
        assert.notStrictEqual(after.refreshToken, before.refreshToken)

        // A revoked refresh token: the refresh fails (and says so), without the token.
        fakeX.revokeRefreshToken(after.refreshToken)
        const refused = yield* request(api, "POST", `/v1/accounts/${xId}/refresh`, { body: {} })
        assert.isAtLeast(refused.status, 400, JSON.stringify(refused.body))
        yield* waitFor(Effect.sync(() => received.includes("/ok") && received.includes("/fail") ? true : undefined), 30_000, "webhook deliveries")

        // Every token the run handled: the stored credentials, and every Bearer token FakeX was sent.
        for (const id of [xId, blueskyId]) for (const secret of secretStrings(yield* accounts.credentials(id))) secrets.add(secret)
        for (const secret of [...secretStrings(before), ...secretStrings(after)]) secrets.add(secret)
        for (const logged of fakeX.requests) {
          const bearer = /^Bearer (.+)$/.exec(String(logged.headers.authorization ?? ""))?.[1]
          if (bearer !== undefined) secrets.add(bearer)
        }
        for (const secret of [...secrets]) if (secret.length < 8 || secret.startsWith("did:") || /^[\w.-]+\.(test|social)$/.test(secret)) secrets.delete(secret)
        assert.isAtLeast(secrets.size, 12, [...secrets].join(", "))

        // The logger did capture the run, at every level (the request log is Info; the rest as it comes).
        assert.isAtLeast(lines.length, 20)
        const leaks = lines.flatMap((line) => [...secrets].filter((secret) => line.includes(secret)).map((secret) => `${secret.slice(0, 6)}…: ${line.slice(0, 300)}`))
        assert.deepStrictEqual(leaks, [], `secrets in ${leaks.length} log lines`)

        // Raw rows: sealed credentials and webhook secrets, hashed keys.
        const rows = JSON.stringify([
          ...yield* sql`SELECT * FROM accounts`,
          ...yield* sql`SELECT * FROM webhooks`,
          ...yield* sql`SELECT * FROM api_keys`,
          ...yield* sql`SELECT * FROM webhook_deliveries`
        ], (_, value) => typeof value === "bigint" ? String(value) : value)
        for (const secret of secrets) assert.notInclude(rows, secret, `a raw row holds ${secret.slice(0, 6)}…`)
        assert.include(rows, hashKey(created.body.key))
        if (process.env.SECRETS_DEBUG) console.log(lines.map((line) => line.slice(0, 160)).join("\n"))
        console.log(`secrets: ${lines.length} log lines captured, ${secrets.size} secret values, none in a line or a raw row`)
      }))
  })
})
