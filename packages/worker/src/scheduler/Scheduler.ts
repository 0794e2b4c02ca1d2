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
 */
import { Backoff, type Lifecycle, Post, PublishError, Registry } from "@omnipost/core"
import type { Publisher } from "@omnipost/core"
import { Cause, Clock, Context, Effect, Exit, FiberSet, Option, Layer, Queue, Random, Schedule, Schema, Stream } from "effect"
import type { SqlError } from "effect/sql"
import { AccountStore, credentialsAad } from "../storage/AccountStore.js"
import { Crypto } from "../storage/Crypto.js"
import { Database } from "../storage/Database.js"
import * as Ids from "../storage/Ids.js"
import { type Claim, type Marked, type MarkRooms, type Orphan, type Outcome, type Upcoming, Leases } from "../storage/Leases.js"
import { dueChannel } from "../storage/PostStore.js"
import * as SchedulerSettings from "./SchedulerSettings.js"

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

/**
 * How many destinations beyond a scope's free call slots may be marked
 * publishing ahead of their call: the calls `limit` slots are expected to start
 * within `windowMs`, given calls that recently took `callMs` on average,
 * at most `cap`. Until a platform's calls have been timed (`undefined`), none:
 * a slow platform keeps the mark just in time, a platform answering in
 * microseconds (a no-op) gets a whole batch, so marks go out as batches
 * instead of one slot at a time.
 */
export const markAhead = (limit: number, callMs: number | undefined, windowMs: number, cap: number): number =>
  callMs === undefined || windowMs <= 0 ? 0 : Math.max(0, Math.min(cap, Math.floor((limit * windowMs) / Math.max(callMs, 0.001))))

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
  /** Synchronous decoding, for the fast path; None when it fails or needs an effect. */
  decodeSettingsNow: Schema.decodeUnknownOption(publisher.settingsSchema as Schema.Codec<unknown, unknown, never, never>),
  decodeCredentials: Schema.decodeUnknownEffect(publisher.credentialsSchema),
  encodeCredentials: Schema.encodeUnknownEffect(publisher.credentialsSchema),
  settingsByJson: new Map<string, Option.Option<unknown>>(),
  /** Decoded credentials by opened value (which `openCredentials` shares between calls). */
  decodedCredentials: new WeakMap<object, unknown>()
})
/**
 * Settings decoded synchronously, remembered by their JSON: most destinations
 * of a platform carry the same few settings (often none), and a decoded value
 * is immutable.
 */
const decodeSettingsNow = (codecs: ReturnType<typeof makeCodecs>, settings: unknown) => {
  const key = JSON.stringify(settings)
  let decoded = codecs.settingsByJson.get(key)
  if (decoded === undefined) {
    decoded = codecs.decodeSettingsNow(settings)
    if (codecs.settingsByJson.size >= 256) codecs.settingsByJson.delete(codecs.settingsByJson.keys().next().value!)
    codecs.settingsByJson.set(key, decoded)
  }
  return decoded
}

const codecsOf = (publisher: Publisher.PlatformPublisher) => {
  let codecs = codecCache.get(publisher)
  if (codecs === undefined) {
    codecs = makeCodecs(publisher)
    codecCache.set(publisher, codecs)
  }
  return codecs
}

/** How many of something (calls, reservations) per platform and per account, and in all. */
class Counts {
  total = 0
  private readonly byPlatform = new Map<string, number>()
  private readonly byAccount = new Map<string, number>()
  /** Each counted account's platform (an account belongs to one). */
  private readonly accountPlatform = new Map<string, string>()

  add(platform: string, accountId: string, delta: number) {
    this.total += delta
    bump(this.byPlatform, platform, delta)
    bump(this.byAccount, accountId, delta)
    if (this.byAccount.has(accountId)) this.accountPlatform.set(accountId, platform)
    else this.accountPlatform.delete(accountId)
  }
  ofPlatform(platform: string) {
    return this.byPlatform.get(platform) ?? 0
  }
  ofAccount(accountId: string) {
    return this.byAccount.get(accountId) ?? 0
  }
  platformOf(accountId: string) {
    return this.accountPlatform.get(accountId)
  }
  platforms() {
    return [...this.byPlatform]
  }
  accounts() {
    return [...this.byAccount]
  }
  copy() {
    const copy = new Counts()
    copy.total = this.total
    for (const [k, v] of this.byPlatform) copy.byPlatform.set(k, v)
    for (const [k, v] of this.byAccount) copy.byAccount.set(k, v)
    for (const [k, v] of this.accountPlatform) copy.accountPlatform.set(k, v)
    return copy
  }
}

/** The earlier of two instants, either possibly unknown. */
const earliest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b)

const bump = (map: Map<string, number>, key: string, delta: number) => {
  const next = (map.get(key) ?? 0) + delta
  if (next <= 0) map.delete(key)
  else map.set(key, next)
}

export class Scheduler extends Context.Service<Scheduler, {
  readonly workerId: string
  /** What this scheduler runs with: its options with every default applied. */
  readonly settings: SchedulerSettings.SchedulerSettings
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
  const { backoff, batchSize, concurrency, heartbeatMs, leaseMs, markAheadMs, maxAutoRetries, perAccount, pollMs } = settings
  const { prefetchLimit, prefetchMs, settleHoldMs, shutdownGraceMs } = settings
  const platformLimit = (platform: string) =>
    typeof settings.perPlatform === "number"
      ? settings.perPlatform
      : settings.perPlatform[platform] ?? concurrency

