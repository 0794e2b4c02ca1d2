/**
 * What the shared rate limit costs a request: `RateLimiter.take` (one
 * `INSERT … ON CONFLICT DO UPDATE … RETURNING`) timed alone, in memory, on
 * embedded PGlite and, with `DATABASE_URL`, on PostgreSQL; one at a time
 * (the latency a request gains) and 32 at a time over 100 keys (throughput).
 *
 *   N=2000 DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx packages/worker/bench/rateLimit.ts
 *
 * Prints figures; asserts nothing (times depend on the machine's load).
 */
import { Config, Effect, Layer } from "effect"
import { RateLimiter } from "../src/api/RateLimiter.js"
import { Database } from "../src/storage/Database.js"

const N = Number(process.env.N ?? 2000)

const quantile = (sorted: ReadonlyArray<number>, q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!

const measure = (name: string) =>
  Effect.gen(function*() {
    const limiter = yield* RateLimiter
    // Warm-up: connections, prepared statements, the JIT.
    for (let i = 0; i < 200; i++) yield* limiter.take(`warm_${i % 10}`, 1_000_000)
    const times: Array<number> = []
    for (let i = 0; i < N; i++) {
      const start = performance.now()
      yield* limiter.take(`key_${i % 100}`, 1_000_000)
      times.push(performance.now() - start)
    }
    times.sort((a, b) => a - b)
    const mean = times.reduce((a, b) => a + b, 0) / times.length
    const started = performance.now()
    yield* Effect.forEach(Array.from({ length: N }, (_, i) => i), (i) => limiter.take(`key_${i % 100}`, 1_000_000), {
      concurrency: 32,
      discard: true
    })
    const perSecond = N / ((performance.now() - started) / 1000)
    console.log(
      `${name.padEnd(10)} sequential: mean ${mean.toFixed(3)} ms, p50 ${quantile(times, 0.5).toFixed(3)} ms, ` +
        `p99 ${quantile(times, 0.99).toFixed(3)} ms; 32 concurrent: ${perSecond.toFixed(0)} takes/s`
    )
  })

const program = Effect.gen(function*() {
  yield* measure("memory").pipe(Effect.provide(RateLimiter.layerMemory))
  yield* measure("pglite").pipe(Effect.provide(RateLimiter.layer.pipe(Layer.provide(Database.layerTest("pglite")))))
  const url = yield* Config.option(Config.String("DATABASE_URL"))
  if (url._tag === "Some" && url.value !== "") {
    yield* measure("postgres").pipe(Effect.provide(RateLimiter.layer.pipe(Layer.provide(Database.layerTest("postgres")))))
  }
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  console.error(error)
  process.exit(1)
})
