/**
 * The scheduler: claims due destinations and publishes each one once.
 *
 * - Claims come in batches (`FOR UPDATE SKIP LOCKED`, see `Leases`), as a lease
 *   renewed while the worker holds it; any number of processes share a database.
 *   Three kinds (the worker README's "How a destination is published"): ahead
 *   of the due time with the calls' payload (`prefetchMs`, `claimUpcoming`);
 *   claimed and marked in one statement when calls can start now
 *   (`claimAndMark`); or claimed into the local queue until room frees (`claim`).
 * - `LISTEN omnipost_due` wakes the loop as soon as a post becomes due (the
 *   stores notify after commit); between notifications the loop sleeps until
 *   the next known due time, and never longer than `pollMs` (the safety net).
 * - Concurrency (platform calls in flight) is bounded per process, per
 *   platform and per account.
 * - Publish once: the destination is marked `publishing` under an attempt id in
 *   a committed transaction before the platform is called. Marks go out in
 *   batches: the destinations about to start are marked in one statement. For
 *   a platform whose calls are fast, destinations are marked a little ahead of
 *   a free call slot (at most `markAheadMs` of expected calls, see
 *   `markAhead`), so that marking keeps up with the calls; for slow platforms
 *   the mark stays just in time, and a claimed destination waiting for a slot
 *   stays `queued`, which a cancel still stops. A `publishing`
 *   destination whose lease expired (its worker died mid-call) has an unknown
 *   outcome: it is reconciled through the publisher's `findPublished` when it
 *   has one, otherwise failed with `OUTCOME_UNKNOWN` for a person to retry.
 *   It is never published again automatically.
 * - Retryable errors (rate limits, transient failures) requeue the destination
 *   after `Backoff.delayForErrorMs` (exponential, full jitter, capped without
 *   piling onto the cap), never sooner than a retry-after or reset time; a
 *   rate limit also pauses its account (or the whole platform, for app-wide
 *   limits and quotas) for every worker, not this worker.
 * - Shutdown (closing the layer's scope): stop claiming, let calls in flight
 *   finish within `shutdownGraceMs`, give back every claim not yet started
 *   (marked ones too: back to `queued`, attempt `not_sent`).
 *
 * Outcomes reach the outside world through the `events` outbox (see
 * `PostStore.events`) and, in-process, the optional `onSettled` hook.
 *
 * The parts: `Capacity` (room, as pure functions), `Credentials` (decoders and
 * opened credentials at hand), `Outcomes` (what a call's answer means,
 * reconciliation), `GroupCommit` (writing outcomes), `Marking` (the
 * publish-once marks), `Claiming` (the three claims), `Dispatch` (calls) and
 * `Loop` (the loop, LISTEN, renewal, heartbeats, shutdown), sharing `State`;
 * and `Comments`, the first comments of published destinations, posted by a
 * loop of their own (a comment never touches its destination's status).
 * This module keeps the service and its layers.
 */
import { Backoff, Registry } from "@omnipost/core"
import { Context, Deferred, Effect, FiberSet, Layer, Queue } from "effect"
import { AccountStore } from "../storage/AccountStore.js"
import { Crypto } from "../storage/Crypto.js"
import { Database } from "../storage/Database.js"
import * as Ids from "../storage/Ids.js"
import { Leases, type Outcome } from "../storage/Leases.js"
import * as Claiming from "./Claiming.js"
import * as Comments from "./Comments.js"
import * as Dispatch from "./Dispatch.js"
import * as GroupCommit from "./GroupCommit.js"
import * as Loop from "./Loop.js"
import * as Marking from "./Marking.js"
import * as SchedulerSettings from "./SchedulerSettings.js"
import { type Context as Parts, makeState, type PublishedEntry, type ToMark } from "./State.js"

export { markAhead } from "./Capacity.js"
export { pauseScopeFor } from "./Outcomes.js"

/**
 * Retry delays: `Backoff.delayForErrorMs` (full jitter below a ceiling that
 * starts at `baseMs` and doubles up to `maxMs`; a rate limit's wait is the floor).
 */
export const defaultBackoff: Backoff.Policy = SchedulerSettings.defaults.backoff

export interface SchedulerOptions {
  readonly workerId?: string | undefined
  /** Platform calls in flight in this process. Default 16. */
  readonly concurrency?: number | undefined
  /** Calls in flight per platform in this process: one number, or per platform id. Default: `concurrency`. */
  readonly perPlatform?: number | Readonly<Record<string, number>> | undefined
  /** Calls in flight per account in this process. Default 4. */
  readonly perAccount?: number | undefined
  /**
   * Most destinations claimed per query, and most claimed ahead of their call
   * (the local queue; claimed destinations stay `queued` and cancellable).
   * Default: 4 × `concurrency`.
   */
  readonly batchSize?: number | undefined
  /**
   * Destinations due within this long are claimed ahead, with what their calls
   * will need, so that little is left to do at the due instant (they stay
   * `queued`: a cancel or an edit still stops them). Default 1 s; 0 turns it off.
   */
  readonly prefetchMs?: number | undefined
  /** Most destinations claimed ahead and held by this process. Default 4,096. */
  readonly prefetchLimit?: number | undefined
  /**
   * How far ahead of its call slot a destination may be marked publishing,
   * in expected call time. Default 20 ms; 0 marks only for free slots.
   */
  readonly markAheadMs?: number | undefined
  /** Lease length; renewed every third of it while held. Default 30 s. */
  readonly leaseMs?: number | undefined
  /** Longest sleep between claims without a notification. Default 5 s. */
  readonly pollMs?: number | undefined
  readonly heartbeatMs?: number | undefined
  /** Automatic retries of one destination before it fails. Default 5. */
  readonly maxAutoRetries?: number | undefined
  /** Default `defaultBackoff`: 2 s doubling up to 15 minutes, full jitter. */
  readonly backoff?: Backoff.Policy | undefined
  /**
   * During a burst of due work (claim rounds coming back full), how long
   * outcomes may wait for their group commit, so that marking the due
   * destinations comes first. Default 250 ms.
   */
  readonly settleHoldMs?: number | undefined
  /** How long a shutdown waits for calls in flight. Default 10 s. */
  readonly shutdownGraceMs?: number | undefined
  /** Called after every settled destination (in this process), after commit. */
  readonly onSettled?: ((event: SettledEvent) => Effect.Effect<void>) | undefined
}

