/**
 * Calls: `dispatch` moves work along (starts calls for marked destinations
 * with a free slot, fails claims no publisher here can take, sends claims with
 * room to be marked), each call runs in its own fiber holding its slot, and
 * its outcome is settled. Destinations left `publishing` by a worker that died
 * mid-call (orphans) are reconciled here too.
 */
import { Post, PublishError } from "@omnipost/core"
import type { Publisher } from "@omnipost/core"
import { Cause, Clock, Effect, Exit, FiberSet, Option, Queue } from "effect"
import type { SqlError } from "effect/sql"
import { credentialsAad } from "../storage/AccountStore.js"
import type { Crypto } from "../storage/Crypto.js"
import * as Ids from "../storage/Ids.js"
import type { Claim, Orphan, Outcome } from "../storage/Leases.js"
import * as Capacity from "./Capacity.js"
import { codecsOf, decodeSettingsNow, makeCredentialCache } from "./Credentials.js"
import * as GroupCommit from "./GroupCommit.js"
import * as Outcomes from "./Outcomes.js"
import { type Context, load, nowDate, type Ready, type ToMark } from "./State.js"

export interface Dispatch {
  /** Moves work along, synchronously in its decisions (any fiber may run it); runs after a claim, a mark and every call. */
  readonly dispatch: Effect.Effect<void>
  /** Reconciles destinations whose worker died mid-call, as many as there are free call slots. */
  readonly recoverOrphans: Effect.Effect<void, SqlError.SqlError>
}

