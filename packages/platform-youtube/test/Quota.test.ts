import { assert, describe, it } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Quota } from "@omnipost/platform-youtube"
import { Effect } from "effect"
import { bytesVideo, defaultSettings, request, withFake } from "./fixtures.js"

const unit = 256 * 1024
// 15:30 in Los Angeles: the quota resets at 2026-12-02T08:00:00Z.
const now = Date.parse("2026-12-01T23:30:00Z")

const validateMessages = (publisher: { validate?: (context: any) => ReadonlyArray<{ message: string }> }, settings = defaultSettings) =>
  publisher.validate!({ destinationIndex: 0, destination: { platform: "youtube", accountId: "a", settings, parts: [{ text: "t", media: [] }] } }).map((i) => i.message)

describe("quota", () => {
  it("the ledger: documented costs, a new Pacific day starts at 0", () => {
    const ledger = new Quota.Ledger()
    ledger.charge("videos.insert", now)
    ledger.charge("thumbnails.set", now)
    ledger.charge("videos.list", now)
    assert.strictEqual(ledger.spent(now), 1651)
    assert.strictEqual(ledger.remaining(now), 10_000 - 1651)
    assert.strictEqual(ledger.spent(Date.parse("2026-12-02T07:59:59Z")), 1651)
    assert.strictEqual(ledger.spent(Date.parse("2026-12-02T08:00:00Z")), 0)
    assert.strictEqual(ledger.postCost({ thumbnail: true, playlist: true }), 1700)
  })

  it.live("six uploads fit the default 10,000 units; the seventh fails validation and is refused before anything is sent", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        for (let i = 0; i < 6; i++) yield* publisher.publish(request(credentials, `Video ${i}`, [bytesVideo(Samples.mp4(unit, i))]))
        assert.strictEqual(publisher.quota.spent(Date.now()), 9600)
        assert.strictEqual(fake.unitsSpent, 9600)
        const [message] = validateMessages(publisher)
        assert.match(message!, /needs 1600 quota units .* has 400 of 10000 left today; the quota resets at .*midnight America\/Los_Angeles/)
        const before = fake.server.requests.length
        const error = yield* Effect.flip(publisher.publish(request(credentials, "Seventh", [bytesVideo(Samples.mp4(unit, 7))])))
        assert.strictEqual(error._tag, "RateLimited")
        assert.strictEqual((error as { scope?: string }).scope, "quota")
        assert.strictEqual(fake.server.requests.length, before)
      })))

  it.live("the fake's own quota: quotaExceeded waits until midnight Pacific", () =>
    withFake(({ credentials, publisher }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(publisher.publish(request(credentials, "Over", [bytesVideo(Samples.mp4(unit, 1))])))
        assert.strictEqual(error._tag, "RateLimited")
        assert.strictEqual(error.platformCode, "quotaExceeded")
      }), { fake: { dailyUnits: 1000 } }))

  it.live("an unaudited project: public and unlisted fail validation saying why, private goes through (and the fake locks uploads private)", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        assert.match(validateMessages(publisher, { privacyStatus: "public", madeForKids: false })[0]!, /unaudited .* locks every video it uploads to private, so a public video cannot be posted/)
        assert.match(validateMessages(publisher, { privacyStatus: "unlisted", madeForKids: false })[0]!, /unlisted video cannot be posted/)
        assert.deepStrictEqual(validateMessages(publisher), [])
        const error = yield* Effect.flip(publisher.publish(request(credentials, "Public", [bytesVideo(Samples.mp4(unit, 1))], { privacyStatus: "public", madeForKids: false })))
        assert.strictEqual(error._tag, "Rejected")
        assert.strictEqual(fake.server.requests.length, 0)
        const ok = yield* publisher.publish(request(credentials, "Private", [bytesVideo(Samples.mp4(unit, 2))]))
        assert.strictEqual(fake.videos.get(ok.platformPostId)!.status.privacyStatus, "private")
      }), { fake: { unaudited: true }, publisher: { unauditedProject: true } }))
})
