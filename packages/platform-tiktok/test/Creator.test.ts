import { assert, describe, it } from "@effect/vitest"
import { Creator } from "@omnipost/platform-tiktok"

const answer = {
  data: {
    creator_username: "ana",
    creator_nickname: "Ana",
    privacy_level_options: ["FOLLOWER_OF_CREATOR", "SELF_ONLY"],
    comment_disabled: false,
    duet_disabled: true,
    stitch_disabled: true,
    max_video_post_duration_sec: 180
  },
  error: { code: "ok", message: "", log_id: "L" }
}
const info = Creator.decode(answer)!
const ok = { privacyLevel: "SELF_ONLY", allowComment: true, allowDuet: false, allowStitch: false, durationSeconds: 60 }

describe("Creator: creator_info decides before any upload", () => {
  it("decodes the answer; garbage is undefined", () => {
    assert.strictEqual(info.nickname, "Ana")
    assert.strictEqual(info.maxVideoPostDurationSec, 180)
    assert.isUndefined(Creator.decode({ data: {} }))
    assert.isUndefined(Creator.decode("nope"))
  })

  it("a post within the creator's options passes", () => {
    assert.isUndefined(Creator.check(info, ok))
  })

  it("a privacy level the creator cannot use is refused, naming their options", () => {
    const error = Creator.check(info, { ...ok, privacyLevel: "PUBLIC_TO_EVERYONE" })
    assert.strictEqual(error?.code, "PRIVACY_LEVEL_NOT_ALLOWED")
    assert.include(error?.message, "FOLLOWER_OF_CREATOR, SELF_ONLY")
  })

  it("a video over the creator's maximum is refused", () => {
    const error = Creator.check(info, { ...ok, durationSeconds: 181 })
    assert.strictEqual(error?.code, "VIDEO_TOO_LONG")
    assert.include(error?.message, "180 s")
  })

  it("duets or stitches the creator disabled are refused, naming which", () => {
    const error = Creator.check(info, { ...ok, allowDuet: true, allowStitch: true })
    assert.strictEqual(error?.code, "INTERACTION_DISABLED")
    assert.include(error?.message, "duets, stitches")
    assert.isUndefined(Creator.check({ ...info, commentDisabled: false }, ok))
    assert.strictEqual(Creator.check({ ...info, commentDisabled: true }, ok)?.code, "INTERACTION_DISABLED")
  })
})