export interface SettledEvent {
  readonly destinationId: string
  readonly postId: string
  readonly organizationId: string
  readonly platform: string
  readonly outcome: Outcome["_tag"]
}

export class Scheduler extends Context.Service<Scheduler, {
  readonly workerId: string
  /** What this scheduler runs with: its options with every default applied. */
  readonly settings: SchedulerSettings.SchedulerSettings
  /** Calls in flight in this process. */
  readonly inflight: Effect.Effect<number>
  /** Wakes the loop now (as a notification would). */
  readonly wake: Effect.Effect<void>
  /**
   * Completes when the loop, in a pass begun after this call, goes to sleep
   * with nothing left to start: no claim round in flight, nothing waiting to
   * be marked or being marked, every marked destination in its call (calls
   * may still be running). Whatever this process would start by then has
   * started. For tests and tools that need "the scheduler had its chance"
   * without waiting on a clock.
   */
  readonly idle: Effect.Effect<void>
}>()("@omnipost/worker/Scheduler") {
  /**
   * Starts a scheduler for the life of the layer. Needs the database, the
   * account store (credentials) and core's `PublisherRegistry`.
   */
  static readonly layer = (options: SchedulerOptions = {}) => Layer.effect(Scheduler)(make(options))

  /**
   * `layer` with its options read from configuration (`OMNIPOST_WORKER_*`,
   * see `SchedulerSettings.fromConfig`): an invalid value fails the layer
   * with `InvalidSetting` before anything starts.
   */
  static readonly layerConfig = (options: Pick<SchedulerOptions, "onSettled"> = {}) =>
    Layer.unwrap(Effect.map(SchedulerSettings.fromConfig, (settings) => Scheduler.layer({ ...settings, ...options })))
}

const make = Effect.fnUntraced(function*(options: SchedulerOptions) {
  const leases = yield* Leases
  const accounts = yield* AccountStore
  const registry = yield* Registry.PublisherRegistry
  const database = yield* Database
  const crypto = yield* Crypto

  const settings = SchedulerSettings.resolve(options)
  const workerId = settings.workerId ?? Ids.make("wrk")
  const { concurrency } = settings
  const state = makeState()
  // Until calls are timed, a publisher's own estimate, when it gives one (see `expectedCallMs`).
  for (const platform of registry.platforms) {
    const expected = registry.find(platform)?.expectedCallMs
    if (expected !== undefined && Number.isFinite(expected) && expected >= 0) state.callMs.set(platform, expected)
  }

  const wakeQueue = yield* Queue.sliding<void>(1)
  // Wakes the first-comment loop when this process settles a publication.
  const commentWake = yield* Queue.sliding<void>(1)
  const wake = Queue.offer(wakeQueue, undefined).pipe(Effect.asVoid)
  const ctx: Parts = {
    workerId,
    settings,
    bounds: {
      concurrency,
      perAccount: settings.perAccount,
      batchSize: settings.batchSize,
      markAheadMs: settings.markAheadMs,
      platformLimit: (platform) =>
        typeof settings.perPlatform === "number" ? settings.perPlatform : settings.perPlatform[platform] ?? concurrency
    },
    leases,
    accounts,
    registry,
    database,
    state,
    wake,
    wakeQueue,
    fibers: yield* FiberSet.make(),
    claimFibers: yield* FiberSet.make(),
    publishedQueue: yield* Queue.unbounded<PublishedEntry>(),
    markQueue: yield* Queue.unbounded<ToMark>(),
    notifySettled: (claim, outcome: Outcome) =>
      (outcome._tag === "Published" ? Queue.offer(commentWake, undefined).pipe(Effect.asVoid) : Effect.void).pipe(Effect.andThen(
      options.onSettled === undefined
        ? Effect.void
        : options.onSettled({
          destinationId: claim.id,
          postId: claim.postId,
          organizationId: claim.organizationId,
          platform: claim.platform,
          outcome: outcome._tag
        }).pipe(Effect.catchCause(() => Effect.void))))
  }

  // Forked before the loop, so that they outlive its shutdown (finalizers run in reverse).
  yield* Effect.forkScoped(GroupCommit.run(ctx))
  const dispatch = Dispatch.make(ctx, crypto)
  yield* Effect.forkScoped(Marking.consumer(ctx, dispatch.dispatch))
  yield* Effect.forkScoped(Marking.consumer(ctx, dispatch.dispatch))
  yield* Effect.forkScoped(Comments.run(ctx, commentWake))
  yield* Loop.run(ctx, dispatch, Claiming.make(ctx, dispatch.dispatch))

  return {
    workerId,
    settings: { ...settings, workerId },
    inflight: Effect.sync(() => state.calling.total),
    wake,
    idle: Effect.gen(function*() {
      const done = yield* Deferred.make<void>()
      state.idleWaiters.push({ after: state.passes, tell: () => Deferred.doneUnsafe(done, Effect.void) })
      yield* wake
      yield* Deferred.await(done)
    })
  }
})
