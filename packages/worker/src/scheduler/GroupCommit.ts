/**
 * Outcomes written to the database: successes, the hot path, by group commit
 * (calls that finish while a batch is being written are written together in
 * the next one transaction); other outcomes one at a time. A publish already
 * happened, so a database hiccup is retried rather than lost.
 */
import type { Lifecycle } from "@omnipost/core"
import { Clock, Effect, Exit, Queue, Schedule } from "effect"
import type { SqlError } from "effect/sql"
import type { Outcome } from "../storage/Leases.js"
import { dueChannel } from "../storage/PostStore.js"
import { type ClaimKey, type Context, nowDate, realSleep, upcomingDue } from "./State.js"

/** Most outcomes in one group commit. */
const maxSettleBatch = 2_000
/** A batch grows this long while calls keep finishing (and, during a burst of due work, up to `settleHoldMs`). */
const settleGatherMs = 25

/** Retries a database write a few times (never a refused status transition: that is an answer, not a hiccup). */
export const retryDatabase = <A, E extends { readonly _tag: string }, R>(self: Effect.Effect<A, E, R>) =>
  self.pipe(Effect.retry({ schedule: Schedule.exponential("100 millis"), times: 6, while: (e) => e._tag !== "InvalidStatusTransition" }))

/** The group-commit loop, for the life of the scope. */
export const run = (ctx: Context) => {
  const { leases, publishedQueue, state } = ctx
  const { settleHoldMs } = ctx.settings
  return Effect.gen(function*() {
    while (true) {
      let batch = yield* Queue.takeBetween(publishedQueue, 1, maxSettleBatch)
      const firstAt = performance.now()
      // Calls are still finishing: let the batch grow for a moment; fewer, larger commits cost the database
      // less per destination. While claim rounds keep coming back full (a burst of due work), hold the
      // outcomes a little longer, so that the database's time goes first to marking the destinations that
      // are due, which is what their lag waits for. The leases of held outcomes are renewed; a crash
      // meanwhile leaves them unknown outcomes, reconciled, never published twice.
      // Real time on purpose: this is batching, not scheduling, and must not wait for a TestClock.
      while (batch.length < maxSettleBatch && !state.stopping) {
        const waited = performance.now() - firstAt
        const busy = state.claiming || state.reserved.total > 0 || state.pending.length > 0
        // A burst: claim rounds came back full a moment ago, or destinations claimed ahead are due (by the
        // scheduler's Clock, which set their due times) and waiting.
        const burst = performance.now() - state.lastFullRoundAt < 50 || upcomingDue(state, yield* Clock.currentTimeMillis) ||
          state.pending.length > 0
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
        state.settling.delete(b.item.destinationId)
        if (settled) yield* ctx.notifySettled(b.claim, b.item.outcome)
      }
    }
  })
}

/** Writes an outcome: a success joins the next group commit, anything else is written now. */
export const settle = (ctx: Context) =>
(
  claim: ClaimKey,
  attemptId: string,
  outcome: Outcome,
  onlyDestination?: boolean
): Effect.Effect<void, Lifecycle.InvalidStatusTransition | SqlError.SqlError> =>
  outcome._tag === "Published"
    ? Effect.sync(() => {
      // The call is over, so its slot frees now; the write joins the next group commit. The lease is
      // renewed until it commits (`settling`); if it never does, the lease expires and the outcome is
      // reconciled like any unknown one, never published twice.
      ctx.state.settling.add(claim.id)
      Queue.offerUnsafe(ctx.publishedQueue, {
        item: { destinationId: claim.id, postId: claim.postId, attemptId, outcome, onlyDestination },
        claim
      })
    })
    : Effect.gen(function*() {
      const now = yield* nowDate
      const settled = yield* ctx.leases.settle({ destinationId: claim.id, postId: claim.postId, attemptId, now, outcome }).pipe(
        retryDatabase
      )
      if (settled && outcome._tag === "Retry") {
        yield* ctx.database.notify(dueChannel, outcome.at.toISOString()).pipe(Effect.ignore)
      }
      if (settled) yield* ctx.notifySettled(claim, outcome)
    })
