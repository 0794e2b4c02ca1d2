/**
 * The scheduler's parts that decide without a database: room (`Capacity`),
 * the credential cache, what a failed call means (`Outcomes`) and how long the
 * loop sleeps (`Loop.sleepMs`).
 */
import { assert, describe, it } from "@effect/vitest"
import { PublishError } from "@omnipost/core"
import { Effect } from "effect"
import * as Capacity from "../src/scheduler/Capacity.js"
import { makeCredentialCache } from "../src/scheduler/Credentials.js"
import { sleepMs } from "../src/scheduler/Loop.js"
import { failedCallOutcome, pauseScopeFor } from "../src/scheduler/Outcomes.js"

const bounds: Capacity.Bounds = {
  concurrency: 4,
  perAccount: 2,
  batchSize: 8,
  markAheadMs: 20,
  platformLimit: (platform) => (platform === "slow" ? 1 : 4)
}

const loadOf = (options: {
  readonly calling?: ReadonlyArray<readonly [string, string]>
  readonly reserved?: ReadonlyArray<readonly [string, string]>
  readonly callMs?: Record<string, number>
  readonly claimsInFlight?: number
  readonly roundsInFlight?: number
  readonly pending?: number
} = {}): Capacity.Load => {
  const calling = new Capacity.Counts()
  for (const [platform, account] of options.calling ?? []) calling.add(platform, account, 1)
  const reserved = new Capacity.Counts()
  for (const [platform, account] of options.reserved ?? []) reserved.add(platform, account, 1)
  return {
    calling,
    reserved,
    callMs: new Map(Object.entries(options.callMs ?? {})),
    claimsInFlight: options.claimsInFlight ?? 0,
    roundsInFlight: options.roundsInFlight ?? 0,
    pending: options.pending ?? 0
  }
}

