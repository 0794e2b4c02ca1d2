/**
 * Fan-out publishing: one post to many destinations, concurrently and
 * independently.
 *
 * Each queued destination is published on its own: overrides resolved
 * (`Post.resolveDestination`), settings and credentials decoded with the
 * publisher's schemas, then `publish` called, with retries for `RateLimited`
 * and `Transient` only (`PublishError.isRetryable`). A destination that fails
 * never stops or undoes another; the post's status is aggregated from the
 * destinations' by `Lifecycle.aggregate`. Every status change goes through
 * `Lifecycle.transitionDestination` / `transitionPost`.
 *
 * Retry timing comes from `Clock` and `Random`, so tests drive it with
 * `TestClock`; the wait is `Backoff.delayForErrorMs` (exponential, full jitter,
 * capped). A platform's `Retry-After` (or reset time) is its floor: the next
 * attempt is never earlier. A wait longer than `maxWaitMs` (a daily
 * quota, say) is not slept through: the destination fails with
 * `nextRetryAt`, for a scheduler to pick up.
 *
 * A destination whose resolved content has a first comment gets it posted
 * once the destination is published (`publisher.comment`, see `Comment`):
 * its own result (`comment` on the destination and its outcome), its own
 * retries within this call (the same policy), and a failure that never
 * changes the destination's status nor publishes the post again.
 *
 * @example
 * const outcome = yield* FanOut.publish(post, {
 *   concurrency: 4,
 *   retry: { maxAttempts: 5 },
 *   onEvent: (event) => Effect.log(event._tag, event.destinationId)
 * })
 * outcome.status // "published" | "partially_failed" | "failed"
 */
import { Clock, Effect, Queue, Result, Semaphore, Stream } from "effect"
import { CredentialsProvider } from "./Credentials.js"
import { type Environment, iso, publishDestination } from "./fanout/Destination.js"
import { defaultConcurrency, type PublishEvent, type PublishOptions, type PublishOutcome } from "./fanout/Model.js"
import { resolvePolicy } from "./fanout/Policy.js"
import * as Lifecycle from "./Lifecycle.js"
import type { Destination, Post } from "./Post.js"
import { PublisherRegistry } from "./Registry.js"

export {
  type AttemptRecord,
  defaultConcurrency,
  defaultRetryPolicy,
  type DestinationOutcome,
  type PublishEvent,
  type PublishOptions,
  type PublishOutcome,
  type RetryPolicy
} from "./fanout/Model.js"

// ---------------------------------------------------------------------------
// Publishing a post
// ---------------------------------------------------------------------------

/**
 * Publishes every `queued` destination of a post. Destinations in any other
 * status are left as they are (a retry queues only the failed ones: see
 * `retryFailed`). Fails only when the post may not be published at all
 * (`InvalidStatusTransition`: a published or cancelled post, or nothing
 * queued); every per-destination problem is in the outcome.
 */
export const publish = Effect.fn("FanOut.publish")(function*(post: Post, options: PublishOptions = {}) {
  const registry = yield* PublisherRegistry
  const credentials = yield* CredentialsProvider
  const queued = post.destinations.filter((destination) => destination.status === "queued")
  if (post.status !== "publishing") {
    const start = Lifecycle.transitionPost(post.status, "publishing")
    if (Result.isFailure(start)) return yield* start.failure
  }
  if (queued.length === 0) {
    return yield* new Lifecycle.InvalidStatusTransition({
      entity: "post",
      from: post.status,
      to: "publishing",
      message: "no destination is queued: there is nothing to publish (a retry needs at least one failed destination)"
    })
  }

  const onEvent = options.onEvent
  const env: Environment = {
    post,
    registry,
    credentials,
    policy: resolvePolicy(options.retry),
    permits: yield* Semaphore.make(Math.max(1, Math.floor(options.concurrency ?? defaultConcurrency) || 1)),
    emit: onEvent === undefined ? () => Effect.void : (event) => Effect.suspend(() => onEvent(event)).pipe(Effect.catchCause(() => Effect.void))
  }
  const runs = new Map(
    (yield* Effect.forEach(queued, (destination) => publishDestination(env, destination), { concurrency: "unbounded" }))
      .map((run) => [run.destination.id, run] as const)
  )

  const destinations = post.destinations.map((destination) => runs.get(destination.id)?.destination ?? destination)
  const aggregated = Lifecycle.aggregate(destinations.map((destination) => destination.status))
  const now = iso(yield* Clock.currentTimeMillis)
  const result: PublishOutcome = {
    postId: post.id,
    status: aggregated,
    post: { ...post, status: aggregated, destinations, updatedAt: now },
    destinations: post.destinations.map((destination) =>
      runs.get(destination.id)?.outcome ?? {
        destinationId: destination.id,
        platform: destination.platform,
        accountId: destination.accountId,
        status: destination.status,
        attempts: [],
        platformPostId: destination.platformPostId,
        url: destination.url,
        publishedAt: destination.publishedAt,
        lastError: destination.lastError,
        nextRetryAt: destination.nextRetryAt
      }
    )
  }
  return result
})

/**
 * The same publish as a stream of its events, ending with the outcome.
 *
 * @example
 * FanOut.stream(post).pipe(Stream.runForEach((event) => Console.log(event._tag)))
 */
export const stream = (
  post: Post,
  options: Omit<PublishOptions, "onEvent"> = {}
): Stream.Stream<
  PublishEvent | { readonly _tag: "Completed"; readonly outcome: PublishOutcome },
  Lifecycle.InvalidStatusTransition,
  PublisherRegistry | CredentialsProvider
> =>
  Stream.callback((queue) =>
    publish(post, { ...options, onEvent: (event) => Effect.asVoid(Queue.offer(queue, event)) }).pipe(
      Effect.flatMap((outcome) => Queue.offer(queue, { _tag: "Completed" as const, outcome })),
      Effect.andThen(Queue.end(queue))
    )
  )

/**
 * Queues the failed destinations of a `failed` or `partially_failed` post for
 * another publish. Destinations whose last outcome is unknown are skipped
 * unless `includeOutcomeUnknown` is set, because the post may already be on
 * the platform; publishing it again may post twice. Fails with
 * `InvalidStatusTransition` when nothing can be retried.
 */
export const retryFailed = (
  post: Post,
  options: { readonly includeOutcomeUnknown?: boolean | undefined } = {}
): Result.Result<Post, Lifecycle.InvalidStatusTransition> => {
  const retryable = (destination: Destination) =>
    destination.status === "failed" &&
    (options.includeOutcomeUnknown === true || destination.lastError?.code !== "OUTCOME_UNKNOWN")
  if (!Lifecycle.canRetry(post.status, post.destinations.map((d) => d.status)) || !post.destinations.some(retryable)) {
    return Result.fail(
      new Lifecycle.InvalidStatusTransition({
        entity: "post",
        from: post.status,
        to: "publishing",
        message: post.destinations.some((d) => d.status === "failed")
          ? `a ${post.status} post with only outcome-unknown failures is retried only with includeOutcomeUnknown: the post may already be on the platform`
          : `a ${post.status} post has no failed destination: there is nothing to retry`
      })
    )
  }
  const destinations: Array<Destination> = []
  for (const destination of post.destinations) {
    if (!retryable(destination)) {
      destinations.push(destination)
      continue
    }
    const queued = Lifecycle.transitionDestination(destination.status, "queued")
    if (Result.isFailure(queued)) return Result.fail(queued.failure)
    const { nextRetryAt: _nextRetryAt, ...rest } = destination
    destinations.push({ ...rest, status: queued.success })
  }
  return Result.succeed({ ...post, destinations })
}
