import { assert, describe, it } from "@effect/vitest"
import { Clock, Data, Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as Poll from "../src/Poll.js"

class RanOut extends Data.TaggedError("RanOut")<{ readonly why: Poll.Exhausted }> {}

/** A check that answers `answers` in turn (the last one again after), noting when each check ran. */
const scripted = <A>(answers: ReadonlyArray<Poll.Check<A>>) => {
  const at: Array<number> = []
  const check = Effect.gen(function*() {
    at.push(yield* Clock.currentTimeMillis)
    return answers[Math.min(at.length - 1, answers.length - 1)]!
  })
  return { check, at }
}

/** Runs `effect` in a fiber and moves the test clock on a second at a time until it ends. */
const drive = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(effect)
    for (let i = 0; i < 10_000 && fiber.pollUnsafe() === undefined; i++) yield* TestClock.adjust("1 second")
    return yield* Fiber.await(fiber)
  })

describe("Poll.until", () => {
  it.effect("checks until done, waiting the interval between checks, and returns the result", () =>
    Effect.gen(function*() {
      const { at, check } = scripted([Poll.pending(), Poll.pending(), Poll.done("ready")])
      const exit = yield* drive(Poll.until(check, { interval: "10 seconds" }, (why) => new RanOut({ why })))
      assert.deepStrictEqual(exit._tag === "Success" ? exit.value : exit, "ready")
      assert.deepStrictEqual(at, [0, 10_000, 20_000])
    }))

  it.effect("a done first check returns at once, with no wait", () =>
    Effect.gen(function*() {
      const { at, check } = scripted([Poll.done(1)])
      const result = yield* Poll.until(check, { interval: "1 minute" }, (why) => new RanOut({ why }))
      assert.strictEqual(result, 1)
      assert.deepStrictEqual(at, [0])
    }))

  it.effect("growing waits are capped by maxInterval", () =>
    Effect.gen(function*() {
      const { at, check } = scripted<never>([Poll.pending()])
      const exit = yield* drive(
        Poll.until(check, { interval: "2 seconds", factor: 2, maxInterval: "10 seconds", maxChecks: 6 }, (why) => new RanOut({ why }))
      )
      assert.strictEqual(exit._tag, "Failure")
      const gaps = at.slice(1).map((t, i) => t - at[i]!)
      assert.deepStrictEqual(gaps, [2_000, 4_000, 8_000, 10_000, 10_000])
    }))

  it.effect("maxChecks counts every check; running out is the caller's error with the count", () =>
    Effect.gen(function*() {
      const { at, check } = scripted<never>([Poll.pending()])
      const exit = yield* drive(Poll.until(check, { interval: "1 second", maxChecks: 4 }, (why) => new RanOut({ why })))
      assert.strictEqual(at.length, 4)
      assert.strictEqual(exit._tag, "Failure")
      assert.deepInclude(JSON.stringify(exit), JSON.stringify({ reason: "checks", checks: 4 }))
    }))

  it.effect("the platform's own wait (pending(after)) is a floor on the next wait", () =>
    Effect.gen(function*() {
      const { at, check } = scripted([Poll.pending("30 seconds"), Poll.pending(), Poll.done(true)])
      const exit = yield* drive(Poll.until(check, { interval: "5 seconds" }, (why) => new RanOut({ why })))
      assert.strictEqual(exit._tag, "Success")
      assert.deepStrictEqual(at, [0, 30_000, 35_000])
    }))

  it.effect("the timeout ends the polling with reason timeout", () =>
    Effect.gen(function*() {
      const { at, check } = scripted<never>([Poll.pending()])
      const exit = yield* drive(Poll.until(check, { interval: "10 seconds", timeout: "35 seconds" }, (why) => new RanOut({ why })))
      assert.strictEqual(exit._tag, "Failure")
      assert.include(JSON.stringify(exit), "\"timeout\"")
      assert.deepStrictEqual(at, [0, 10_000, 20_000, 30_000])
      assert.isAtLeast(yield* Clock.currentTimeMillis, Duration.toMillis("35 seconds"))
    }))

  it.effect("a failed check ends the polling with its error, not the exhausted one", () =>
    Effect.gen(function*() {
      let checks = 0
      const check = Effect.suspend(() => ++checks < 2 ? Effect.succeed(Poll.pending()) : Effect.fail("boom" as const))
      const exit = yield* drive(Poll.until(check, { interval: "1 second", maxChecks: 10 }, (why) => new RanOut({ why })))
      assert.strictEqual(checks, 2)
      assert.include(JSON.stringify(exit), "boom")
      assert.notInclude(JSON.stringify(exit), "RanOut")
    }))
})