describe("Capacity", () => {
  it("Counts tracks totals per platform and per account, and forgets what drops to zero", () => {
    const counts = new Capacity.Counts()
    counts.add("x", "a1", 1)
    counts.add("x", "a2", 2)
    counts.add("bluesky", "b1", 1)
    assert.strictEqual(counts.total, 4)
    assert.strictEqual(counts.ofPlatform("x"), 3)
    assert.strictEqual(counts.ofAccount("a2"), 2)
    assert.strictEqual(counts.platformOf("b1"), "bluesky")
    const copy = counts.copy()
    counts.add("x", "a2", -2)
    assert.strictEqual(counts.ofAccount("a2"), 0)
    assert.strictEqual(counts.platformOf("a2"), undefined)
    assert.deepStrictEqual(counts.accounts().map(([a]) => a).sort(), ["a1", "b1"])
    // The copy is independent.
    assert.strictEqual(copy.ofAccount("a2"), 2)
    assert.strictEqual(copy.total, 4)
  })

  it("markAhead: nothing until calls are timed or without a window; capped; more for faster calls", () => {
    assert.strictEqual(Capacity.markAhead(4, undefined, 20, 100), 0)
    assert.strictEqual(Capacity.markAhead(4, 5, 0, 100), 0)
    assert.strictEqual(Capacity.markAhead(4, 5, 20, 100), 16)
    assert.strictEqual(Capacity.markAhead(4, 0, 20, 100), 100)
    assert.strictEqual(Capacity.markAhead(4, 1_000, 20, 100), 0)
  })

  it("canCall: every bound, the process's, the platform's and the account's", () => {
    assert.isTrue(Capacity.canCall(bounds, loadOf(), { platform: "x", accountId: "a" }))
    // The account has its two calls.
    assert.isFalse(Capacity.canCall(bounds, loadOf({ calling: [["x", "a"], ["x", "a"]] }), { platform: "x", accountId: "a" }))
    assert.isTrue(Capacity.canCall(bounds, loadOf({ calling: [["x", "a"], ["x", "a"]] }), { platform: "x", accountId: "b" }))
    // The slow platform has one slot.
    assert.isFalse(Capacity.canCall(bounds, loadOf({ calling: [["slow", "a"]] }), { platform: "slow", accountId: "b" }))
    // The process has four.
    const full = loadOf({ calling: [["x", "a"], ["x", "b"], ["y", "c"], ["y", "d"]] })
    assert.isFalse(Capacity.canCall(bounds, full, { platform: "z", accountId: "e" }))
  })

  it("canReserve: the free slots plus the mark-ahead of timed platforms; a claim round in flight counts as taken", () => {
    const two = loadOf({ reserved: [["x", "a"], ["x", "b"]] })
    assert.isTrue(Capacity.canReserve(bounds, two, { platform: "x", accountId: "c" }))
    // Two rows asked for by a round in flight could be anyone's.
    assert.isFalse(Capacity.canReserve(bounds, { ...two, claimsInFlight: 2 }, { platform: "x", accountId: "c" }))
    const four = loadOf({ reserved: [["x", "a"], ["x", "b"], ["x", "c"], ["x", "d"]] })
    assert.isFalse(Capacity.canReserve(bounds, four, { platform: "x", accountId: "e" }))
    // Calls of 5 ms: 20 ms ahead is room for more than the slots.
    assert.isTrue(Capacity.canReserve(bounds, { ...four, callMs: new Map([["x", 5]]) }, { platform: "x", accountId: "e" }))
  })

  it("noRoomLeft and worthARound", () => {
    const four = loadOf({ reserved: [["x", "a"], ["x", "b"], ["x", "c"], ["x", "d"]] })
    assert.isTrue(Capacity.noRoomLeft(bounds, four))
    assert.isFalse(Capacity.noRoomLeft(bounds, { ...four, callMs: new Map([["x", 5]]) }))
    // Slow platforms: any room at all is worth a round.
    assert.isTrue(Capacity.worthARound(bounds, loadOf({ reserved: [["x", "a"]] })))
    assert.isFalse(Capacity.worthARound(bounds, four))
    // A local queue: refill once it is half empty.
    assert.isTrue(Capacity.worthARound(bounds, loadOf({ pending: 4 })))
    assert.isFalse(Capacity.worthARound(bounds, loadOf({ pending: 5 })))
    // Fast platforms: once half a batch fits, and at most two rounds in flight.
    const fast = loadOf({ callMs: { x: 1 } })
    assert.isTrue(Capacity.worthARound(bounds, fast))
    assert.isFalse(Capacity.worthARound(bounds, { ...fast, roundsInFlight: 2 }))
  })

  it("markRooms: each known platform's and each account's room, and the round's limit", () => {
    const load = loadOf({ reserved: [["x", "a"], ["x", "a"], ["y", "b"]] })
    const { limit, pipelined, rooms } = Capacity.markRooms(bounds, load, (p) => p !== "y")
    assert.strictEqual(limit, 1)
    assert.isFalse(pipelined)
    assert.deepStrictEqual(rooms.platforms, [{ platform: "x", room: 2, accountRoom: 2 }])
    assert.deepStrictEqual(rooms.accounts, [{ accountId: "a", room: 0 }, { accountId: "b", room: 1 }])
    assert.strictEqual(rooms.defaultPlatformRoom, 1)
    assert.strictEqual(rooms.defaultAccountRoom, 2)
    // Calls in microseconds: a batch per account fits ahead, so rounds are pipelined.
    const fast = Capacity.markRooms(bounds, loadOf({ callMs: { x: 0.001 } }), () => true)
    assert.isTrue(fast.pipelined)
    assert.strictEqual(fast.limit, bounds.batchSize)
  })

  it("inHandBounds: calls plus twice the mark-ahead", () => {
    const bound = Capacity.inHandBounds(bounds, { callMs: new Map([["x", 10]]) })
    assert.strictEqual(bound.account("x"), 2 + 2 * 4)
    assert.strictEqual(bound.platform("x"), 4 + 2 * 8)
    assert.strictEqual(bound.account("untimed"), 2)
  })

  it("observeCall averages recent calls, weighting the last by a fifth", () => {
    const callMs = new Map<string, number>()
    Capacity.observeCall(callMs, "x", 100)
    assert.strictEqual(callMs.get("x"), 100)
    Capacity.observeCall(callMs, "x", 200)
    assert.strictEqual(callMs.get("x"), 120)
  })

  it("earliest of two instants, either unknown", () => {
    assert.strictEqual(Capacity.earliest(undefined, undefined), undefined)
    assert.strictEqual(Capacity.earliest(5, undefined), 5)
    assert.strictEqual(Capacity.earliest(undefined, 3), 3)
    assert.strictEqual(Capacity.earliest(5, 3), 3)
  })
})

describe("the credential cache", () => {
  it.effect("opens a sealed value once, finds it at hand afterwards, and forgets the oldest past its size", () =>
    Effect.gen(function*() {
      const opened: Array<string> = []
      const cache = makeCredentialCache((sealed: { ciphertext: string; keyId: string }, accountId: string) =>
        Effect.sync(() => {
          opened.push(`${accountId}:${sealed.ciphertext}`)
          return { token: sealed.ciphertext }
        }), 2)
      const a = { ciphertext: "A", keyId: "k1" }
      assert.strictEqual(cache.atHand(a, "acc1"), undefined)
      const first = yield* cache.open(a, "acc1")
      const again = yield* cache.open(a, "acc1")
      assert.strictEqual(first, again)
      assert.strictEqual(cache.atHand(a, "acc1"), first)
      // The same ciphertext for another account is another entry (its AAD differs).
      yield* cache.open(a, "acc2")
      yield* cache.open({ ciphertext: "B", keyId: "k1" }, "acc3")
      assert.deepStrictEqual(opened, ["acc1:A", "acc2:A", "acc3:B"])
      // Two entries at most: acc1's went first, acc1's last-opened entry went with the accounts past the size.
      yield* cache.open(a, "acc1")
      assert.deepStrictEqual(opened, ["acc1:A", "acc2:A", "acc3:B", "acc1:A"])
      // A refreshed (resealed) value is opened anew.
      yield* cache.open({ ciphertext: "A2", keyId: "k1" }, "acc1")
      assert.strictEqual(opened.at(-1), "acc1:A2")
    }))
})

