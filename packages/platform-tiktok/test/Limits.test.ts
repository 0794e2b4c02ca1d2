/**
 * The fake's limits (per-token request rates, the creator's daily post cap)
 * and what the publisher makes of them: `RateLimited`, TikTok's code and
 * log_id kept. The fake's clock is set by the test: no waiting.
 */
import { assert, describe, it } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { bytesVideo, request, withFake } from "./fixtures.js"

describe("rate limits and the daily cap", () => {
  it.live("6 inits a minute per token: the 7th is rate_limit_exceeded (RateLimited); the next minute accepts again", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        let now = Date.parse("2026-12-02T10:00:00.000Z")
        fake.limits.now = () => now
        const post = () => publisher.publish(request(credentials, "x", [bytesVideo(Samples.mp4(1000))]))
        for (let i = 0; i < 6; i++) yield* post()
        const limited = yield* Effect.flip(post())
        assert.strictEqual(limited._tag, "RateLimited")
        assert.strictEqual(limited.platformCode, "rate_limit_exceeded")
        assert.strictEqual(limited.httpStatus, 429)
        assert.match(limited.message, /log_id \d+/)
        assert.strictEqual(fake.uploads.size, 6)
        now += 60_000
        yield* post()
        assert.strictEqual(fake.uploads.size, 7)
      })))

  it.live("20 creator_info a minute, 30 status/fetch a minute, per token", () =>
    withFake(({ fake }) =>
      Effect.promise(async () => {
        fake.limits.now = () => Date.parse("2026-12-02T10:00:30.000Z")
        const call = async (path: string, token = "tok-1") =>
          (await fetch(`${fake.url}${path}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json; charset=UTF-8" }, body: JSON.stringify({ publish_id: "none" }) })).status
        for (let i = 0; i < 20; i++) assert.strictEqual(await call("/v2/post/publish/creator_info/query/"), 200)
        assert.strictEqual(await call("/v2/post/publish/creator_info/query/"), 429)
        fake.tokens.add("tok-2")
        assert.strictEqual(await call("/v2/post/publish/creator_info/query/", "tok-2"), 200)
        for (let i = 0; i < 30; i++) assert.strictEqual(await call("/v2/post/publish/status/fetch/"), 400)
        assert.strictEqual(await call("/v2/post/publish/status/fetch/"), 429)
      })))

  it.live("15 direct posts a day: then creator_info says spam_risk_too_many_posts (RateLimited, account), no init; the next day posts again", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        let now = Date.parse("2026-12-02T08:00:00.000Z")
        fake.limits.now = () => now
        const post = () => publisher.publish(request(credentials, "x", [bytesVideo(Samples.mp4(1000))]))
        for (let i = 0; i < 15; i++) {
          yield* post()
          now += 60_000
        }
        const inits = fake.server.requestsOf("POST /v2/post/publish/video/init/").length
        const capped = yield* Effect.flip(post())
        assert.strictEqual(capped._tag, "RateLimited")
        assert.strictEqual(capped._tag === "RateLimited" ? capped.scope : undefined, "account")
        assert.strictEqual(capped.platformCode, "spam_risk_too_many_posts")
        assert.match(capped.message, /log_id \d+/)
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/video/init/").length, inits)
        // Inbox uploads are not Direct Posts: not capped.
        yield* publisher.publish(request(credentials, "x", [bytesVideo(Samples.mp4(1000))], { privacyLevel: "SELF_ONLY", postMode: "inbox" }))
        now += 86_400_000
        yield* post()
        assert.strictEqual(fake.uploads.size, 17)
      })))
})
