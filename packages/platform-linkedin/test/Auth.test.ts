import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Plugin as CorePlugin } from "@omnipost/core"
import { Auth, plugin } from "@omnipost/platform-linkedin"
import { FakeLinkedin } from "@omnipost/platform-linkedin/testing"
import { ConfigProvider, Effect, Layer } from "effect"
import { part, request } from "./fixtures.js"

const DAY = 86_400_000

/** The plugin loaded against a fake, with its client configured. */
const loaded = (fake: FakeLinkedin) =>
  CorePlugin.load(plugin, { baseUrl: fake.url }).pipe(
    Effect.provide(Layer.mergeAll(
      NodeHttpClient.layerUndici,
      ConfigProvider.layer(ConfigProvider.fromEnv({
        env: { OMNIPOST_LINKEDIN_CLIENT_ID: fake.clientId, OMNIPOST_LINKEDIN_CLIENT_SECRET: fake.clientSecret }
      }))
    ))
  )

/** Consents as the fake's member and gives the code. */
const consent = (authorizationUrl: string) =>
  Effect.promise(async () => {
    const response = await fetch(authorizationUrl, { redirect: "manual" })
    return new URL(response.headers.get("location")!).searchParams.get("code")!
  })

describe("Auth and the plugin's OAuth provider", () => {
  it.live("code exchange: credentials with the granted scopes, expiry and the member; no refresh token for most apps", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLinkedin.make()
      fake.addAccount({ sub: "ada01", name: "Ada" })
      const { oauth, publisher } = yield* loaded(fake)
      assert.isFalse(oauth!.pkce)
      const url = yield* oauth!.authorizationUrl({ state: "s1", redirectUri: "https://omnipost.example/cb", scopes: oauth!.scopes })
      assert.strictEqual(new URL(url).searchParams.get("scope"), "openid profile w_member_social w_organization_social")
      const credentials: Auth.LinkedinCredentials = yield* oauth!.exchangeCode({ code: yield* consent(url), redirectUri: "https://omnipost.example/cb" })
      assert.strictEqual(credentials.personUrn, "urn:li:person:ada01")
      assert.deepStrictEqual(credentials.scopes, ["openid", "profile", "w_member_social", "w_organization_social"])
      assert.isUndefined(credentials.refreshToken)
      const expiresIn = Date.parse(credentials.expiresAt!) - Date.now()
      assert.isTrue(expiresIn > 59 * DAY && expiresIn <= 60 * DAY)
      const profile = yield* publisher.verifyCredentials!(credentials)
      assert.deepStrictEqual(profile, { accountId: "ada01", username: "Ada", displayName: "Ada" })
      // A code works once.
      const again = yield* Effect.flip(oauth!.exchangeCode({ code: "code-unknown", redirectUri: "https://omnipost.example/cb" }))
      assert.strictEqual(again._tag, "AuthFailed")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.live("where refresh tokens are issued, an expired token is refreshed before posting and the fresh credentials saved", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLinkedin.make({ refreshTokens: true })
      fake.addAccount({ sub: "ada02" })
      const { oauth, publisher } = yield* loaded(fake)
      const url = yield* oauth!.authorizationUrl({ state: "s", redirectUri: "https://x.example/cb", scopes: oauth!.scopes })
      const credentials: Auth.LinkedinCredentials = yield* oauth!.exchangeCode({ code: yield* consent(url), redirectUri: "https://x.example/cb" })
      assert.isString(credentials.refreshToken)
      fake.expire(credentials.accessToken)
      const saved: Array<Auth.LinkedinCredentials> = []
      const stale = { ...credentials, expiresAt: new Date(Date.now() - 1000).toISOString() }
      yield* publisher.publish({ ...request(stale, [part("after a refresh")]), saveCredentials: (c) => Effect.sync(() => void saved.push(c)) })
      assert.strictEqual(saved.length, 1)
      assert.notStrictEqual(saved[0]!.accessToken, credentials.accessToken)
      assert.strictEqual(saved[0]!.personUrn, "urn:li:person:ada02")
      assert.strictEqual(fake.posts.length, 1)
      const refreshed = yield* publisher.refreshCredentials!(credentials)
      assert.notStrictEqual(refreshed.accessToken, credentials.accessToken)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it("token health: reconnect required from 7 days before an unrefreshable token expires, expired after", () => {
    const now = Date.UTC(2026, 11, 1)
    const at = (days: number) => new Date(now + days * DAY).toISOString()
    assert.strictEqual(Auth.tokenHealth({ accessToken: "a", expiresAt: at(30) }, now).state, "ok")
    assert.strictEqual(Auth.tokenHealth({ accessToken: "a", expiresAt: at(30) }, now).reconnectBy, at(23))
    const soon = Auth.tokenHealth({ accessToken: "a", expiresAt: at(6) }, now)
    assert.strictEqual(soon.state, "reconnect_required")
    assert.include(soon.message, at(6))
    assert.strictEqual(Auth.tokenHealth({ accessToken: "a", expiresAt: at(-1) }, now).state, "expired")
    assert.strictEqual(Auth.tokenHealth({ accessToken: "a", expiresAt: at(1), refreshToken: "r" }, now).state, "ok")
    assert.strictEqual(Auth.tokenHealth({ accessToken: "a", expiresAt: at(1), refreshToken: "r", refreshTokenExpiresAt: at(-1) }, now).state, "reconnect_required")
    assert.strictEqual(Auth.tokenHealth({ accessToken: "a" }, now).state, "ok")
    assert.deepStrictEqual(Auth.parseScopes("openid,profile w_member_social"), ["openid", "profile", "w_member_social"])
  })

  it.live("an unrefreshable token inside the reconnect window: refreshCredentials fails AuthFailed expired (the worker marks the account needs_reconnect) before it expires", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLinkedin.make()
      const { publisher } = yield* loaded(fake)
      const fine = { accessToken: "a", expiresAt: new Date(Date.now() + 30 * DAY).toISOString() }
      assert.deepStrictEqual(yield* publisher.refreshCredentials!(fine), fine)
      const soon = { accessToken: "a", expiresAt: new Date(Date.now() + 2 * DAY).toISOString() }
      const error = yield* Effect.flip(publisher.refreshCredentials!(soon))
      assert.strictEqual(error._tag === "AuthFailed" ? error.reason : error._tag, "expired")
      assert.include(error.message, "reconnect the account before then")
      assert.strictEqual(fake.server.requests.length, 0)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})

describe("a token LinkedIn expires early", () => {
  it.live("401 EXPIRED_ACCESS_TOKEN before expiresAt: refreshed once, saved, posted once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeLinkedin.make({ refreshTokens: true })
      fake.addAccount({ sub: "ada03" })
      const { oauth, publisher } = yield* loaded(fake)
      const url = yield* oauth!.authorizationUrl({ state: "s", redirectUri: "https://x.example/cb", scopes: oauth!.scopes })
      const credentials: Auth.LinkedinCredentials = yield* oauth!.exchangeCode({ code: yield* consent(url), redirectUri: "https://x.example/cb" })
      fake.expire(credentials.accessToken)
      const saved: Array<Auth.LinkedinCredentials> = []
      yield* publisher.publish({ ...request(credentials, [part("early expiry")]), saveCredentials: (c) => Effect.sync(() => void saved.push(c)) })
      assert.strictEqual(saved.length, 1)
      assert.strictEqual(fake.posts.length, 1)
      assert.strictEqual(fake.server.requestsOf("POST /oauth/v2/accessToken").length, 2)
      // Without a refresh token, the same answer is AuthFailed expired, once.
      const plain = { accessToken: fake.issueToken(fake.consentAs!), personUrn: "urn:li:person:ada03" }
      fake.expire(plain.accessToken)
      const error = yield* Effect.flip(publisher.publish(request(plain, [part("no refresh")])))
      assert.strictEqual(error._tag === "AuthFailed" ? error.reason : error._tag, "expired")
      assert.strictEqual(fake.posts.length, 1)
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})
