import { assert, describe, it } from "@effect/vitest"
import { DateTime, Result, Schema } from "effect"
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

describe("Schedule: impossible and malformed date-times", () => {
  const message = (schedule: Schedule.Schedule) => {
    const result = Schedule.resolve(schedule)
    return Result.isFailure(result) ? result.failure.message : "resolved"
  }
  const decodes = (schedule: unknown) => Result.isSuccess(Schema.decodeUnknownResult(Schedule.Schedule)(schedule))

  const impossibleInstants = [
    "2027-02-30T10:00:00Z",
    "2027-04-31T10:00:00+02:00",
    "2027-02-29T10:00:00Z", // 2027 is not a leap year
    "2100-02-29T10:00:00Z", // nor is 2100
    "2027-13-01T10:00:00Z",
    "2027-00-10T10:00:00Z",
    "2027-01-00T10:00:00Z",
    "2027-01-10T24:00:00Z",
    "2027-01-10T10:60:00Z",
    "2027-01-10T10:00:60Z",
    "2027-01-10T10:00:00+24:00",
    "2027-01-10T10:00:00+02:60"
  ]
  it.each(impossibleInstants)("refuses the instant %s instead of rolling it over", (at) => {
    assert.strictEqual(Schedule.resolve({ _tag: "instant", at })._tag, "Failure")
    assert.include(message({ _tag: "instant", at }), "is not a real date-time")
    assert.isFalse(decodes({ _tag: "instant", at }))
    assert.isFalse(Result.isSuccess(Schedule.parseInstant(at)))
  })

  it.each(["2027-02-30T10:00", "2027-04-31T09:30:00", "2027-02-29T10:00", "2027-06-01T25:00"])(
    "refuses the wall-clock time %s",
    (localTime) => {
      const schedule = { _tag: "local", localTime, timeZone: "Europe/London" } as const
      assert.include(message(schedule), "is not a real date-time")
      assert.isFalse(decodes(schedule))
    }
  )

  it("accepts the real edges: leap days, the last day of each month, 23:59:59", () => {
    assert.strictEqual(at({ _tag: "instant", at: "2028-02-29T10:00:00Z" }), "2028-02-29T10:00:00.000Z")
    assert.strictEqual(at({ _tag: "instant", at: "2000-02-29T10:00:00Z" }), "2000-02-29T10:00:00.000Z")
    assert.strictEqual(at({ _tag: "instant", at: "2027-04-30T23:59:59.999+02:00" }), "2027-04-30T21:59:59.999Z")
    assert.strictEqual(at({ _tag: "instant", at: "2027-12-31T23:59:59Z" }), "2027-12-31T23:59:59.000Z")
    assert.strictEqual(at({ _tag: "local", localTime: "2028-02-29T09:00", timeZone: "Europe/London" }), "2028-02-29T09:00:00.000Z")
    assert.isTrue(decodes({ _tag: "instant", at: "2028-02-29T10:00:00Z" }))
    assert.isTrue(decodes({ _tag: "local", localTime: "2028-02-29T09:00", timeZone: "Europe/London" }))
  })

  it("says a string that is no date-time at all is not ISO 8601 (not that it lacks an offset)", () => {
    for (const at of ["next tuesday", "", "1700000000", "2026-12-15", "tomorrow 9am", "2026-12-15 14:00:00Z junk"]) {
      const text = message({ _tag: "instant", at })
      assert.include(text, "is not an ISO 8601 date-time", at)
      assert.notInclude(text, "has no offset", at)
      assert.isFalse(decodes({ _tag: "instant", at }), at)
    }
    // A date-time without an offset is still told apart.
    assert.include(message({ _tag: "instant", at: "2026-12-15T14:00:00" }), "has no offset")
  })
})
