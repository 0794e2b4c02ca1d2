/**
 * The scheduler's loop and what runs beside it: claim rounds until nothing
 * more is due, then sleep until the next known due time (never longer than
 * `pollMs`) or a wake (`LISTEN omnipost_due`, a call ending); lease renewal,
 * heartbeats, and the graceful shutdown.
 */
import { Clock, Effect, FiberSet, Queue, Schedule, type Scope, Stream } from "effect"
import type { SqlError } from "effect/sql"
import { dueChannel } from "../storage/PostStore.js"
import * as Capacity from "./Capacity.js"
import type { Claiming } from "./Claiming.js"
import type { Dispatch } from "./Dispatch.js"
import { type Context, nothingToStart, nowDate, realSleep } from "./State.js"

/** The instant the loop sleeps until: the earliest future instant something needs it, at most `pollMs` away. */
export const sleepMs = (options: {
  readonly now: number
  readonly pollMs: number
  readonly prefetchMs: number
  readonly prefetchLimit: number
  /** When the first destination claimed ahead falls due. */
  readonly upcomingDueAt: number | undefined
  readonly upcomingCount: number
  readonly nextKnown: number | undefined
  readonly prefetchedUntil: number
  readonly nextOther: number | undefined
}): number => {
  const { nextKnown, now, pollMs, prefetchMs } = options
  // Wake for: what this process holds ahead falling due; unclaimed work, `prefetchMs` before it is due
  // (while there is room to hold it); a lease expiring or a pause ending. Only future instants: what
  // is due already and still here waits for room, and a call ending (or a notification) wakes the
  // loop for it; sleeping a millisecond at a time instead would keep every process busy in a burst.
  const nextToClaim = nextKnown === undefined || prefetchMs === 0 || options.upcomingCount >= options.prefetchLimit
    ? nextKnown
    : nextKnown <= options.prefetchedUntil
    ? undefined // inside the window just claimed: the poll (or a notification) finds what was left
    : Math.max(now, nextKnown - prefetchMs)
  const candidates = [options.upcomingDueAt, nextToClaim, options.nextOther].filter((t): t is number => t !== undefined && t > now)
  const next = candidates.length === 0 ? undefined : Math.min(...candidates)
  return Math.min(pollMs, Math.max(next === undefined ? pollMs : next - now, 1))
}