describe("Outcomes", () => {
  const now = Date.parse("2026-01-01T00:00:00Z")
  const transient = new PublishError.Transient({ platform: "x", message: "busy" })

  it("a retryable error with retries left is retried after the delay; without, it fails", () => {
    const retry = failedCallOutcome(transient, { autoRetries: 1, maxAutoRetries: 5, now, delayMs: 2_000 })
    assert.strictEqual(retry._tag, "Retry")
    assert.strictEqual(retry._tag === "Retry" && retry.at.getTime(), now + 2_000)
    const failed = failedCallOutcome(transient, { autoRetries: 5, maxAutoRetries: 5, now, delayMs: 2_000 })
    assert.strictEqual(failed._tag, "Failed")
    assert.strictEqual(failed._tag === "Failed" && failed.attemptOutcome, "failed")
  })

  it("an unknown outcome fails as outcome_unknown; an expired token asks for a reconnect, a missing permission does not", () => {
    const unknown = failedCallOutcome(new PublishError.OutcomeUnknown({ platform: "x", message: "timeout" }), {
      autoRetries: 0,
      maxAutoRetries: 5,
      now,
      delayMs: 0
    })
    assert.strictEqual(unknown._tag === "Failed" && unknown.attemptOutcome, "outcome_unknown")
    const expired = failedCallOutcome(new PublishError.AuthFailed({ platform: "x", message: "expired", reason: "expired" }), {
      autoRetries: 0,
      maxAutoRetries: 5,
      now,
      delayMs: 0
    })
    assert.isTrue(expired._tag === "Failed" && expired.accountNeedsReconnect)
    const permission = failedCallOutcome(new PublishError.AuthFailed({ platform: "x", message: "no", reason: "missing_permission" }), {
      autoRetries: 0,
      maxAutoRetries: 5,
      now,
      delayMs: 0
    })
    assert.isFalse(permission._tag === "Failed" && permission.accountNeedsReconnect)
  })

  it("a thread that failed part way keeps its live parts", () => {
    const parts = [{ platformPostId: "p1", url: "https://x/p1" }]
    const error = PublishError.withPostedParts(transient, parts as any)
    const outcome = failedCallOutcome(error, { autoRetries: 0, maxAutoRetries: 5, now, delayMs: 10 })
    assert.deepStrictEqual(outcome.parts, parts)
  })

  it("a rate limit pauses the account, or the platform for app limits and quotas", () => {
    const limited = (scope?: "account" | "app" | "quota") =>
      new PublishError.RateLimited({ platform: "x", message: "slow down", ...(scope ? { scope } : {}) })
    assert.strictEqual(pauseScopeFor(limited(), "x", "acc1"), "x:acc1")
    assert.strictEqual(pauseScopeFor(limited("account"), "x", "acc1"), "x:acc1")
    assert.strictEqual(pauseScopeFor(limited("app"), "x", "acc1"), "x")
    assert.strictEqual(pauseScopeFor(limited("quota"), "x", "acc1"), "x")
  })
})

describe("Loop.sleepMs", () => {
  const base = {
    now: 1_000,
    pollMs: 5_000,
    prefetchMs: 1_000,
    prefetchLimit: 100,
    upcomingDueAt: undefined,
    upcomingCount: 0,
    nextKnown: undefined,
    prefetchedUntil: 0,
    nextOther: undefined
  }
  it("sleeps for the poll interval when nothing is known", () => {
    assert.strictEqual(sleepMs(base), 5_000)
  })
  it("wakes prefetchMs before unclaimed work is due, unless it is inside the window just claimed", () => {
    assert.strictEqual(sleepMs({ ...base, nextKnown: 4_000 }), 2_000)
    assert.strictEqual(sleepMs({ ...base, nextKnown: 4_000, prefetchedUntil: 4_500 }), 5_000)
    // Without claiming ahead (or with no room to hold more), at the due time itself.
    assert.strictEqual(sleepMs({ ...base, nextKnown: 4_000, prefetchMs: 0 }), 3_000)
    assert.strictEqual(sleepMs({ ...base, nextKnown: 4_000, upcomingCount: 100 }), 3_000)
  })
  it("wakes for what is held ahead, a lease expiry or a pause end; only future instants count; at least 1 ms", () => {
    assert.strictEqual(sleepMs({ ...base, upcomingDueAt: 1_300, nextOther: 2_000 }), 300)
    assert.strictEqual(sleepMs({ ...base, upcomingDueAt: 900 }), 5_000)
    assert.strictEqual(sleepMs({ ...base, nextOther: 1_000.5 }), 1)
    assert.strictEqual(sleepMs({ ...base, nextOther: 60_000 }), 5_000)
  })
})
