/**
 * OAuth over the API for a platform the worker knows only as a plugin: start
 * (PKCE challenge in the URL), the callback's code exchange (with the flow's
 * verifier), the account connected; a plugin whose config does not enable
 * OAuth has no flow; an expired token met while publishing is refreshed
 * through the plugin's provider and saved (the refresh token kept), and
 * `POST /v1/accounts/:id/refresh` refreshes through it too.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Plugin, PublishError } from "@omnipost/core"
import { Config, Effect, Layer, Option, Schema } from "effect"
import { createHash, randomUUID } from "node:crypto"
import { testKinds } from "./fixtures.js"
import * as FakePublisher from "../src/testing/FakePublisher.js"
import { apiLayer, errorCode, request, TestApi, waitFor } from "./apiHarness.js"

/** The "platform": issued codes and tokens, in memory. */
const platform = {
  codes: new Map<string, { readonly challenge: string; readonly redirectUri: string; readonly user: string }>(),
  tokens: new Map<string, { readonly user: string; expired: boolean }>(),
  refreshTokens: new Map<string, string>(),
  refreshes: 0,
  issue(user: string) {
    const accessToken = `at-${randomUUID()}`
    this.tokens.set(accessToken, { user, expired: false })
    return accessToken
  }
}

const Credentials = Schema.Struct({ accessToken: Schema.String, refreshToken: Schema.optional(Schema.String) })
type AcmeCredentials = typeof Credentials.Type

const counting = FakePublisher.counting({ platform: "acme" })
counting.behaviour = (request) => {
  const token = platform.tokens.get((request.credentials as AcmeCredentials).accessToken)
  return token === undefined || token.expired
    ? Effect.fail(new PublishError.AuthFailed({ platform: "acme", reason: token ? "expired" : "invalid", message: "token expired" }))
    : Effect.succeed(FakePublisher.success(request))
}

const acme = Plugin.definePlugin({
  id: "acme",
  displayName: "Acme",
  config: Config.all({ clientId: Config.option(Config.String("OMNIPOST_ACME_CLIENT_ID")) }),
  make: () =>
    Effect.succeed({
      ...counting.publisher,
      credentialsSchema: Credentials,
      verifyCredentials: (credentials: AcmeCredentials) => {
        const token = platform.tokens.get(credentials.accessToken)
        return token === undefined
          ? Effect.fail(new PublishError.AuthFailed({ platform: "acme", reason: "invalid", message: "unknown token" }))
          : Effect.succeed({ accountId: `id-${token.user}`, username: token.user })
      }
    }),
  oauth: (config) =>
    Effect.succeed(
      Option.isNone(config.clientId) ? undefined : {
        scopes: ["post", "offline"],
        pkce: true,
        authorizationUrl: ({ codeChallenge, redirectUri, scopes, state }) =>
          Effect.succeed(
            `https://acme.example/authorize?${new URLSearchParams({
              client_id: Option.getOrThrow(config.clientId),
              redirect_uri: redirectUri,
              scope: scopes.join(" "),
              state,
              code_challenge: codeChallenge ?? "",
              code_challenge_method: "S256"
            })}`
          ),
        exchangeCode: ({ code, codeVerifier, redirectUri }): Effect.Effect<AcmeCredentials, PublishError.PublishError> => {
          const issued = platform.codes.get(code)
          platform.codes.delete(code)
          const verified = issued !== undefined && issued.redirectUri === redirectUri &&
            createHash("sha256").update(codeVerifier ?? "").digest("base64url") === issued.challenge
          if (!verified) {
            return Effect.fail(new PublishError.AuthFailed({ platform: "acme", reason: "invalid", message: "invalid_grant" }))
          }
          const refreshToken = `rt-${randomUUID()}`
          const accessToken = platform.issue(issued.user)
          platform.refreshTokens.set(refreshToken, issued.user)
          return Effect.succeed({ accessToken, refreshToken })
        },
        // The answer carries no refresh token: the stored one must be kept.
        refresh: (credentials: AcmeCredentials) => {
          const user = platform.refreshTokens.get(credentials.refreshToken ?? "")
          platform.refreshes++
          return user === undefined
            ? Effect.fail(new PublishError.AuthFailed({ platform: "acme", reason: "revoked", message: "refresh token revoked" }))
            : Effect.succeed({ accessToken: platform.issue(user) })
        }
      }
    )
})

