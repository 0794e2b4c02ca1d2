/**
 * Accounts' token health, scopes and capabilities over the API, against
 * FakeTiktok and FakeBluesky: an expiring and an expired connection, the
 * scopes granted deciding what a TikTok account can post, a refresh the
 * platform refuses (`revoked`) and a later one it accepts (`healthy`), and a
 * publish refused for its token (`reconnect_required`) until a refresh.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { testKinds } from "./fixtures.js"
import { connectBluesky, connectOAuth, errorCode, request, TestApi, waitFor } from "./apiHarness.js"
import { FakeTiktokService, withFakeTiktok } from "./tiktokHarness.js"

const withFake = (kind: "pglite" | "postgres") => withFakeTiktok(kind)

const day = 86_400_000
const inDays = (days: number) => new Date(Date.now() + days * day).toISOString()

for (const kind of testKinds) {
  describe(`account token health (${kind})`, () => {
    layer(withFake(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("a Bluesky account is healthy and can post what its rules allow", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const id = yield* connectBluesky(api)
          const account = (yield* request(api, "GET", `/v1/accounts/${id}`)).body
          assert.strictEqual(account.tokenHealth.state, "healthy")
          assert.isString(account.tokenHealth.checkedAt)
          assert.isUndefined(account.scopes)
          assert.deepStrictEqual(account.capabilities, { text: true, image: true, video: true, placements: ["feed"] })
        }))

      it.effect("a connection ending within a week is expiring (with when), one past its end expired; scopes decide what TikTok can post", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const ends = inDays(3)
          const connected = yield* request(api, "POST", "/v1/accounts", {
            body: {
              platform: "tiktok",
              credentials: { accessToken: "tok-1", refreshToken: "rft-soon", refreshTokenExpiresAt: ends, scopes: ["user.info.basic", "video.upload"] }
            }
          })
          assert.strictEqual(connected.status, 201, JSON.stringify(connected.body))
          const account = (yield* request(api, "GET", `/v1/accounts/${connected.body.id}`)).body
          assert.deepStrictEqual({ state: account.tokenHealth.state, expiresAt: account.tokenHealth.expiresAt }, { state: "expiring", expiresAt: ends })
          assert.deepStrictEqual(account.scopes, ["user.info.basic", "video.upload"])
          assert.deepStrictEqual(account.capabilities, { text: false, image: true, video: true, placements: ["video", "photo"] })

          // Only the profile scope: nothing can be posted.
          const readOnly = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "tiktok", credentials: { accessToken: "tok-1", refreshToken: "rft-old", refreshTokenExpiresAt: inDays(-1), scopes: ["user.info.basic"] } }
          })
          assert.strictEqual(readOnly.status, 201, JSON.stringify(readOnly.body))
          assert.strictEqual(readOnly.body.tokenHealth.state, "expired")
          assert.deepStrictEqual(readOnly.body.capabilities, { text: false, image: false, video: false, placements: [] })
        }))

      it.effect("a refresh the platform refuses marks the token revoked; one it accepts makes it healthy again", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* FakeTiktokService
          const id = (yield* connectOAuth(api, "tiktok")).body.id as string
          const connected = (yield* request(api, "GET", `/v1/accounts/${id}`)).body
          assert.strictEqual(connected.tokenHealth.state, "healthy")
          assert.deepStrictEqual(connected.scopes, ["user.info.basic", "video.publish", "video.upload"])

          // The creator removes the app in TikTok: its refresh tokens are dead.
          const issued = [...fake.refreshTokens]
          fake.refreshTokens.clear()
          const refused = yield* request(api, "POST", `/v1/accounts/${id}/refresh`)
          assert.strictEqual(refused.status, 400, JSON.stringify(refused.body))
          assert.strictEqual(errorCode(refused), "INVALID_CREDENTIALS")
          const revoked = (yield* request(api, "GET", `/v1/accounts/${id}`)).body
          assert.strictEqual(revoked.tokenHealth.state, "revoked")
          assert.strictEqual(revoked.status, "needs_reconnect")

          for (const token of issued) fake.refreshTokens.add(token)
          const refreshed = yield* request(api, "POST", `/v1/accounts/${id}/refresh`)
          assert.strictEqual(refreshed.status, 200, JSON.stringify(refreshed.body))
          assert.strictEqual(refreshed.body.tokenHealth.state, "healthy")
          assert.strictEqual(refreshed.body.status, "active")
          assert.isTrue(Date.parse(refreshed.body.tokenHealth.checkedAt) >= Date.parse(connected.tokenHealth.checkedAt))
        }))

      it.effect("a publish refused for its token marks the account reconnect_required until a refresh succeeds", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* FakeTiktokService
          const id = (yield* connectOAuth(api, "tiktok")).body.id as string
          // TikTok no longer accepts the access token (the refresh token still works).
          fake.tokens.clear()
          const uploaded = yield* request(api, "POST", "/v1/media?fileName=clip.mp4", {
            raw: Buffer.from(Samples.mp4(100_000, 3)),
            headers: { "content-type": "application/octet-stream" }
          })
          assert.strictEqual(uploaded.status, 201, JSON.stringify(uploaded.body))
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "token?", media: [{ mediaId: uploaded.body.id }] }, destinations: [{ accountId: id, settings: { privacyLevel: "SELF_ONLY" } }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const failed = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) => r.body.status === "failed" ? r.body : undefined),
            60_000,
            "the refused post"
          )
          assert.strictEqual(failed.destinations[0].lastError.code, "AUTH_EXPIRED", JSON.stringify(failed.destinations[0].lastError))
          const refused = (yield* request(api, "GET", `/v1/accounts/${id}`)).body
          assert.strictEqual(refused.tokenHealth.state, "reconnect_required")

          const refreshed = yield* request(api, "POST", `/v1/accounts/${id}/refresh`)
          assert.strictEqual(refreshed.status, 200, JSON.stringify(refreshed.body))
          assert.strictEqual(refreshed.body.tokenHealth.state, "healthy")
        }))
    })
  })
}
