/**
 * One scheduler's in-process bookkeeping, and what its parts share (`Context`):
 * the services, the settings, the queues between the parts. JavaScript runs
 * one fiber at a time and every update of the state is synchronous, so plain
 * counters and collections are consistent.
 */
import type { Registry } from "@omnipost/core"
import { Clock, Effect, type FiberSet, Queue } from "effect"
import type { AccountStore } from "../storage/AccountStore.js"
import type { Database } from "../storage/Database.js"
import type { Claim, Leases, Marked, Outcome, PublishedItem, Upcoming } from "../storage/Leases.js"
import { type Bounds, Counts, type Load } from "./Capacity.js"
import type { SchedulerSettings } from "./SchedulerSettings.js"

/** A marked destination waiting for its call slot. */
export interface Ready {
  readonly claim: Claim
  readonly marked: Marked
}

/** A destination to mark (its attempt id made), with its payload when it was claimed ahead. */
export interface ToMark {
  readonly claim: Claim
  readonly attemptId: string
  readonly payload?: Upcoming["payload"] | undefined
}

/** What an outcome needs to know of its claim. */
export interface ClaimKey {
  readonly id: string
  readonly postId: string
  readonly organizationId: string
  readonly platform: string
  readonly accountId: string
}

/** A published destination waiting for its group commit. */
export interface PublishedEntry {
  readonly item: PublishedItem
  readonly claim: ClaimKey
}

export interface State {
  /** Platform calls in flight (the concurrency bounds apply to these). */
  readonly calling: Counts
  /** Destinations this process is publishing: being marked, marked and waiting for a slot, or in a call. */
  readonly reserved: Counts
  /** Recent call durations per platform (exponentially weighted), which size the mark-ahead. */
  readonly callMs: Map<string, number>
  /** Leases this process holds (claimed, marked or in a call), renewed together. */
  readonly held: Set<string>
  /** Published destinations whose outcome is waiting for its group commit; their leases are renewed too. */
  readonly settling: Set<string>
  /**
   * Claims given back while the database was away (their release failed):
   * released at the next loop round, so that they need not wait for their
   * lease to expire once it is back.
   */
  readonly unreleased: Set<string>
  /** Marked destinations waiting for a call slot. */
  readonly ready: Array<Ready>
  /**
   * Claimed destinations not marked yet, in due order: the local queue. They
   * stay `queued` (a cancel still stops them) and their leases are renewed with the others.
   */
  readonly pending: Array<Claim>
  /** Claimed ahead of their due time (`prefetchMs`), with their payload, in due order. */
  readonly upcoming: Array<Upcoming>
  /** No new marks (shutdown began). */
  stopping: boolean
  /** No new calls either (the shutdown's deadline passed). */
  closed: boolean
  /** Destinations in the mark statement running now. */
  marking: number
  /** A claim round is running (work was due a moment ago). */
  claiming: boolean
  /** When a claim round last came back full (more was due than it could take): a burst (`performance.now()`). */
  lastFullRoundAt: number
  /** Rows asked for by claim-and-mark rounds whose statement is running, and how many rounds. */
  claimsInFlight: number
  roundsInFlight: number
  /** The next unclaimed due time, which a notification may bring forward. */
  nextKnown: number | undefined
  /** The next lease expiry or pause end. */
  nextOther: number | undefined
  nextQueriedAt: number
  /**
   * Counts notifications, and the earliest due time they brought since the
   * last look began: a look whose snapshot predates a notification must not
   * overwrite what the notification said (the work it announced may have
   * committed after the look's snapshot was taken).
   */
  notified: number
  announcedDue: number | undefined
  /** The instant up to which everything due was already claimed ahead (a notification resets it). */
  prefetchedUntil: number
  lastOrphanCheck: number
  /** Mark batches taken and not yet handed on (marked, given back, dispatched). */
  markBatches: number
  /** Passes of the loop begun so far. */
  passes: number
  /** Who waits for the loop to go idle (`Scheduler.idle`): told at the first quiet sleep of a pass begun after `after`. */
  readonly idleWaiters: Array<{ readonly after: number; readonly tell: () => void }>
}

export const makeState = (): State => ({
  calling: new Counts(),
  reserved: new Counts(),
  callMs: new Map(),
  held: new Set(),
  settling: new Set(),
  unreleased: new Set(),
  ready: [],
  pending: [],
  upcoming: [],
  stopping: false,
  closed: false,
  marking: 0,
  claiming: false,
  lastFullRoundAt: Number.NEGATIVE_INFINITY,
  claimsInFlight: 0,
  roundsInFlight: 0,
  nextKnown: undefined,
  nextOther: undefined,
  nextQueriedAt: 0,
  notified: 0,
  announcedDue: undefined,
  prefetchedUntil: 0,
  lastOrphanCheck: 0,
  markBatches: 0,
  passes: 0,
  idleWaiters: []
})

/** The state as `Capacity` reads it. */
export const load = (state: State): Load => ({
  calling: state.calling,
  reserved: state.reserved,
  callMs: state.callMs,
  claimsInFlight: state.claimsInFlight,
  roundsInFlight: state.roundsInFlight,
  pending: state.pending.length
})

/** Something claimed ahead is due at `now` (Clock time). */
export const upcomingDue = (state: State, now: number): boolean =>
  state.upcoming.length > 0 && state.upcoming[0]!.claim.dueAt.getTime() <= now

/** What the scheduler's parts share. */
export interface Context {
  readonly workerId: string
  readonly settings: SchedulerSettings
  readonly bounds: Bounds
  readonly leases: Leases["Service"]
  readonly accounts: AccountStore["Service"]
  readonly registry: Registry.PublisherRegistry["Service"]
  readonly database: Database["Service"]
  readonly state: State
  /** Wakes the loop now (as a notification would). */
  readonly wake: Effect.Effect<void>
  readonly wakeQueue: Queue.Queue<void>
  /** Calls and other work started by dispatch. */
  readonly fibers: FiberSet.FiberSet
  /** Claim rounds running beside the loop. */
  readonly claimFibers: FiberSet.FiberSet
  /** Destinations reserved and waiting for their mark statement (see `Marking`). */
  readonly markQueue: Queue.Queue<ToMark>
  /** Published destinations waiting for their group commit (see `GroupCommit`). */
  readonly publishedQueue: Queue.Queue<PublishedEntry>
  /** The `onSettled` hook, errors ignored. */
  readonly notifySettled: (claim: ClaimKey, outcome: Outcome) => Effect.Effect<void>
}

/** The current time as a `Date`, from `Clock`. */
export const nowDate = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms)))

/**
 * Nothing left for this process to start now: no claim round in flight, no
 * mark waiting, being written or being handed on to its call slot. Calls may
 * still be running, marked destinations may wait for a busy slot and a paused
 * account's claims for its pause to end: each of those wakes the loop again.
 */
export const nothingToStart = (ctx: Context): boolean => {
  const { state } = ctx
  return state.roundsInFlight === 0 && state.claimsInFlight === 0 && state.markBatches === 0 &&
    Queue.sizeUnsafe(ctx.markQueue) === 0
}

/** Sleeps in real time: for batching and for watching this process's own work drain, never for scheduling. */
export const realSleep = (ms: number) => Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, ms)))
