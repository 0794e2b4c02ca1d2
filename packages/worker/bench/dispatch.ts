/**
 * The scheduler's own cost per destination, without a database: a `Leases`
 * fake answers every claim at once (after 1 ms) with N due destinations for the
 * no-op publisher, so what is timed is this process's dispatch work (marks
 * handed out, calls started, outcomes queued and group-committed).
 *
 *   N=20000 node --import tsx packages/worker/bench/dispatch.ts
 *
 * Prints the time per destination. The first thousands include the JIT's
 * warm-up, as a real burst does.
 */
import { Registry } from "@omnipost/core"
import { Effect, Layer, Stream } from "effect"
import { AccountStore } from "../src/storage/AccountStore.js"
import { Crypto } from "../src/storage/Crypto.js"
import { Database } from "../src/storage/Database.js"
import { Leases } from "../src/storage/Leases.js"
import { Scheduler } from "../src/scheduler/Scheduler.js"
import * as FakePublisher from "../src/testing/FakePublisher.js"

const N = Number(process.env.N ?? 20000)
let served = 0
let settled = 0
let startedAt = 0
let doneAt = 0
const crypto = Effect.runSync(Effect.gen(function*() { return yield* Crypto }).pipe(Effect.provide(Crypto.layerTest)))
const sealed = crypto.seal(JSON.stringify({ token: "x" }), "account:acc_1")
const fakeLeases = Leases.of({
  claim: () => Effect.succeed([]),
  claimUpcoming: () => Effect.succeed([]),
  claimAndMark: (o) => Effect.sync(() => {
    if (startedAt === 0) startedAt = performance.now()
    const n = Math.min(o.limit, N - served)
    const out = Array.from({ length: n }, (_, i) => {
      const k = served + i
      return {
        claim: { id: `dst_${k}`, postId: `post_${k}`, organizationId: "org", platform: "noop", accountId: "acc_1", dueAt: new Date(), autoRetries: 0 },
        marked: { attemptId: o.attemptIds[i]!, attemptNumber: 1, content: { text: "bench" }, platformOverrides: undefined,
          destination: { platform: "noop", accountId: "acc_1", settings: {} }, scheduledAt: new Date(), credentials: sealed, onlyDestination: true }
      }
    })
    served += n
    return out
  }).pipe(Effect.delay("1 millis")),
  markPublishing: () => Effect.succeed(undefined),
  markPublishingBatch: () => Effect.succeed(new Map()),
  settle: () => Effect.succeed(true),
  settlePublishedBatch: (items) => Effect.sync(() => { settled += items.length; if (settled >= N) doneAt = performance.now(); return new Set(items.map((i) => i.destinationId)) }),
  failBeforeCall: () => Effect.void,
  renew: () => Effect.void,
  release: () => Effect.succeed(0),
  unmark: () => Effect.succeed(0),
  expiredPublishing: () => Effect.succeed([]),
  pause: () => Effect.void,
  // Work is due (long since) until all N were served, as the scheduler's claim rounds need to know.
  nextWake: () => Effect.sync(() => ({ due: served < N ? new Date(0) : undefined, other: undefined })),
  heartbeat: () => Effect.void
} as any)
const db = Layer.succeed(Database)({ notify: () => Effect.void, listen: () => Effect.succeed(Stream.never) } as any)
const accounts = Layer.succeed(AccountStore)({} as any)
const main = Effect.gen(function*() {
  yield* Scheduler
  while (settled < N) { yield* Effect.sleep("200 millis") }
  const cpu = process.cpuUsage()
  console.log(`${N} destinations in ${(doneAt - startedAt).toFixed(0)} ms: ${((doneAt - startedAt) * 1000 / N).toFixed(1)} µs each; cpu ${(cpu.user / 1000).toFixed(0)} ms`)
}).pipe(Effect.provide(Scheduler.layer({ concurrency: 8, batchSize: 32, pollMs: 50, perAccount: 8 }).pipe(
  Layer.provide(Layer.mergeAll(Layer.succeed(Leases)(fakeLeases), accounts, Layer.succeed(Crypto)(crypto), db, Registry.PublisherRegistry.layer([FakePublisher.noop()])))
)))
Effect.runPromise(Effect.scoped(main)).then(() => process.exit(0), (e) => { console.error(e); process.exit(1) })
