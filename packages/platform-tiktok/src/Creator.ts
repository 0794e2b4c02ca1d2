/**
 * `creator_info/query`, required before every Direct Post
 * (https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info,
 * platform-specs §5.2): the privacy levels this creator may use, whether
 * comments, duets and stitches are disabled for them, and the longest video
 * they may post. A post that asks for more is refused here, before any upload,
 * naming the creator's options.
 */
import { PublishError } from "@omnipost/core"
import { platform } from "./Errors.js"

export const privacyLevels = ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"] as const
export type PrivacyLevel = (typeof privacyLevels)[number]

export interface CreatorInfo {
  readonly username: string | undefined
  readonly nickname: string | undefined
  readonly avatarUrl?: string | undefined
  readonly privacyLevelOptions: ReadonlyArray<string>
  readonly commentDisabled: boolean
  readonly duetDisabled: boolean
  readonly stitchDisabled: boolean
  readonly maxVideoPostDurationSec: number | undefined
}

const asRecord = (u: unknown): Record<string, unknown> | undefined =>
  typeof u === "object" && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : undefined

/** Reads a creator_info answer's `data`; `undefined` when it is not one. */
export const decode = (body: unknown): CreatorInfo | undefined => {
  const data = asRecord(asRecord(body)?.data)
  if (data === undefined || !Array.isArray(data.privacy_level_options)) return undefined
  const max = data.max_video_post_duration_sec
  return {
    username: typeof data.creator_username === "string" ? data.creator_username : undefined,
    nickname: typeof data.creator_nickname === "string" ? data.creator_nickname : undefined,
    ...(typeof data.creator_avatar_url === "string" && data.creator_avatar_url.length > 0 ? { avatarUrl: data.creator_avatar_url } : {}),
    privacyLevelOptions: data.privacy_level_options.filter((o): o is string => typeof o === "string"),
    commentDisabled: data.comment_disabled === true,
    duetDisabled: data.duet_disabled === true,
    stitchDisabled: data.stitch_disabled === true,
    maxVideoPostDurationSec: typeof max === "number" && max > 0 ? max : undefined
  }
}

/**
 * The creator's answers as an account's platform details (core's
 * `PlatformDetails`), in TikTok's own field names so that a reader of
 * TikTok's documentation recognises them: a host shows them on the account.
 */
export const toDetails = (info: CreatorInfo): { readonly creatorInfo: Record<string, string | number | boolean | ReadonlyArray<string>> } => ({
  creatorInfo: {
    ...(info.username !== undefined ? { creator_username: info.username } : {}),
    ...(info.nickname !== undefined ? { creator_nickname: info.nickname } : {}),
    ...(info.avatarUrl !== undefined ? { creator_avatar_url: info.avatarUrl } : {}),
    privacy_level_options: info.privacyLevelOptions,
    comment_disabled: info.commentDisabled,
    duet_disabled: info.duetDisabled,
    stitch_disabled: info.stitchDisabled,
    ...(info.maxVideoPostDurationSec !== undefined ? { max_video_post_duration_sec: info.maxVideoPostDurationSec } : {})
  }
})

/** What a post asks of the creator. `allow*` true means the post wants that interaction on. */
export interface Request {
  readonly privacyLevel: string
  readonly allowComment: boolean
  readonly allowDuet: boolean
  readonly allowStitch: boolean
  readonly durationSeconds?: number | undefined
}

const who = (info: CreatorInfo) => info.nickname ?? info.username ?? "this creator"

/** Why `request` exceeds what `info` allows (`Rejected`), or `undefined`. */
export const check = (info: CreatorInfo, request: Request): PublishError.Rejected | undefined => {
  if (!info.privacyLevelOptions.includes(request.privacyLevel)) {
    return new PublishError.Rejected({
      platform,
      code: "PRIVACY_LEVEL_NOT_ALLOWED",
      message: `TikTok: ${who(info)} cannot post with privacy ${request.privacyLevel}; their options are ${
        info.privacyLevelOptions.join(", ") || "none"
      }`
    })
  }
  if (
    request.durationSeconds !== undefined && info.maxVideoPostDurationSec !== undefined &&
    request.durationSeconds > info.maxVideoPostDurationSec
  ) {
    return new PublishError.Rejected({
      platform,
      code: "VIDEO_TOO_LONG",
      message: `TikTok: the video lasts ${request.durationSeconds} s but ${who(info)} may post at most ${info.maxVideoPostDurationSec} s`
    })
  }
  const refused = [
    request.allowComment && info.commentDisabled ? "comments" : undefined,
    request.allowDuet && info.duetDisabled ? "duets" : undefined,
    request.allowStitch && info.stitchDisabled ? "stitches" : undefined
  ].filter((x): x is string => x !== undefined)
  if (refused.length > 0) {
    return new PublishError.Rejected({
      platform,
      code: "INTERACTION_DISABLED",
      message: `TikTok: ${who(info)} has ${refused.join(", ")} disabled in their settings; turn ${
        refused.length === 1 ? "it" : "them"
      } off for this post (comments ${info.commentDisabled ? "disabled" : "allowed"}, duets ${
        info.duetDisabled ? "disabled" : "allowed"
      }, stitches ${info.stitchDisabled ? "disabled" : "allowed"})`
    })
  }
  return undefined
}
