import { assert, describe, it } from "@effect/vitest"
import { Plugin } from "@omnipost/core"
import { ConfigProvider, Effect } from "effect"
import { facebookPlugin, instagramPlugin, threadsPlugin } from "@omnipost/platform-meta"
import type { FakeMetaServer } from "@omnipost/platform-meta/testing"
import { Samples } from "@omnipost/platform-kit/testing"
import { UrlGuard } from "@omnipost/platform-kit"
import { part, request, withFake } from "./fixtures.js"

const redirectUri = "http://127.0.0.1:9/v1/accounts/oauth/x/callback"

/** The user's browser: opens the authorization URL, is redirected back; the code and state of the redirect. */
const approve = (authorizationUrl: string) =>
  Effect.promise(async () => {
    const response = await fetch(authorizationUrl, { redirect: "manual" })
    const location = new URL(response.headers.get("location")!)
    return { code: location.searchParams.get("code")!, state: location.searchParams.get("state"), redirect: location }
  })

const load = (fake: FakeMetaServer, plugin: Plugin.Plugin, id: string) =>
  Plugin.load(plugin, { baseUrl: fake.graphUrl }).pipe(
    Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
      env: { [`OMNIPOST_${id}_CLIENT_ID`]: `${id}-app`, [`OMNIPOST_${id}_CLIENT_SECRET`]: `${id}-secret` }
    }))),
    Effect.orDie
  )

const connect = (fake: FakeMetaServer, loaded: Plugin.LoadedPlugin) =>
  Effect.gen(function*() {
    const url = yield* loaded.oauth!.authorizationUrl({ state: "s1", redirectUri, scopes: loaded.oauth!.scopes })
    const { code, redirect, state } = yield* approve(url)
    assert.strictEqual(state, "s1")
    assert.strictEqual(`${redirect.origin}${redirect.pathname}`, redirectUri)
    return yield* loaded.oauth!.exchangeCode({ code, redirectUri })
  })

