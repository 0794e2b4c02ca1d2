/**
 * A TikTok account over the API against FakeTiktok: the creator's
 * `creator_info/query` answers (privacy levels, disabled interactions, the
 * longest video, nickname and avatar) are on `GET /v1/accounts/:id` as
 * `details.creatorInfo` from the connect on, and `POST /v1/accounts/:id/refresh`
 * reads them again when the creator changes their settings.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { testKinds } from "./fixtures.js"
import { connectOAuth, request, TestApi } from "./apiHarness.js"
import { FakeTiktokService, withFakeTiktok } from "./tiktokHarness.js"

const withFake = (kind: "pglite" | "postgres") => withFakeTiktok(kind, { scheduler: false })

for (const kind of testKinds) {
  describe(`a TikTok account's details over the API (${kind})`, () => {
    layer(withFake(kind), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("the creator info is on the account after connecting, and a refresh reads it again", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* FakeTiktokService
          fake.creator = {
            username: "ana",
            nickname: "Ana B.",
            privacyLevelOptions: ["FOLLOWER_OF_CREATOR", "SELF_ONLY"],
            commentDisabled: false,
            duetDisabled: true,
            stitchDisabled: false,
            maxVideoPostDurationSec: 300
          }
          const callback = yield* connectOAuth(api, "tiktok")
          const accountId = callback.body.id as string
          const account = yield* request(api, "GET", `/v1/accounts/${accountId}`)
          assert.strictEqual(account.status, 200)
          assert.deepStrictEqual(account.body.details, {
            creatorInfo: {
              creator_username: "ana",
              creator_nickname: "Ana B.",
              creator_avatar_url: "https://example.invalid/a.jpg",
              privacy_level_options: ["FOLLOWER_OF_CREATOR", "SELF_ONLY"],
              comment_disabled: false,
              duet_disabled: true,
              stitch_disabled: false,
              max_video_post_duration_sec: 300
            }
          })
          const listed = yield* request(api, "GET", "/v1/accounts?platform=tiktok")
          assert.deepStrictEqual(listed.body[0].details, account.body.details)

          // The creator changes their settings in the app: the account shows them after a refresh.
          fake.creator = { ...fake.creator, privacyLevelOptions: ["SELF_ONLY"], commentDisabled: true, maxVideoPostDurationSec: 60 }
          const queries = fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length
          const refreshed = yield* request(api, "POST", `/v1/accounts/${accountId}/refresh`)
          assert.strictEqual(refreshed.status, 200, JSON.stringify(refreshed.body))
          assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, queries + 1)
          const after = (yield* request(api, "GET", `/v1/accounts/${accountId}`)).body.details.creatorInfo
          assert.deepStrictEqual(after.privacy_level_options, ["SELF_ONLY"])
          assert.strictEqual(after.comment_disabled, true)
          assert.strictEqual(after.max_video_post_duration_sec, 60)
          assert.deepStrictEqual(refreshed.body.details.creatorInfo, after)
        }))

      it.effect("the OpenAPI document describes the account's details", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const doc = yield* request(api, "GET", "/openapi.json", { key: null })
          const text = JSON.stringify(doc.body)
          assert.include(text, "privacy_level_options")
          assert.include(text, "max_video_post_duration_sec")
        }))
    })
  })
}
