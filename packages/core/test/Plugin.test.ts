import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Result } from "effect"
import { HttpClient } from "effect/http"
import { Plugin, PublishError } from "@omnipost/core"
import type { Publisher } from "@omnipost/core"
import { scripted, testRules, TestCredentials, TestSettings } from "./fixtures/TestPublishers.js"

/** No call goes out in these tests: a client that would fail loudly if one did. */
const noNetwork = HttpClient.make(() => Effect.die(new Error("no network in this test")))

const run = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>, env: Record<string, string> = {}) =>
  effect.pipe(
    Effect.provideService(HttpClient.HttpClient, noNetwork),
    Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))
  )

/** A plugin whose publisher is `scripted`, reading a client id and a base URL from its config. */
const acme = Plugin.definePlugin({
  id: "acme",
  displayName: "Acme",
  config: Config.all({
    clientId: Config.option(Config.String("OMNIPOST_ACME_CLIENT_ID")),
    region: Config.String("OMNIPOST_ACME_REGION").pipe(Config.withDefault("eu"))
  }),
  environment: [{ name: "OMNIPOST_ACME_CLIENT_ID", description: "OAuth client id" }],
  make: (config, options) =>
    Effect.succeed({
      ...scripted("acme", ["ok"]).publisher,
      displayName: `Acme (${config.region}, ${options.baseUrl ?? "default"})`
    }),
  oauth: (config) =>
    Effect.succeed(
      config.clientId._tag === "None" ? undefined : {
        scopes: ["write"],
        pkce: true,
        authorizationUrl: (request) => Effect.succeed(`https://acme.example/authorize?state=${request.state}`),
        exchangeCode: () => Effect.succeed({ accessToken: "a" })
      }
    )
})

describe("Plugin.check", () => {
  it("accepts a plugin object", () => {
    assert.isTrue(Result.isSuccess(Plugin.check(acme)))
  })

  const cases: ReadonlyArray<readonly [string, unknown, RegExp]> = [
    ["a non-object", "acme", /is not a plugin object \(got string\)/],
    ["null", null, /got null/],
    ["a bad id", { ...acme, id: "Acme!" }, /"id" must be a platform id/],
    ["no display name", { ...acme, displayName: "" }, /"displayName" must be a non-empty string/],
    ["a config that is not a Config", { ...acme, config: { clientId: "x" } }, /"config" must be an effect Config/],
    ["no make", { ...acme, make: undefined }, /"make" must be a function/],
    ["an oauth that is not a function", { ...acme, oauth: {} }, /"oauth" must be a function/],
    ["an environment that is not an array", { ...acme, environment: "X" }, /"environment" must be an array/]
  ]
  for (const [what, value, message] of cases) {
    it(`refuses ${what}`, () => {
      const checked = Plugin.check(value, "./plugins/acme.js")
      assert.isTrue(Result.isFailure(checked))
      if (Result.isFailure(checked)) {
        assert.strictEqual(checked.failure._tag, "InvalidPlugin")
        assert.match(checked.failure.message, message)
      }
    })
  }
})

describe("Plugin.load", () => {
  it.effect("reads the config from the provider and passes the shared options", () =>
    Effect.gen(function*() {
      const loaded = yield* run(Plugin.load(acme, { baseUrl: "http://127.0.0.1:9" }), { OMNIPOST_ACME_REGION: "us" })
      assert.strictEqual(loaded.publisher.platform, "acme")
      assert.strictEqual(loaded.publisher.displayName, "Acme (us, http://127.0.0.1:9)")
      assert.isUndefined(loaded.oauth)
    }))

  it.effect("builds the OAuth provider when the config enables it", () =>
    Effect.gen(function*() {
      const loaded = yield* run(Plugin.load(acme), { OMNIPOST_ACME_CLIENT_ID: "client-1" })
      assert.deepStrictEqual(loaded.oauth?.scopes, ["write"])
      assert.strictEqual(
        yield* loaded.oauth!.authorizationUrl({ state: "s1", redirectUri: "http://localhost/cb", scopes: [] }),
        "https://acme.example/authorize?state=s1"
      )
    }))

  it.effect("a malformed config is a PluginConfigError naming the plugin", () =>
    Effect.gen(function*() {
      const strict = Plugin.definePlugin({
        id: "acme",
        displayName: "Acme",
        config: Config.Int("OMNIPOST_ACME_PORT"),
        make: () => Effect.succeed(scripted("acme", ["ok"]).publisher)
      })
      const error = yield* run(Plugin.load(strict), { OMNIPOST_ACME_PORT: "eighty" }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "PluginConfigError")
      assert.strictEqual(error.plugin, "acme")
      assert.include(error.message, "OMNIPOST_ACME_PORT")
    }))

  it.effect("a publisher for another platform is refused", () =>
    Effect.gen(function*() {
      const wrong = Plugin.definePlugin({ ...acme, make: () => Effect.succeed(scripted("other", ["ok"]).publisher) })
      const error = yield* run(Plugin.load(wrong)).pipe(Effect.flip)
      assert.strictEqual(error._tag, "InvalidPlugin")
      assert.include(error.message, `built a publisher for "other"`)
    }))
})

