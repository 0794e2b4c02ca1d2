/**
 * A scheduler-only process, for multi-process tests and the benchmark:
 * `tsx src/WorkerMain.ts` (or `node dist/WorkerMain.js`).
 *
 * Environment:
 * - `DATABASE_URL`, `OMNIPOST_ENCRYPTION_KEY`: as for the server;
 * - `OMNIPOST_WORKER_PUBLISHER`: `noop` (succeeds at once, platform `noop`),
 *   `http:<url>` or `http-lookup:<url>` (the fake platform over HTTP, platform
 *   `fake`, the second with `findPublished`);
 * - `OMNIPOST_WORKER_ID`, `OMNIPOST_WORKER_CONCURRENCY`, `OMNIPOST_WORKER_BATCH_SIZE`,
 *   `OMNIPOST_WORKER_MARK_AHEAD_MS`, `OMNIPOST_WORKER_LEASE_MS`, `OMNIPOST_WORKER_POLL_MS`
 *   (see `SchedulerOptions`).
 *
 * Prints `ready <workerId>` once the scheduler runs; SIGTERM or SIGINT shuts
 * it down gracefully.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Registry } from "@omnipost/core"
import { Config, Effect, Layer } from "effect"
import { AccountStore } from "./AccountStore.js"
import { Crypto } from "./Crypto.js"
import { Database } from "./Database.js"
import { Leases } from "./Leases.js"
import { Scheduler } from "./Scheduler.js"
import * as FakePublisher from "./testing/FakePublisher.js"

const publishers = Effect.gen(function*() {
  const spec = yield* Config.String("OMNIPOST_WORKER_PUBLISHER").pipe(Config.withDefault("noop"))
  if (spec === "noop") return [FakePublisher.noop()]
  if (spec.startsWith("http-lookup:")) return [FakePublisher.http(spec.slice("http-lookup:".length), { lookup: true })]
  if (spec.startsWith("http:")) return [FakePublisher.http(spec.slice("http:".length))]
  return yield* Effect.die(new Error(`OMNIPOST_WORKER_PUBLISHER: unknown publisher "${spec}"`))
})

const SchedulerFromEnv = Layer.unwrap(Effect.gen(function*() {
  const workerId = yield* Config.option(Config.String("OMNIPOST_WORKER_ID"))
  const concurrency = yield* Config.Int("OMNIPOST_WORKER_CONCURRENCY").pipe(Config.withDefault(16))
  const batchSize = yield* Config.option(Config.Int("OMNIPOST_WORKER_BATCH_SIZE"))
  const markAheadMs = yield* Config.option(Config.Int("OMNIPOST_WORKER_MARK_AHEAD_MS"))
  const leaseMs = yield* Config.Int("OMNIPOST_WORKER_LEASE_MS").pipe(Config.withDefault(30_000))
  const pollMs = yield* Config.Int("OMNIPOST_WORKER_POLL_MS").pipe(Config.withDefault(5_000))
  const registry = Registry.PublisherRegistry.layer(yield* publishers)
  return Scheduler.layer({
    workerId: workerId._tag === "Some" ? workerId.value : undefined,
    concurrency,
    batchSize: batchSize._tag === "Some" ? batchSize.value : undefined,
    markAheadMs: markAheadMs._tag === "Some" ? markAheadMs.value : undefined,
    leaseMs,
    pollMs,
    perAccount: concurrency
  }).pipe(Layer.provide(registry))
}))

const Main = SchedulerFromEnv.pipe(
  Layer.provide(Layer.mergeAll(Leases.layer, AccountStore.layer)),
  Layer.provide(Crypto.layer),
  Layer.provide(Database.layer)
)

const program = Effect.gen(function*() {
  const scheduler = yield* Scheduler
  yield* Effect.sync(() => process.stdout.write(`ready ${scheduler.workerId}\n`))
  return yield* Effect.never
}).pipe(Effect.provide(Main))

NodeRuntime.runMain(program)
