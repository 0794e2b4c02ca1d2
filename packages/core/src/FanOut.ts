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
import { Cause, Clock, Duration, Effect, Exit, Queue, Random, Result, Schema, Semaphore, Stream } from "effect"
import * as Backoff from "./Backoff.js"
import * as Comment from "./Comment.js"
import { CredentialsProvider, type CredentialsProviderShape, type CredentialsRef, keepRefreshToken } from "./Credentials.js"
import * as Lifecycle from "./Lifecycle.js"
import type { CommentResult, Destination, DestinationError, DestinationStatus, Post, PostStatus } from "./Post.js"
import { resolveDestination } from "./Post.js"
import type { PlatformPublisher, PublishedPart, PublishResult } from "./Publisher.js"
import * as PublishError from "./PublishError.js"
import { PublisherRegistry, type Registry } from "./Registry.js"

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Events and outcome (plain data: the Promise facade returns them as they are)
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Retry timing
// ---------------------------------------------------------------------------

const resolvePolicy = (retry: Partial<RetryPolicy> | undefined): RetryPolicy => {
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
const backoffOf = (policy: RetryPolicy): Backoff.Policy => ({
  baseMs: policy.initialDelayMs,
  maxMs: policy.maxDelayMs,
  factor: policy.factor,
  jitter: policy.jitter
})

// ---------------------------------------------------------------------------
// Publishing one destination
// ---------------------------------------------------------------------------

const iso = (ms: number) => new Date(ms).toISOString()

/** The schema's message for a decoding failure, for a destination's `lastError`. */
const describeSchemaError = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : String(error)
}

interface Environment {
  readonly post: Post
  readonly registry: Registry
  readonly credentials: CredentialsProviderShape
  readonly policy: RetryPolicy
  readonly permits: Semaphore.Semaphore
  readonly emit: (event: PublishEvent) => Effect.Effect<void>
}

interface DestinationRun {
  readonly destination: Destination
  readonly outcome: DestinationOutcome
}

