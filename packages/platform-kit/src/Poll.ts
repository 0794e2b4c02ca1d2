/**
 * Waiting for a platform to finish a job: a video's processing (X, Bluesky,
 * Facebook), a media container (Instagram, Threads), a publish (TikTok).
 * Written once, on Effect `Schedule`: check, and while the check says
 * `pending`, wait and check again, until it says `done`, the checks run out
 * or the time is up; running out becomes the caller's own error (each
 * platform knows whether that means nothing was published or an unknown
 * outcome).
 *
 * @example
 * Poll.until(statusOf(jobId), { interval: "1 second", factor: 1.5, maxInterval: "10 seconds", timeout: "5 minutes" }, () =>
 *   new PublishError.Transient({ platform, message: "still processing" }))
 */
import { Duration, Effect, Schedule } from "effect"

/** What one check found: the job is over (`done`, with its result) or not yet (`pending`). */
export type Check<A> = Done<A> | Pending

export interface Done<A> {
  readonly _tag: "Done"
  readonly value: A
}

export interface Pending {
  readonly _tag: "Pending"
  /** The platform's own word on when to ask again (X's `check_after_secs`); else the policy's wait. */
  readonly after?: Duration.Duration | undefined
}

export const done = <A>(value: A): Check<A> => ({ _tag: "Done", value })

export const pending = (after?: Duration.Input): Check<never> =>
  after === undefined ? { _tag: "Pending" } : { _tag: "Pending", after: Duration.fromInputUnsafe(after) }

/** How long and how often to wait. */
export interface Policy {
  /** The first wait, and every wait when `factor` is 1. */
  readonly interval: Duration.Input
  /** Each wait is the one before times this. Default 1 (a fixed interval). */
  readonly factor?: number | undefined
  /** The longest wait, when `factor` grows them. */
  readonly maxInterval?: Duration.Input | undefined
  /** Checks in all, the first one included. */
  readonly maxChecks?: number | undefined
  /** Time in all; a check still running then is interrupted (checks only read). */
  readonly timeout?: Duration.Input | undefined
}

/** Why the polling stopped without a result: the checks or the time ran out. */
export interface Exhausted {
  readonly reason: "checks" | "timeout"
  /** Checks made. */
  readonly checks: number
}

/** The waits between checks: fixed or growing, capped, bounded in number; a `pending(after)` hint is a floor. */
export const schedule = (policy: Policy): Schedule.Schedule<unknown, Check<unknown>> => {
  const factor = policy.factor ?? 1
  const base: Schedule.Schedule<unknown> = factor === 1 ? Schedule.spaced(policy.interval) : Schedule.exponential(policy.interval, factor)
  const cap = policy.maxInterval === undefined ? undefined : Duration.fromInputUnsafe(policy.maxInterval)
  return Schedule.setInputType<Check<unknown>>()(base).pipe(
    Schedule.modifyDelay(({ duration, input }) => {
      const capped = cap === undefined ? duration : Duration.min(duration, cap)
      return Effect.succeed(input._tag === "Pending" && input.after !== undefined ? Duration.max(capped, input.after) : capped)
    }),
    Schedule.upTo({ times: policy.maxChecks === undefined ? undefined : Math.max(0, policy.maxChecks - 1) })
  )
}

/**
 * Runs `check` until it is `done`, waiting as `policy` says between checks;
 * `exhausted` makes the error when the checks or the time run out. A failed
 * check ends the polling with its error: a check that should ride out some
 * errors maps them to `pending` itself.
 */
export const until = <A, E, R, E2>(
  check: Effect.Effect<Check<A>, E, R>,
  policy: Policy,
  exhausted: (why: Exhausted) => E2
): Effect.Effect<A, E | E2, R> =>
  Effect.suspend(() => {
    let checks = 0
    const counted = Effect.tap(check, () => Effect.sync(() => void checks++))
    const polled = Effect.repeat(counted, {
      schedule: schedule(policy),
      until: (found: Check<A>) => found._tag === "Done"
    }).pipe(
      Effect.flatMap((last) =>
        last._tag === "Done" ? Effect.succeed(last.value) : Effect.fail(exhausted({ reason: "checks", checks }))
      )
    )
    return policy.timeout === undefined ? polled : polled.pipe(Effect.timeoutOrElse({
      duration: policy.timeout,
      orElse: () => Effect.fail(exhausted({ reason: "timeout", checks }))
    }))
  })
