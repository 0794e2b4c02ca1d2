import { assert, describe, it } from "@effect/vitest"
import { DateTime, Result } from "effect"
import { Schedule } from "@omnipost/core"

const at = (schedule: Schedule.Schedule) => {
  const result = Schedule.resolve(schedule)
  return Result.isSuccess(result) ? DateTime.formatIso(result.success) : result.failure._tag
}

describe("Schedule.resolve", () => {
  it("places a summer wall-clock time with the summer offset", () => {
    assert.strictEqual(at({ _tag: "local", localTime: "2026-07-01T09:00", timeZone: "America/New_York" }), "2026-07-01T13:00:00.000Z")
    assert.strictEqual(at({ _tag: "local", localTime: "2026-01-15T09:00", timeZone: "America/New_York" }), "2026-01-15T14:00:00.000Z")
  })

  it("rejects a local time skipped by spring-forward unless asked to shift it", () => {
    // Europe/London skips 01:00-02:00 on 2026-03-29.
    assert.strictEqual(at({ _tag: "local", localTime: "2026-03-29T01:30", timeZone: "Europe/London" }), "NonexistentLocalTime")
    assert.strictEqual(
      at({ _tag: "local", localTime: "2026-03-29T01:30", timeZone: "Europe/London", onNonexistent: "shift_forward" }),
      "2026-03-29T01:30:00.000Z" // 02:30 BST
    )
    assert.strictEqual(at({ _tag: "local", localTime: "2026-03-29T02:30", timeZone: "Europe/London" }), "2026-03-29T01:30:00.000Z")
  })

  it("takes the earlier instant of a repeated fall-back time by default", () => {
    // Europe/London repeats 01:00-02:00 on 2026-10-25.
    assert.strictEqual(at({ _tag: "local", localTime: "2026-10-25T01:30", timeZone: "Europe/London" }), "2026-10-25T00:30:00.000Z")
    assert.strictEqual(
      at({ _tag: "local", localTime: "2026-10-25T01:30", timeZone: "Europe/London", onAmbiguous: "later" }),
      "2026-10-25T01:30:00.000Z"
    )
  })

  it("refuses unknown zones and instants without an offset", () => {
    assert.strictEqual(at({ _tag: "local", localTime: "2026-07-01T09:00", timeZone: "Mars/Olympus" }), "UnknownTimeZone")
    assert.strictEqual(at({ _tag: "instant", at: "2026-07-01T09:00" }), "InvalidInstant")
    assert.strictEqual(at({ _tag: "instant", at: "2026-07-01T09:00+02:00" }), "2026-07-01T07:00:00.000Z")
  })
})
