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
 *
 * Date-times are ISO 8601 (RFC 3339's form) and must name a real moment:
 * `2027-02-30T10:00:00Z` or `24:00` is refused, never rolled over into the
 * next day or month as `Date` would.
 */
import { DateTime, Option, Result, Schema } from "effect"

/** The parts of an ISO 8601 date-time; `offsetMinutes` is undefined when it has no offset. */
export interface DateTimeParts {
  readonly year: number
  readonly month: number
  readonly day: number
  readonly hours: number
  readonly minutes: number
  readonly seconds: number
  readonly millis: number
  readonly offsetMinutes: number | undefined
}

// RFC 3339's shape (ISO 8601's extended date-time): seconds and fraction optional, offset optional.
const dateTimePattern =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/

const monthNames = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December"
]

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0

/** Days in a month of the proleptic Gregorian calendar (`month` 1–12). */
export const daysInMonth = (year: number, month: number): number =>
  month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31

const notIso = (text: string) =>
  `${JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text)} is not an ISO 8601 date-time; give one such as 2026-03-29T09:30:00Z (or a local 2026-03-29T09:30 with a time zone)`

/**
 * Parses an ISO 8601 date-time (RFC 3339's form, the offset optional) and
 * checks that it names a real moment: February 30th, April 31st, 24:00 or
 * minute 60 are refused, never rolled over into the next day or month as
 * `Date` does.
 *
 * @example
 * parseDateTime("2027-02-30T10:00:00Z")
 * // Result.fail("\"2027-02-30T10:00:00Z\" is not a real date-time: February 2027 has 28 days")
 */
export const parseDateTime = (text: string): Result.Result<DateTimeParts, string> => {
  const m = text.length > 40 ? null : dateTimePattern.exec(text)
  if (m === null) return Result.fail(notIso(text))
  const [year, month, day, hours, minutes] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number]
  const seconds = Number(m[6] ?? 0)
  const impossible = (why: string) => Result.fail(`"${text}" is not a real date-time: ${why}`)
  if (month < 1 || month > 12) return impossible(`there is no month ${m[2]}`)
  if (day < 1 || day > daysInMonth(year, month)) {
    return impossible(`${monthNames[month - 1]} ${year} has ${daysInMonth(year, month)} days`)
  }
  if (hours > 23) return impossible("hours go from 00 to 23")
  if (minutes > 59) return impossible("minutes go from 00 to 59")
  if (seconds > 59) return impossible("seconds go from 00 to 59")
  let offsetMinutes: number | undefined
  if (m[8] !== undefined) offsetMinutes = 0
  else if (m[9] !== undefined) {
    const offsetHours = Number(m[10])
    const offsetMins = Number(m[11])
    if (offsetHours > 23 || offsetMins > 59) return impossible("an offset is at most ±23:59")
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMins)
  }
  return Result.succeed({
    year,
    month,
    day,
    hours,
    minutes,
    seconds,
    millis: Number((m[7] ?? "0").slice(0, 3).padEnd(3, "0")),
    offsetMinutes
  })
}

const epochOf = (parts: DateTimeParts) => {
  const date = new Date(0)
  // setUTCFullYear keeps years 0–99 as they are (Date.UTC would read them as 19xx).
  date.setUTCFullYear(parts.year, parts.month - 1, parts.day)
  date.setUTCHours(parts.hours, parts.minutes, parts.seconds, parts.millis)
  return date.getTime()
}

/**
 * An ISO 8601 instant (with `Z` or an offset) as a UTC date-time; impossible
 * dates and strings that are no date-time are refused with a message that
 * says which.
 */
export const parseInstant = (text: string): Result.Result<DateTime.Utc, string> => {
  const parsed = parseDateTime(text)
  if (Result.isFailure(parsed)) return Result.fail(parsed.failure)
  if (parsed.success.offsetMinutes === undefined) {
    return Result.fail(
      `"${text}" has no offset; give an ISO 8601 instant such as 2026-03-29T09:30:00Z, or a localTime with a timeZone`
    )
  }
  return Result.succeed(DateTime.makeUnsafe(epochOf(parsed.success) - parsed.success.offsetMinutes * 60_000))
}

const parseLocal = (text: string): Result.Result<DateTimeParts, string> => {
  const parsed = parseDateTime(text)
  if (Result.isFailure(parsed)) return parsed
  if (parsed.success.offsetMinutes !== undefined) {
    return Result.fail(`"${text}" has an offset; a local date-time has none (the zone is separate), such as 2026-03-29T09:30`)
  }
  return parsed
}

const checked = (parse: (text: string) => Result.Result<unknown, string>, jsonSchema: { readonly [key: string]: string }) =>
  Schema.makeFilter((text: string) => {
    const result = parse(text)
    return Result.isSuccess(result) || result.failure
  }, { toJsonSchema: () => jsonSchema })

/** An ISO 8601 instant with an offset or `Z`, such as `2026-03-29T09:30:00Z`; impossible dates are refused. */
export const Instant = Schema.String.check(checked(parseInstant, { format: "date-time" })).annotate({
  description: "An ISO 8601 instant with an offset or Z, such as 2026-03-29T09:30:00Z"
})

/** `2026-03-29T02:30` or `2026-03-29T02:30:00`: a local date-time with no offset; impossible dates are refused. */
export const LocalDateTime = Schema.String.check(
  checked(parseLocal, { pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d{1,9})?)?$" })
).annotate({ description: "A local date-time with no offset, such as 2026-03-29T09:30 (the zone is separate)" })

export const AtInstant = Schema.TaggedStruct("instant", {
  /** An ISO 8601 instant with an offset or `Z`. */
  at: Instant
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
    const parsed = parseInstant(schedule.at)
    return Result.isSuccess(parsed)
      ? Result.succeed(parsed.success)
      : Result.fail({ _tag: "InvalidInstant", message: parsed.failure })
  }
  const zone = DateTime.zoneMakeNamed(schedule.timeZone)
  if (Option.isNone(zone)) {
    return Result.fail({ _tag: "UnknownTimeZone", timeZone: schedule.timeZone, message: `"${schedule.timeZone}" is not an IANA time zone (such as Europe/London)` })
  }
  const local = parseLocal(schedule.localTime)
  if (Result.isFailure(local)) return Result.fail({ _tag: "InvalidInstant", message: local.failure })
  const wallAsUtc = epochOf(local.success)
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
