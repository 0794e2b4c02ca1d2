/**
 * When a post goes out: an instant, or a wall-clock time in an IANA time zone.
 *
 * Wall-clock schedules are resolved at the time they fire, in their own zone,
 * never in the process's zone. DST is handled by documented rules:
 * - a local time that does not exist (02:30 on a spring-forward day) is an
 *   error by default (`onNonexistent: "reject"`), or moves forward by the
 *   length of the gap (`"shift_forward"`: 02:30 becomes 03:30);
 * - a local time that happens twice (01:30 on a fall-back day) takes the
 *   earlier instant by default (`onAmbiguous: "earlier"`), or the later one.
 */
import { DateTime, Option, Result, Schema } from "effect"

/** `2026-03-29T02:30` or `2026-03-29T02:30:00`: a local date-time with no offset. */
export const LocalDateTime = Schema.String.check(
  Schema.isPattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/, {
    message: "a local date-time looks like 2026-03-29T09:30 (no offset; the zone is separate)"
  })
)

export const AtInstant = Schema.TaggedStruct("instant", {
  /** An ISO 8601 instant with an offset or `Z`. */
  at: Schema.String
})

export const AtLocalTime = Schema.TaggedStruct("local", {
  localTime: LocalDateTime,
  /** IANA zone, such as `Europe/London`. */
  timeZone: Schema.String,
  onNonexistent: Schema.optional(Schema.Literals(["reject", "shift_forward"])),
  onAmbiguous: Schema.optional(Schema.Literals(["earlier", "later"]))
})

export const Schedule = Schema.Union([AtInstant, AtLocalTime])
export type Schedule = typeof Schedule.Type

export type ScheduleError =
  | { readonly _tag: "InvalidInstant"; readonly message: string }
  | { readonly _tag: "UnknownTimeZone"; readonly message: string; readonly timeZone: string }
  | { readonly _tag: "NonexistentLocalTime"; readonly message: string; readonly localTime: string; readonly timeZone: string }

const parseLocalParts = (local: string) => {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/.exec(local)
  if (m === null) return undefined
  return {
    year: Number(m[1]),
    month: Number(m[2]),
    day: Number(m[3]),
    hours: Number(m[4]),
    minutes: Number(m[5]),
    seconds: Number(m[6] ?? 0),
    millis: Number((m[7] ?? "0").padEnd(3, "0"))
  }
}


const formatters = new Map<string, Intl.DateTimeFormat>()
const formatterFor = (timeZone: string) => {
  let f = formatters.get(timeZone)
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit"
    })
    formatters.set(timeZone, f)
  }
  return f
}

/** The zone's UTC offset in milliseconds at an instant, from the platform's own tz database. */
const offsetAt = (timeZone: string, epochMs: number): number => {
  const fields: Record<string, number> = {}
  for (const part of formatterFor(timeZone).formatToParts(new Date(epochMs))) {
    if (part.type !== "literal") fields[part.type] = Number(part.value)
  }
  const wallAsUtc = Date.UTC(fields.year!, fields.month! - 1, fields.day!, fields.hour!, fields.minute!, fields.second!)
  return wallAsUtc - Math.floor(epochMs / 1000) * 1000
}

/**
 * The instant a schedule fires at, or why it has none.
 *
 * @example
 * resolve({ _tag: "local", localTime: "2026-03-29T01:30", timeZone: "Europe/London" })
 * // Result.succeed(2026-03-29T00:30:00Z)
 */
export const resolve = (schedule: Schedule): Result.Result<DateTime.Utc, ScheduleError> => {
  if (schedule._tag === "instant") {
    // An instant must carry its offset: a naive timestamp is exactly the bug we avoid.
    if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(schedule.at)) {
      return Result.fail({ _tag: "InvalidInstant", message: `"${schedule.at}" has no offset; give an ISO 8601 instant such as 2026-03-29T09:30:00Z, or a localTime with a timeZone` })
    }
    const parsed = DateTime.make(schedule.at)
    return Option.isSome(parsed)
      ? Result.succeed(DateTime.toUtc(parsed.value))
      : Result.fail({ _tag: "InvalidInstant", message: `"${schedule.at}" is not an ISO 8601 instant` })
  }
  const zone = DateTime.zoneMakeNamed(schedule.timeZone)
  if (Option.isNone(zone)) {
    return Result.fail({ _tag: "UnknownTimeZone", timeZone: schedule.timeZone, message: `"${schedule.timeZone}" is not an IANA time zone (such as Europe/London)` })
  }
  const parts = parseLocalParts(schedule.localTime)
  if (parts === undefined) {
    return Result.fail({ _tag: "InvalidInstant", message: `"${schedule.localTime}" is not a local date-time such as 2026-03-29T09:30` })
  }
  const wallAsUtc = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hours, parts.minutes, parts.seconds, parts.millis)
  // Offsets a day either side cover any DST change near this wall time.
  const offsetBefore = offsetAt(schedule.timeZone, wallAsUtc - 86_400_000)
  const offsetAfter = offsetAt(schedule.timeZone, wallAsUtc + 86_400_000)
  const candidates = [...new Set([offsetBefore, offsetAfter])]
    .map((offset) => wallAsUtc - offset)
    .filter((instant) => instant + offsetAt(schedule.timeZone, instant) === wallAsUtc)
    .sort((a, b) => a - b)
  if (candidates.length === 0) {
    if ((schedule.onNonexistent ?? "reject") === "reject") {
      return Result.fail({
        _tag: "NonexistentLocalTime",
        localTime: schedule.localTime,
        timeZone: schedule.timeZone,
        message: `${schedule.localTime} does not exist in ${schedule.timeZone} (the clocks skip it for daylight saving time); pick another time or set onNonexistent: "shift_forward"`
      })
    }
    // Shift forward by the gap: read the wall time with the offset in force before the jump.
    return Result.succeed(DateTime.makeUnsafe(wallAsUtc - offsetBefore))
  }
  const chosenMs = (schedule.onAmbiguous ?? "earlier") === "earlier" ? candidates[0]! : candidates[candidates.length - 1]!
  return Result.succeed(DateTime.makeUnsafe(chosenMs))
}
