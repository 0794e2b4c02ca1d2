/**
 * Claiming due work, three ways (the worker README's "How a destination is
 * published"): claimed and marked in one statement when calls can start now
 * (`claimAndMark`); claimed into the local queue until room frees (`claim`);
 * or ahead of the due time with the calls' payload (`claimUpcoming`, within
 * `prefetchMs`). And the look at what falls due next (`nextWake`).
 */
import { Clock, Effect, FiberSet } from "effect"
import * as Ids from "../storage/Ids.js"
import type { MarkRooms } from "../storage/Leases.js"
import * as Capacity from "./Capacity.js"
import { type Context, load, nowDate, upcomingDue } from "./State.js"

export interface Claiming {
  /** One claim round; whether it got a full batch (more work is likely waiting). */
  readonly claimRound: Effect.Effect<boolean, unknown>
  /** Claims what is due within `prefetchMs`, when something is; whether it got a full batch. */
  readonly prefetchRound: Effect.Effect<boolean, unknown>
  /** Looks up the next unclaimed due time and the next lease expiry or pause end (cached briefly while busy). */
  readonly nextWake: Effect.Effect<void>
}

export const make = (ctx: Context, dispatch: Effect.Effect<void>): Claiming => {
  const { bounds, leases, registry, state, workerId } = ctx
  const { batchSize, heartbeatMs, leaseMs, prefetchLimit, prefetchMs } = ctx.settings

  /** A `claimAndMark` round: its marked destinations join `ready` and start; whether it got all it asked for. */
  const markRound = (limit: number, rooms: MarkRooms) => {
    state.claimsInFlight += limit
    state.roundsInFlight++
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
      state.claimsInFlight -= limit
      state.roundsInFlight--
      for (const item of marked) {
        state.reserved.add(item.claim.platform, item.claim.accountId, 1)
        state.held.add(item.claim.id)
        state.ready.push(item)
      }
      yield* dispatch
      if (marked.length === limit) state.lastFullRoundAt = performance.now()
      return marked.length === limit
    }).pipe(
      Effect.onError(() =>
        Effect.sync(() => {
          state.claimsInFlight -= limit
          state.roundsInFlight--
        })
      )
    )
  }

  /**
   * With room to call now and no older claim waiting, destinations are claimed
   * and marked in one statement (`claimAndMark`): they are called at once, so
   * a separate cancellable claim would only cost a round trip. Otherwise they
   * are claimed into the local queue, `queued` and cancellable, and marked when
   * room frees.
   */
  const claimRound = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const { pending } = state
    // Nothing unclaimed is due, as far as this process knows (its last look, or a notification since):
    // no scan. While other processes hold many claims, a scan that finds nothing still visits each of
    // them, and repeating it after every call is what would slow everyone's marks in a burst.
    if (state.nextKnown === undefined || state.nextKnown > now) return false
    if (pending.length === 0 && !state.stopping && !upcomingDue(state, now)) {
      const { limit, pipelined, rooms } = Capacity.markRooms(bounds, load(state), (p) => registry.find(p) !== undefined)
      if (limit > 0 && !pipelined && state.roundsInFlight === 0) return yield* markRound(limit, rooms)
      if (limit > 0 && pipelined && state.roundsInFlight < 2) {
        // Calls this fast are over long before a statement is: with two rounds in flight, the
        // database marks the next batch while this process makes the calls of the last one.
        yield* FiberSet.run(
          ctx.claimFibers,
          markRound(limit, rooms).pipe(
            Effect.flatMap((full) => (full ? ctx.wake : Effect.void)),
            Effect.catchCause((cause) => Effect.logWarning("claim failed; retrying after the next wake", cause))
          )
        )
        // Loop again at once: a second round may start while this one runs.
        return state.roundsInFlight < 2
      }
      // Fewer than asked: nothing else is due now, or the rest is over an account's or platform's room
      // and waits for the next round (a call ending wakes the loop).
      if (limit > 0 || state.roundsInFlight > 0) return false
    }
    // Refill once the local queue is half empty: claims stay batches, and land before it runs dry.
    if (pending.length > batchSize / 2) return false
    const limit = batchSize - pending.length
    if (limit <= 0) return false
    // Accounts and platforms with as much in hand as this process will start soon are left to other
    // workers (and to later rounds): no hoarding of one account's backlog while other processes idle.
    const inHand = state.reserved.copy()
    for (const claim of pending) inHand.add(claim.platform, claim.accountId, 1)
    const bound = Capacity.inHandBounds(bounds, state)
    const claims = yield* leases.claim({
      workerId,
      now: yield* nowDate,
      leaseMs,
      limit,
      excludePlatforms: inHand.platforms().filter(([platform, n]) => n >= bound.platform(platform)).map(([platform]) => platform),
      excludeAccounts: inHand.accounts().filter(([account, n]) => n >= bound.account(inHand.platformOf(account)!)).map(([account]) => account)
    })
    const extra: Array<string> = []
    for (const claim of claims) {
      // Over the bound (several rows of one account or platform in a batch): give them back.
      if (inHand.ofAccount(claim.accountId) >= bound.account(claim.platform) || inHand.ofPlatform(claim.platform) >= bound.platform(claim.platform)) {
        extra.push(claim.id)
        continue
      }
      inHand.add(claim.platform, claim.accountId, 1)
      pending.push(claim)
      state.held.add(claim.id)
    }
    if (extra.length > 0) yield* leases.release(workerId, extra)
    yield* dispatch
    return claims.length === limit && extra.length === 0
  })

  const nextWake = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const busy = state.reserved.total > 0 || state.pending.length > 0 || state.upcoming.length > 0
    if (!busy || now - state.nextQueriedAt >= 250 || state.nextQueriedAt > now) {
      state.announcedDue = undefined
      const next = yield* leases.nextWake(new Date(now)).pipe(Effect.orElseSucceed(() => ({ due: undefined, other: undefined })))
      state.nextKnown = Capacity.earliest(next.due?.getTime(), state.announcedDue)
      state.nextOther = next.other?.getTime()
      state.nextQueriedAt = now
    }
  })

  const prefetchRound = Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const { upcoming } = state
    const limit = Math.min(4 * batchSize, prefetchLimit - upcoming.length)
    if (prefetchMs === 0 || state.stopping || limit <= 0) return false
    if (state.nextKnown === undefined || state.nextKnown > now + prefetchMs) return false
    // Everything in the window was claimed a moment ago (and nothing new was announced since).
    if (now + prefetchMs <= state.prefetchedUntil) return false
    const until = now + prefetchMs
    const notifiedBefore = state.notified
    // Accounts over their bound are left to others, as for claims (no hoarding of one account's backlog).
    const inHand = state.reserved.copy()
    for (const claim of state.pending) inHand.add(claim.platform, claim.accountId, 1)
    for (const item of upcoming) inHand.add(item.claim.platform, item.claim.accountId, 1)
    const claimed = yield* leases.claimUpcoming({
      workerId,
      now: new Date(now),
      until: new Date(until),
      leaseMs,
      limit,
      platforms: registry.platforms,
      excludeAccounts: inHand.accounts().filter(([, n]) => n >= prefetchLimit / 2).map(([account]) => account),
      // Workers whose heartbeat is this recent share the window's work (see `claimUpcoming`).
      liveSince: new Date(now - 3 * heartbeatMs)
    })
    for (const item of claimed) {
      state.held.add(item.claim.id)
      // In due order: most batches land after what is held already.
      let at = upcoming.length
      while (at > 0 && upcoming[at - 1]!.claim.dueAt.getTime() > item.claim.dueAt.getTime()) at--
      upcoming.splice(at, 0, item)
    }
    // Unless a notification came while the statement ran: what it announced may be newer than its snapshot.
    if (claimed.length < limit && state.notified === notifiedBefore) state.prefetchedUntil = until
    // What was due next may be what was just claimed: ask again before sleeping.
    if (claimed.length > 0) state.nextQueriedAt = Number.NEGATIVE_INFINITY
    yield* dispatch
    return claimed.length === limit
  })

  return { claimRound, prefetchRound, nextWake }
}