/** What the user's browser does: approve as `user` and come back to the redirect URI with the code. */
const approve = (authorizationUrl: string, user: string) => {
  const url = new URL(authorizationUrl)
  const code = `code-${randomUUID()}`
  platform.codes.set(code, {
    challenge: url.searchParams.get("code_challenge")!,
    redirectUri: url.searchParams.get("redirect_uri")!,
    user
  })
  const callback = new URL(url.searchParams.get("redirect_uri")!)
  return `${callback.pathname}?code=${encodeURIComponent(code)}&state=${encodeURIComponent(url.searchParams.get("state")!)}`
}

for (const kind of testKinds) {
  describe(`OAuth through a plugin (${kind})`, () => {
    const server = apiLayer(kind, {}, { plugins: [acme], env: { OMNIPOST_ACME_CLIENT_ID: "acme-client" } })
    layer(Layer.fresh(server), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("connects an account, refreshes an expired token while publishing and on demand", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const started = yield* request(api, "POST", "/v1/accounts/oauth/acme/start", { body: {} })
          assert.strictEqual(started.status, 200, JSON.stringify(started.body))
          const url = new URL(started.body.authorizationUrl)
          assert.strictEqual(url.searchParams.get("client_id"), "acme-client")
          assert.strictEqual(url.searchParams.get("scope"), "post offline")
          assert.match(url.searchParams.get("code_challenge")!, /^[A-Za-z0-9_-]{43}$/)
          assert.strictEqual(url.searchParams.get("redirect_uri"), `${api.url}/v1/accounts/oauth/acme/callback`)

          // A code whose verifier does not match (another flow's state) is refused.
          const other = yield* request(api, "POST", "/v1/accounts/oauth/acme/start", { body: {} })
          const wrongFlow = approve(started.body.authorizationUrl, "mallory").replace(
            `state=${encodeURIComponent(started.body.state)}`,
            `state=${encodeURIComponent(other.body.state)}`
          )
          const refused = yield* request(api, "GET", wrongFlow, { key: null })
          assert.strictEqual(refused.status, 400, JSON.stringify(refused.body))
          assert.strictEqual(errorCode(refused), "INVALID_CREDENTIALS")
          assert.include(refused.body.error.message, "the code exchange")

          const again = yield* request(api, "POST", "/v1/accounts/oauth/acme/start", { body: {} })
          const callback = yield* request(api, "GET", approve(again.body.authorizationUrl, "alice"), { key: null })
          assert.strictEqual(callback.status, 200, JSON.stringify(callback.body))
          assert.strictEqual(callback.body.platform, "acme")
          assert.strictEqual(callback.body.username, "alice")
          const accountId = callback.body.id

          // The token expires: the scheduler's publish refreshes it through the plugin and publishes.
          // (`platform` is shared by the PGlite and PostgreSQL runs of this file: count from here.)
          const refreshesBefore = platform.refreshes
          for (const token of platform.tokens.values()) token.expired = true
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "Hello, Acme" }, destinations: [{ accountId }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const settled = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) =>
              ["published", "failed"].includes(r.body.status) ? r.body : undefined),
            30_000,
            "the post"
          )
          assert.strictEqual(settled.status, "published", JSON.stringify(settled.destinations))
          assert.strictEqual(platform.refreshes - refreshesBefore, 1)

          // The saved credentials kept the refresh token: an on-demand refresh works from them.
          const refreshed = yield* request(api, "POST", `/v1/accounts/${accountId}/refresh`)
          assert.strictEqual(refreshed.status, 200, JSON.stringify(refreshed.body))
          assert.strictEqual(refreshed.body.status, "active")
          assert.strictEqual(platform.refreshes - refreshesBefore, 2)
        }))

      it.effect("a platform without an OAuth provider has no flow; the list names those that do", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const answer = yield* request(api, "POST", "/v1/accounts/oauth/bluesky/start", { body: {} })
          assert.strictEqual(answer.status, 400)
          assert.strictEqual(errorCode(answer), "UNKNOWN_PLATFORM")
          assert.deepStrictEqual(answer.body.error.details.oauthPlatforms, ["acme"])
        }))
    })
  })
}
