/**
 * One destination of a fan-out: overrides resolved, settings and credentials
 * decoded, `publish` called with retries (an expired token refreshed once),
 * the thread's live parts kept across attempts, then the first comment.
 * Every status change goes through `Lifecycle.transitionDestination`; a
 * defect here fails this destination only.
 */
import { Cause, Clock, Duration, Effect, Exit, Random, Result, Schema, type Semaphore } from "effect"
import * as Backoff from "../Backoff.js"
import * as Comment from "../Comment.js"
import { type CredentialsProviderShape, type CredentialsRef, keepRefreshToken, saveReliably } from "../Credentials.js"
import * as Lifecycle from "../Lifecycle.js"
import type { CommentResult, Destination, DestinationError, DestinationStatus, Post } from "../Post.js"
import { resolveDestination } from "../Post.js"
import type { PlatformPublisher, PublishResult } from "../Publisher.js"
import * as PublishError from "../PublishError.js"
import type { Registry } from "../Registry.js"
import type { AttemptRecord, DestinationOutcome, PublishEvent, RetryPolicy } from "./Model.js"
import { backoffOf } from "./Policy.js"

export const iso = (ms: number) => new Date(ms).toISOString()

/** The schema's message for a decoding failure, for a destination's `lastError`. */
const describeSchemaError = (cause: Cause.Cause<unknown>) => {
  const error = Cause.squash(cause)
  return error instanceof Error ? error.message : String(error)
}

export interface Environment {
  readonly post: Post
  readonly registry: Registry
  readonly credentials: CredentialsProviderShape
  readonly policy: RetryPolicy
  readonly permits: Semaphore.Semaphore
  readonly emit: (event: PublishEvent) => Effect.Effect<void>
}

export interface DestinationRun {
  readonly destination: Destination
  readonly outcome: DestinationOutcome
}

export const publishDestination = (env: Environment, initial: Destination): Effect.Effect<DestinationRun> => {
  const { emit, permits, policy, post } = env
  const ref: CredentialsRef = { platform: initial.platform, accountId: initial.accountId }
  const base = { postId: post.id, destinationId: initial.id, platform: initial.platform, accountId: initial.accountId }
  const attempts: Array<AttemptRecord> = []
  // The destination as it stands; its `parts` are the live parts (an earlier call's that failed part way, then this call's).
  let current: Destination = initial

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
      parts: current.parts,
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
    // The fresh credentials serve this call whatever happens; a save that keeps
    // failing is retried and logged (`Credentials.saveReliably`), never dropped
    // in silence: a rotated refresh token that is not saved disconnects the account.
    const persist = (fresh: unknown) =>
      Effect.gen(function*() {
        credentials = fresh
        const encoded = yield* Schema.encodeUnknownEffect(publisher.credentialsSchema)(fresh)
        const merged = keepRefreshToken(storedCredentials, encoded)
        storedCredentials = merged
        credentials = yield* Schema.decodeUnknownEffect(publisher.credentialsSchema)(merged)
        yield* saveReliably(env.credentials, ref, merged)
      }).pipe(
        Effect.catchCause((cause) =>
          Effect.logError("refreshed credentials could not be encoded for saving; they serve this call only", cause).pipe(
            Effect.annotateLogs({ platform: ref.platform, accountId: ref.accountId })
          )
        )
      )

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
          ...(current.parts !== undefined && current.parts.length > 0 ? { postedParts: current.parts } : {})
        })
        return { startedAt, finishedAt: yield* Clock.currentTimeMillis, result }
      }))
      const timing = { attempt, attemptId, startedAt: iso(startedAt), finishedAt: iso(finishedAt), durationMs: finishedAt - startedAt }

      if (Result.isSuccess(result)) {
        const published = result.success
        attempts.push({ ...timing, outcome: "published" })
        const { lastError: _lastError, nextRetryAt: _nextRetryAt, ...rest } = current
        current = { ...rest, platformPostId: published.platformPostId, url: published.url, publishedAt: published.publishedAt, parts: published.parts }
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
      if (error.postedParts !== undefined && error.postedParts.length > 0) current = { ...current, parts: error.postedParts }
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

