/**
 * The scheduler: claims due destinations and publishes each one once.
 *
 * - Claims come in batches (`FOR UPDATE SKIP LOCKED`, see `Leases`), as a lease
 *   renewed while the worker holds it; any number of processes share a database.
 * - `LISTEN omnipost_due` wakes the loop as soon as a post becomes due (the
 *   stores notify after commit); between notifications the loop sleeps until
 *   the next known due time, and never longer than `pollMs` (the safety net).
 * - Concurrency is bounded per process, per platform and per account.
 * - Publish once: the destination is marked `publishing` under an attempt id in
 *   a committed transaction before the platform is called. A `publishing`
 *   destination whose lease expired (its worker died mid-call) has an unknown
 *   outcome: it is reconciled through the publisher's `findPublished` when it
 *   has one, otherwise failed with `OUTCOME_UNKNOWN` for a person to retry.
 *   It is never published again automatically.
 * - Retryable errors (rate limits, transient failures) requeue the destination
 *   with exponential backoff and jitter, never sooner than a retry-after or
 *   reset time; a rate limit also pauses its account (or the whole platform,
 *   for app-wide limits and quotas) for every worker, not this worker.
 * - Shutdown (closing the layer's scope): stop claiming, let calls in flight
 *   finish within `shutdownGraceMs`, give back every claim not yet started.
 *
 * Outcomes reach the outside world through the `events` outbox (see
 * `PostStore.events`) and, in-process, the optional `onSettled` hook.
 */
import { type Lifecycle, Post, PublishError, Registry } from "@omnipost/core"
import type { Publisher } from "@omnipost/core"
import { Clock, Context, Deferred, Effect, Exit, FiberSet, Layer, Queue, Random, Schedule, Schema, Stream } from "effect"
import type { SqlError } from "effect/sql"
import { AccountStore, credentialsAad } from "./AccountStore.js"
import { Crypto } from "./Crypto.js"
import { Database } from "./Database.js"
import * as Ids from "./Ids.js"
import { type Claim, type Marked, type Orphan, type Outcome, Leases } from "./Leases.js"
import { dueChannel } from "./PostStore.js"

export interface BackoffPolicy {
  /** The first retry's delay. */
  readonly baseMs: number
  /** No exponential delay exceeds this (a retry-after may). */
  readonly maxMs: number
}

export const defaultBackoff: BackoffPolicy = { baseMs: 2_000, maxMs: 15 * 60_000 }

export interface SchedulerOptions {
  readonly workerId?: string | undefined
  /** Platform calls in flight in this process. Default 16. */
  readonly concurrency?: number | undefined
  /** Calls in flight per platform in this process: one number, or per platform id. Default: `concurrency`. */
  readonly perPlatform?: number | Readonly<Record<string, number>> | undefined
  /** Calls in flight per account in this process. Default 4. */
  readonly perAccount?: number | undefined
  /** Most destinations claimed per query; the local queue holds up to `concurrency + batchSize`. Default: `concurrency`. */
  readonly batchSize?: number | undefined
  /** Lease length; renewed every third of it while held. Default 30 s. */
  readonly leaseMs?: number | undefined
  /** Longest sleep between claims without a notification. Default 5 s. */
  readonly pollMs?: number | undefined
  readonly heartbeatMs?: number | undefined
  /** Automatic retries of one destination before it fails. Default 5. */
  readonly maxAutoRetries?: number | undefined
  readonly backoff?: BackoffPolicy | undefined
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

/**
 * How long to wait before the next automatic attempt. `retryIndex` counts
 * automatic retries so far (0 for the first); `random` is in [0, 1).
 *
 * Exponential: `baseMs · 2^retryIndex`, capped at `maxMs`, spread ±25% so that
 * destinations failing together do not return together. A rate limit waits at
 * least its retry-after (or until its reset time) plus up to 10% (at most 30 s),
 * never less.
 */
export const retryDelayMs = (
  error: PublishError.PublishError,
  retryIndex: number,
  nowMs: number,
  random: number,
  policy: BackoffPolicy = defaultBackoff
): number => {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, retryIndex))
  const spread = Math.round(exponential * (0.75 + 0.5 * random))
  if (error._tag !== "RateLimited") return Math.min(policy.maxMs, spread)
  const floor = rateLimitFloorMs(error, nowMs)
  return floor === undefined ? Math.min(policy.maxMs, spread) : floor + Math.round(Math.min(floor * 0.1, 30_000) * random)
}

