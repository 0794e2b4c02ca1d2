import { assert, describe, it } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Settings } from "@omnipost/platform-tiktok"
import { Effect, Schema } from "effect"
import { bytesVideo, request, withFake } from "./fixtures.js"

describe("compliance settings", () => {
  it.live("unaudited client: every privacy level but SELF_ONLY fails validation saying why; publishing refuses before any call; SELF_ONLY posts", () =>
    withFake(({ credentials, fake, make }) =>
      Effect.gen(function*() {
        const publisher = yield* make({ unauditedClient: true })
        fake.unaudited = true
        for (const privacyLevel of ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR"] as const) {
          const req = request(credentials, "x", [bytesVideo(Samples.mp4(1000))], { privacyLevel })
          const issues = publisher.validate!({ destination: req.destination, destinationIndex: 0 })
          assert.deepStrictEqual(issues.map((i) => [i.code, i.path]), [["INVALID_SETTINGS", ["settings", "privacyLevel"]]])
          assert.include(issues[0]!.message, "unaudited")
          assert.include(issues[0]!.message, "SELF_ONLY")
          const error = yield* Effect.flip(publisher.publish(req))
          assert.strictEqual(error._tag === "Rejected" ? error.code : error._tag, "UNAUDITED_CLIENT_PRIVATE_ONLY")
        }
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, 0)
        const ok = request(credentials, "x", [bytesVideo(Samples.mp4(1000))], { privacyLevel: "SELF_ONLY" })
        assert.deepStrictEqual(publisher.validate!({ destination: ok.destination, destinationIndex: 0 }), [])
        yield* publisher.publish(ok)
        // An audited publisher against an unaudited app: TikTok's own refusal, mapped with its code and log_id.
        const audited = yield* make()
        const refused = yield* Effect.flip(audited.publish(request(credentials, "x", [bytesVideo(Samples.mp4(1000))], { privacyLevel: "PUBLIC_TO_EVERYONE" })))
        assert.strictEqual(refused._tag === "Rejected" ? refused.code : refused._tag, "UNAUDITED_CLIENT_PRIVATE_ONLY")
        assert.strictEqual(refused.platformCode, "unaudited_client_can_only_post_to_private_accounts")
        assert.match(refused.message, /log_id \d+/)
      })))

  it("branded content cannot be SELF_ONLY (settings schema); your-brand can", () => {
    const decode = Schema.decodeUnknownResult(Settings.TiktokSettings)
    assert.strictEqual(decode({ privacyLevel: "SELF_ONLY", brandContentToggle: true })._tag, "Failure")
    assert.strictEqual(decode({ privacyLevel: "PUBLIC_TO_EVERYONE", brandContentToggle: true })._tag, "Success")
    assert.strictEqual(decode({ privacyLevel: "SELF_ONLY", brandOrganicToggle: true })._tag, "Success")
    assert.strictEqual(decode({ privacyLevel: "SELF_ONLY", postMode: "later" })._tag, "Failure")
  })

  it.live("the fake refuses private branded content", () =>
    withFake(({ credentials, publisher }) =>
      Effect.gen(function*() {
        // Settings decoded elsewhere would refuse it; sent anyway, TikTok says invalid_param.
        const error = yield* Effect.flip(publisher.publish(request(credentials, "x", [bytesVideo(Samples.mp4(1000))], { privacyLevel: "SELF_ONLY", brandContentToggle: true })))
        assert.strictEqual(error.platformCode, "invalid_param")
      })))
})