/** Starts the loop, notifications, lease renewal and heartbeats for the scope, and the shutdown as its finalizer. */
export const run = Effect.fnUntraced(function*(
  ctx: Context,
  dispatch: Dispatch,
  claiming: Claiming
): Effect.fn.Return<void, SqlError.SqlError, Scope.Scope> {
  const { leases, state, workerId } = ctx
  const { heartbeatMs, leaseMs, pollMs, prefetchLimit, prefetchMs, shutdownGraceMs } = ctx.settings

  const loop = Effect.gen(function*() {
    while (!state.stopping) {
      state.passes++
      if (state.unreleased.size > 0) {
        // Given back during an outage; any claimed again since are this process's again, not released.
        const ids = [...state.unreleased].filter((id) => !state.held.has(id))
        yield* leases.release(workerId, ids).pipe(
          Effect.andThen(Effect.sync(() => state.unreleased.clear())),
          Effect.catchCause((cause) => Effect.logWarning("giving back claims failed; retrying after the next wake", cause))
        )
      }
      state.claiming = true
      const full = yield* claiming.claimRound.pipe(
        Effect.ensuring(Effect.sync(() => (state.claiming = false))),
        Effect.catchCause((cause) => Effect.logWarning("claim failed; retrying after the next wake", cause).pipe(Effect.as(false)))
      )
      if (full) continue
      const more = yield* claiming.prefetchRound.pipe(
        Effect.catchCause((cause) => Effect.logWarning("claiming ahead failed; retrying after the next wake", cause).pipe(Effect.as(false)))
      )
      if (more) continue
      yield* dispatch.dispatch
      const now = yield* Clock.currentTimeMillis
      if (now - state.lastOrphanCheck >= Math.min(pollMs, leaseMs / 3) || state.lastOrphanCheck > now) {
        yield* dispatch.recoverOrphans.pipe(Effect.catchCause((cause) => Effect.logWarning("orphan recovery failed", cause)))
      }
      const knownBefore = state.nextKnown
      yield* claiming.nextWake
      // The look found unclaimed work due (or due soon enough to claim ahead) that the rounds above did
      // not know of: go again at once.
      if (state.nextKnown !== undefined && state.nextKnown !== knownBefore && state.nextKnown <= now + prefetchMs && !state.stopping) continue
      const ms = sleepMs({
        now,
        pollMs,
        prefetchMs,
        prefetchLimit,
        upcomingDueAt: state.upcoming[0]?.claim.dueAt.getTime(),
        upcomingCount: state.upcoming.length,
        nextKnown: state.nextKnown,
        prefetchedUntil: state.prefetchedUntil,
        nextOther: state.nextOther
      })
      // Going to sleep with nothing left to start: whoever waits for the loop to go idle (`Scheduler.idle`) is told.
      if (state.idleWaiters.length > 0 && nothingToStart(ctx)) {
        const waiting = state.idleWaiters.splice(0)
        for (const waiter of waiting) waiter.after < state.passes ? waiter.tell() : state.idleWaiters.push(waiter)
      }
      yield* Effect.raceFirst(Queue.take(ctx.wakeQueue), Effect.sleep(ms))
    }
  })

  // Notifications: another process (or the API) made something due. The first LISTEN is in place before
  // the layer is built; when its connection drops (a database restart) it is taken again, once a second
  // while the database is away, and a wake meanwhile lets a claim round find what was announced.
  const handle = (notifications: Stream.Stream<string, SqlError.SqlError>) =>
    notifications.pipe(
      Stream.runForEach((payload) => {
        const due = Date.parse(payload)
        state.notified++
        if (Number.isFinite(due)) {
          state.nextKnown = Capacity.earliest(state.nextKnown, due)
          state.announcedDue = Capacity.earliest(state.announcedDue, due)
        }
        state.prefetchedUntil = 0
        return ctx.wake
      }),
      Effect.catchCause((cause) => Effect.logWarning("LISTEN stopped; polling until it is back", cause))
    )
  const first = yield* ctx.database.listen(dueChannel)
  yield* Effect.gen(function*() {
    yield* handle(first)
    while (!state.stopping) {
      yield* ctx.wake
      yield* Effect.sleep(1_000)
      yield* Effect.scoped(Effect.flatMap(ctx.database.listen(dueChannel), handle)).pipe(
        Effect.catchCause(() => Effect.void)
      )
    }
  }).pipe(Effect.forkScoped)

  // Lease renewal for everything held, in one statement.
  yield* Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    yield* leases.renew(workerId, [...state.held, ...state.settling], new Date(now + leaseMs))
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
      state.stopping = true
      yield* ctx.wake
      // Marked destinations are still called (their marks are committed); calls in flight finish.
      // The polls below wait in real time: they watch this process's own work drain, which a TestClock
      // does not move (a clock-driven poll would never end under one if an outcome was still being written).
      yield* Effect.gen(function*() {
        while (state.reserved.total > 0 || state.settling.size > 0) yield* realSleep(5)
      }).pipe(Effect.timeoutOption(shutdownGraceMs))
      // Past the deadline: no more calls start. Marked destinations still waiting for a slot go back
      // to queued (never called, so not an unknown outcome); calls still running are interrupted,
      // their leases expire and another worker reconciles them as unknown outcomes.
      state.closed = true
      yield* Effect.gen(function*() {
        while (state.marking > 0 || state.roundsInFlight > 0) yield* realSleep(5)
      }).pipe(Effect.timeoutOption(5_000))
      const unsent = state.ready.splice(0, state.ready.length)
      yield* leases.unmark({ workerId, items: unsent.map((r) => ({ destinationId: r.claim.id, attemptId: r.marked.attemptId })), now: yield* nowDate }).pipe(
        Effect.tapCause((cause) => Effect.logWarning("could not give back marked destinations; they will be reconciled as unknown outcomes", cause)),
        Effect.ignore
      )
      yield* FiberSet.clear(ctx.fibers)
      yield* leases.release(workerId).pipe(Effect.ignore)
      yield* leases.heartbeat(workerId, yield* nowDate, true).pipe(Effect.ignore)
    })
  )
})
