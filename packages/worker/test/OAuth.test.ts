/**
 * X through the API against FakeX: the OAuth 2.0 (PKCE) connect flow end to
 * end (start → the user approves → callback → account), credentials connect,
 * one post fanned out to X and Bluesky with each destination's own result, and
 * a partial failure retried for X alone.
 */
import { assert, describe, layer } from "@effect/vitest"
import { FakeX, Faults } from "@omnipost/platform-twitter/testing"
import { Effect, Layer } from "effect"
import { testKinds } from "./fixtures.js"
import { apiLayer, errorCode, request, TestApi, waitFor } from "./apiHarness.js"

const clientId = "omnipost-test-client"

const withFakeX = (kind: "pglite" | "postgres") =>
  Layer.unwrap(Effect.gen(function*() {
    const fakeX = yield* FakeX.make()
    fakeX.registerClient({ clientId })
    return apiLayer(kind, { platformBaseUrls: { x: fakeX.url } }, { env: { OMNIPOST_X_CLIENT_ID: clientId } }).pipe(
      Layer.merge(Layer.succeed(FakeX, fakeX))
    )
  }))

for (const kind of testKinds) {
  describe(`X over the API (${kind})`, () => {
    layer(withFakeX(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("OAuth: start, approve on the platform, callback connects the account; a state works once", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fakeX = yield* FakeX
          const started = yield* request(api, "POST", "/v1/accounts/oauth/x/start", { body: {} })
          assert.strictEqual(started.status, 200, JSON.stringify(started.body))
          const authorization = new URL(started.body.authorizationUrl)
          assert.strictEqual(authorization.searchParams.get("client_id"), clientId)
          assert.strictEqual(authorization.searchParams.get("state"), started.body.state)
          assert.strictEqual(
            authorization.searchParams.get("redirect_uri"),
            `${api.url}/v1/accounts/oauth/x/callback`
          )
          const approved = fakeX.approveAuthorization(started.body.authorizationUrl, "bob")
          const callback = yield* request(
            api,
            "GET",
            `/v1/accounts/oauth/x/callback?code=${encodeURIComponent(approved.code)}&state=${encodeURIComponent(approved.state)}`,
            { key: null }
          )
          assert.strictEqual(callback.status, 200, JSON.stringify(callback.body))
          assert.strictEqual(callback.body.platform, "x")
          assert.strictEqual(callback.body.username, "bob")
          const listed = yield* request(api, "GET", "/v1/accounts?platform=x")
          assert.isTrue(listed.body.some((a: any) => a.id === callback.body.id))
          assert.notInclude(JSON.stringify(listed.body), "accessToken")

          const replay = yield* request(
            api,
            "GET",
            `/v1/accounts/oauth/x/callback?code=${encodeURIComponent(approved.code)}&state=${encodeURIComponent(approved.state)}`,
            { key: null }
          )
          assert.strictEqual(replay.status, 400)
          assert.strictEqual(errorCode(replay), "VALIDATION_FAILED")
          const refused = yield* request(api, "GET", "/v1/accounts/oauth/x/callback?error=access_denied", { key: null })
          assert.strictEqual(refused.status, 400)
          assert.strictEqual(errorCode(refused), "INVALID_CREDENTIALS")
        }))

      it.effect("OAuth: a callback for an organization disabled since the start connects nothing (403 ORGANIZATION_DISABLED)", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fakeX = yield* FakeX
          const admin = { ...api, key: api.adminKey }
          const organization = (yield* request(admin, "POST", "/v1/admin/organizations", { body: { name: "Soon off" } })).body.id
          const key = (yield* request(admin, "POST", `/v1/admin/organizations/${organization}/keys`, { body: { name: "k" } })).body.key
          const tenant = { ...api, key: key as string, organizationId: organization as string }
          const started = yield* request(tenant, "POST", "/v1/accounts/oauth/x/start", { body: {} })
          assert.strictEqual(started.status, 200, JSON.stringify(started.body))
          const approved = fakeX.approveAuthorization(started.body.authorizationUrl, "dave")
          yield* request(admin, "POST", `/v1/admin/organizations/${organization}/disable`)
          const callback = yield* request(
            api,
            "GET",
            `/v1/accounts/oauth/x/callback?code=${encodeURIComponent(approved.code)}&state=${encodeURIComponent(approved.state)}`,
            { key: null }
          )
          assert.strictEqual(callback.status, 403, JSON.stringify(callback.body))
          assert.strictEqual(errorCode(callback), "ORGANIZATION_DISABLED")
          yield* request(admin, "POST", `/v1/admin/organizations/${organization}/enable`)
          assert.deepStrictEqual((yield* request(tenant, "GET", "/v1/accounts")).body, [])
        }))

      it.effect("one post to X and Bluesky: each destination publishes with its own URL", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fakeX = yield* FakeX
          const x = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "x", credentials: fakeX.issueOAuth2Token({ username: "carol" }) }
          })
          assert.strictEqual(x.status, 201, JSON.stringify(x.body))
          assert.strictEqual(x.body.username, "carol")
          const bluesky = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          const tooLongForX = yield* request(api, "POST", "/v1/posts/validate", {
            body: { content: { text: "y".repeat(290) }, destinations: [{ accountId: x.body.id }, { accountId: bluesky.body.id }] }
          })
          assert.isFalse(tooLongForX.body.valid)
          assert.deepStrictEqual(tooLongForX.body.issues.map((i: any) => i.platform), ["x"])

          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "Hello, both" },
              destinations: [{ accountId: x.body.id }, { accountId: bluesky.body.id }],
              platformOverrides: { x: { text: "Hello, X" } }
            }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const settled = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) =>
              ["published", "partially_failed", "failed"].includes(r.body.status) ? r.body : undefined),
            30_000,
            "both destinations"
          )
          assert.strictEqual(settled.status, "published", JSON.stringify(settled.destinations))
          const byPlatform = Object.fromEntries(settled.destinations.map((d: any) => [d.platform, d]))
          assert.match(byPlatform.x.url, /^https:\/\/x\.com\/carol\/status\//)
          assert.match(byPlatform.bluesky.url, /^https:\/\/bsky\.app\//)
          assert.isTrue(fakeX.liveTweets.some((t) => t.text === "Hello, X"))

          // X refuses once: the post is partially failed; a retry of X alone publishes it, Bluesky is not posted again.
          fakeX.inject("POST /2/tweets", Faults.status(403, { body: { title: "Forbidden", detail: "You are not permitted to perform this action.", type: "about:blank", status: 403 } }))
          const blueskyBefore = api.bluesky.posts().length
          const partial = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "Half and half" }, destinations: [{ accountId: x.body.id }, { accountId: bluesky.body.id }] }
          })
          const halfway = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${partial.body.id}`), (r) =>
              ["published", "partially_failed", "failed"].includes(r.body.status) ? r.body : undefined),
            30_000,
            "the partial outcome"
          )
          assert.strictEqual(halfway.status, "partially_failed", JSON.stringify(halfway.destinations))
          const failedX = halfway.destinations.find((d: any) => d.platform === "x")
          assert.strictEqual(failedX.status, "failed")
          assert.strictEqual(failedX.lastError.httpStatus, 403)
          const retried = yield* request(api, "POST", `/v1/posts/${partial.body.id}/retry`, { body: { platforms: ["x"] } })
          assert.strictEqual(retried.status, 200, JSON.stringify(retried.body))
          const done = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${partial.body.id}`), (r) =>
              r.body.status === "published" ? r.body : undefined),
            30_000,
            "the retry of X"
          )
          assert.strictEqual(done.destinations.find((d: any) => d.platform === "bluesky").attempts, 1)
          assert.strictEqual(api.bluesky.posts().length, blueskyBefore + 1)
        }))
    })
  })
}
