import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { BlueskyCredentials } from "@omnipost/platform-bluesky"
import { part, publishRequest, withFake } from "./fixtures.js"

describe("sessions", () => {
  it.live("refreshes on ExpiredToken, rotates both tokens and saves them", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const saved: Array<BlueskyCredentials> = []
        yield* publisher.publish(publishRequest(fake.credentials(), [part("before")], {}, saved))
        const first = saved[0]!.session!

        fake.expireAccessTokens()
        yield* publisher.publish(publishRequest(saved[0]!, [part("after")], {}, saved))

        assert.strictEqual(saved.length, 2)
        const second = saved[1]!.session!
        assert.notStrictEqual(second.accessJwt, first.accessJwt)
        assert.notStrictEqual(second.refreshJwt, first.refreshJwt)
        assert.isAbove(second.refreshJwt.length, 0)
        assert.strictEqual(second.did, first.did)
        assert.strictEqual(saved[1]!.appPassword, fake.credentials().appPassword)
        assert.strictEqual(fake.callCount("com.atproto.server.createSession"), 1)
        assert.strictEqual(fake.callCount("com.atproto.server.refreshSession"), 1)
        // The refresh was sent with the refresh token, then the post retried with the new access token.
        const refresh = fake.requests.find((request) => request.nsid === "com.atproto.server.refreshSession")!
        assert.strictEqual(refresh.authorization, `Bearer ${first.refreshJwt}`)
        const creates = fake.requests.filter((request) => request.nsid === "com.atproto.repo.createRecord")
        assert.deepStrictEqual(creates.map((request) => [request.status, request.error]), [[200, undefined], [400, "ExpiredToken"], [200, undefined]])
        assert.strictEqual(creates[2]!.authorization, `Bearer ${second.accessJwt}`)
        assert.strictEqual(fake.posts().length, 2)
      })
    ))

  it.live("refreshes when the access token runs out by time", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const saved: Array<BlueskyCredentials> = []
        yield* publisher.publish(publishRequest(fake.credentials(), [part("one")], {}, saved))
        fake.advanceClock(61_000)
        yield* publisher.publish(publishRequest(saved[0]!, [part("two")], {}, saved))
        assert.strictEqual(saved.length, 2)
        assert.strictEqual(fake.callCount("com.atproto.server.refreshSession"), 1)
      }), { fake: { accessTokenTtlSeconds: 60 } }))

  it.live("refreshes on a 401 from a PDS that answers expiry that way", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const saved: Array<BlueskyCredentials> = []
        yield* publisher.publish(publishRequest(fake.credentials(), [part("one")], {}, saved))
        fake.inject("com.atproto.repo.createRecord", fake.xrpcError(401, "AuthRequired", "Authentication Required"))
        yield* publisher.publish(publishRequest(saved[0]!, [part("two")], {}, saved))
        assert.strictEqual(saved.length, 2)
        assert.strictEqual(fake.posts().length, 2)
      })
    ))

  it.live("logs in again when the stored refresh token was already rotated away", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const saved: Array<BlueskyCredentials> = []
        yield* publisher.publish(publishRequest(fake.credentials(), [part("one")], {}, saved))
        const stale = saved[0]!
        fake.expireAccessTokens()
        yield* publisher.publish(publishRequest(stale, [part("two")], {}, saved))
        // `stale` still holds the refresh token that the refresh above revoked.
        fake.expireAccessTokens()
        yield* publisher.publish(publishRequest(stale, [part("three")], {}, saved))
        assert.strictEqual(fake.callCount("com.atproto.server.createSession"), 2)
        const refreshes = fake.requests.filter((request) => request.nsid === "com.atproto.server.refreshSession")
        assert.deepStrictEqual(refreshes.map((request) => request.error), [undefined, "ExpiredToken"])
        assert.strictEqual(fake.posts().length, 3)
        assert.isTrue(saved.every((credentials) => (credentials.session?.refreshJwt ?? "") !== ""))
      })
    ))

  it.live("keeps the stored tokens when the refresh fails for a passing reason", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const saved: Array<BlueskyCredentials> = []
        yield* publisher.publish(publishRequest(fake.credentials(), [part("one")], {}, saved))
        fake.expireAccessTokens()
        fake.inject("com.atproto.server.refreshSession", fake.xrpcError(503, "NotEnoughResources", "Not Enough Resources"))
        const error = yield* Effect.flip(publisher.publish(publishRequest(saved[0]!, [part("two")], {}, saved)))
        assert.strictEqual(error._tag, "Transient")
        assert.strictEqual(error.platformCode, "NotEnoughResources")
        assert.strictEqual(saved.length, 1)
        assert.strictEqual(fake.callCount("com.atproto.server.createSession"), 1)
      })
    ))

  it.live("a wrong app password is AuthFailed with Bluesky's code and message", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const saved: Array<BlueskyCredentials> = []
        const wrong = { ...fake.credentials(), appPassword: "wron-gwro-ngwr-ongg" }
        const error = yield* Effect.flip(publisher.publish(publishRequest(wrong, [part("no")], {}, saved)))
        assert.strictEqual(error._tag, "AuthFailed")
        assert.strictEqual(error._tag === "AuthFailed" ? error.reason : undefined, "invalid")
        assert.strictEqual(error.platformCode, "AuthenticationRequired")
        assert.strictEqual(error.platformMessage, "Invalid identifier or password")
        assert.strictEqual(error.httpStatus, 401)
        assert.strictEqual(saved.length, 0)
      })
    ))

  it.live("createSession's own limit surfaces as RateLimited with its reset", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const credentials = fake.credentials()
        yield* publisher.verifyCredentials!(credentials)
        yield* publisher.verifyCredentials!(credentials)
        const error = yield* Effect.flip(publisher.verifyCredentials!(credentials))
        assert.strictEqual(error._tag, "RateLimited")
        if (error._tag !== "RateLimited") return
        assert.strictEqual(error.platformCode, "RateLimitExceeded")
        assert.isAtLeast(error.retryAfterSeconds ?? 0, 298)
        assert.isAtMost(error.retryAfterSeconds ?? 0, 301)
        assert.isBelow(Math.abs(Date.parse(error.resetAt!) - (Date.now() + 300_000)), 3_000)
        assert.include(error.message, "2;w=300")
      }), { fake: { createSessionLimit: { max: 2, windowSeconds: 300 } } }))

  it.live("verifyCredentials returns the DID, handle, display name and avatar", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const carol = fake.createAccount({
          handle: "carol.example.com",
          password: "caro-lcar-olca-rolc",
          displayName: "Carol C.",
          avatar: "https://cdn.example/carol.jpg"
        })
        const profile = yield* publisher.verifyCredentials!(fake.credentials("carol.example.com"))
        assert.deepStrictEqual(profile, {
          accountId: carol.did,
          username: "carol.example.com",
          displayName: "Carol C.",
          avatarUrl: "https://cdn.example/carol.jpg"
        })
        assert.match(carol.did, /^did:plc:[a-z2-7]{24}$/)
      })
    ))

  it.live("refreshCredentials rotates the session without posting", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        const fresh = yield* publisher.refreshCredentials!(fake.credentials())
        assert.isDefined(fresh.session)
        const rotated = yield* publisher.refreshCredentials!(fresh)
        assert.notStrictEqual(rotated.session!.refreshJwt, fresh.session!.refreshJwt)
        assert.strictEqual(fake.callCount("com.atproto.server.createSession"), 1)
        assert.strictEqual(fake.callCount("com.atproto.server.refreshSession"), 1)
        assert.strictEqual(fake.posts().length, 0)
      })
    ))
})