describe("Plugin.withOAuthRefresh", () => {
  const expired = new PublishError.AuthFailed({ platform: "acme", reason: "expired", message: "token expired" })

  /** A publisher that accepts only the token `fresh`. */
  const tokenChecking = (): Publisher.PlatformPublisher<typeof TestSettings.Type, TestCredentials> & { tokens: Array<string> } => {
    const tokens: Array<string> = []
    return {
      tokens,
      platform: "acme",
      displayName: "Acme",
      rules: testRules("acme"),
      settingsSchema: TestSettings,
      credentialsSchema: TestCredentials,
      publish: (request) =>
        Effect.suspend(() => {
          tokens.push(request.credentials.accessToken)
          return request.credentials.accessToken === "fresh"
            ? Effect.succeed({ platformPostId: "1", url: "https://acme.example/1", publishedAt: "2026-01-01T00:00:00.000Z", parts: [] })
            : Effect.fail(expired)
        })
    }
  }

  const request = (saved: Array<TestCredentials>): Publisher.PublishRequest<typeof TestSettings.Type, TestCredentials> => ({
    postId: "p",
    destinationId: "d",
    attemptId: "d:1",
    destination: { platform: "acme", accountId: "a", placement: "feed", parts: [{ text: "hi", media: [] }], settings: {} } as any,
    credentials: { accessToken: "old", refreshToken: "r1" },
    saveCredentials: (fresh) => Effect.sync(() => void saved.push(fresh))
  })

  it.effect("refreshes once on an expired token, saves the fresh credentials (keeping the refresh token) and publishes again", () =>
    Effect.gen(function*() {
      const inner = tokenChecking()
      const refreshed: Array<TestCredentials> = []
      const publisher = Plugin.withOAuthRefresh(inner, {
        scopes: [],
        pkce: false,
        authorizationUrl: () => Effect.succeed(""),
        exchangeCode: () => Effect.die("unused"),
        // The answer has no refresh token: the old one must be kept.
        refresh: (credentials) => Effect.sync(() => (refreshed.push(credentials), { accessToken: "fresh" }))
      })
      const saved: Array<TestCredentials> = []
      const result = yield* publisher.publish(request(saved))
      assert.strictEqual(result.platformPostId, "1")
      assert.deepStrictEqual(inner.tokens, ["old", "fresh"])
      assert.deepStrictEqual(refreshed, [{ accessToken: "old", refreshToken: "r1" }])
      assert.deepStrictEqual(saved, [{ accessToken: "fresh", refreshToken: "r1" }])
      assert.isDefined(publisher.refreshCredentials)
    }))

  it.effect("a refresh that fails ends the publish with the refresh's error, saving nothing", () =>
    Effect.gen(function*() {
      const inner = tokenChecking()
      const revoked = new PublishError.AuthFailed({ platform: "acme", reason: "revoked", message: "refresh token revoked" })
      const publisher = Plugin.withOAuthRefresh(inner, {
        scopes: [],
        pkce: false,
        authorizationUrl: () => Effect.succeed(""),
        exchangeCode: () => Effect.die("unused"),
        refresh: () => Effect.fail(revoked)
      })
      const saved: Array<TestCredentials> = []
      const error = yield* publisher.publish(request(saved)).pipe(Effect.flip)
      assert.strictEqual(error, revoked)
      assert.deepStrictEqual(saved, [])
      assert.deepStrictEqual(inner.tokens, ["old"])
    }))

  it("leaves a publisher that refreshes by itself, or a provider without refresh, as it is", () => {
    const own = { ...tokenChecking(), refreshCredentials: () => Effect.succeed({ accessToken: "x" }) }
    const provider = { scopes: [], pkce: false, authorizationUrl: () => Effect.succeed(""), exchangeCode: () => Effect.die("") }
    assert.strictEqual(Plugin.withOAuthRefresh(own, { ...provider, refresh: () => Effect.succeed({ accessToken: "y" }) }), own)
    const plain = tokenChecking()
    assert.strictEqual(Plugin.withOAuthRefresh(plain, provider), plain)
  })
})

describe("PKCE and names", () => {
  it.effect("the S256 challenge is BASE64URL(SHA-256(verifier)) and verifiers are 64 URL-safe characters", () =>
    Effect.gen(function*() {
      const verifier = Plugin.makeCodeVerifier()
      assert.match(verifier, /^[A-Za-z0-9_-]{64}$/)
      assert.notStrictEqual(Plugin.makeCodeVerifier(), verifier)
      // RFC 7636, Appendix B.
      assert.strictEqual(
        yield* Plugin.codeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
      )
    }))

  it("derives the base URL variable from the id", () => {
    assert.strictEqual(Plugin.baseUrlVariable("x"), "OMNIPOST_X_BASE_URL")
    assert.strictEqual(Plugin.baseUrlVariable("my-platform"), "OMNIPOST_MY_PLATFORM_BASE_URL")
  })
})