const publishDestination = (env: Environment, initial: Destination): Effect.Effect<DestinationRun> => {
  const { emit, permits, policy, post } = env
  const ref: CredentialsRef = { platform: initial.platform, accountId: initial.accountId }
  const base = { postId: post.id, destinationId: initial.id, platform: initial.platform, accountId: initial.accountId }
  const attempts: Array<AttemptRecord> = []
  let current: Destination = initial
  // Live parts: those of an earlier call that failed part way, then this call's.
  let parts: ReadonlyArray<PublishedPart> | undefined = initial.parts

  // An invalid transition here is a bug in this module, not a publishing outcome.
  const moveTo = (to: DestinationStatus) => {
    const next = Lifecycle.transitionDestination(current.status, to)
    if (Result.isFailure(next)) throw next.failure
    current = { ...current, status: next.success }
  }

  const done = (): DestinationRun => ({
    destination: current,
    outcome: {
      destinationId: current.id,
      platform: current.platform,
      accountId: current.accountId,
      status: current.status,
      attempts,
      platformPostId: current.platformPostId,
      url: current.url,
      publishedAt: current.publishedAt,
      parts,
      lastError: current.lastError,
      nextRetryAt: current.nextRetryAt,
      ...(current.comment !== undefined ? { comment: current.comment } : {})
    }
  })

  const fail = (error: DestinationError, nextRetryAt?: string) =>
    Effect.gen(function*() {
      const { nextRetryAt: _previous, ...rest } = current
      current = { ...rest, lastError: error, ...(nextRetryAt !== undefined ? { nextRetryAt } : {}) }
      moveTo("failed")
      yield* emit({ ...base, _tag: "Failed", at: iso(yield* Clock.currentTimeMillis), error, attempts: current.attempts, nextRetryAt })
      return done()
    })

  const run = Effect.gen(function*() {
    const publisher = env.registry.find(initial.platform)
    if (publisher === undefined) {
      return yield* fail({
        code: "UNKNOWN_PLATFORM",
        message: `no publisher is registered for "${initial.platform}" (registered: ${env.registry.platforms.join(", ") || "none"})`,
        retryable: false
      })
    }
    const resolved = resolveDestination(post, initial)
    const settings = Schema.decodeUnknownExit(publisher.settingsSchema, { onExcessProperty: "error" })(resolved.settings)
    if (Exit.isFailure(settings)) {
      return yield* fail({
        code: "INVALID_SETTINGS",
        message: `the ${publisher.displayName} settings are invalid: ${describeSchemaError(settings.cause)}`,
        retryable: false
      })
    }

    const stored = yield* permits.withPermits(1)(env.credentials.get(ref)).pipe(Effect.result)
    if (Result.isFailure(stored)) {
      return yield* fail({ code: "CREDENTIALS_UNAVAILABLE", message: stored.failure.message, retryable: true })
    }
    if (stored.success === undefined || stored.success === null) {
      return yield* fail({
        code: "ACCOUNT_NOT_CONNECTED",
        message: `no credentials for the ${publisher.displayName} account "${initial.accountId}"; connect it first`,
        retryable: false
      })
    }
    let storedCredentials: unknown = stored.success
    const decodedCredentials = Schema.decodeUnknownExit(publisher.credentialsSchema)(storedCredentials)
    if (Exit.isFailure(decodedCredentials)) {
      return yield* fail({
        code: "INVALID_CREDENTIALS",
        message: `the stored ${publisher.displayName} credentials for "${initial.accountId}" are invalid: ${
          describeSchemaError(decodedCredentials.cause)
        }`,
        retryable: false
      })
    }
    let credentials: unknown = decodedCredentials.value

    // Persists refreshed credentials, keeping a refresh token the refresh left out.
    // A failure to encode or save keeps the fresh credentials for this call only.
    const persist = (fresh: unknown) =>
      Effect.gen(function*() {
        credentials = fresh
        const encoded = yield* Schema.encodeUnknownEffect(publisher.credentialsSchema)(fresh)
        const merged = keepRefreshToken(storedCredentials, encoded)
        storedCredentials = merged
        credentials = yield* Schema.decodeUnknownEffect(publisher.credentialsSchema)(merged)
        yield* env.credentials.save(ref, merged)
      }).pipe(Effect.catchCause(() => Effect.void))

    let refreshed = false
    for (let attemptsThisCall = 1;; attemptsThisCall++) {
      const attempt = current.attempts + 1
      const attemptId = `${initial.id}:${attempt}`
      moveTo("publishing")
      current = { ...current, attempts: attempt }

      const { startedAt, finishedAt, result } = yield* permits.withPermits(1)(Effect.gen(function*() {
        const startedAt = yield* Clock.currentTimeMillis
        yield* emit({ ...base, _tag: "AttemptStarted", at: iso(startedAt), attempt, attemptId })
        const result = yield* callPublish(publisher, {
          postId: post.id,
          destinationId: initial.id,
          attemptId,
          destination: { ...resolved, settings: settings.value },
          credentials,
          saveCredentials: persist,
          ...(parts !== undefined && parts.length > 0 ? { postedParts: parts } : {})
        })
        return { startedAt, finishedAt: yield* Clock.currentTimeMillis, result }
      }))
      const timing = { attempt, attemptId, startedAt: iso(startedAt), finishedAt: iso(finishedAt), durationMs: finishedAt - startedAt }

      if (Result.isSuccess(result)) {
        const published = result.success
        attempts.push({ ...timing, outcome: "published" })
        parts = published.parts
        const { lastError: _lastError, nextRetryAt: _nextRetryAt, ...rest } = current
        current = { ...rest, platformPostId: published.platformPostId, url: published.url, publishedAt: published.publishedAt, parts }
        moveTo("published")
        yield* emit({
          ...base,
          _tag: "Published",
          at: iso(finishedAt),
          attempt,
          platformPostId: published.platformPostId,
          url: published.url
        })
        if (resolved.comment !== undefined && Comment.isPending(current.comment ?? Comment.pending)) {
          yield* postComment(publisher, {
            postId: post.id,
            destinationId: initial.id,
            attemptId: `${initial.id}:comment`,
            destination: { ...resolved, settings: settings.value },
            credentials,
            saveCredentials: persist,
            published: { platformPostId: published.platformPostId, url: published.url, parts: published.parts },
            text: resolved.comment
          })
        }
        return done()
      }

      const error = result.failure
      const lastError = PublishError.toDestinationError(error)
      current = { ...current, lastError }
      // A thread that failed part way: its live parts stay, and the next attempt resumes after them.
      if (error.postedParts !== undefined && error.postedParts.length > 0) {
        parts = error.postedParts
        current = { ...current, parts }
      }
      const attemptsLeft = attemptsThisCall < policy.maxAttempts

      // An expired token is refreshed once, then the publish is tried again at once.
      if (
        error._tag === "AuthFailed" && error.reason === "expired" && publisher.refreshCredentials !== undefined &&
        !refreshed && attemptsLeft
      ) {
        refreshed = true
        attempts.push({ ...timing, outcome: "failed", error: lastError, retryAt: iso(finishedAt) })
        yield* emit({ ...base, _tag: "AttemptFailed", at: iso(finishedAt), attempt, attemptId, error: lastError, retryAt: iso(finishedAt) })
        const refresh = publisher.refreshCredentials
        const fresh = yield* permits.withPermits(1)(
          refresh(credentials).pipe(
            Effect.catchDefect((defect) =>
              Effect.fail(new PublishError.Transient({ platform: publisher.platform, message: `refreshing the credentials crashed: ${String(defect)}` }))
            ),
            Effect.result
          )
        )
        if (Result.isFailure(fresh)) {
          // Nothing is saved: the stored credentials (and their refresh token) stay as they were.
          return yield* fail(PublishError.toDestinationError(fresh.failure))
        }
        yield* persist(fresh.success)
        yield* emit({ ...base, _tag: "CredentialsRefreshed", at: iso(yield* Clock.currentTimeMillis) })
        moveTo("queued")
        continue
      }

      if (!PublishError.isRetryable(error) || !attemptsLeft) {
        attempts.push({ ...timing, outcome: "failed", error: lastError })
        yield* emit({ ...base, _tag: "AttemptFailed", at: iso(finishedAt), attempt, attemptId, error: lastError })
        return yield* fail(lastError)
      }

      const delay = Backoff.delayForErrorMs(backoffOf(policy), attemptsThisCall - 1, error, finishedAt, yield* Random.next)
      const retryAt = iso(finishedAt + delay)
      if (delay > policy.maxWaitMs) {
        attempts.push({ ...timing, outcome: "failed", error: lastError })
        yield* emit({ ...base, _tag: "AttemptFailed", at: iso(finishedAt), attempt, attemptId, error: lastError })
        return yield* fail(lastError, retryAt)
      }
      attempts.push({ ...timing, outcome: "failed", error: lastError, retryAt })
      moveTo("queued")
      current = { ...current, nextRetryAt: retryAt }
      yield* emit({ ...base, _tag: "AttemptFailed", at: iso(finishedAt), attempt, attemptId, error: lastError, retryAt })
      yield* Effect.sleep(Duration.millis(delay))
    }
  })

  /**
   * The first comment, once the destination is published: its own attempts
   * (retryable failures retried with the same policy), never changing the
   * destination's status.
   */
  const postComment = (publisher: PlatformPublisher, request: Parameters<typeof Comment.call>[1]) =>
    Effect.gen(function*() {
      let comment: CommentResult = current.comment ?? Comment.pending
      for (let attempt = 1;; attempt++) {
        const result = yield* permits.withPermits(1)(Comment.call(publisher, { ...request, attemptId: `${request.attemptId}:${comment.attempts + 1}` }))
        const now = yield* Clock.currentTimeMillis
        const delayMs = Result.isFailure(result) && PublishError.isRetryable(result.failure)
          ? Backoff.delayForErrorMs(backoffOf(policy), attempt - 1, result.failure, now, yield* Random.next)
          : 0
        const settled = Comment.settle(comment, result, { maxAttempts: attempt < policy.maxAttempts ? Infinity : 0, now, delayMs })
        comment = settled.comment
        current = { ...current, comment }
        yield* emit({ ...base, _tag: "CommentSettled", at: iso(now), comment })
        if (settled.retryAt === undefined || delayMs > policy.maxWaitMs) return
        yield* Effect.sleep(Duration.millis(delayMs))
      }
    })

  // A defect in this module ends the destination as failed, never the other destinations.
  return run.pipe(
    Effect.catchDefect((defect) =>
      Effect.gen(function*() {
        const error: DestinationError = {
          code: "INTERNAL_ERROR",
          message: `publishing stopped unexpectedly: ${defect instanceof Error ? defect.message : String(defect)}`,
          retryable: false
        }
        const { nextRetryAt: _n, ...rest } = current
        current = { ...rest, status: "failed", lastError: error }
        yield* emit({ ...base, _tag: "Failed", at: iso(yield* Clock.currentTimeMillis), error, attempts: current.attempts })
        return done()
      })
    )
  )
}

/**
 * One call to the platform. A publisher that throws may have sent its request
 * already, so a defect is an `OutcomeUnknown`, never retried.
 */
const callPublish = (
  publisher: PlatformPublisher,
  request: Parameters<PlatformPublisher["publish"]>[0]
): Effect.Effect<Result.Result<PublishResult, PublishError.PublishError>> =>
  Effect.suspend(() => publisher.publish(request)).pipe(
    Effect.catchDefect((defect) =>
      Effect.fail(
        new PublishError.OutcomeUnknown({
          platform: publisher.platform,
          message: `the ${publisher.displayName} publisher crashed (${
            defect instanceof Error ? defect.message : String(defect)
          }); the post may or may not have been published`
        })
      )
    ),
    Effect.result
  )

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
