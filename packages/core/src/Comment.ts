/**
 * The first comment: posted under a destination's published post, after it,
 * and never able to fail or re-post the post. One decision for every host
 * (the fan-out here, the worker's scheduler): what a comment call's answer
 * means for the comment (`settle`), and how a comment call is made (`call`:
 * a publisher that throws may have sent its request, so a defect is an
 * unknown outcome, never retried).
 *
 * - A destination gets a comment when its resolved content has one
 *   (`Post.resolveDestination(...).comment`) and it is published.
 * - The comment's result lives beside the destination's (`Post.CommentResult`):
 *   `pending` → `published`, or `failed`, or `unknown`; the destination stays
 *   `published` whatever happens to its comment.
 * - A retryable failure (rate limit, transient) leaves it `pending` with
 *   `nextAttemptAt`, while attempts remain: the comment alone is tried again,
 *   the post is never published again for it.
 * - An unknown outcome (sent, no answer) is `unknown`: never posted again
 *   automatically, as for posts.
 *
 * @example
 * import { Comment } from "@omnipost/core"
 * const next = Comment.settle(current, Result.fail(error), { maxAttempts: 4, now, delayMs: 2_000 })
 */
import { Effect, Result } from "effect"
import type { CommentResult, DestinationError } from "./Post.js"
import type { CommentRequest, CommentResult as PostedComment, PlatformPublisher } from "./Publisher.js"
import * as PublishError from "./PublishError.js"

/** A comment not posted yet. */
export const pending: CommentResult = { status: "pending", attempts: 0 }

/** Whether a comment in this state may still be posted (a call may be made for it). */
export const isPending = (comment: CommentResult | undefined): boolean => comment?.status === "pending"

/**
 * One comment call. No `comment` capability is a `Rejected` (validation
 * refuses such a comment first, so this is a host's mistake, not a platform's
 * answer); a defect is an `OutcomeUnknown`.
 */
export const call = (
  publisher: PlatformPublisher,
  request: CommentRequest
): Effect.Effect<Result.Result<PostedComment, PublishError.PublishError>> => {
  const comment = publisher.comment
  if (comment === undefined) {
    return Effect.succeed(Result.fail(
      new PublishError.Rejected({
        platform: publisher.platform,
        code: "COMMENT_NOT_SUPPORTED",
        message: `the ${publisher.displayName} publisher cannot post a first comment`
      })
    ))
  }
  return Effect.suspend(() => comment(request)).pipe(
    Effect.catchDefect((defect) =>
      Effect.fail(
        new PublishError.OutcomeUnknown({
          platform: publisher.platform,
          message: `the ${publisher.displayName} publisher crashed posting the first comment (${
            defect instanceof Error ? defect.message : String(defect)
          }); the comment may or may not have been posted`
        })
      )
    ),
    Effect.result
  )
}

/** What a settled comment call means: the comment's next state, and whether (and when) to call again. */
export interface Settled {
  readonly comment: CommentResult
  /** Epoch ms of the next attempt; absent when the comment is done (published, failed or unknown). */
  readonly retryAt?: number | undefined
}

/**
 * The comment's state after one call. `attempts` counts this call;
 * `delayMs` is the wait before another (a retryable error's backoff, its
 * Retry-After as the floor: see `Backoff.delayForErrorMs`), used while
 * `attempts < maxAttempts`.
 */
export const settle = (
  before: CommentResult,
  result: Result.Result<PostedComment, PublishError.PublishError>,
  options: { readonly maxAttempts: number; readonly now: number; readonly delayMs: number }
): Settled => {
  const attempts = before.attempts + 1
  if (Result.isSuccess(result)) {
    return {
      comment: {
        status: "published",
        attempts,
        platformCommentId: result.success.platformCommentId,
        url: result.success.url,
        postedAt: result.success.postedAt
      }
    }
  }
  const error: DestinationError = PublishError.toDestinationError(result.failure)
  if (result.failure._tag === "OutcomeUnknown") return { comment: { status: "unknown", attempts, error } }
  if (PublishError.isRetryable(result.failure) && attempts < options.maxAttempts) {
    const retryAt = options.now + Math.max(0, options.delayMs)
    return { comment: { status: "pending", attempts, error, nextAttemptAt: new Date(retryAt).toISOString() }, retryAt }
  }
  return { comment: { status: "failed", attempts, error } }
}

/** A comment whose call was sent by a host that stopped before the answer: unknown, never posted again. */
export const lost = (before: CommentResult, message: string): CommentResult => ({
  status: "unknown",
  attempts: before.attempts,
  error: { code: "OUTCOME_UNKNOWN", message, retryable: false }
})
