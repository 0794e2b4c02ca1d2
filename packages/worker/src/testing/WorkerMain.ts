/**
 * A scheduler-only process, for multi-process tests and the benchmark:
 * `tsx src/testing/WorkerMain.ts` (or `node dist/testing/WorkerMain.js`); part of the test kit, never of the product.
 *
 * Environment:
 * - `DATABASE_URL`, `OMNIPOST_ENCRYPTION_KEY`: as for the server;
 * - `OMNIPOST_WORKER_PUBLISHER`: `noop` (succeeds at once, platform `noop`),
 *   `http:<url>` or `http-lookup:<url>` (the fake platform over HTTP, platform
 *   `fake`, the second with `findPublished`);
 * - the scheduler's settings, as for `omnipost serve` (`OMNIPOST_WORKER_ID`,
 *   `OMNIPOST_WORKER_CONCURRENCY`, `OMNIPOST_WORKER_LEASE_MS`…: see
 *   `SchedulerSettings` and the README's table).
 *
 * Prints `ready <workerId>` once the scheduler runs; SIGTERM or SIGINT shuts
 * it down gracefully.
 */
import { NodeRuntime } from "@effect/platform-node"
import { Registry } from "@omnipost/core"
import { Config, Effect, Layer } from "effect"
import { AccountStore } from "../storage/AccountStore.js"
import { Crypto } from "../storage/Crypto.js"
import { Database } from "../storage/Database.js"
import { Leases } from "../storage/Leases.js"
import { Scheduler } from "../scheduler/Scheduler.js"
import * as FakePublisher from "./FakePublisher.js"

const publishers = Effect.gen(function*() {
  const spec = yield* Config.String("OMNIPOST_WORKER_PUBLISHER").pipe(Config.withDefault("noop"))
  if (spec === "noop") return [FakePublisher.noop()]
  if (spec.startsWith("http-lookup:")) return [FakePublisher.http(spec.slice("http-lookup:".length), { lookup: true })]
  if (spec.startsWith("http:")) return [FakePublisher.http(spec.slice("http:".length))]
  return yield* Effect.die(new Error(`OMNIPOST_WORKER_PUBLISHER: unknown publisher "${spec}"`))
})

const SchedulerFromEnv = Layer.unwrap(Effect.map(publishers, (list) =>
  Scheduler.layerConfig().pipe(Layer.provide(Registry.PublisherRegistry.layer(list)))
))

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
