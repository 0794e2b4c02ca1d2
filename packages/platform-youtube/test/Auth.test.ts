import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Faults, Samples } from "@omnipost/platform-kit/testing"
import { type Auth, plugin } from "@omnipost/platform-youtube"
import { FakeYoutube } from "@omnipost/platform-youtube/testing"
import { Effect, Option, Redacted } from "effect"
import { bytesVideo, request } from "./fixtures.js"

const configFor = (fake: FakeYoutube) => ({
  app: { clientId: Option.some(fake.client.clientId), clientSecret: Option.some(Redacted.make(fake.client.clientSecret)) },
  unaudited: Option.none(),
  dailyUnits: Option.none(),
  insertCost: Option.none()
})

const world = <A, E>(body: (fake: FakeYoutube) => Effect.Effect<A, E, any>) =>
  Effect.gen(function*() {
    const fake = yield* FakeYoutube.make()
    fake.addChannel({ title: "Ada Lovelace" })
    return yield* body(fake)
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)) as Effect.Effect<A, E>

/** Consent through the fake's authorize page, then the code exchange: the credentials. */
const connect = (fake: FakeYoutube) =>
  Effect.gen(function*() {
    const provider = (yield* plugin.oauth!(configFor(fake), { baseUrl: fake.url }))!
    const redirectUri = "http://127.0.0.1:1/v1/accounts/oauth/youtube/callback"
    const url = yield* provider.authorizationUrl({ redirectUri, scopes: provider.scopes, state: "s1" })
    const consent = yield* Effect.promise(() => fetch(url, { redirect: "manual" }))
    const back = new URL(consent.headers.get("location")!)
    assert.strictEqual(back.searchParams.get("state"), "s1")
    const credentials = yield* provider.exchangeCode({ code: back.searchParams.get("code")!, redirectUri })
    return { provider, credentials, url: new URL(url) }
  })

describe("OAuth and the channel", () => {
  it.live("connect: youtube.upload and youtube.readonly with offline access; the code exchanged once for a refresh token and the channel", () =>
    world((fake) =>
      Effect.gen(function*() {
        const { credentials, url } = yield* connect(fake)
        assert.strictEqual(url.searchParams.get("access_type"), "offline")
        assert.deepStrictEqual(url.searchParams.get("scope")!.split(" "), [
          "https://www.googleapis.com/auth/youtube.upload",
          "https://www.googleapis.com/auth/youtube.readonly",
          "https://www.googleapis.com/auth/youtube.force-ssl"
        ])
        assert.isString(credentials.refreshToken)
        assert.isString(credentials.expiresAt)
        assert.strictEqual(credentials.channelId, [...fake.channels.values()][0]!.id)
        const publisher = yield* plugin.make(configFor(fake), { baseUrl: fake.url })
        const profile = yield* publisher.verifyCredentials!(credentials)
        assert.deepStrictEqual(profile, { accountId: credentials.channelId!, username: "@adalovelace", displayName: "Ada Lovelace" })
      })))

  it.live("an expired token is refreshed before the upload and saved; the refresh token kept", () =>
    world((fake) =>
      Effect.gen(function*() {
        const { credentials } = yield* connect(fake)
        const publisher = yield* plugin.make(configFor(fake), { baseUrl: fake.url })
        const saved: Array<Auth.YoutubeCredentials> = []
        const expired = { ...credentials, expiresAt: "2020-01-01T00:00:00.000Z" }
        const result = yield* publisher.publish({
          ...request(expired, "Fresh token", [bytesVideo(Samples.mp4(256 * 1024, 1))]),
          saveCredentials: (fresh: Auth.YoutubeCredentials) => Effect.sync(() => void saved.push(fresh))
        })
        assert.isTrue(fake.videos.has(result.platformPostId))
        assert.strictEqual(saved.length, 1)
        assert.notStrictEqual(saved[0]!.accessToken, credentials.accessToken)
        assert.strictEqual(saved[0]!.refreshToken, credentials.refreshToken)
      })))

  it.live("a transient refresh failure is Transient (the caller keeps the old token); invalid_grant is AuthFailed revoked: reconnect", () =>
    world((fake) =>
      Effect.gen(function*() {
        const { credentials } = yield* connect(fake)
        const publisher = yield* plugin.make(configFor(fake), { baseUrl: fake.url })
        fake.server.inject("oauth token", Faults.status(503))
        const transient = yield* Effect.flip(publisher.refreshCredentials!(credentials))
        assert.strictEqual(transient._tag, "Transient")
        const fresh = yield* publisher.refreshCredentials!(credentials)
        assert.strictEqual(fresh.refreshToken, credentials.refreshToken)
        fake.revokeRefreshTokens()
        const revoked = yield* Effect.flip(publisher.refreshCredentials!(credentials))
        assert.strictEqual(revoked._tag, "AuthFailed")
        assert.strictEqual((revoked as { reason: string }).reason, "revoked")
        assert.strictEqual(revoked.platformCode, "invalid_grant")
      })))

  it.live("findPublished: the upload found in the channel's uploads playlist by its title since it was sent; none otherwise", () =>
    world((fake) =>
      Effect.gen(function*() {
        const { credentials } = yield* connect(fake)
        const publisher = yield* plugin.make(configFor(fake), { baseUrl: fake.url })
        const sentAt = new Date().toISOString()
        const posted = yield* publisher.publish(request(credentials, "Find me", [bytesVideo(Samples.mp4(256 * 1024, 2))]))
        const found = yield* publisher.findPublished!({ ...request(credentials, "Find me", []), sentAt })
        assert.strictEqual(found?.platformPostId, posted.platformPostId)
        const none = yield* publisher.findPublished!({ ...request(credentials, "Never posted", []), sentAt })
        assert.isUndefined(none)
      })))
})
