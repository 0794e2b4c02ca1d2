/**
 * First comments: a loop beside the scheduler's that posts the pending
 * comments of published destinations (claimed and marked sent in one
 * statement, `Leases.claimComments`), each through core's `Comment.call`,
 * its outcome decided by `Comment.settle` (published; pending again with a
 * backoff while the error is retryable and retries remain; failed; unknown)
 * and written under its attempt only. The destination and its post are never
 * touched: a comment cannot fail or re-post them.
 *
 * It wakes when this process settles a publication, when a retry falls due,
 * and at least every `pollMs`. A comment whose call was out when its worker
 * stopped is settled `unknown` by whoever claims it next, never posted again.
 */
import { Backoff, Comment, type Post, type Publisher, PublishError } from "@omnipost/core"
import { Clock, Effect, Queue, Random, Result } from "effect"
import type { ClaimedComment } from "../storage/leases/Comments.js"
import { shownComment } from "../storage/leases/Comments.js"
import { retryDatabase } from "./GroupCommit.js"
import * as Outcomes from "./Outcomes.js"
import { type Context, nowDate } from "./State.js"

/** Comments claimed per round, and calls in flight at once. */
const batch = 16
const callsAtOnce = 4
/**
 * How long a claimed comment is held: past it another worker settles it as
 * unknown. Well above a comment call's own timeouts (30 s by default), so
 * a slow call is not mistaken for a dead worker.
 */
const leaseFloorMs = 120_000

export const run = (ctx: Context, wake: Queue.Queue<void>) =>
  Effect.gen(function*() {
    const { leases, registry, state, workerId } = ctx
    const platforms = registry.publishers.filter((p) => p.comment !== undefined).map((p) => p.platform)
    if (platforms.length === 0) return
    const leaseMs = Math.max(leaseFloorMs, ctx.settings.leaseMs)
    const outcomes = Outcomes.make({
      accounts: ctx.accounts,
      pause: leases.pause,
      keepParts: () => Effect.void,
      backoff: ctx.settings.backoff,
      maxAutoRetries: ctx.settings.maxAutoRetries
    })

    const settle = (claimed: ClaimedComment, comment: Post.CommentResult | undefined, dueAt?: Date) =>
      Effect.flatMap(nowDate, (now) =>
        leases.settleComment({ destinationId: claimed.destinationId, attemptId: claimed.attemptId, comment, dueAt, now }))

    /** Writes a call's result (or an error before the call) as core's `Comment.settle` decides; a database blink is retried. */
    const settleResult = Effect.fnUntraced(function*(
      claimed: ClaimedComment,
      before: Post.CommentResult,
      result: Result.Result<Publisher.CommentResult, PublishError.PublishError>
    ) {
      const now = yield* Clock.currentTimeMillis
      const delayMs = Result.isFailure(result) && PublishError.isRetryable(result.failure)
        ? Backoff.delayForErrorMs(ctx.settings.backoff, before.attempts, result.failure, now, yield* Random.next)
        : 0
      const settled = Comment.settle(before, result, { maxAttempts: ctx.settings.maxAutoRetries + 1, now, delayMs })
      yield* retryDatabase(settle(claimed, settled.comment, settled.retryAt === undefined ? undefined : new Date(settled.retryAt)))
    })

    const postOne = Effect.fnUntraced(function*(claimed: ClaimedComment) {
      const before = shownComment(claimed.before) ?? Comment.pending
      if (claimed.before.attemptId !== undefined) {
        return yield* settle(
          claimed,
          Comment.lost(
            before,
            `the worker posting the first comment stopped during its call (sent ${claimed.before.sentAt ?? "?"}); it may or may not be on the platform, and is not posted again`
          )
        )
      }
      const failed = (error: Post.DestinationError) => settle(claimed, { status: "failed", attempts: before.attempts, error })
      const publisher = registry.find(claimed.platform)
      if (publisher === undefined) {
        return yield* failed(Outcomes.destinationError("UNKNOWN_PLATFORM", `no publisher is registered for "${claimed.platform}" on this worker`))
      }
      const raw = yield* ctx.accounts.credentials(claimed.accountId).pipe(Effect.result)
      if (Result.isFailure(raw)) {
        // The database blinked before anything was sent: retried like a platform's 503, not a lost account.
        if (raw.failure._tag === "SqlError") {
          return yield* settleResult(
            claimed,
            before,
            Result.fail(new PublishError.Transient({ platform: claimed.platform, message: `reading the account's credentials: ${raw.failure.message}` }))
          )
        }
        return yield* failed(Outcomes.destinationError("ACCOUNT_NOT_FOUND", `account ${claimed.accountId} is no longer connected`))
      }
      const claim = { id: claimed.destinationId, postId: claimed.postId, accountId: claimed.accountId }
      const prepared = yield* outcomes.prepare(publisher, claim, {
        attemptId: claimed.attemptId,
        attemptNumber: before.attempts + 1,
        content: claimed.content,
        platformOverrides: claimed.platformOverrides,
        destination: claimed.destination,
        scheduledAt: undefined
      }, raw.success).pipe(Effect.result)
      if (Result.isFailure(prepared)) return yield* failed(prepared.failure)
      const { request } = prepared.success
      // Edited away since (or cleared by an override): nothing to post.
      if (request.destination.comment === undefined) return yield* settle(claimed, undefined)
      const result = yield* Comment.call(publisher, {
        postId: request.postId,
        destinationId: request.destinationId,
        attemptId: claimed.attemptId,
        destination: request.destination,
        credentials: request.credentials,
        saveCredentials: request.saveCredentials,
        published: claimed.published,
        text: request.destination.comment
      })
      yield* settleResult(claimed, before, result)
    })

    const round = Effect.gen(function*() {
      const now = yield* nowDate
      const claimed = yield* leases.claimComments({ workerId, now, leaseMs, limit: batch, platforms })
      yield* Effect.forEach(
        claimed,
        (c) => postOne(c).pipe(Effect.catchCause((cause) => Effect.logError(`destination ${c.destinationId}: could not post its first comment`, cause))),
        { concurrency: callsAtOnce, discard: true }
      )
      return claimed.length
    })

    while (!state.stopping) {
      const claimed = yield* round.pipe(
        Effect.catchCause((cause) => Effect.logWarning("claiming first comments failed; retrying after the next wake", cause).pipe(Effect.as(0)))
      )
      if (claimed === batch) continue
      const now = yield* Clock.currentTimeMillis
      const next = yield* leases.nextCommentDue(platforms).pipe(Effect.orElseSucceed(() => undefined))
      const ms = next === undefined ? ctx.settings.pollMs : Math.min(ctx.settings.pollMs, Math.max(50, next.getTime() - now))
      yield* Effect.raceFirst(Queue.take(wake), Effect.sleep(ms))
    }
  })