describe("OAuth providers against the fake", () => {
  it.live("Instagram Login: code → short-lived → long-lived token; refresh; the account publishes", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.registerApp({ platform: "instagram", clientId: "INSTAGRAM-app", clientSecret: "INSTAGRAM-secret" })
        const account = fake.addInstagramAccount({ username: "kites" })
        fake.approver.instagram = account.profile.id
        const loaded = yield* load(fake, instagramPlugin, "INSTAGRAM")
        assert.deepStrictEqual(loaded.oauth!.scopes, ["instagram_business_basic", "instagram_business_content_publish"])
        const credentials = yield* connect(fake, loaded)
        assert.strictEqual(credentials.userId, account.profile.id)
        assert.strictEqual(credentials.login, "instagram")
        assert.strictEqual(fake.tokens.get(credentials.accessToken)!.lifetime, "long")
        assert.isAbove(Date.parse(credentials.expiresAt), Date.now() + 59 * 86_400_000)
        const profile = yield* loaded.publisher.verifyCredentials!(credentials)
        assert.strictEqual(profile.username, "kites")
        const refreshed = yield* loaded.oauth!.refresh!(credentials)
        assert.notStrictEqual(refreshed.accessToken, credentials.accessToken)
        assert.strictEqual(refreshed.userId, credentials.userId)
        // A code works once.
        const again = yield* Effect.flip(loaded.oauth!.exchangeCode({ code: "used-or-unknown", redirectUri }))
        assert.strictEqual(again._tag, "AuthFailed")
      })))

  it.live("Facebook Login: long-lived user token, then the Page's token from /me/accounts", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.registerApp({ platform: "facebook", clientId: "FACEBOOK-app", clientSecret: "FACEBOOK-secret" })
        const page = fake.addFacebookPage({ name: "Kite Club" })
        const user = fake.addFacebookUser({ name: "Alice", pages: [page.profile.id] })
        fake.approver.facebook = user.id
        const loaded = yield* load(fake, facebookPlugin, "FACEBOOK")
        const credentials = yield* connect(fake, loaded)
        assert.strictEqual(credentials.pageId, page.profile.id)
        assert.strictEqual(fake.tokens.get(credentials.pageAccessToken)!.kind, "page")
        assert.strictEqual(fake.tokens.get(credentials.userAccessToken!)!.lifetime, "long")
        const result = yield* loaded.publisher.publish(request("facebook", credentials, [part("hello from OAuth")]))
        assert.strictEqual(fake.pagePosts.get(result.platformPostId)!.message, "hello from OAuth")
        // A user with no Page: a permission problem that says what to do.
        fake.approver.facebook = fake.addFacebookUser({ name: "Bob", pages: [] }).id
        const none = yield* Effect.flip(connect(fake, loaded))
        assert.strictEqual(none._tag, "AuthFailed")
        assert.strictEqual((none as { reason?: string }).reason, "missing_permission")
      })))

  it.live("Instagram through Facebook Login: the account linked to a granted Page, publishing with the user token", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.registerApp({ platform: "facebook", clientId: "INSTAGRAM-app", clientSecret: "INSTAGRAM-secret" })
        const page = fake.addFacebookPage({ name: "Kite Club" })
        const account = fake.addProfile({ kind: "instagram", username: "kites.fb" })
        fake.linkedInstagram.set(page.profile.id, account.id)
        fake.approver.facebook = fake.addFacebookUser({ name: "Alice", pages: [page.profile.id] }).id
        const loaded = yield* Plugin.load(instagramPlugin, { baseUrl: fake.graphUrl }).pipe(
          Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({
            env: { OMNIPOST_INSTAGRAM_CLIENT_ID: "INSTAGRAM-app", OMNIPOST_INSTAGRAM_CLIENT_SECRET: "INSTAGRAM-secret", OMNIPOST_INSTAGRAM_LOGIN: "facebook" }
          }))),
          // The host's URL guard reaches the publisher: the fake's media are on 127.0.0.1.
          Effect.provide(UrlGuard.UrlGuard.layer({ allowPrivate: true })),
          Effect.orDie
        )
        assert.include(loaded.oauth!.scopes, "instagram_content_publish")
        const credentials = yield* connect(fake, loaded)
        assert.deepInclude(credentials, { userId: account.id, login: "facebook", username: "kites.fb" })
        assert.strictEqual(fake.tokens.get(credentials.accessToken)!.kind, "user")
        assert.strictEqual((yield* loaded.publisher.verifyCredentials!(credentials)).username, "kites.fb")
        const image = fake.hostMedia(Samples.of("image/jpeg", 30_000, 2, { width: 1080, height: 1080 }))
        const result = yield* loaded.publisher.publish(request("instagram", credentials, [part("via the Page", [{
          kind: "image",
          mimeType: "image/jpeg",
          sizeBytes: 30_000,
          width: 1080,
          height: 1080,
          source: { _tag: "url", url: image }
        }])]))
        assert.strictEqual(fake.publishedBy(account.id)[0]!.id, result.platformPostId)
        // A user whose Pages have no linked account: what to do.
        fake.approver.facebook = fake.addFacebookUser({ name: "Bob", pages: [fake.addFacebookPage({ name: "Empty" }).profile.id] }).id
        const none = yield* Effect.flip(connect(fake, loaded))
        assert.strictEqual((none as { reason?: string }).reason, "missing_permission")
      }), { imagePolls: 0 }))

  it.live("Threads: long-lived token, refreshed while live; an expired one cannot be (Meta's rule): AuthFailed, nothing saved", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        fake.registerApp({ platform: "threads", clientId: "THREADS-app", clientSecret: "THREADS-secret" })
        const account = fake.addThreadsAccount({ username: "kites" })
        fake.approver.threads = account.profile.id
        const loaded = yield* load(fake, threadsPlugin, "THREADS")
        const credentials = yield* connect(fake, loaded)
        assert.strictEqual(credentials.userId, account.profile.id)
        const saved: Array<unknown> = []
        yield* loaded.publisher.publish({ ...request("threads", credentials, [part("before")]) })
        // A live long-lived token refreshes (POST /v1/accounts/:id/refresh goes through this).
        const refreshed = yield* loaded.publisher.refreshCredentials!(credentials)
        assert.notStrictEqual(refreshed.accessToken, credentials.accessToken)
        assert.strictEqual(fake.tokens.get(refreshed.accessToken)!.lifetime, "long")
        const refreshesBefore = fake.refreshes
        fake.tokens.get(credentials.accessToken)!.expired = true
        // An expired long-lived token cannot be refreshed either: the provider says so (the user must reconnect).
        const dead = yield* Effect.flip(loaded.publisher.publish({
          ...request("threads", credentials, [part("after")]),
          saveCredentials: (next) => Effect.sync(() => void saved.push(next))
        }))
        assert.strictEqual(dead._tag, "AuthFailed")
        assert.strictEqual(fake.refreshes, refreshesBefore)
        assert.strictEqual(saved.length, 0)
      })))

  it.live("without a client id and secret, no OAuth provider", () =>
    withFake(() =>
      Effect.gen(function*() {
        const loaded = yield* Plugin.load(threadsPlugin, {}).pipe(
          Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))),
          Effect.orDie
        )
        assert.isUndefined(loaded.oauth)
      })))
})