  // In-process bookkeeping. JavaScript runs one fiber at a time, and every update below is
  // synchronous, so plain counters and maps are consistent here.
  /** Platform calls in flight (the concurrency bounds apply to these). */
  const calling = new Counts()
  /** Destinations this process is publishing: being marked, marked and waiting for a slot, or in a call. */
  const reserved = new Counts()
  /** Recent call durations per platform (exponentially weighted), which size the mark-ahead. */
  const callMs = new Map<string, number>()
  // Until calls are timed, a publisher's own estimate, when it gives one (see `expectedCallMs`).
  for (const platform of registry.platforms) {
    const expected = registry.find(platform)?.expectedCallMs
    if (expected !== undefined && Number.isFinite(expected) && expected >= 0) callMs.set(platform, expected)
  }
  const observeCall = (platform: string, ms: number) => {
    const previous = callMs.get(platform)
    callMs.set(platform, previous === undefined ? ms : previous * 0.8 + ms * 0.2)
  }
  // Up to four batches ahead: room for two claim rounds or marks in flight and the next ones (see `claimRound`).
  const aheadOf = (limit: number, platform: string) => markAhead(limit, callMs.get(platform), markAheadMs, 4 * batchSize)
  /** Leases this process holds (claimed, marked or in a call), renewed together. */
  const held = new Set<string>()
  /** Published destinations whose outcome is waiting for its group commit; their leases are renewed too. */
  const settling = new Set<string>()
  /** No new marks (shutdown began). */
  let stopping = false
  /** No new calls either (the shutdown's deadline passed). */
  let closed = false
  /** Destinations in the mark statement running now. */
  let marking = 0
  /** A claim round is running (work was due a moment ago). */
  let claiming = false
  /** When a claim round last came back full (more was due than it could take): a burst. */
  let lastFullRoundAt = Number.NEGATIVE_INFINITY

