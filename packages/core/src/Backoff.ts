/**
 * The one retry-delay computation: exponential growth, full jitter, a cap
 * that bounds the draw instead of clipping it, and a platform's retry-after
 * honoured as a floor. The fan-out, the worker's scheduler, its webhook
 * deliveries and the platform packages all wait with it.
 *
 * The delay before retry `n` (0 for the first retry) is drawn uniformly in
 * `[ceiling · (1 − jitter), ceiling)` where `ceiling = min(maxMs, baseMs · factor^n)`,
 * then raised to the retry-after when there is one. Because the cap bounds the
 * range the draw is taken from, and is not applied to a value already drawn,
 * retries that have reached the cap still spread over the whole range: none
 * pile onto the cap (clipping `ceiling · (1 ± x)` at the cap sends half the
 * draws to exactly the cap, so clients failing together return together).
 *
 * `random` is in `[0, 1)`, from Effect's `Random` so that tests control it.
 *
 * @example
 * const policy = { baseMs: 1_000, maxMs: 60_000 }
 * Backoff.delayMs(policy, 0, 0.5)                       // 500: in [0, 1 s)
 * Backoff.delayMs(policy, 10, 0.5)                      // 30_000: in [0, 60 s), the cap bounds the range
 * Backoff.delayMs(policy, 0, 0.5, { retryAfterMs: 5_000 }) // 5_000: never before the platform said
 */
import type * as PublishError from "./PublishError.js"

export interface Policy {
  /** The ceiling of the first retry's delay (the draw is below it). */
  readonly baseMs: number
  /** The ceiling never grows past this (a retry-after may). */
  readonly maxMs: number
  /** Growth of the ceiling per retry. Default 2. */
  readonly factor?: number | undefined
  /**
   * The part of the ceiling that is drawn at random, 0..1. Default 1 (full
   * jitter: anywhere in `[0, ceiling)`). 0 waits exactly the ceiling, for tests
   * that want fixed delays.
   */
  readonly jitter?: number | undefined
}

const finiteOr = (value: number | undefined, fallback: number, min: number): number =>
  value !== undefined && Number.isFinite(value) && value >= min ? value : fallback

/** The upper bound of retry `retryIndex`'s delay, before any retry-after: `min(maxMs, baseMs · factor^retryIndex)`. */
export const ceilingMs = (policy: Policy, retryIndex: number): number => {
  const base = finiteOr(policy.baseMs, 0, 0)
  // An infinite cap would make infinite delays: a cap must be finite (else 0).
  const max = finiteOr(policy.maxMs, 0, 0)
  const factor = finiteOr(policy.factor, 2, 1)
  const index = Math.max(0, Math.floor(finiteOr(retryIndex, 0, 0)))
  // factor^index overflows to Infinity for large indices; min() then gives the
  // cap (0 · Infinity would be NaN, hence the zero base apart).
  return base === 0 ? 0 : Math.min(max, base * factor ** index)
}

/**
 * Milliseconds to wait before retry `retryIndex` (0 for the first retry):
 * uniform in `[ceiling · (1 − jitter), ceiling)`, at least `retryAfterMs`.
 * Always a finite, non-negative integer.
 */
export const delayMs = (
  policy: Policy,
  retryIndex: number,
  random: number,
  options?: { readonly retryAfterMs?: number | undefined }
): number => {
  const ceiling = ceilingMs(policy, retryIndex)
  const jitter = Math.min(1, finiteOr(policy.jitter, 1, 0))
  const r = Math.min(Math.max(Number.isFinite(random) ? random : 0, 0), 1)
  const drawn = Math.floor(ceiling * (1 - jitter) + ceiling * jitter * r)
  const after = options?.retryAfterMs
  const floor = after !== undefined && Number.isFinite(after) && after > 0 ? Math.ceil(after) : 0
  // A draw of exactly 1 (outside Random's range) stays below the ceiling when there is jitter.
  return Math.max(jitter > 0 && ceiling > 0 ? Math.min(drawn, Math.ceil(ceiling) - 1) : drawn, floor)
}

/**
 * The wait a publish error demands before the next attempt: for a
 * `RateLimited` error, its `retryAfterSeconds` or the time until its
 * `resetAt`, whichever is later; `undefined` when it says nothing (and for
 * every other error).
 */
export const retryAfterMs = (error: PublishError.PublishError, nowMs: number): number | undefined => {
  if (error._tag !== "RateLimited") return undefined
  const after = error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1000
  const reset = error.resetAt === undefined ? undefined : Date.parse(error.resetAt) - nowMs
  const candidates = [after, reset].filter((ms): ms is number => ms !== undefined && Number.isFinite(ms))
  return candidates.length === 0 ? undefined : Math.max(0, Math.ceil(Math.max(...candidates)))
}

/** `delayMs` for a failed publish: the error's retry-after (`retryAfterMs`) is the floor. */
export const delayForErrorMs = (
  policy: Policy,
  retryIndex: number,
  error: PublishError.PublishError,
  nowMs: number,
  random: number
): number => delayMs(policy, retryIndex, random, { retryAfterMs: retryAfterMs(error, nowMs) })
