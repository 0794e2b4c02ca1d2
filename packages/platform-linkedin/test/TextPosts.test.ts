import { assert, describe, it } from "@effect/vitest"
import { Errors, LittleText, makeLinkedinPublisher } from "@omnipost/platform-linkedin"
import { Faults } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { part, request, withFake } from "./fixtures.js"

const everyReserved = "Q3 results (draft) [v2] {beta} <b> *bold* _x_ ~tilde~ a|b back\\slash C# and 50% off @ noon"

describe("text posts through the library", () => {
  it.live("a commentary holding every reserved character is published and shows exactly as written", () =>
    withFake(({ account, credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const result = yield* publisher.publish(request(credentials, [part(everyReserved)]))
        const post = fake.posts[0]!
        assert.strictEqual(result.platformPostId, post.id)
        assert.match(post.id, /^urn:li:share:\d+$/)
        assert.strictEqual(result.url, `https://www.linkedin.com/feed/update/${post.id}/`)
        assert.strictEqual(post.author, account.personUrn)
        assert.strictEqual(post.truncated, false)
        assert.strictEqual(post.text, everyReserved)
        assert.strictEqual(post.visibility, "PUBLIC")
        assert.strictEqual(post.isReshareDisabledByAuthor, false)
        const sent = fake.server.requestsOf("POST /rest/posts")[0]!
        assert.strictEqual(sent.headers["linkedin-version"], "202611")
        assert.strictEqual(sent.headers["x-restli-protocol-version"], "2.0.0")
      })
    ))

  it.live("mentions and hashtags the post means are kept as elements; visibility and reshare settings are sent", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const text = "Shipped with @[Grace Hopper](urn:li:person:gh1) #launch (finally)"
        yield* publisher.publish(request(credentials, [part(text)], { visibility: "CONNECTIONS", disableReshare: true }))
        const post = fake.posts[0]!
        assert.strictEqual(post.text, "Shipped with Grace Hopper #launch (finally)")
        assert.deepStrictEqual(post.mentions, [{ name: "Grace Hopper", urn: "urn:li:person:gh1" }])
        assert.deepStrictEqual(post.hashtags, ["launch"])
        assert.strictEqual(post.visibility, "CONNECTIONS")
        assert.strictEqual(post.isReshareDisabledByAuthor, true)
      })
    ))

  it.live("the fake cuts an unescaped commentary as LinkedIn does (the escaping is what keeps it whole)", () =>
    withFake(({ credentials, fake }) =>
      Effect.gen(function*() {
        const response = yield* Effect.promise(() =>
          fetch(`${fake.url}/rest/posts`, {
            method: "POST",
            headers: {
              authorization: `Bearer ${credentials.accessToken}`,
              "linkedin-version": "202611",
              "x-restli-protocol-version": "2.0.0",
              "content-type": "application/json"
            },
            body: JSON.stringify({
              author: credentials.personUrn,
              commentary: "Hello (world)",
              visibility: "PUBLIC",
              distribution: { feedDistribution: "MAIN_FEED" },
              lifecycleState: "PUBLISHED"
            })
          })
        )
        assert.strictEqual(response.status, 201)
        assert.strictEqual(fake.posts[0]!.text, "Hello ")
        assert.strictEqual(LittleText.escape("Hello (world)"), "Hello \\(world\\)")
      })
    ))

  it.live("a sunset LinkedIn-Version is refused 426 and reported as UNSUPPORTED_API_VERSION, naming the setting", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(publisher.publish(request(credentials, [part("hi")])))
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual(error._tag === "Rejected" ? error.code : undefined, "UNSUPPORTED_API_VERSION")
        assert.strictEqual(error.httpStatus, 426)
        assert.strictEqual(error.platformCode, "NONEXISTENT_VERSION")
        assert.include(error.message, "OMNIPOST_LINKEDIN_VERSION")
        assert.strictEqual(fake.posts.length, 0)
      }), { publisher: { version: "202401" } }))

  it.live("a revoked token is AuthFailed revoked; an expired one expired; a missing scope missing_permission", () =>
    withFake(({ account, credentials, fake, publisher }) =>
      Effect.gen(function*() {
        fake.revoke(credentials.accessToken)
        const revoked = yield* Effect.flip(publisher.publish(request(credentials, [part("hi")])))
        assert.strictEqual(revoked._tag === "AuthFailed" ? revoked.reason : revoked._tag, "revoked")
        assert.strictEqual(revoked.platformCode, "REVOKED_ACCESS_TOKEN")
        const expiredToken = fake.issueToken(account)
        fake.expire(expiredToken)
        const expired = yield* Effect.flip(publisher.publish(request({ ...credentials, accessToken: expiredToken }, [part("hi")])))
        assert.strictEqual(expired._tag === "AuthFailed" ? expired.reason : expired._tag, "expired")
        const readOnly = fake.issueToken(account, ["openid", "profile"])
        const missing = yield* Effect.flip(publisher.publish(request({ ...credentials, accessToken: readOnly }, [part("hi")])))
        assert.strictEqual(missing._tag === "AuthFailed" ? missing.reason : missing._tag, "missing_permission")
        assert.strictEqual(missing.httpStatus, 403)
        assert.strictEqual(fake.posts.length, 0)
      })
    ))

  it.live("a token past its expiresAt is refused before anything is sent, saying to reconnect", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(publisher.publish(request({ ...credentials, expiresAt: "2020-01-01T00:00:00.000Z" }, [part("hi")])))
        assert.strictEqual(error._tag === "AuthFailed" ? error.reason : error._tag, "expired")
        assert.include(error.message, "reconnect")
        assert.strictEqual(fake.server.requests.length, 0)
      })
    ))

  it.live("a duplicate is DUPLICATE_CONTENT with LinkedIn's message kept", () =>
    withFake(({ credentials, publisher }) =>
      Effect.gen(function*() {
        const first = yield* publisher.publish(request(credentials, [part("same words")]))
        const error = yield* Effect.flip(publisher.publish(request(credentials, [part("same words")])))
        assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "DUPLICATE_CONTENT")
        assert.strictEqual(error.platformMessage, `Content is a duplicate of ${first.platformPostId}`)
        assert.strictEqual(error.httpStatus, 422)
      })
    ))

  it.live("LinkedIn's daily member and application limits wait for midnight UTC", () =>
    withFake(({ credentials, publisher }) =>
      Effect.gen(function*() {
        yield* publisher.publish(request(credentials, [part("one")]))
        const error = yield* Effect.flip(publisher.publish(request(credentials, [part("two")])))
        assert.strictEqual(error._tag, "RateLimited")
        if (error._tag !== "RateLimited") return
        assert.strictEqual(error.scope, "account")
        const reset = Date.parse(error.resetAt!)
        assert.strictEqual(reset % 86_400_000, 0)
        assert.isTrue(reset > Date.now() && reset - Date.now() <= 86_400_000)
        assert.include(error.platformMessage!, "MEMBER DAY")
      }), { fake: { dailyMemberPosts: 1 } }))

  it("the 429 mapping: application day limit scope app; other 429s read Retry-After", () => {
    const nowMs = Date.UTC(2026, 11, 1, 22, 30)
    const app = Errors.fromResponse(429, {}, { status: 429, message: "Resource level throttle APPLICATION DAY limit for calls to this resource is reached." }, "POST /rest/posts", nowMs)
    assert.strictEqual(app._tag === "RateLimited" ? app.scope : app._tag, "app")
    assert.strictEqual(app._tag === "RateLimited" ? app.resetAt : undefined, "2026-12-02T00:00:00.000Z")
    assert.strictEqual(app._tag === "RateLimited" ? app.retryAfterSeconds : undefined, 90 * 60)
    const burst = Errors.fromResponse(429, { "retry-after": "30" }, { status: 429, message: "Too many requests" }, "POST /rest/posts", nowMs)
    assert.strictEqual(burst._tag === "RateLimited" ? burst.retryAfterSeconds : undefined, 30)
  })

  it.live("a post applied but unanswered is OutcomeUnknown, and findPublished finds it in the author's recent posts", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        fake.server.inject("POST /rest/posts", Faults.dropAfterApply())
        const sentAt = new Date().toISOString()
        const req = request(credentials, [part("Applied (but) unanswered #oops")])
        const error = yield* Effect.flip(publisher.publish(req))
        assert.strictEqual(error._tag, "OutcomeUnknown")
        const found = yield* publisher.findPublished!({ ...req, sentAt })
        assert.strictEqual(found?.platformPostId, fake.posts[0]!.id)
        const other = yield* publisher.findPublished!({ ...request(credentials, [part("never sent")]), sentAt })
        assert.isUndefined(other)
      })
    ))

})