  const wakeQueue = yield* Queue.sliding<void>(1)
  const wake = Queue.offer(wakeQueue, undefined).pipe(Effect.asVoid)
  const nowDate = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms)))
  const fibers = yield* FiberSet.make()
  /** Claim rounds running beside the loop (see `claimRound`). */
  const claimFibers = yield* FiberSet.make()

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
  const maxSettleBatch = 2_000
  /** A batch grows this long while calls keep finishing... */
  const settleGatherMs = 25
  /** ...and, during a burst of due work, up to this long (see below). */
  const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const publishedQueue = yield* Queue.unbounded<{
    readonly item: PublishedItem
    readonly claim: { id: string; postId: string; organizationId: string; platform: string; accountId: string }
  }>()
  yield* Effect.gen(function*() {
    while (true) {
      let batch = yield* Queue.takeBetween(publishedQueue, 1, maxSettleBatch)
      const firstAt = performance.now()
      // Calls are still finishing: let the batch grow for a moment; fewer, larger commits cost the database
      // less per destination. While claim rounds keep coming back full (a burst of due work), hold the
      // outcomes a little longer, so that the database's time goes first to marking the destinations that
      // are due, which is what their lag waits for. The leases of held outcomes are renewed; a crash
      // meanwhile leaves them unknown outcomes, reconciled, never published twice.
      // Real time on purpose: this is batching, not scheduling, and must not wait for a TestClock.
      while (batch.length < maxSettleBatch && !stopping) {
        const waited = performance.now() - firstAt
        const busy = claiming || reserved.total > 0 || pending.length > 0
        // A burst: claim rounds came back full a moment ago, or destinations claimed ahead are due and waiting.
        const burst = performance.now() - lastFullRoundAt < 50 || upcomingDue(Date.now()) || pending.length > 0
        if (!(busy && waited < settleGatherMs) && !(burst && waited < settleHoldMs)) break
        yield* realSleep(burst ? 10 : settleGatherMs)
        batch = [...batch, ...(yield* Queue.takeBetween(publishedQueue, 0, maxSettleBatch - batch.length))]
      }
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
   * The publish-once marks: destinations reserved together are marked in one
   * statement (the queue gathers those reserved while the previous statement
   * ran). A marked destination waits in `ready` for its call slot.
   */
  interface Ready {
    readonly claim: Claim
    readonly marked: Marked
  }
  const ready: Array<Ready> = []
  const markQueue = yield* Queue.unbounded<{ readonly claim: Claim; readonly attemptId: string; readonly payload?: Upcoming["payload"] | undefined }>()
  // Two consumers: while one statement runs, the other takes what gathered meanwhile, so a fast
  // platform's calls never wait for one statement at a time.
  const markConsumer = Effect.gen(function*() {
    while (true) {
      // At most two batches' worth per statement, so that the room splits between the two consumers; when
      // nothing is being called or marked yet (a burst begins), a first statement of one call slot's worth
      // each, which commits sooner, so that calls start while the bigger batches are marked.
      const starting = ready.length === 0 && calling.total === 0 && marking === 0
      const batch = yield* Queue.takeBetween(markQueue, 1, starting ? concurrency : 2 * batchSize)
      marking += batch.length
      const exit = yield* leases.markPublishingBatch({ items: batch, workerId, now: yield* nowDate, leaseMs }).pipe(Effect.exit)
      marking -= batch.length
      if (Exit.isFailure(exit)) yield* Effect.logWarning("marking destinations publishing failed; they stay queued", exit.cause)
      const notMarked: Array<string> = []
      for (const { claim } of batch) {
        const marked = Exit.isSuccess(exit) ? exit.value.get(claim.id) : undefined
        if (marked !== undefined) ready.push({ claim, marked })
        else {
          // Cancelled, edited, paused or taken over meanwhile (or the statement failed): given back, so
          // that whoever may take it need not wait for the lease to expire.
          reserved.add(claim.platform, claim.accountId, -1)
          held.delete(claim.id)
          notMarked.push(claim.id)
        }
      }
      if (notMarked.length > 0) yield* leases.release(workerId, notMarked).pipe(Effect.ignore)
      yield* dispatch
    }
  })
  yield* Effect.forkScoped(markConsumer)
  yield* Effect.forkScoped(markConsumer)

  /** Writes an outcome; a publish already happened, so a database hiccup is retried rather than lost. */
  const settle = (
    claim: { id: string; postId: string; organizationId: string; platform: string; accountId: string },
    attemptId: string,
    outcome: Outcome,
    onlyDestination?: boolean
  ): Effect.Effect<void, Lifecycle.InvalidStatusTransition | SqlError.SqlError> =>
    outcome._tag === "Published"
      ? Effect.sync(() => {
        // The call is over, so its slot frees now; the write joins the next group commit. The lease is
        // renewed until it commits (`settling`); if it never does, the lease expires and the outcome is
        // reconciled like any unknown one, never published twice.
        settling.add(claim.id)
        Queue.offerUnsafe(publishedQueue, {
          item: { destinationId: claim.id, postId: claim.postId, attemptId, outcome, onlyDestination },
          claim
        })
      })
      : Effect.gen(function*() {
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
      const floor = Backoff.retryAfterMs(error, now)
      const delay = Backoff.delayForErrorMs(backoff, claim.autoRetries, error, now, yield* Random.next)
      yield* leases.pause(pauseScopeFor(error, claim.platform, claim.accountId), new Date(now + (floor ?? delay)), error.message)
    }
    // A thread that failed part way: its live parts are kept, and the retry resumes after them.
    const parts = error.postedParts
    if (PublishError.isRetryable(error) && claim.autoRetries < maxAutoRetries) {
      const delay = Backoff.delayForErrorMs(backoff, claim.autoRetries, error, now, yield* Random.next)
      return { _tag: "Retry", at: new Date(now + delay), error: detail, parts } satisfies Outcome
    }
    return {
      _tag: "Failed",
      error: detail,
      attemptOutcome: error._tag === "OutcomeUnknown" ? "outcome_unknown" : "failed",
      accountNeedsReconnect: error._tag === "AuthFailed" && error.reason !== "missing_permission",
      parts
    } satisfies Outcome
  })

  interface Prepared {
    readonly publisher: Publisher.PlatformPublisher
    readonly request: Publisher.PublishRequest
  }

  const requestFor = (
    publisher: Publisher.PlatformPublisher,
    claim: { id: string; postId: string; accountId: string },
    attemptId: string,
    destination: Publisher.PublishRequest["destination"],
    credentials: unknown,
    postedParts: ReadonlyArray<Post.PublishedPart> | undefined
  ): Publisher.PublishRequest => {
    const codecs = codecsOf(publisher)
    return {
      postId: claim.postId,
      destinationId: claim.id,
      attemptId,
      destination,
      credentials,
      ...(postedParts !== undefined ? { postedParts } : {}),
      saveCredentials: (fresh) =>
        codecs.encodeCredentials(fresh).pipe(
          Effect.flatMap((encoded) => accounts.updateCredentials(claim.accountId, encoded, publisher.tokenExpiresAt?.(fresh))),
          Effect.tapCause((cause) => Effect.logWarning("could not save refreshed credentials", cause)),
          Effect.ignore
        )
    }
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
    const cached = typeof rawCredentials === "object" && rawCredentials !== null ? codecs.decodedCredentials.get(rawCredentials) : undefined
    const credentials = cached !== undefined ? cached : yield* codecs.decodeCredentials(rawCredentials).pipe(
      Effect.tap((decoded) =>
        Effect.sync(() => {
          // Opened credentials are shared (see `openCredentials`), so is their decoding.
          if (typeof rawCredentials === "object" && rawCredentials !== null) codecs.decodedCredentials.set(rawCredentials, decoded)
        })
      ),
      Effect.mapError((e) => destinationError("AUTH_EXPIRED", `the account's stored credentials are unusable; reconnect it: ${e.message}`))
    )
    const request = requestFor(publisher, claim, marked.attemptId, { ...resolved, settings }, credentials, marked.postedParts)
    return { publisher, request } satisfies Prepared
  })

  /**
   * Looks an unknown outcome up on the platform, when the publisher can.
   * `live`: a thread's parts known to be live (the failed attempt's, else the
   * earlier attempts'); the look-up searches after them, and they are kept
   * whatever it finds.
   */
  const reconcile = Effect.fnUntraced(function*(
    prepared: Prepared,
    sentAt: Date,
    unknownError: Post.DestinationError,
    live: ReadonlyArray<Post.PublishedPart> | undefined = prepared.request.postedParts
  ) {
    const findPublished = prepared.publisher.findPublished
    if (findPublished === undefined) {
      return { _tag: "Failed", error: unknownError, attemptOutcome: "outcome_unknown", parts: live } satisfies Outcome
    }
    const found = yield* findPublished({ ...prepared.request, ...(live !== undefined ? { postedParts: live } : {}), sentAt: sentAt.toISOString() }).pipe(
      Effect.catchDefect((defect) => Effect.fail(new PublishError.Transient({ platform: prepared.publisher.platform, message: String(defect) }))),
      Effect.result
    )
    if (found._tag === "Failure") {
      const failure = found.failure
      const error = { ...unknownError, message: `${unknownError.message} Looking it up on the platform: ${failure.message}` }
      // The first parts of the thread were found and the rest was not: the rest is posted after them.
      if (failure.postedParts !== undefined && failure.postedParts.length > 0 && PublishError.isRetryable(failure)) {
        return { _tag: "Retry", at: yield* nowDate, error, parts: failure.postedParts } satisfies Outcome
      }
      return {
        _tag: "Failed",
        error,
        attemptOutcome: "outcome_unknown",
        parts: failure.postedParts ?? live
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

  /**
   * Opened credentials, by sealed value: destinations of one account share
   * them, and opening (AES-GCM) is the costliest step of a fast call. A sealed
   * value never changes meaning (a refresh seals a new one), so entries never
   * go stale; the oldest go once there are `credentialCacheSize`.
   */
  const credentialCacheSize = 1_024
  const openedCredentials = new Map<string, unknown>()
  /** Each account's last opened credentials, by account (the fast path's lookup). */
  const lastOpened = new Map<string, { readonly ciphertext: string; readonly keyId: string; readonly opened: unknown }>()
  const credentialsKey = (sealed: { readonly ciphertext: string; readonly keyId: string }, accountId: string) =>
    `${accountId}\u0000${sealed.keyId}\u0000${sealed.ciphertext}`
  const openCredentials = (sealed: { readonly ciphertext: string; readonly keyId: string }, accountId: string) => {
    const key = credentialsKey(sealed, accountId)
    if (openedCredentials.has(key)) {
      const opened = openedCredentials.get(key)
      lastOpened.set(accountId, { ciphertext: sealed.ciphertext, keyId: sealed.keyId, opened })
      return Effect.succeed(opened)
    }
    return crypto.openJson(sealed, credentialsAad(accountId)).pipe(
      Effect.tap((opened) =>
        Effect.sync(() => {
          if (openedCredentials.size >= credentialCacheSize) openedCredentials.delete(openedCredentials.keys().next().value!)
          openedCredentials.set(key, opened)
          if (lastOpened.size >= credentialCacheSize) lastOpened.delete(lastOpened.keys().next().value!)
          lastOpened.set(accountId, { ciphertext: sealed.ciphertext, keyId: sealed.keyId, opened })
        })
      )
    )
  }

  /** The call for a marked destination, and its outcome. */
  const callMarked = (publisher: Publisher.PlatformPublisher, item: Ready): Effect.Effect<void, unknown> => {
    const prepared = preparedAtHand(publisher, item)
    return prepared === undefined ? prepareAndCall(publisher, item) : call(prepared, item)
  }

  /**
   * The request for a marked destination, built without running an effect
   * when all it needs is at hand: the account's credentials opened and
   * decoded for an earlier call, and settings that decode synchronously.
   * Otherwise undefined, and `prepareAndCall` takes the long way (which also
   * reports whatever is wrong). Fast calls are dominated by this bookkeeping.
   */
  const preparedAtHand = (publisher: Publisher.PlatformPublisher, { claim, marked }: Ready): Prepared | undefined => {
    if (marked.credentials === undefined) return undefined
    // Most calls in a row are for an account just seen: compare its sealed value, no need to build a key.
    const last = lastOpened.get(claim.accountId)
    const opened = last !== undefined && last.ciphertext === marked.credentials.ciphertext && last.keyId === marked.credentials.keyId
      ? last.opened
      : openedCredentials.get(credentialsKey(marked.credentials, claim.accountId))
    if (typeof opened !== "object" || opened === null) return undefined
    const codecs = codecsOf(publisher)
    if (!codecs.decodedCredentials.has(opened)) return undefined
    const resolved = Post.resolveDestination({ content: marked.content, platformOverrides: marked.platformOverrides }, marked.destination)
    const settings = decodeSettingsNow(codecs, resolved.settings)
    if (settings._tag === "None") return undefined
    const destination = { ...resolved, settings: settings.value as Readonly<Record<string, unknown>> }
    return {
      publisher,
      request: requestFor(publisher, claim, marked.attemptId, destination, codecs.decodedCredentials.get(opened), marked.postedParts)
    }
  }

  const prepareAndCall: (publisher: Publisher.PlatformPublisher, item: Ready) => Effect.Effect<void, unknown> = Effect.fnUntraced(function*(
    publisher: Publisher.PlatformPublisher,
    item: Ready
  ) {
    const { claim, marked } = item
    const prepared = yield* (marked.credentials === undefined
      ? Effect.fail(destinationError("ACCOUNT_NOT_FOUND", `account ${claim.accountId} is no longer connected`))
      : openCredentials(marked.credentials, claim.accountId).pipe(
        Effect.mapError((e) => destinationError("CREDENTIALS_UNREADABLE", e.message))
      )).pipe(
        Effect.flatMap((credentials) => prepare(publisher, claim, marked, credentials)),
        Effect.result
      )
    if (prepared._tag === "Failure") {
      return yield* settle(claim, marked.attemptId, { _tag: "Failed", error: prepared.failure, attemptOutcome: "failed" })
    }
    return yield* call(prepared.success, item)
  })

  /** The platform call, and its outcome. */
  const call = (prepared: Prepared, { claim, marked }: Ready): Effect.Effect<void, unknown> =>
    Clock.currentTimeMillis.pipe(Effect.flatMap((sentMs) => {
      const startedAt = performance.now()
      return prepared.publisher.publish(prepared.request).pipe(
        // A defect in a publisher may strike after the request left: the outcome is unknown.
        Effect.catchDefect((defect) =>
          Effect.fail(new PublishError.OutcomeUnknown({ platform: claim.platform, message: `the publisher crashed: ${String(defect)}` }))
        ),
        Effect.matchEffect({
          onSuccess: (result) => {
            observeCall(claim.platform, performance.now() - startedAt)
            return settle(claim, marked.attemptId, {
              _tag: "Published",
              platformPostId: result.platformPostId,
              url: result.url,
              publishedAt: new Date(result.publishedAt),
              parts: result.parts
            }, marked.onlyDestination)
          },
          onFailure: (error) => {
            observeCall(claim.platform, performance.now() - startedAt)
            const outcome: Effect.Effect<Outcome, SqlError.SqlError> = error._tag === "OutcomeUnknown"
              ? reconcile(prepared, new Date(sentMs), PublishError.toDestinationError(error), error.postedParts ?? prepared.request.postedParts)
              : outcomeOf(error, claim)
            return Effect.flatMap(outcome, (outcome) => settle(claim, marked.attemptId, outcome))
          }
        })
      )
    }))

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

  /**
   * Runs `work` (a call) for a destination in its own fiber, holding a call
   * slot; `counted` says whether the caller already counted its call slot and
   * reservation (`dispatch` does for marked ones; an orphan takes both here).
   */
  const startCall = (key: { id: string; platform: string; accountId: string }, work: Effect.Effect<void, unknown>, counted: boolean) => {
    if (!counted) {
      calling.add(key.platform, key.accountId, 1)
      reserved.add(key.platform, key.accountId, 1)
    }
    held.add(key.id)
    return FiberSet.run(
      fibers,
      work.pipe(
        Effect.exit,
        Effect.flatMap((exit) => {
          calling.add(key.platform, key.accountId, -1)
          reserved.add(key.platform, key.accountId, -1)
          held.delete(key.id)
          // A slot is free: start the next marked destination, and refill when a round is worth it.
          const next = worthARound() ? Effect.andThen(dispatch, wake) : dispatch
          return Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
            ? Effect.logError(`destination ${key.id}: the scheduler could not finish it`, exit.cause).pipe(Effect.andThen(next))
            : next
        }),
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            calling.add(key.platform, key.accountId, -1)
            reserved.add(key.platform, key.accountId, -1)
            held.delete(key.id)
          })
        )
      )
    ).pipe(Effect.asVoid)
  }

  /**
   * Whether freed room is worth waking the loop for a claim round: at once
   * when the mark stays just in time (slow platforms), and for fast ones once
   * half a batch fits, so that rounds stay batches and the loop does not spin
   * once per call.
   */
  const worthARound = () => {
    if (pending.length > 0) return pending.length <= batchSize / 2
    const ahead = maxAhead()
    const room = concurrency + ahead - reserved.total - claimsInFlight
    return ahead === 0 ? room > 0 : room >= batchSize / 2 && roundsInFlight < 2
  }

  let lastOrphanCheck = 0
  const recoverOrphans = Effect.gen(function*() {
    const now = yield* nowDate
    lastOrphanCheck = now.getTime()
    const free = concurrency - calling.total
    if (free <= 0) return
    const orphans = yield* leases.expiredPublishing({ workerId, now, leaseMs, limit: free })
    for (const orphan of orphans) yield* startCall(orphan, recoverOrphan(orphan), false)
  })

  /**
   * Claimed destinations not marked yet, in due order: the local queue. Claims
   * come in batches (one query for many), so the next destination is at hand
   * the moment there is room. They stay `queued` (a cancel still stops them)
   * and their leases are renewed with the others.
   */
  const pending: Array<Claim> = []
  /** Claimed ahead of their due time (`prefetchMs`), with their payload, in due order. */
  const upcoming: Array<Upcoming> = []
  const upcomingDue = (now: number) => upcoming.length > 0 && upcoming[0]!.claim.dueAt.getTime() <= now

  const canCall = (claim: Claim) =>
    calling.total < concurrency &&
    calling.ofPlatform(claim.platform) < platformLimit(claim.platform) &&
    calling.ofAccount(claim.accountId) < perAccount

  /** Room to mark one more: the free call slots, plus the mark-ahead of fast platforms. */
  const canReserve = (claim: Claim) => {
    const platformBound = platformLimit(claim.platform)
    // A claim-and-mark round in flight may bring up to its limit for any one account or platform (as
    // `markRooms` assumes): counted as taken, or both paths together could overrun a bound.
    return reserved.total + claimsInFlight < concurrency + aheadOf(concurrency, claim.platform) &&
      reserved.ofPlatform(claim.platform) + claimsInFlight < platformBound + aheadOf(platformBound, claim.platform) &&
      reserved.ofAccount(claim.accountId) + claimsInFlight < perAccount + aheadOf(perAccount, claim.platform)
  }
  /** No room at all, whatever the platform: the scans below stop at once instead of visiting every claim. */
  const noRoomLeft = () => reserved.total + claimsInFlight >= concurrency + maxAhead()
  const maxAhead = () => {
    let ahead = 0
    for (const platform of callMs.keys()) ahead = Math.max(ahead, aheadOf(concurrency, platform))
    return ahead
  }

  /**
   * Moves work along, synchronously (so any fiber may run it): starts calls
   * for marked destinations with a free slot, fails claims no publisher here
   * can take, and sends claims with room to be marked. Runs after a claim, a
   * mark and every call.
   */
  const dispatch: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const toCall: Array<{ publisher: Publisher.PlatformPublisher; item: Ready }> = []
    for (let i = 0; i < ready.length && !closed && calling.total < concurrency;) {
      const item = ready[i]!
      if (!canCall(item.claim)) {
        i++
        continue
      }
      ready.splice(i, 1)
      // Counted now, so that the next candidates in this loop see the slot taken.
      calling.add(item.claim.platform, item.claim.accountId, 1)
      toCall.push({ publisher: registry.find(item.claim.platform)!, item })
    }
    const toMark: Array<{ claim: Claim; attemptId: string; payload?: Upcoming["payload"] }> = []
    const unknown: Array<Claim> = []
    // Claimed ahead and due now: first, they are the earliest due.
    const taken: Array<number> = []
    for (let i = 0; i < upcoming.length && !stopping && upcoming[i]!.claim.dueAt.getTime() <= now && !noRoomLeft(); i++) {
      const item = upcoming[i]!
      if (!canReserve(item.claim)) continue
      taken.push(i)
      reserved.add(item.claim.platform, item.claim.accountId, 1)
      toMark.push({ claim: item.claim, attemptId: "", payload: item.payload })
    }
    // Usually a run from the head: one splice; otherwise one at a time, from the back.
    if (taken.length > 0 && taken[taken.length - 1] === taken.length - 1) upcoming.splice(0, taken.length)
    else for (let k = taken.length - 1; k >= 0; k--) upcoming.splice(taken[k]!, 1)
    for (let i = 0; i < pending.length && !stopping && !noRoomLeft();) {
      const claim = pending[i]!
      const isUnknown = registry.find(claim.platform) === undefined
      if (!isUnknown && !canReserve(claim)) {
        i++
        continue
      }
      pending.splice(i, 1)
      if (isUnknown) unknown.push(claim)
      else {
        reserved.add(claim.platform, claim.accountId, 1)
        toMark.push({ claim, attemptId: "" })
      }
    }
    if (toCall.length === 0 && toMark.length === 0 && unknown.length === 0) return Effect.void
    return Effect.gen(function*() {
      for (const { publisher, item } of toCall) {
        yield* startCall(item.claim, callMarked(publisher, item), true)
      }
      for (const claim of unknown) {
        yield* FiberSet.run(
          fibers,
          leases.failBeforeCall({
            claim,
            workerId,
            error: destinationError("UNKNOWN_PLATFORM", `no publisher is registered for "${claim.platform}" on this worker`)
          }).pipe(
            Effect.tapCause((cause) => Effect.logError(`destination ${claim.id}: could not fail it`, cause)),
            Effect.ignore,
            Effect.ensuring(Effect.sync(() => held.delete(claim.id)))
          )
        )
      }
      if (toMark.length > 0) {
        const attemptIds = Ids.makeMany("att", toMark.length)
        yield* Queue.offerAll(markQueue, toMark.map((m, i) => ({ ...m, attemptId: attemptIds[i]! })))
      }
    })
  })

  /**
   * What `claimAndMark` may take now: the room under each bound (calls plus
   * mark-ahead, minus what is already reserved) per platform and per account.
   */
  const markRooms = () => {
    const platforms = [...new Set([...reserved.platforms().map(([p]) => p), ...callMs.keys()])].filter((p) => registry.find(p) !== undefined)
    // A claim round in flight may bring up to its limit for any one account or platform.
    const platformRooms = platforms.map((platform) => ({
      platform,
      room: Math.max(0, platformLimit(platform) + aheadOf(platformLimit(platform), platform) - reserved.ofPlatform(platform) - claimsInFlight),
      accountRoom: Math.max(0, perAccount + aheadOf(perAccount, platform) - claimsInFlight)
    }))
    const accounts = reserved.accounts().map(([accountId, n]) => {
      const platform = reserved.platformOf(accountId)!
      return { accountId, room: Math.max(0, perAccount + aheadOf(perAccount, platform) - n - claimsInFlight) }
    })
    const total = concurrency + Math.max(0, ...platforms.map((p) => aheadOf(concurrency, p))) - reserved.total - claimsInFlight
    return {
      limit: Math.max(0, Math.min(batchSize, total)),
      /** Platforms answering fast enough that a second round may run while one is in flight. */
      pipelined: platforms.length > 0 && platforms.every((p) => aheadOf(perAccount, p) >= batchSize),
      rooms: {
        accounts,
        platforms: platformRooms,
        defaultPlatformRoom: Math.max(0, Math.min(concurrency, concurrency - reserved.total - claimsInFlight)),
        defaultAccountRoom: Math.max(0, perAccount - claimsInFlight)
      }
    }
  }

  /** Rows asked for by claim rounds whose statement is running, and how many rounds. */
  let claimsInFlight = 0
  let roundsInFlight = 0

  /** A `claimAndMark` round: its marked destinations join `ready` and start; whether it got all it asked for. */
  const markRound = (limit: number, rooms: MarkRooms) => {
    claimsInFlight += limit
    roundsInFlight++
    return Effect.gen(function*() {
      const marked = yield* leases.claimAndMark({
        workerId,
        now: yield* nowDate,
        leaseMs,
        limit,
        platforms: registry.platforms,
        rooms,
        attemptIds: Ids.makeMany("att", limit)
      })
      claimsInFlight -= limit
      roundsInFlight--
      for (const item of marked) {
        reserved.add(item.claim.platform, item.claim.accountId, 1)
        held.add(item.claim.id)
        ready.push(item)
      }
      yield* dispatch
      if (marked.length === limit) lastFullRoundAt = performance.now()
      return marked.length === limit
    }).pipe(
      Effect.onError(() =>
        Effect.sync(() => {
          claimsInFlight -= limit
          roundsInFlight--
        })
      )
    )
  }

  /**
   * One claim round; returns whether it got a full batch (more work is likely waiting).
   *
   * With room to call now and no older claim waiting, destinations are claimed
   * and marked in one statement (`claimAndMark`): they are called at once, so
   * a separate cancellable claim would only cost a round trip. Otherwise they
   * are claimed into the local queue, `queued` and cancellable, and marked when
   * room frees.
   */
  const claimRound = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    // Nothing unclaimed is due, as far as this process knows (its last look, or a notification since):
    // no scan. While other processes hold many claims, a scan that finds nothing still visits each of
    // them, and repeating it after every call is what would slow everyone's marks in a burst.
    if (nextKnown === undefined || nextKnown > now) return false
    if (pending.length === 0 && !stopping && !upcomingDue(now)) {
      const { limit, pipelined, rooms } = markRooms()
      if (limit > 0 && !pipelined && roundsInFlight === 0) return yield* markRound(limit, rooms)
      if (limit > 0 && pipelined && roundsInFlight < 2) {
        // Calls this fast are over long before a statement is: with two rounds in flight, the
        // database marks the next batch while this process makes the calls of the last one.
        yield* FiberSet.run(
          claimFibers,
          markRound(limit, rooms).pipe(
            Effect.flatMap((full) => (full ? wake : Effect.void)),
            Effect.catchCause((cause) => Effect.logWarning("claim failed; retrying after the next wake", cause))
          )
        )
        // Loop again at once: a second round may start while this one runs.
        return roundsInFlight < 2
      }
      // Fewer than asked: nothing else is due now, or the rest is over an account's or platform's room
      // and waits for the next round (a call ending wakes the loop).
      if (limit > 0 || roundsInFlight > 0) return false
    }
    // Refill once the local queue is half empty: claims stay batches, and land before it runs dry.
    if (pending.length > batchSize / 2) return false
    const limit = batchSize - pending.length
    if (limit <= 0) return false
    // Accounts and platforms with as much in hand as this process will start soon are left to other
    // workers (and to later rounds): no hoarding of one account's backlog while other processes idle.
    const inHand = reserved.copy()
    for (const claim of pending) inHand.add(claim.platform, claim.accountId, 1)
    // In hand: what may be reserved (calls plus mark-ahead) and, for fast platforms, one more batch waiting.
    const accountBound = (platform: string) => perAccount + 2 * aheadOf(perAccount, platform)
    const platformBound = (platform: string) => platformLimit(platform) + 2 * aheadOf(platformLimit(platform), platform)
    const claims = yield* leases.claim({
      workerId,
      now: yield* nowDate,
      leaseMs,
      limit,
      excludePlatforms: inHand.platforms().filter(([platform, n]) => n >= platformBound(platform)).map(([platform]) => platform),
      excludeAccounts: inHand.accounts().filter(([account, n]) => n >= accountBound(inHand.platformOf(account)!)).map(([account]) => account)
    })
    const extra: Array<string> = []
    for (const claim of claims) {
      // Over the bound (several rows of one account or platform in a batch): give them back.
      if (inHand.ofAccount(claim.accountId) >= accountBound(claim.platform) || inHand.ofPlatform(claim.platform) >= platformBound(claim.platform)) {
        extra.push(claim.id)
        continue
      }
      inHand.add(claim.platform, claim.accountId, 1)
      pending.push(claim)
      held.add(claim.id)
    }
    if (extra.length > 0) yield* leases.release(workerId, extra)
    yield* dispatch
    return claims.length === limit && extra.length === 0
  })

  /**
   * The next unclaimed due time (`nextKnown`, which a notification may bring
   * forward) and the next lease expiry or pause end (`nextOther`); cached
   * briefly while busy.
   */
  let nextKnown: number | undefined
  let nextOther: number | undefined
  let nextQueriedAt = 0
  /**
   * Counts notifications, and the earliest due time they brought since the
   * last look began: a look whose snapshot predates a notification must not
   * overwrite what the notification said (the work it announced may have
   * committed after the look's snapshot was taken).
   */
  let notified = 0
  let announcedDue: number | undefined
  const nextWake = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const busy = reserved.total > 0 || pending.length > 0 || upcoming.length > 0
    if (!busy || now - nextQueriedAt >= 250 || nextQueriedAt > now) {
      announcedDue = undefined
      const next = yield* leases.nextWake(new Date(now)).pipe(Effect.orElseSucceed(() => ({ due: undefined, other: undefined })))
      nextKnown = earliest(next.due?.getTime(), announcedDue)
      nextOther = next.other?.getTime()
      nextQueriedAt = now
    }
  })

  /** The instant up to which everything due was already claimed ahead (a notification resets it). */
  let prefetchedUntil = 0
  /**
   * Claims what is due within `prefetchMs` (see `claimUpcoming`), when
   * something is; returns whether it got a full batch.
   */
  const prefetchRound = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const limit = Math.min(4 * batchSize, prefetchLimit - upcoming.length)
    if (prefetchMs === 0 || stopping || limit <= 0) return false
    if (nextKnown === undefined || nextKnown > now + prefetchMs) return false
    // Everything in the window was claimed a moment ago (and nothing new was announced since).
    if (now + prefetchMs <= prefetchedUntil) return false
    const until = now + prefetchMs
    const notifiedBefore = notified
    // Accounts over their bound are left to others, as for claims (no hoarding of one account's backlog).
    const inHand = reserved.copy()
    for (const claim of pending) inHand.add(claim.platform, claim.accountId, 1)
    for (const item of upcoming) inHand.add(item.claim.platform, item.claim.accountId, 1)
    const claimed = yield* leases.claimUpcoming({
      workerId,
      now: new Date(now),
      until: new Date(until),
      leaseMs,
      limit,
      platforms: registry.platforms,
      excludeAccounts: inHand.accounts().filter(([account, n]) => n >= prefetchLimit / 2)
        .map(([account]) => account),
      // Workers whose heartbeat is this recent share the window's work (see `claimUpcoming`).
      liveSince: new Date(now - 3 * heartbeatMs)
    })
    for (const item of claimed) {
      held.add(item.claim.id)
      // In due order: most batches land after what is held already.
      let at = upcoming.length
      while (at > 0 && upcoming[at - 1]!.claim.dueAt.getTime() > item.claim.dueAt.getTime()) at--
      upcoming.splice(at, 0, item)
    }
    // Unless a notification came while the statement ran: what it announced may be newer than its snapshot.
    if (claimed.length < limit && notified === notifiedBefore) prefetchedUntil = until
    // What was due next may be what was just claimed: ask again before sleeping.
    if (claimed.length > 0) nextQueriedAt = Number.NEGATIVE_INFINITY
    yield* dispatch
    return claimed.length === limit
  })

  const loop = Effect.gen(function*() {
    while (!stopping) {
      claiming = true
      const full = yield* claimRound.pipe(
        Effect.ensuring(Effect.sync(() => (claiming = false))),
        Effect.catchCause((cause) => Effect.logWarning("claim failed; retrying after the next wake", cause).pipe(Effect.as(false)))
      )
      if (full) continue
      const more = yield* prefetchRound.pipe(
        Effect.catchCause((cause) => Effect.logWarning("claiming ahead failed; retrying after the next wake", cause).pipe(Effect.as(false)))
      )
      if (more) continue
      yield* dispatch
      const now = yield* Clock.currentTimeMillis
      if (now - lastOrphanCheck >= Math.min(pollMs, leaseMs / 3) || lastOrphanCheck > now) {
        yield* recoverOrphans.pipe(Effect.catchCause((cause) => Effect.logWarning("orphan recovery failed", cause)))
      }
      const knownBefore = nextKnown
      yield* nextWake
      // The look found unclaimed work due (or due soon enough to claim ahead) that the rounds above did
      // not know of: go again at once.
      if (nextKnown !== undefined && nextKnown !== knownBefore && nextKnown <= now + prefetchMs && !stopping) continue
      // Wake for: what this process holds ahead falling due; unclaimed work, `prefetchMs` before it is due
      // (while there is room to hold it); a lease expiring or a pause ending. Only future instants: what
      // is due already and still here waits for room, and a call ending (or a notification) wakes the
      // loop for it; sleeping a millisecond at a time instead would keep every process busy in a burst.
      const nextToClaim = nextKnown === undefined || prefetchMs === 0 || upcoming.length >= prefetchLimit
        ? nextKnown
        : nextKnown <= prefetchedUntil
        ? undefined // inside the window just claimed: the poll (or a notification) finds what was left
        : Math.max(now, nextKnown - prefetchMs)
      const candidates = [upcoming[0]?.claim.dueAt.getTime(), nextToClaim, nextOther].filter((t): t is number =>
        t !== undefined && t > now
      )
      const next = candidates.length === 0 ? undefined : Math.min(...candidates)
      const sleepMs = Math.min(pollMs, Math.max(next === undefined ? pollMs : next - now, 1))
      yield* Effect.raceFirst(Queue.take(wakeQueue), Effect.sleep(sleepMs))
    }
  })

  // Notifications: another process (or the API) made something due.
  const notifications = yield* database.listen(dueChannel)
  yield* notifications.pipe(
    Stream.runForEach((payload) => {
      const due = Date.parse(payload)
      notified++
      if (Number.isFinite(due)) {
        nextKnown = earliest(nextKnown, due)
        announcedDue = earliest(announcedDue, due)
      }
      prefetchedUntil = 0
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
      // Marked destinations are still called (their marks are committed); calls in flight finish.
      // The polls below wait in real time: they watch this process's own work drain, which a TestClock
      // does not move (a clock-driven poll would never end under one if an outcome was still being written).
      yield* Effect.gen(function*() {
        while (reserved.total > 0 || settling.size > 0) yield* realSleep(5)
      }).pipe(Effect.timeoutOption(shutdownGraceMs))
      // Past the deadline: no more calls start. Marked destinations still waiting for a slot go back
      // to queued (never called, so not an unknown outcome); calls still running are interrupted,
      // their leases expire and another worker reconciles them as unknown outcomes.
      closed = true
      yield* Effect.gen(function*() {
        while (marking > 0 || roundsInFlight > 0) yield* realSleep(5)
      }).pipe(Effect.timeoutOption(5_000))
      const unsent = ready.splice(0, ready.length)
      yield* leases.unmark({ workerId, items: unsent.map((r) => ({ destinationId: r.claim.id, attemptId: r.marked.attemptId })), now: yield* nowDate }).pipe(
        Effect.tapCause((cause) => Effect.logWarning("could not give back marked destinations; they will be reconciled as unknown outcomes", cause)),
        Effect.ignore
      )
      yield* FiberSet.clear(fibers)
      yield* leases.release(workerId).pipe(Effect.ignore)
      yield* leases.heartbeat(workerId, yield* nowDate, true).pipe(Effect.ignore)
    })
  )

  return {
    workerId,
    settings: { ...settings, workerId },
    inflight: Effect.sync(() => calling.total),
    wake
  }
})
