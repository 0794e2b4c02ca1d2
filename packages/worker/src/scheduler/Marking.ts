/**
 * The publish-once marks: destinations reserved together are marked
 * `publishing` in one statement (the queue gathers those reserved while the
 * previous statement ran). A marked destination waits in `ready` for its call
 * slot; one that could not be marked (cancelled, edited, paused or taken over
 * meanwhile) is given back at once.
 */
import { Effect, Exit, Queue } from "effect"
import type { Context } from "./State.js"
import { nowDate } from "./State.js"

/**
 * One mark consumer, for the life of the scope; `dispatch` moves the marked
 * along. Run two: while one statement runs, the other takes what gathered
 * meanwhile, so a fast platform's calls never wait for one statement at a time.
 */
export const consumer = (ctx: Context, dispatch: Effect.Effect<void>) => {
  const { leases, markQueue, state, workerId } = ctx
  const { batchSize, concurrency, leaseMs } = ctx.settings
  return Effect.gen(function*() {
    while (true) {
      // At most two batches' worth per statement, so that the room splits between the two consumers; when
      // nothing is being called or marked yet (a burst begins), a first statement of one call slot's worth
      // each, which commits sooner, so that calls start while the bigger batches are marked.
      const starting = state.ready.length === 0 && state.calling.total === 0 && state.marking === 0
      const batch = yield* Queue.takeBetween(markQueue, 1, starting ? concurrency : 2 * batchSize)
      state.markBatches++
      yield* Effect.gen(function*() {
        state.marking += batch.length
        const exit = yield* leases.markPublishingBatch({ items: batch, workerId, now: yield* nowDate, leaseMs }).pipe(Effect.exit)
        state.marking -= batch.length
        if (Exit.isFailure(exit)) yield* Effect.logWarning("marking destinations publishing failed; they stay queued", exit.cause)
        const notMarked: Array<string> = []
        for (const { claim } of batch) {
          const marked = Exit.isSuccess(exit) ? exit.value.get(claim.id) : undefined
          if (marked !== undefined) state.ready.push({ claim, marked })
          else {
            // Cancelled, edited, paused or taken over meanwhile (or the statement failed): given back, so
            // that whoever may take it need not wait for the lease to expire.
            state.reserved.add(claim.platform, claim.accountId, -1)
            state.held.delete(claim.id)
            notMarked.push(claim.id)
          }
        }
        if (notMarked.length > 0) {
          yield* leases.release(workerId, notMarked).pipe(
            Effect.catchCause(() => Effect.sync(() => notMarked.forEach((id) => state.unreleased.add(id))))
          )
        }
        yield* dispatch
      }).pipe(Effect.ensuring(Effect.sync(() => state.markBatches--)))
    }
  })
}