/** The wait a rate limit demands: its retry-after or reset time, whichever is later. */
export const rateLimitFloorMs = (error: PublishError.RateLimited, nowMs: number): number | undefined => {
  const after = error.retryAfterSeconds === undefined ? undefined : error.retryAfterSeconds * 1000
  const reset = error.resetAt === undefined ? undefined : Date.parse(error.resetAt) - nowMs
  const candidates = [after, reset].filter((v): v is number => v !== undefined && Number.isFinite(v))
  return candidates.length === 0 ? undefined : Math.max(0, ...candidates)
}

/** The pause scope a rate limit applies to: the account, or the whole platform for app limits and quotas. */
export const pauseScopeFor = (error: PublishError.RateLimited, platform: string, accountId: string) =>
  error.scope === "app" || error.scope === "quota" ? platform : `${platform}:${accountId}`

const destinationError = (code: string, message: string, retryable = false): Post.DestinationError => ({
  code,
  message,
  retryable
})

/** Decoders built once per publisher, not once per call. */
const codecCache = new WeakMap<Publisher.PlatformPublisher, ReturnType<typeof makeCodecs>>()
const makeCodecs = (publisher: Publisher.PlatformPublisher) => ({
  decodeSettings: Schema.decodeUnknownEffect(publisher.settingsSchema),
  decodeCredentials: Schema.decodeUnknownEffect(publisher.credentialsSchema),
  encodeCredentials: Schema.encodeUnknownEffect(publisher.credentialsSchema)
})
const codecsOf = (publisher: Publisher.PlatformPublisher) => {
  let codecs = codecCache.get(publisher)
  if (codecs === undefined) {
    codecs = makeCodecs(publisher)
    codecCache.set(publisher, codecs)
  }
  return codecs
}

export class Scheduler extends Context.Service<Scheduler, {
  readonly workerId: string
  /** Calls in flight in this process. */
  readonly inflight: Effect.Effect<number>
  /** Wakes the loop now (as a notification would). */
  readonly wake: Effect.Effect<void>
}>()("@omnipost/worker/Scheduler") {
  /**
   * Starts a scheduler for the life of the layer. Needs the database, the
   * account store (credentials) and core's `PublisherRegistry`.
   */
  static readonly layer = (options: SchedulerOptions = {}) => Layer.effect(Scheduler)(make(options))
}