export const make = (ctx: Context, crypto: Crypto["Service"]): Dispatch => {
  const { bounds, leases, registry, state, workerId } = ctx
  const { concurrency, leaseMs } = ctx.settings
  const outcomes = Outcomes.make({
    accounts: ctx.accounts,
    pause: leases.pause,
    keepParts: leases.keepParts,
    backoff: ctx.settings.backoff,
    maxAutoRetries: ctx.settings.maxAutoRetries
  })
  const settle = GroupCommit.settle(ctx)
  const credentials = makeCredentialCache((sealed, accountId) => crypto.openJson(sealed, credentialsAad(accountId)))

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
  const preparedAtHand = (publisher: Publisher.PlatformPublisher, { claim, marked }: Ready): Outcomes.Prepared | undefined => {
    if (marked.credentials === undefined) return undefined
    const opened = credentials.atHand(marked.credentials, claim.accountId)
    if (typeof opened !== "object" || opened === null) return undefined
    const codecs = codecsOf(publisher)
    if (!codecs.decodedCredentials.has(opened)) return undefined
    const resolved = Post.resolveDestination({ content: marked.content, platformOverrides: marked.platformOverrides }, marked.destination)
    const settings = decodeSettingsNow(codecs, resolved.settings)
    if (settings._tag === "None") return undefined
    const destination = { ...resolved, settings: settings.value as Readonly<Record<string, unknown>> }
    return {
      publisher,
      request: outcomes.requestFor(publisher, claim, marked.attemptId, destination, codecs.decodedCredentials.get(opened), marked.postedParts)
    }
  }

  const prepareAndCall: (publisher: Publisher.PlatformPublisher, item: Ready) => Effect.Effect<void, unknown> = Effect.fnUntraced(function*(
    publisher: Publisher.PlatformPublisher,
    item: Ready
  ) {
    const { claim, marked } = item
    const prepared = yield* (marked.credentials === undefined
      ? Effect.fail(Outcomes.destinationError("ACCOUNT_NOT_FOUND", `account ${claim.accountId} is no longer connected`))
      : credentials.open(marked.credentials, claim.accountId).pipe(
        Effect.mapError((e) => Outcomes.destinationError("CREDENTIALS_UNREADABLE", e.message))
      )).pipe(
        Effect.flatMap((opened) => outcomes.prepare(publisher, claim, marked, opened)),
        Effect.result
      )
    if (prepared._tag === "Failure") {
      return yield* settle(claim, marked.attemptId, { _tag: "Failed", error: prepared.failure, attemptOutcome: "failed" })
    }
    return yield* call(prepared.success, item)
  })

  /** The platform call, and its outcome. */
  const call = (prepared: Outcomes.Prepared, { claim, marked }: Ready): Effect.Effect<void, unknown> =>
    Clock.currentTimeMillis.pipe(Effect.flatMap((sentMs) => {
      const startedAt = performance.now()
      return prepared.publisher.publish(prepared.request).pipe(
        // A defect in a publisher may strike after the request left: the outcome is unknown.
        Effect.catchDefect((defect) =>
          Effect.fail(new PublishError.OutcomeUnknown({ platform: claim.platform, message: `the publisher crashed: ${String(defect)}` }))
        ),
        Effect.matchEffect({
          onSuccess: (result) => {
            Capacity.observeCall(state.callMs, claim.platform, performance.now() - startedAt)
            return settle(claim, marked.attemptId, {
              _tag: "Published",
              platformPostId: result.platformPostId,
              url: result.url,
              publishedAt: new Date(result.publishedAt),
              parts: result.parts
            }, marked.onlyDestination)
          },
          onFailure: (error) => {
            Capacity.observeCall(state.callMs, claim.platform, performance.now() - startedAt)
            const outcome: Effect.Effect<Outcome, SqlError.SqlError> = error._tag === "OutcomeUnknown"
              ? outcomes.reconcile(prepared, new Date(sentMs), PublishError.toDestinationError(error), error.postedParts ?? prepared.request.postedParts)
              : Outcomes.isDuplicateOfEarlier(error, marked.attemptNumber)
              ? outcomes.duplicateOutcome(prepared, new Date(sentMs), error, claim)
              : outcomes.outcomeOf(error, claim)
            return Effect.flatMap(outcome, (outcome) => settle(claim, marked.attemptId, outcome))
          }
        })
      )
    }))

  /** A destination left publishing by a worker that stopped mid-call. */
  const recoverOrphan = Effect.fnUntraced(function*(orphan: Orphan) {
    const unknown = Outcomes.destinationError(
      "OUTCOME_UNKNOWN",
      `worker ${orphan.previousOwner ?? "?"} stopped during its call to ${orphan.platform} (attempt ${orphan.attemptNumber}, sent ${orphan.sentAt.toISOString()}); the post may or may not be on the platform. Check the account, then retry explicitly if it is missing.`
    )
    const publisher = registry.find(orphan.platform)
    // A database error reading the credentials is not an answer: it fails this recovery, the
    // orphan's lease (just taken) expires and a later round looks again. Settling it unknown here
    // would lose the look-up for good. A missing or unreadable account is an answer.
    const stored = publisher?.findPublished === undefined
      ? undefined
      : yield* ctx.accounts.credentials(orphan.accountId).pipe(
        Effect.map(Option.some),
        Effect.catchTags({ AccountNotFound: () => Effect.succeedNone, DecryptionFailed: () => Effect.succeedNone })
      )
    let outcome: Outcome = { _tag: "Failed", error: unknown, attemptOutcome: "outcome_unknown" }
    if (publisher !== undefined && stored !== undefined && stored._tag === "Some") {
      const prepared = yield* outcomes.prepare(publisher, orphan, orphan, stored.value).pipe(Effect.option)
      if (prepared._tag === "Some") outcome = yield* outcomes.reconcile(prepared.value, orphan.sentAt, unknown)
    }
    yield* settle(orphan, orphan.attemptId, outcome)
  })

  const release = (key: { id: string; platform: string; accountId: string }) => {
    state.calling.add(key.platform, key.accountId, -1)
    state.reserved.add(key.platform, key.accountId, -1)
    state.held.delete(key.id)
  }

  /**
   * Runs `work` (a call) for a destination in its own fiber, holding a call
   * slot; `counted` says whether the caller already counted its call slot and
   * reservation (`dispatch` does for marked ones; an orphan takes both here).
   */
  const startCall = (key: { id: string; platform: string; accountId: string }, work: Effect.Effect<void, unknown>, counted: boolean) => {
    if (!counted) {
      state.calling.add(key.platform, key.accountId, 1)
      state.reserved.add(key.platform, key.accountId, 1)
    }
    state.held.add(key.id)
    return FiberSet.run(
      ctx.fibers,
      work.pipe(
        Effect.exit,
        Effect.flatMap((exit) => {
          release(key)
          // A slot is free: start the next marked destination, and refill when a round is worth it.
          const next = Capacity.worthARound(bounds, load(state)) ? Effect.andThen(dispatch, ctx.wake) : dispatch
          return Exit.isFailure(exit) && !Cause.hasInterruptsOnly(exit.cause)
            ? Effect.logError(`destination ${key.id}: the scheduler could not finish it`, exit.cause).pipe(Effect.andThen(next))
            : next
        }),
        Effect.onInterrupt(() => Effect.sync(() => release(key)))
      )
    ).pipe(Effect.asVoid)
  }

  const recoverOrphans = Effect.gen(function*() {
    const now = yield* nowDate
    state.lastOrphanCheck = now.getTime()
    const free = concurrency - state.calling.total
    if (free <= 0) return
    const orphans = yield* leases.expiredPublishing({ workerId, now, leaseMs, limit: free })
    for (const orphan of orphans) yield* startCall(orphan, recoverOrphan(orphan), false)
  })

  const dispatch: Effect.Effect<void> = Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const { pending, ready, upcoming } = state
    const toCall: Array<{ publisher: Publisher.PlatformPublisher; item: Ready }> = []
    for (let i = 0; i < ready.length && !state.closed && state.calling.total < concurrency;) {
      const item = ready[i]!
      if (!Capacity.canCall(bounds, state, item.claim)) {
        i++
        continue
      }
      ready.splice(i, 1)
      // Counted now, so that the next candidates in this loop see the slot taken.
      state.calling.add(item.claim.platform, item.claim.accountId, 1)
      toCall.push({ publisher: registry.find(item.claim.platform)!, item })
    }
    const toMark: Array<Omit<ToMark, "attemptId">> = []
    const unknown: Array<Claim> = []
    // Claimed ahead and due now: first, they are the earliest due.
    const taken: Array<number> = []
    for (let i = 0; i < upcoming.length && !state.stopping && upcoming[i]!.claim.dueAt.getTime() <= now && !Capacity.noRoomLeft(bounds, load(state)); i++) {
      const item = upcoming[i]!
      if (!Capacity.canReserve(bounds, load(state), item.claim)) continue
      taken.push(i)
      state.reserved.add(item.claim.platform, item.claim.accountId, 1)
      toMark.push({ claim: item.claim, payload: item.payload })
    }
    // Usually a run from the head: one splice; otherwise one at a time, from the back.
    if (taken.length > 0 && taken[taken.length - 1] === taken.length - 1) upcoming.splice(0, taken.length)
    else for (let k = taken.length - 1; k >= 0; k--) upcoming.splice(taken[k]!, 1)
    for (let i = 0; i < pending.length && !state.stopping && !Capacity.noRoomLeft(bounds, load(state));) {
      const claim = pending[i]!
      const isUnknown = registry.find(claim.platform) === undefined
      if (!isUnknown && !Capacity.canReserve(bounds, load(state), claim)) {
        i++
        continue
      }
      pending.splice(i, 1)
      if (isUnknown) unknown.push(claim)
      else {
        state.reserved.add(claim.platform, claim.accountId, 1)
        toMark.push({ claim })
      }
    }
    if (toCall.length === 0 && toMark.length === 0 && unknown.length === 0) return Effect.void
    return Effect.gen(function*() {
      for (const { publisher, item } of toCall) {
        yield* startCall(item.claim, callMarked(publisher, item), true)
      }
      for (const claim of unknown) {
        yield* FiberSet.run(
          ctx.fibers,
          leases.failBeforeCall({
            claim,
            workerId,
            error: Outcomes.destinationError("UNKNOWN_PLATFORM", `no publisher is registered for "${claim.platform}" on this worker`)
          }).pipe(
            Effect.tapCause((cause) => Effect.logError(`destination ${claim.id}: could not fail it`, cause)),
            Effect.ignore,
            Effect.ensuring(Effect.sync(() => state.held.delete(claim.id)))
          )
        )
      }
      if (toMark.length > 0) {
        const attemptIds = Ids.makeMany("att", toMark.length)
        yield* Queue.offerAll(ctx.markQueue, toMark.map((m, i) => ({ ...m, attemptId: attemptIds[i]! })))
      }
    })
  })

  return { dispatch, recoverOrphans }
}
