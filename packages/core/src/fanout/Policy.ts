/** The retry policy as used: the caller's values checked against the defaults, and in `Backoff`'s terms. */
import type * as Backoff from "../Backoff.js"
import { defaultRetryPolicy, type RetryPolicy } from "./Model.js"

export const resolvePolicy = (retry: Partial<RetryPolicy> | undefined): RetryPolicy => {
  const policy = { ...defaultRetryPolicy, ...retry }
  const finite = (value: number, fallback: number, min: number) =>
    Number.isFinite(value) && value >= min ? value : fallback
  return {
    maxAttempts: Math.floor(finite(policy.maxAttempts, defaultRetryPolicy.maxAttempts, 1)),
    initialDelayMs: finite(policy.initialDelayMs, defaultRetryPolicy.initialDelayMs, 0),
    factor: finite(policy.factor, defaultRetryPolicy.factor, 1),
    maxDelayMs: finite(policy.maxDelayMs, defaultRetryPolicy.maxDelayMs, 0),
    jitter: Math.min(1, finite(policy.jitter, defaultRetryPolicy.jitter, 0)),
    maxWaitMs: finite(policy.maxWaitMs, defaultRetryPolicy.maxWaitMs, 0)
  }
}

/** The fan-out's policy in `Backoff`'s terms. */
export const backoffOf = (policy: RetryPolicy): Backoff.Policy => ({
  baseMs: policy.initialDelayMs,
  maxMs: policy.maxDelayMs,
  factor: policy.factor,
  jitter: policy.jitter
})

