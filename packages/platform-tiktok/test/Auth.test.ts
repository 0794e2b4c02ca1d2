import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Faults, Samples } from "@omnipost/platform-kit/testing"
import { Auth, plugin, type TiktokCredentials } from "@omnipost/platform-tiktok"
import { FakeTiktok } from "@omnipost/platform-tiktok/testing"
import { Effect, Option, Redacted } from "effect"
import { bytesVideo, request } from "./fixtures.js"

const configFor = (fake: FakeTiktok) => ({
  app: { clientId: Option.some(fake.client.clientKey), clientSecret: Option.some(Redacted.make(fake.client.clientSecret)) },
  unaudited: Option.none(),
  verifiedUrlPrefixes: Option.none()
})

const world = <A, E>(body: (fake: FakeTiktok) => Effect.Effect<A, E, any>) =>
  Effect.gen(function*() {
    const fake = yield* Effect.acquireRelease(Effect.promise(() => FakeTiktok.start()), (fake) => Effect.promise(() => fake.close()))
    return yield* body(fake)
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)) as Effect.Effect<A, E>

/** Consent through the fake's authorize page, then the code exchange. */
const connect = (fake: FakeTiktok) =>
  Effect.gen(function*() {
    const provider = (yield* plugin.oauth!(configFor(fake), { baseUrl: fake.url }))!
    const redirectUri = "https://omnipost.example.com/v1/accounts/oauth/tiktok/callback"
    const url = yield* provider.authorizationUrl({ redirectUri, scopes: provider.scopes, state: "s1" })
    const consent = yield* Effect.promise(() => fetch(url, { redirect: "manual" }))
    assert.strictEqual(consent.status, 302)
    const back = new URL(consent.headers.get("location")!)
    assert.strictEqual(back.searchParams.get("state"), "s1")
    const credentials = yield* provider.exchangeCode({ code: back.searchParams.get("code")!, redirectUri })
    return { provider, credentials: credentials as TiktokCredentials, url: new URL(url) }
  })

