/**
 * The scheduler's settings: `SchedulerOptions` with every default filled in
 * (`resolve`, what `Scheduler.layer` runs with), and the same settings read
 * from configuration (`fromConfig`: one `OMNIPOST_WORKER_*` variable each,
 * what `omnipost serve`, `serve --worker-only` and `WorkerMain` run with).
 *
 * Configuration is checked before anything starts: a value that is not a whole
 * number, out of its range, or at odds with another setting (a lease shorter
 * than the heartbeat, a backoff cap under its base) is an `InvalidSetting`
 * whose message is one line naming the variable, the value and what is
 * accepted. The worker README's scheduler settings table lists each one with
 * its default and what it trades.
 *
 * @example
 * ```ts
 * // OMNIPOST_WORKER_LEASE_MS=60000 OMNIPOST_WORKER_CONCURRENCY=32
 * const scheduler = Scheduler.layerConfig // Scheduler.layer(yield* SchedulerSettings.fromConfig)
 * ```
 */
import { Config, Data, Effect, Option, Runtime } from "effect"
import type { Backoff } from "@omnipost/core"
import { longestPollMs } from "../storage/StoredPost.js"
import type { SchedulerOptions } from "./Scheduler.js"

/** `SchedulerOptions` with every default applied (see the options' documentation). */
export interface SchedulerSettings {
  /** Unset: a new `wrk_…` id per start. */
  readonly workerId: string | undefined
  readonly concurrency: number
  /** One bound for every platform, or per platform id (others: `concurrency`). */
  readonly perPlatform: number | Readonly<Record<string, number>>
  readonly perAccount: number
  readonly batchSize: number
  readonly prefetchMs: number
  readonly prefetchLimit: number
  readonly markAheadMs: number
  readonly leaseMs: number
  readonly pollMs: number
  readonly heartbeatMs: number
  readonly maxAutoRetries: number
  readonly backoff: Backoff.Policy
  readonly settleHoldMs: number
  readonly shutdownGraceMs: number
}

export const defaults = {
  concurrency: 16,
  perAccount: 4,
  prefetchMs: 1_000,
  prefetchLimit: 4_096,
  markAheadMs: 20,
  leaseMs: 30_000,
  pollMs: 5_000,
  heartbeatMs: 5_000,
  maxAutoRetries: 5,
  backoff: { baseMs: 2_000, maxMs: 15 * 60_000 } satisfies Backoff.Policy,
  settleHoldMs: 250,
  shutdownGraceMs: 10_000
} as const

/**
 * The options with their defaults: what a scheduler runs with. Code may pass
 * anything (tests use tiny or huge values); counts are kept at their minimum.
 */
export const resolve = (options: SchedulerOptions = {}): SchedulerSettings => {
  const concurrency = Math.max(1, options.concurrency ?? defaults.concurrency)
  return {
    workerId: options.workerId,
    concurrency,
    perPlatform: options.perPlatform ?? concurrency,
    perAccount: Math.max(1, options.perAccount ?? defaults.perAccount),
    batchSize: Math.max(1, options.batchSize ?? 4 * concurrency),
    prefetchMs: Math.max(0, options.prefetchMs ?? defaults.prefetchMs),
    prefetchLimit: Math.max(0, options.prefetchLimit ?? defaults.prefetchLimit),
    markAheadMs: Math.max(0, options.markAheadMs ?? defaults.markAheadMs),
    leaseMs: options.leaseMs ?? defaults.leaseMs,
    // At most a day: the API does not announce work due further ahead (`announceWithinMs`), trusting every
    // scheduler to look at least that often (and timers past 2^31 ms would fire at once).
    pollMs: Math.min(longestPollMs, options.pollMs ?? defaults.pollMs),
    heartbeatMs: options.heartbeatMs ?? defaults.heartbeatMs,
    maxAutoRetries: options.maxAutoRetries ?? defaults.maxAutoRetries,
    backoff: options.backoff ?? defaults.backoff,
    settleHoldMs: options.settleHoldMs ?? defaults.settleHoldMs,
    shutdownGraceMs: options.shutdownGraceMs ?? defaults.shutdownGraceMs
  }
}

/**
 * A setting refused at startup; `message` is one line naming the variable,
 * its value and what is accepted. Entry points print that line themselves
 * (`omnipost serve` does), so the runtime does not log it again with a stack.
 */
