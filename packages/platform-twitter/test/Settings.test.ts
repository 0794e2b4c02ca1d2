import { assert, describe, it } from "@effect/vitest"
import { Settings as CoreSettings } from "@omnipost/core"
import { Settings } from "@omnipost/platform-twitter"
import { Schema } from "effect"
import * as fc from "fast-check"

describe("XSettings", () => {
  const samples: ReadonlyArray<unknown> = [
    {},
    { replySettings: "following" },
    { replySettings: "everyone", inReplyToTweetId: "1880028106020515840" },
    { quoteTweetId: "12" },
    { replySettings: "nobody" },
    { inReplyToTweetId: "abc" },
    { quoteTweetId: "12345678901234567890" },
    { replySettings: 1 },
    null,
    "following"
  ]

  it("is core's schema", () => {
    assert.strictEqual(Settings.XSettings, CoreSettings.XSettings)
  })

  it("accepts and refuses exactly what core's schema does", () => {
    const ours = Schema.is(Settings.XSettings)
    const cores = Schema.is(CoreSettings.XSettings)
    for (const sample of samples) assert.strictEqual(ours(sample), cores(sample), JSON.stringify(sample))
    fc.assert(fc.property(
      fc.record({
        replySettings: fc.option(fc.constantFrom("everyone", "following", "mentionedUsers", "subscribers", "verified", "x"), { nil: undefined }),
        inReplyToTweetId: fc.option(fc.stringMatching(/^[0-9a]{0,21}$/), { nil: undefined }),
        quoteTweetId: fc.option(fc.stringMatching(/^[0-9]{0,21}$/), { nil: undefined })
      }, { requiredKeys: [] }),
      (sample) => ours(sample) === cores(sample)
    ))
  })

  it("refuses an unknown reply setting and a malformed post id", () => {
    assert.isTrue(Schema.is(Settings.XSettings)({ replySettings: "mentionedUsers", quoteTweetId: "1" }))
    assert.isFalse(Schema.is(Settings.XSettings)({ replySettings: "nobody" }))
    assert.isFalse(Schema.is(Settings.XSettings)({ inReplyToTweetId: "12a" }))
  })
})