describe("TikTok OAuth", () => {
  it.live("connect: client_key and the three scopes comma-separated; tokens, both expiries, open_id and username kept", () =>
    world((fake) =>
      Effect.gen(function*() {
        const before = Date.now()
        const { credentials, url } = yield* connect(fake)
        assert.strictEqual(url.pathname, "/v2/auth/authorize/")
        assert.strictEqual(url.searchParams.get("client_key"), fake.client.clientKey)
        assert.strictEqual(url.searchParams.get("scope"), "user.info.basic,video.publish,video.upload")
        assert.strictEqual(url.searchParams.get("response_type"), "code")
        assert.match(credentials.accessToken, /^act\./)
        assert.match(credentials.refreshToken!, /^rft\./)
        const access = Date.parse(credentials.expiresAt!) - before
        const refresh = Date.parse(credentials.refreshTokenExpiresAt!) - before
        assert.isTrue(access >= 86_399_000 && access <= 86_460_000, `access token ${access} ms`)
        assert.isTrue(refresh >= 31_535_999_000 && refresh <= 31_536_060_000, `refresh token ${refresh} ms`)
        assert.deepStrictEqual(credentials.scopes, ["user.info.basic", "video.publish", "video.upload"])
        assert.strictEqual(credentials.openId, fake.user.openId)
        assert.strictEqual(credentials.username, "ana")
        const publisher = yield* plugin.make(configFor(fake), { baseUrl: fake.url })
        // The account shows when the connection ends: the refresh token's expiry.
        assert.strictEqual(publisher.tokenExpiresAt!(credentials), credentials.refreshTokenExpiresAt)
        assert.strictEqual(publisher.tokenExpiresAt!({ accessToken: "a", expiresAt: "2027-01-01T00:00:00.000Z" }), "2027-01-01T00:00:00.000Z")
        const profile = yield* publisher.verifyCredentials!(credentials)
        const { details, ...who } = profile
        assert.deepStrictEqual(who, { accountId: fake.user.openId, username: "ana", displayName: "Ana", avatarUrl: fake.user.avatarUrl })
        // The creator's answers, in TikTok's names, for the account's details.
        assert.deepStrictEqual(details, {
          creatorInfo: {
            creator_username: "ana",
            creator_nickname: "Ana",
            creator_avatar_url: "https://example.invalid/a.jpg",
            privacy_level_options: fake.creator.privacyLevelOptions,
            comment_disabled: false,
            duet_disabled: false,
            stitch_disabled: false,
            max_video_post_duration_sec: 600
          }
        })
        // A used code is refused: AuthFailed, TikTok's code and log_id kept.
        const form = yield* Effect.promise(() => fetch(`${fake.url}/v2/oauth/token/`, { method: "POST", body: new URLSearchParams({ client_key: fake.client.clientKey, client_secret: fake.client.clientSecret, grant_type: "authorization_code", code: "nope", redirect_uri: "x" }) }).then((r) => r.json()))
        assert.strictEqual(form.error, "invalid_grant")
        assert.isString(form.log_id)
      })))

  it.live("an expiring token is refreshed before the post and saved, the refresh token and open_id kept", () =>
    world((fake) =>
      Effect.gen(function*() {
        const { credentials } = yield* connect(fake)
        // The plugin polls every 5 s: the fake completes at the first status call.
        fake.processingPolls = 0
        const publisher = yield* plugin.make(configFor(fake), { baseUrl: fake.url })
        const saved: Array<TiktokCredentials> = []
        const expiring = { ...credentials, expiresAt: new Date(Date.now() + 60_000).toISOString() }
        const result = yield* publisher.publish({
          ...request(expiring, "fresh", [bytesVideo(Samples.mp4(50_000))]),
          saveCredentials: (fresh: TiktokCredentials) => Effect.sync(() => void saved.push(fresh))
        })
        assert.isString(result.platformPostId)
        assert.strictEqual(saved.length, 1)
        assert.notStrictEqual(saved[0]!.accessToken, credentials.accessToken)
        assert.strictEqual(saved[0]!.openId, credentials.openId)
        assert.isString(saved[0]!.refreshTokenExpiresAt)
        assert.isTrue(Date.parse(saved[0]!.expiresAt!) > Date.now() + 86_000_000)
      })))

  it.live("a 5xx refresh is Transient (the old token stays); a dead refresh token is AuthFailed revoked; an expired refresh token is not sent", () =>
    world((fake) =>
      Effect.gen(function*() {
        const { credentials, provider } = yield* connect(fake)
        fake.server.inject("POST /v2/oauth/token/", Faults.status(503), { times: 1 })
        const transient = yield* Effect.flip(provider.refresh!(credentials))
        assert.strictEqual(transient._tag, "Transient")
        fake.refreshTokens.clear()
        const revoked = yield* Effect.flip(provider.refresh!(credentials))
        assert.strictEqual(revoked._tag === "AuthFailed" ? revoked.reason : revoked._tag, "revoked")
        assert.strictEqual(revoked.platformCode, "invalid_grant")
        const tokenCalls = fake.server.requestsOf("POST /v2/oauth/token/").length
        const dead = yield* Effect.flip(provider.refresh!({ ...credentials, refreshTokenExpiresAt: "2020-01-01T00:00:00.000Z" }))
        assert.strictEqual(dead._tag === "AuthFailed" ? dead.reason : dead._tag, "expired")
        assert.include(dead.message, "refresh token expired")
        assert.strictEqual(fake.server.requestsOf("POST /v2/oauth/token/").length, tokenCalls)
      })))

  it("tokenHealth: ok, reconnect within 14 days of the refresh token's end, expired", () => {
    const now = Date.parse("2026-12-02T00:00:00.000Z")
    const c = (days: number) => ({ accessToken: "a", refreshToken: "r", refreshTokenExpiresAt: new Date(now + days * 86_400_000).toISOString() })
    assert.strictEqual(Auth.tokenHealth(c(100), now).state, "ok")
    assert.strictEqual(Auth.tokenHealth(c(13), now).state, "reconnect_required")
    assert.strictEqual(Auth.tokenHealth(c(-1), now).state, "expired")
  })
})