const make = Effect.fnUntraced(function*(options: SchedulerOptions) {
  const leases = yield* Leases
  const accounts = yield* AccountStore
  const registry = yield* Registry.PublisherRegistry
  const database = yield* Database
  const crypto = yield* Crypto

  const workerId = options.workerId ?? Ids.make("wrk")
  const concurrency = Math.max(1, options.concurrency ?? 16)
  const perAccount = Math.max(1, options.perAccount ?? 4)
  const batchSize = Math.max(1, options.batchSize ?? concurrency)
  const leaseMs = options.leaseMs ?? 30_000
  const pollMs = options.pollMs ?? 5_000
  const heartbeatMs = options.heartbeatMs ?? 5_000
  const maxAutoRetries = options.maxAutoRetries ?? 5
  const backoff = options.backoff ?? defaultBackoff
  const shutdownGraceMs = options.shutdownGraceMs ?? 10_000
  const platformLimit = (platform: string) =>
    typeof options.perPlatform === "number"
      ? options.perPlatform
      : options.perPlatform?.[platform] ?? concurrency

  // In-process bookkeeping. JavaScript runs one fiber at a time, so plain maps are consistent here.
  let inflight = 0
  const byPlatform = new Map<string, number>()
  const byAccount = new Map<string, number>()
  /** Leases this process holds (claimed or publishing), renewed together. */
  const held = new Set<string>()
  /** Published destinations whose outcome is waiting for its group commit; their leases are renewed too. */
  const settling = new Set<string>()
  let stopping = false

  const wakeQueue = yield* Queue.sliding<void>(1)
  const wake = Queue.offer(wakeQueue, undefined).pipe(Effect.asVoid)
  const nowDate = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms)))
  const fibers = yield* FiberSet.make()

  const bump = (map: Map<string, number>, key: string, delta: number) => {
    const next = (map.get(key) ?? 0) + delta
    if (next <= 0) map.delete(key)
    else map.set(key, next)
  }
  const saturatedPlatforms = () => [...byPlatform].filter(([p, n]) => n >= platformLimit(p)).map(([p]) => p)
  const saturatedAccounts = () => [...byAccount].filter(([, n]) => n >= perAccount).map(([a]) => a)

  const notifySettled = (claim: { id: string; postId: string; organizationId: string; platform: string }, outcome: Outcome) =>
    options.onSettled === undefined
      ? Effect.void
      : options.onSettled({
        destinationId: claim.id,
        postId: claim.postId,
        organizationId: claim.organizationId,
        platform: claim.platform,
        outcome: outcome._tag
      }).pipe(Effect.catchCause(() => Effect.void))

  const retryDatabase = <A, E extends { readonly _tag: string }, R>(self: Effect.Effect<A, E, R>) =>
    self.pipe(Effect.retry({ schedule: Schedule.exponential("100 millis"), times: 6, while: (e) => e._tag !== "InvalidStatusTransition" }))

  /**
   * Group commit for successes, the hot path: calls that finish while a batch
   * is being written are written together in the next one transaction.
   */
  type PublishedItem = Parameters<typeof leases.settlePublishedBatch>[0][number]
  const publishedQueue = yield* Queue.unbounded<{
    readonly item: PublishedItem
    readonly claim: { id: string; postId: string; organizationId: string; platform: string; accountId: string }
  }>()
  yield* Effect.gen(function*() {
    while (true) {
      const batch = yield* Queue.takeBetween(publishedQueue, 1, 500)
      const result = yield* leases.settlePublishedBatch(batch.map((b) => b.item), yield* nowDate).pipe(retryDatabase, Effect.exit)
      for (const b of batch) {
        // One at a time when the batch failed, so that one bad row cannot sink the others.
        const settled = Exit.isSuccess(result)
          ? result.value.has(b.item.destinationId)
          : yield* leases.settle({ ...b.item, now: yield* nowDate }).pipe(
            retryDatabase,
            Effect.tapCause((cause) => Effect.logError(`destination ${b.item.destinationId}: could not record its publication`, cause)),
            Effect.orElseSucceed(() => false)
          )
        settling.delete(b.item.destinationId)
        if (settled) yield* notifySettled(b.claim, b.item.outcome)
      }
    }
  }).pipe(Effect.forkScoped)

  /**
   * The publish-once marks of destinations starting together are written in
   * one statement; each call waits for its own mark to commit before it goes out.
   */
  const markQueue = yield* Queue.unbounded<{
    readonly claim: Claim
    readonly attemptId: string
    readonly done: Deferred.Deferred<Marked | undefined, SqlError.SqlError>
  }>()
  yield* Effect.gen(function*() {
    while (true) {
      const batch = yield* Queue.takeBetween(markQueue, 1, 200)
      const exit = yield* leases.markPublishingBatch({ items: batch, workerId, now: yield* nowDate, leaseMs }).pipe(Effect.exit)
      for (const item of batch) {
        yield* Deferred.done(item.done, Exit.map(exit, (marked) => marked.get(item.claim.id)))
      }
    }
  }).pipe(Effect.forkScoped)

  /** Writes an outcome; a publish already happened, so a database hiccup is retried rather than lost. */
  const settle = (
    claim: { id: string; postId: string; organizationId: string; platform: string; accountId: string },
    attemptId: string,
    outcome: Outcome
  ) =>
    Effect.gen(function*() {
      if (outcome._tag === "Published") {
        // The call is over, so its slot frees now; the write joins the next group commit. The lease is
        // renewed until it commits (`settling`); if it never does, the lease expires and the outcome is
        // reconciled like any unknown one, never published twice.
        settling.add(claim.id)
        yield* Queue.offer(publishedQueue, { item: { destinationId: claim.id, postId: claim.postId, attemptId, outcome }, claim })
        return
      }
      const now = yield* nowDate
      const settled = yield* leases.settle({ destinationId: claim.id, postId: claim.postId, attemptId, now, outcome }).pipe(
        retryDatabase
      )
      if (settled && outcome._tag === "Retry") {
        yield* database.notify(dueChannel, outcome.at.toISOString()).pipe(Effect.ignore)
      }
      if (settled) yield* notifySettled(claim, outcome)
    })

  /** What an error from a publish call means for the destination. */
  const outcomeOf = Effect.fnUntraced(function*(
    error: PublishError.PublishError,
    claim: { platform: string; accountId: string; autoRetries: number }
  ) {
    const now = yield* Clock.currentTimeMillis
    const detail = PublishError.toDestinationError(error)
    if (error._tag === "RateLimited") {
      const floor = rateLimitFloorMs(error, now)
      const delay = retryDelayMs(error, claim.autoRetries, now, yield* Random.next, backoff)
      yield* leases.pause(pauseScopeFor(error, claim.platform, claim.accountId), new Date(now + (floor ?? delay)), error.message)
    }
    if (PublishError.isRetryable(error) && claim.autoRetries < maxAutoRetries) {
      const delay = retryDelayMs(error, claim.autoRetries, now, yield* Random.next, backoff)
      return { _tag: "Retry", at: new Date(now + delay), error: detail } satisfies Outcome
    }
    return {
      _tag: "Failed",
      error: detail,
      attemptOutcome: error._tag === "OutcomeUnknown" ? "outcome_unknown" : "failed",
      accountNeedsReconnect: error._tag === "AuthFailed" && error.reason !== "missing_permission"
    } satisfies Outcome
  })

  interface Prepared {
    readonly publisher: Publisher.PlatformPublisher
    readonly request: Publisher.PublishRequest
  }

  /** The publish request for a marked destination, or the error that prevents one. */
  const prepare = Effect.fnUntraced(function*(
    publisher: Publisher.PlatformPublisher,
    claim: { id: string; postId: string; accountId: string },
    marked: Marked,
    rawCredentials: unknown
  ) {
    const resolved = Post.resolveDestination(
      { content: marked.content, platformOverrides: marked.platformOverrides },
      marked.destination
    )
    const codecs = codecsOf(publisher)
    const settings = yield* codecs.decodeSettings(resolved.settings).pipe(
      Effect.mapError((e) => destinationError("INVALID_SETTINGS", `the destination's settings are invalid: ${e.message}`))
    )
    const credentials = yield* codecs.decodeCredentials(rawCredentials).pipe(
      Effect.mapError((e) => destinationError("AUTH_EXPIRED", `the account's stored credentials are unusable; reconnect it: ${e.message}`))
    )
    const request: Publisher.PublishRequest = {
      postId: claim.postId,
      destinationId: claim.id,
      attemptId: marked.attemptId,
      destination: { ...resolved, settings },
      credentials,
      saveCredentials: (fresh) =>
        codecs.encodeCredentials(fresh).pipe(
          Effect.flatMap((encoded) => accounts.updateCredentials(claim.accountId, encoded)),
          Effect.tapCause((cause) => Effect.logWarning("could not save refreshed credentials", cause)),
          Effect.ignore
        )
    }
    return { publisher, request } satisfies Prepared
  })

  /** Looks an unknown outcome up on the platform, when the publisher can. */
  const reconcile = Effect.fnUntraced(function*(
    prepared: Prepared,
    sentAt: Date,
    unknownError: Post.DestinationError
  ) {
    const findPublished = prepared.publisher.findPublished
    if (findPublished === undefined) {
      return { _tag: "Failed", error: unknownError, attemptOutcome: "outcome_unknown" } satisfies Outcome
    }
    const found = yield* findPublished({ ...prepared.request, sentAt: sentAt.toISOString() }).pipe(
      Effect.catchDefect((defect) => Effect.fail(new PublishError.Transient({ platform: prepared.publisher.platform, message: String(defect) }))),
      Effect.result
    )
    if (found._tag === "Failure") {
      return {
        _tag: "Failed",
        error: { ...unknownError, message: `${unknownError.message} Looking it up failed too: ${found.failure.message}` },
        attemptOutcome: "outcome_unknown"
      } satisfies Outcome
    }
    if (found.success !== undefined) {
      return {
        _tag: "Published",
        platformPostId: found.success.platformPostId,
        url: found.success.url,
        publishedAt: new Date(found.success.publishedAt),
        parts: found.success.parts,
        attemptOutcome: "reconciled_published"
      } satisfies Outcome
    }
    // The platform says it is not there: publishing it now is a first publish, not a repost.
    return {
      _tag: "Retry",
      at: yield* nowDate,
      error: { ...unknownError, message: `${unknownError.message} The platform has no such post; publishing it again.` },
      attemptOutcome: "reconciled_absent"
    } satisfies Outcome
  })

  const publishOne = Effect.fnUntraced(function*(claim: Claim) {
    const publisher = registry.find(claim.platform)
    if (publisher === undefined) {
      return yield* leases.failBeforeCall({
        claim,
        workerId,
        error: destinationError("UNKNOWN_PLATFORM", `no publisher is registered for "${claim.platform}" on this worker`)
      })
    }
    // A shutdown that began after the claim: give it back instead of starting a call.
    if (stopping) return
    const attemptId = Ids.make("att")
    const done = yield* Deferred.make<Marked | undefined, SqlError.SqlError>()
    yield* Queue.offer(markQueue, { claim, attemptId, done })
    const marked = yield* Deferred.await(done)
    if (marked === undefined) return
    const prepared = yield* (marked.credentials === undefined
      ? Effect.fail(destinationError("ACCOUNT_NOT_FOUND", `account ${claim.accountId} is no longer connected`))
      : crypto.openJson(marked.credentials, credentialsAad(claim.accountId)).pipe(
        Effect.mapError((e) => destinationError("CREDENTIALS_UNREADABLE", e.message))
      )).pipe(
        Effect.flatMap((credentials) => prepare(publisher, claim, marked, credentials)),
        Effect.result
      )
    if (prepared._tag === "Failure") {
      return yield* settle(claim, attemptId, { _tag: "Failed", error: prepared.failure, attemptOutcome: "failed" })
    }
    const sentAt = yield* nowDate
    const result = yield* publisher.publish(prepared.success.request).pipe(
      // A defect in a publisher may strike after the request left: the outcome is unknown.
      Effect.catchDefect((defect) =>
        Effect.fail(new PublishError.OutcomeUnknown({ platform: claim.platform, message: `the publisher crashed: ${String(defect)}` }))
      ),
      Effect.result
    )
    if (result._tag === "Success") {
      return yield* settle(claim, attemptId, {
        _tag: "Published",
        platformPostId: result.success.platformPostId,
        url: result.success.url,
        publishedAt: new Date(result.success.publishedAt),
        parts: result.success.parts
      })
    }
    const outcome = result.failure._tag === "OutcomeUnknown"
      ? yield* reconcile(prepared.success, sentAt, PublishError.toDestinationError(result.failure))
      : yield* outcomeOf(result.failure, claim)
    yield* settle(claim, attemptId, outcome)
  })

  /** A destination left publishing by a worker that stopped mid-call. */
  const recoverOrphan = Effect.fnUntraced(function*(orphan: Orphan) {
    const unknown = destinationError(
      "OUTCOME_UNKNOWN",
      `worker ${orphan.previousOwner ?? "?"} stopped during its call to ${orphan.platform} (attempt ${orphan.attemptNumber}, sent ${orphan.sentAt.toISOString()}); the post may or may not be on the platform. Check the account, then retry explicitly if it is missing.`
    )
    const publisher = registry.find(orphan.platform)
    const credentials = publisher?.findPublished === undefined
      ? undefined
      : yield* accounts.credentials(orphan.accountId).pipe(Effect.option)
    let outcome: Outcome = { _tag: "Failed", error: unknown, attemptOutcome: "outcome_unknown" }
    if (publisher !== undefined && credentials !== undefined && credentials._tag === "Some") {
      const prepared = yield* prepare(publisher, orphan, orphan, credentials.value).pipe(Effect.option)
      if (prepared._tag === "Some") outcome = yield* reconcile(prepared.value, orphan.sentAt, unknown)
    }
    yield* settle(orphan, orphan.attemptId, outcome)
  })

  /** Runs `work` for a claimed destination in its own fiber, holding its slot and lease. */
  const start = (key: { id: string; platform: string; accountId: string }, work: Effect.Effect<void, unknown>) => {
    inflight++
    bump(byPlatform, key.platform, 1)
    bump(byAccount, key.accountId, 1)
    held.add(key.id)
    return FiberSet.run(
      fibers,
      work.pipe(
        Effect.tapCause((cause) => Effect.logError(`destination ${key.id}: the scheduler could not finish it`, cause)),
        Effect.ignore,
        Effect.ensuring(Effect.suspend(() => {
          inflight--
          bump(byPlatform, key.platform, -1)
          bump(byAccount, key.accountId, -1)
          held.delete(key.id)
          return wake
        }))
      )
    ).pipe(Effect.asVoid)
  }

  let lastOrphanCheck = 0
  const recoverOrphans = Effect.gen(function*() {
    const now = yield* nowDate
    lastOrphanCheck = now.getTime()
    const free = concurrency - inflight
    if (free <= 0) return
    const orphans = yield* leases.expiredPublishing({ workerId, now, leaseMs, limit: free })
    for (const orphan of orphans) yield* start(orphan, recoverOrphan(orphan))
  })

  /**
   * Claimed destinations not started yet, in due order: the local queue. Claims
   * come in batches (one query for many), so the next destination is at hand
   * the moment a slot frees. They stay `queued` (a cancel still stops them)
   * and their leases are renewed with the others.
   */
  const pending: Array<Claim> = []
  const pendingByAccount = new Map<string, number>()

  const canStart = (claim: Claim) =>
    inflight < concurrency &&
    (byPlatform.get(claim.platform) ?? 0) < platformLimit(claim.platform) &&
    (byAccount.get(claim.accountId) ?? 0) < perAccount

  const dispatchPending = Effect.gen(function*() {
    for (let i = 0; i < pending.length && inflight < concurrency;) {
      const claim = pending[i]!
      if (!canStart(claim)) {
        i++
        continue
      }
      pending.splice(i, 1)
      bump(pendingByAccount, claim.accountId, -1)
      held.delete(claim.id)
      yield* start(claim, publishOne(claim))
    }
  })

  /** One claim round; returns whether it got a full batch (more work is likely waiting). */
  const claimRound = Effect.gen(function*() {
    const room = concurrency + batchSize - inflight - pending.length
    // Refill once the local queue is half empty: claims stay batches, and land before it runs dry.
    if (pending.length > batchSize / 2) return false
    const limit = Math.min(room, batchSize)
    if (limit <= 0) return false
    const busyAccounts = [...new Set([...byAccount.keys(), ...pendingByAccount.keys()])].filter((account) =>
      (byAccount.get(account) ?? 0) + (pendingByAccount.get(account) ?? 0) >= perAccount
    )
    const claims = yield* leases.claim({
      workerId,
      now: yield* nowDate,
      leaseMs,
      limit,
      excludePlatforms: saturatedPlatforms(),
      excludeAccounts: busyAccounts
    })
    const extra: Array<string> = []
    for (const claim of claims) {
      // Over this process's per-account bound (several rows of one account in a batch): leave them to another worker, or later.
      if ((byAccount.get(claim.accountId) ?? 0) + (pendingByAccount.get(claim.accountId) ?? 0) >= perAccount) {
        extra.push(claim.id)
        continue
      }
      pending.push(claim)
      bump(pendingByAccount, claim.accountId, 1)
      held.add(claim.id)
    }
    if (extra.length > 0) yield* leases.release(workerId, extra)
    yield* dispatchPending
    return claims.length === limit && extra.length === 0
  })

  /** The earliest instant something may become claimable; cached briefly while busy. */
  let nextKnown: number | undefined
  let nextQueriedAt = 0
  const nextWake = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const busy = inflight > 0 || pending.length > 0
    if (!busy || now - nextQueriedAt >= 250 || nextQueriedAt > now) {
      const next = yield* leases.nextWake(new Date(now)).pipe(Effect.orElseSucceed(() => undefined))
      nextKnown = next?.getTime()
      nextQueriedAt = now
    }
    return nextKnown
  })

  const loop = Effect.gen(function*() {
    while (!stopping) {
      const full = yield* claimRound.pipe(
        Effect.catchCause((cause) => Effect.logWarning("claim failed; retrying after the next wake", cause).pipe(Effect.as(false)))
      )
      if (full) continue
      yield* dispatchPending
      const now = yield* Clock.currentTimeMillis
      if (now - lastOrphanCheck >= Math.min(pollMs, leaseMs / 3) || lastOrphanCheck > now) {
        yield* recoverOrphans.pipe(Effect.catchCause((cause) => Effect.logWarning("orphan recovery failed", cause)))
      }
      const next = yield* nextWake
      const sleepMs = Math.min(pollMs, Math.max(next === undefined ? pollMs : next - now, 5))
      yield* Effect.raceFirst(Queue.take(wakeQueue), Effect.sleep(sleepMs))
    }
  })

  // Notifications: another process (or the API) made something due.
  const notifications = yield* database.listen(dueChannel)
  yield* notifications.pipe(
    Stream.runForEach((payload) => {
      const due = Date.parse(payload)
      if (Number.isFinite(due) && (nextKnown === undefined || due < nextKnown)) nextKnown = due
      return wake
    }),
    Effect.catchCause((cause) => Effect.logWarning("LISTEN stopped; polling only", cause)),
    Effect.forkScoped
  )

  // Lease renewal for everything held, in one statement.
  yield* Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    yield* leases.renew(workerId, [...held, ...settling], new Date(now + leaseMs))
  }).pipe(
    Effect.catchCause((cause) => Effect.logWarning("lease renewal failed", cause)),
    Effect.repeat(Schedule.spaced(Math.max(10, Math.floor(leaseMs / 3)))),
    Effect.forkScoped
  )

  yield* leases.heartbeat(workerId, yield* nowDate)
  yield* Effect.gen(function*() {
    yield* Effect.sleep(heartbeatMs)
    yield* leases.heartbeat(workerId, yield* nowDate).pipe(Effect.ignore)
  }).pipe(Effect.forever, Effect.forkScoped)

  yield* loop.pipe(Effect.forkScoped)

  // Graceful shutdown; added last, so it runs before the fibers above are interrupted.
  yield* Effect.addFinalizer(() =>
    Effect.gen(function*() {
      stopping = true
      yield* wake
      yield* FiberSet.awaitEmpty(fibers).pipe(Effect.timeoutOption(shutdownGraceMs))
      // Successes still waiting for their group commit.
      yield* Effect.gen(function*() {
        while (settling.size > 0) yield* Effect.sleep(5)
      }).pipe(Effect.timeoutOption(shutdownGraceMs))
      // Calls still running past the deadline are interrupted; their leases expire and another
      // worker reconciles them as unknown outcomes.
      yield* FiberSet.clear(fibers)
      yield* leases.release(workerId).pipe(Effect.ignore)
      yield* leases.heartbeat(workerId, yield* nowDate, true).pipe(Effect.ignore)
    })
  )

  return {
    workerId,
    inflight: Effect.sync(() => inflight),
    wake
  }
})
