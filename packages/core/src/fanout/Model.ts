/** What the fan-out takes and gives: retry policy and options, its events, and its outcome (plain data: the Promise facade returns them as they are). */
import type { Effect } from "effect"
import type { CommentResult, DestinationError, DestinationStatus, Post, PostStatus } from "../Post.js"
import type { PublishedPart } from "../Publisher.js"

export interface RetryPolicy {
  /** Attempts per destination in one publish call, the first included. */
  readonly maxAttempts: number
  /** Backoff before the second attempt; it grows by `factor` per attempt. */
  readonly initialDelayMs: number
  readonly factor: number
  /** Cap of the exponential backoff (a platform's Retry-After is not capped). */
  readonly maxDelayMs: number
  /**
   * The part of the backoff drawn at random, 0..1 (`Backoff.Policy.jitter`): 1, full jitter, waits
   * anywhere below the backoff; 0 waits exactly the backoff.
   */
  readonly jitter: number
  /**
   * The longest wait the fan-out sleeps through. A longer Retry-After ends
   * the destination as failed with `nextRetryAt`, for a scheduler to retry.
   */
  readonly maxWaitMs: number
}

/**
 * Defaults: 4 attempts, a backoff of 1 s doubling to at most 60 s with full
 * jitter (the wait is drawn below it, see `Backoff`), and a
 * rate-limit wait of at most 15 minutes in process (X's rate-limit windows
 * are 15 minutes, see shared/docs/platform-specs.md).
 */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 4,
  initialDelayMs: 1_000,
  factor: 2,
  maxDelayMs: 60_000,
  jitter: 1,
  maxWaitMs: 15 * 60_000
}

/** Default bound on platform calls in flight at once, across the post's destinations. */
export const defaultConcurrency = 4

export interface PublishOptions {
  /** Platform calls in flight at once (a destination waiting for a retry does not hold a slot). */
  readonly concurrency?: number | undefined
  readonly retry?: Partial<RetryPolicy> | undefined
  /** Called for every event, in order per destination. Its failures are not the fan-out's. */
  readonly onEvent?: ((event: PublishEvent) => Effect.Effect<void>) | undefined
}

interface EventBase {
  readonly postId: string
  readonly destinationId: string
  readonly platform: string
  readonly accountId: string
  /** ISO 8601, from `Clock`. */
  readonly at: string
}

export type PublishEvent =
  | EventBase & { readonly _tag: "AttemptStarted"; readonly attempt: number; readonly attemptId: string }
  | EventBase & {
    readonly _tag: "AttemptFailed"
    readonly attempt: number
    readonly attemptId: string
    readonly error: DestinationError
    /** When the next attempt starts; absent when there will be none in this call. */
    readonly retryAt?: string | undefined
  }
  | EventBase & { readonly _tag: "CredentialsRefreshed" }
  | EventBase & {
    readonly _tag: "Published"
    readonly attempt: number
    readonly platformPostId: string
    readonly url: string
  }
  | EventBase & {
    readonly _tag: "Failed"
    readonly error: DestinationError
    /** Attempts made for this destination so far, over all publish calls. */
    readonly attempts: number
    /** Set when the platform asked for a wait longer than `maxWaitMs`. */
    readonly nextRetryAt?: string | undefined
  }
  | EventBase & {
    /** A first comment call ended: its state now (`pending` again when it will be retried). */
    readonly _tag: "CommentSettled"
    readonly comment: CommentResult
  }

/** One call to the platform. */
export interface AttemptRecord {
  readonly attempt: number
  readonly attemptId: string
  readonly startedAt: string
  readonly finishedAt: string
  readonly durationMs: number
  readonly outcome: "published" | "failed"
  readonly error?: DestinationError | undefined
  /** When the next attempt was scheduled, if one was. */
  readonly retryAt?: string | undefined
}

export interface DestinationOutcome {
  readonly destinationId: string
  readonly platform: string
  readonly accountId: string
  readonly status: DestinationStatus
  /** The attempts of this publish call (earlier calls' attempts are counted in `post`). */
  readonly attempts: ReadonlyArray<AttemptRecord>
  readonly platformPostId?: string | undefined
  readonly url?: string | undefined
  readonly publishedAt?: string | undefined
  /** Every published part of a thread, the first included. */
  readonly parts?: ReadonlyArray<PublishedPart> | undefined
  readonly lastError?: DestinationError | undefined
  readonly nextRetryAt?: string | undefined
  /** The first comment's result, when the destination has one. */
  readonly comment?: CommentResult | undefined
}

export interface PublishOutcome {
  readonly postId: string
  readonly status: PostStatus
  /** The post with its destinations' new statuses, attempt counts, ids, URLs and errors. */
  readonly post: Post
  /** Every destination, in the post's order; those not queued are reported as they were. */
  readonly destinations: ReadonlyArray<DestinationOutcome>
}