export class InvalidSetting extends Data.TaggedError("InvalidSetting")<{
  readonly variable: string
  readonly value: string
  readonly message: string
}> {
  override readonly [Runtime.errorReported] = false
}

/** A day: the longest duration any setting takes (timers past 2^31 ms would fire at once). */
const day = 86_400_000

/**
 * Each variable, its option and its accepted range (whole numbers only).
 * The README's table has one row per variable; a test keeps them together.
 */
export const variables = {
  concurrency: { variable: "OMNIPOST_WORKER_CONCURRENCY", min: 1, max: 1_000 },
  perAccount: { variable: "OMNIPOST_WORKER_PER_ACCOUNT", min: 1, max: 1_000 },
  batchSize: { variable: "OMNIPOST_WORKER_BATCH_SIZE", min: 1, max: 10_000 },
  prefetchMs: { variable: "OMNIPOST_WORKER_PREFETCH_MS", min: 0, max: 60_000 },
  prefetchLimit: { variable: "OMNIPOST_WORKER_PREFETCH_LIMIT", min: 0, max: 100_000 },
  markAheadMs: { variable: "OMNIPOST_WORKER_MARK_AHEAD_MS", min: 0, max: 10_000 },
  leaseMs: { variable: "OMNIPOST_WORKER_LEASE_MS", min: 1_000, max: day },
  pollMs: { variable: "OMNIPOST_WORKER_POLL_MS", min: 50, max: longestPollMs },
  heartbeatMs: { variable: "OMNIPOST_WORKER_HEARTBEAT_MS", min: 100, max: 3_600_000 },
  maxAutoRetries: { variable: "OMNIPOST_WORKER_MAX_AUTO_RETRIES", min: 0, max: 100 },
  backoffBaseMs: { variable: "OMNIPOST_WORKER_BACKOFF_BASE_MS", min: 100, max: day },
  backoffMaxMs: { variable: "OMNIPOST_WORKER_BACKOFF_MAX_MS", min: 100, max: day },
  settleHoldMs: { variable: "OMNIPOST_WORKER_SETTLE_HOLD_MS", min: 0, max: 10_000 },
  shutdownGraceMs: { variable: "OMNIPOST_WORKER_SHUTDOWN_GRACE_MS", min: 0, max: 3_600_000 }
} as const

/** The two variables that are not whole numbers. */
export const workerIdVariable = "OMNIPOST_WORKER_ID"
export const perPlatformVariable = "OMNIPOST_WORKER_PER_PLATFORM"

/** Every variable `fromConfig` reads. */
export const variableNames: ReadonlyArray<string> = [
  workerIdVariable,
  perPlatformVariable,
  ...Object.values(variables).map((v) => v.variable)
]

const invalid = (variable: string, value: string, accepted: string) =>
  new InvalidSetting({
    variable,
    value,
    message: `${variable}=${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} is refused: ${accepted}`
  })

const wholeNumber = /^[0-9]{1,12}$/

/** A whole number within its range, or a refusal. */
export const parseWhole = (
  variable: string,
  raw: string,
  range: { readonly min: number; readonly max: number }
): Effect.Effect<number, InvalidSetting> => {
  const value = raw.trim()
  const n = wholeNumber.test(value) ? Number(value) : Number.NaN
  return Number.isSafeInteger(n) && n >= range.min && n <= range.max
    ? Effect.succeed(n)
    : Effect.fail(invalid(variable, raw, `expected a whole number from ${range.min} to ${range.max}`))
}

const platformId = /^[a-z0-9][a-z0-9_-]{0,63}$/

/** `8`, or `x=2,bluesky=8` (per platform id; other platforms get `concurrency`). */
export const parsePerPlatform = (raw: string): Effect.Effect<number | Readonly<Record<string, number>>, InvalidSetting> => {
  const value = raw.trim()
  const range = { min: 1, max: 1_000 }
  if (wholeNumber.test(value)) return parseWhole(perPlatformVariable, raw, range)
  const accepted = `expected a whole number from 1 to 1000, or platform=number pairs separated by commas (x=2,bluesky=8)`
  const entries = value.split(",").map((entry) => entry.trim())
  if (entries.length > 64) return Effect.fail(invalid(perPlatformVariable, raw, accepted))
  const limits: Record<string, number> = {}
  for (const entry of entries) {
    const match = /^([^=\s]+)\s*=\s*([0-9]{1,12})$/.exec(entry)
    const n = match === null ? Number.NaN : Number(match[2])
    if (match === null || !platformId.test(match[1]!) || n < range.min || n > range.max || match[1]! in limits) {
      return Effect.fail(invalid(perPlatformVariable, raw, accepted))
    }
    limits[match[1]!] = n
  }
  return Effect.succeed(limits)
}

