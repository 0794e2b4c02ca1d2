/**
 * Who a token belongs to: `GET /v2/user/info/` with the `user.info.basic`
 * fields (`open_id`, `display_name`, `avatar_url`), and the @username from
 * `creator_info/query` (scope `video.publish`; the `username` field of
 * user/info would need `user.info.profile`, which we do not ask for). A
 * creator_info that fails leaves the display name as the username.
 * The creator's answers (privacy levels, disabled interactions, the longest
 * video, nickname and avatar) go on the profile's `details.creatorInfo`, so a
 * host shows on the account what a post to it may ask.
 *
 * Sources: https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info,
 * https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info.
 */
import { type Publisher, PublishError } from "@omnipost/core"
import { Json } from "@omnipost/platform-kit"
import { Effect } from "effect"
import * as Creator from "./Creator.js"
import * as Errors from "./Errors.js"
import * as Api from "./internal/Api.js"
import * as Video from "./Video.js"

export const userFields = "open_id,union_id,avatar_url,display_name"

export const read = (connection: Api.Connection): Effect.Effect<Publisher.AccountProfile, PublishError.PublishError> =>
  Effect.gen(function*() {
    const answer = yield* Api.get(connection, "/v2/user/info/", { fields: userFields })
    const user = Json.record(Json.record(Json.record(answer.body)?.data)?.user)
    const openId = user?.open_id
    if (typeof openId !== "string" || openId.length === 0) {
      return yield* new PublishError.Transient({ platform: Errors.platform, message: "TikTok's user/info answered without open_id" })
    }
    const displayName = typeof user!.display_name === "string" && user!.display_name.length > 0 ? user!.display_name : undefined
    const avatarUrl = typeof user!.avatar_url === "string" && user!.avatar_url.length > 0 ? user!.avatar_url : undefined
    const creator = yield* Video.queryCreator(connection).pipe(
      Effect.catch((error) => error._tag === "AuthFailed" && error.reason !== "missing_permission" ? Effect.fail(error) : Effect.succeed(undefined))
    )
    return {
      accountId: openId,
      username: creator?.username ?? displayName ?? openId,
      ...(displayName !== undefined ? { displayName } : creator?.nickname !== undefined ? { displayName: creator.nickname } : {}),
      ...(avatarUrl !== undefined ? { avatarUrl } : {}),
      ...(creator !== undefined ? { details: Creator.toDetails(creator) } : {})
    } satisfies Publisher.AccountProfile
  })