/** The checks between settings, on resolved values: the first failing one, if any. */
export const check = (settings: SchedulerSettings): InvalidSetting | undefined => {
  if (settings.leaseMs < settings.heartbeatMs) {
    return invalid(
      variables.leaseMs.variable,
      String(settings.leaseMs),
      `a lease must be at least the heartbeat interval, ${variables.heartbeatMs.variable}=${settings.heartbeatMs} (a worker's claims would expire while it still counts as alive)`
    )
  }
  if (settings.backoff.maxMs < settings.backoff.baseMs) {
    return invalid(
      variables.backoffMaxMs.variable,
      String(settings.backoff.maxMs),
      `the backoff cap must be at least its base, ${variables.backoffBaseMs.variable}=${settings.backoff.baseMs}`
    )
  }
  return undefined
}

/**
 * A scheduler beside `/readyz`: its heartbeat must come more often than the
 * API's staleness limit (`OMNIPOST_HEARTBEAT_STALE_SECONDS`), or a live
 * scheduler would be reported dead between two heartbeats.
 */
export const checkReadiness = (settings: SchedulerSettings, heartbeatStaleSeconds: number): InvalidSetting | undefined =>
  settings.heartbeatMs < heartbeatStaleSeconds * 1000
    ? undefined
    : invalid(
      variables.heartbeatMs.variable,
      String(settings.heartbeatMs),
      `the heartbeat must come more often than OMNIPOST_HEARTBEAT_STALE_SECONDS=${heartbeatStaleSeconds} (${heartbeatStaleSeconds * 1000} ms), or /readyz reports a live scheduler dead`
    )

/**
 * The scheduler's options from configuration, every value checked: unset
 * variables keep their defaults, anything else must be valid (an
 * `InvalidSetting` otherwise). Returns the resolved settings.
 */
export const fromConfig: Effect.Effect<SchedulerSettings, InvalidSetting | Config.ConfigError> = Effect.gen(function*() {
  const read = (variable: string) =>
    Config.option(Config.String(variable)).pipe(
      Effect.map(Option.filter((value) => value.trim() !== ""))
    )
  const whole = Effect.fnUntraced(function*(key: keyof typeof variables) {
    const spec = variables[key]
    const raw = yield* read(spec.variable)
    return Option.isSome(raw) ? yield* parseWhole(spec.variable, raw.value, spec) : undefined
  })
  const workerIdRaw = yield* read(workerIdVariable)
  const workerId = Option.getOrUndefined(workerIdRaw)?.trim()
  if (workerId !== undefined && !/^[A-Za-z0-9_.:-]{1,64}$/.test(workerId)) {
    return yield* invalid(workerIdVariable, workerId, "expected 1 to 64 letters, digits, or _ . : -")
  }
  const perPlatformRaw = yield* read(perPlatformVariable)
  const perPlatform = Option.isSome(perPlatformRaw) ? yield* parsePerPlatform(perPlatformRaw.value) : undefined
  const backoffBaseMs = yield* whole("backoffBaseMs")
  const backoffMaxMs = yield* whole("backoffMaxMs")
  const settings = resolve({
    workerId,
    concurrency: yield* whole("concurrency"),
    perPlatform,
    perAccount: yield* whole("perAccount"),
    batchSize: yield* whole("batchSize"),
    prefetchMs: yield* whole("prefetchMs"),
    prefetchLimit: yield* whole("prefetchLimit"),
    markAheadMs: yield* whole("markAheadMs"),
    leaseMs: yield* whole("leaseMs"),
    pollMs: yield* whole("pollMs"),
    heartbeatMs: yield* whole("heartbeatMs"),
    maxAutoRetries: yield* whole("maxAutoRetries"),
    backoff: {
      baseMs: backoffBaseMs ?? defaults.backoff.baseMs,
      maxMs: backoffMaxMs ?? defaults.backoff.maxMs
    },
    settleHoldMs: yield* whole("settleHoldMs"),
    shutdownGraceMs: yield* whole("shutdownGraceMs")
  })
  const problem = check(settings)
  if (problem !== undefined) return yield* problem
  return settings
})
