/**
 * Time-driven scheduling with effect's TestClock: the scheduler takes every
 * instant from `Clock`, so the test decides what time it is. Database I/O is
 * still real, so the test waits for it in real time (`settle`).
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { PublishError, Registry } from "@omnipost/core"
import { Context, Effect, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Leases } from "../src/storage/Leases.js"
import { Database } from "../src/storage/Database.js"
import { PostStore } from "../src/storage/PostStore.js"
import { announceWithinMs, dueChannel } from "../src/storage/StoredPost.js"
import { markAhead, Scheduler } from "../src/scheduler/Scheduler.js"
import { FakePublisher } from "../src/testing/index.js"
import { makeAccount, makeOrganization, storesLayer, testKinds } from "./fixtures.js"

const fake = FakePublisher.counting({ platform: "fake" })

const env = (kind: "pglite" | "postgres") =>
  Layer.mergeAll(Leases.layer, Registry.PublisherRegistry.layer([fake.publisher])).pipe(Layer.provideMerge(storesLayer(kind)))

/** Lets real I/O happen while the TestClock stands still (between checks of a condition). */
const realWait = (ms: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, ms)))

const until = <E, R>(check: Effect.Effect<boolean, E, R>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      if (yield* check) return
      yield* realWait(20)
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

const at = (iso: string) => Date.parse(iso)

describe("markAhead", () => {
  it("marks none ahead until calls were timed, and none for slow platforms", () => {
    assert.strictEqual(markAhead(8, undefined, 20, 64), 0)
    assert.strictEqual(markAhead(8, 500, 20, 64), 0)
    assert.strictEqual(markAhead(8, 20, 0, 64), 0)
  })
  it("marks the calls the slots are expected to start within the window, at most the cap", () => {
    // 8 slots, calls of 10 ms: 16 calls start within 20 ms.
    assert.strictEqual(markAhead(8, 10, 20, 64), 16)
    assert.strictEqual(markAhead(1, 5, 20, 64), 4)
    assert.strictEqual(markAhead(8, 0.01, 20, 64), 64)
    assert.strictEqual(markAhead(8, 0, 20, 64), 64)
  })
})

for (const kind of testKinds) {
  describe(`Scheduler with TestClock (${kind})`, () => {
    // The database is built with the live clock (its pool and sockets keep real time);
    // each test runs under its own TestClock, which the stores and the scheduler read.
    layer(env(kind), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("backoff: the retry waits until next_retry_at, not a moment sooner", () =>
        Effect.gen(function*() {
          fake.calls.clear()
          const posts = yield* PostStore
          yield* TestClock.setTime(at("2031-01-01T00:00:00Z"))
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          fake.behaviour = (request, call) =>
            call === 1 ? Effect.fail(new PublishError.Transient({ platform: "fake", message: "503" })) : Effect.succeed(FakePublisher.success(request))
          const post = yield* posts.create(org, { content: { text: "x" }, destinations: [{ platform: "fake", accountId: account.id }] })
          const dst = post.destinations[0]!.id
          yield* Effect.scoped(Effect.gen(function*() {
            const scheduler = yield* Layer.build(Layer.fresh(Scheduler.layer({ pollMs: 60_000, backoff: { baseMs: 10_000, maxMs: 60_000, jitter: 0.5 } }))).pipe(
              Effect.map((context) => Context.get(context, Scheduler))
            )
            yield* until(posts.get(org, post.id).pipe(Effect.map((p) => p.destinations[0]!.nextRetryAt !== undefined)), "the first attempt")
            const queued = (yield* posts.get(org, post.id)).destinations[0]!
            const delay = Date.parse(queued.nextRetryAt!) - at("2031-01-01T00:00:00Z")
            // Drawn in [ceiling · (1 − jitter), ceiling) = [5 s, 10 s).
            assert.isAtLeast(delay, 5_000)
            assert.isBelow(delay, 10_000)
            yield* TestClock.adjust(delay - 100)
            yield* scheduler.wake
            // The pass the wake started is over, and nothing was left to start: the scheduler saw this instant.
            yield* scheduler.idle
            assert.strictEqual(fake.calls.get(dst), 1, "not retried before next_retry_at")
            yield* TestClock.adjust(200)
            yield* scheduler.wake
            yield* until(posts.get(org, post.id).pipe(Effect.map((p) => p.status === "published")), "the retry")
            assert.strictEqual(fake.calls.get(dst), 2)
          }))
        }).pipe(Effect.provide(TestClock.layer())))

      it.effect("a post due more than a day ahead wakes no one, and is still published at its instant", () =>
        Effect.gen(function*() {
          fake.calls.clear()
          fake.behaviour = (request) => Effect.succeed(FakePublisher.success(request))
          const posts = yield* PostStore
          const database = yield* Database
          const start = at("2032-05-01T12:00:00Z")
          yield* TestClock.setTime(start)
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          const statusOf = (id: string) => posts.get(org, id).pipe(Effect.map((p) => p.status))
          yield* Effect.scoped(Effect.gen(function*() {
            const heard: Array<string> = []
            const notifications = yield* database.listen(dueChannel)
            yield* notifications.pipe(Stream.runForEach((payload) => Effect.sync(() => heard.push(payload))), Effect.forkScoped)
            const scheduler = yield* Layer.build(Layer.fresh(Scheduler.layer({ pollMs: 3_600_000 }))).pipe(
              Effect.map((context) => Context.get(context, Scheduler))
            )
            yield* scheduler.idle
            const farAt = new Date(start + announceWithinMs + 1).toISOString()
            const nearAt = new Date(start + announceWithinMs).toISOString()
            const far = yield* posts.create(org, {
              content: { text: "far" },
              destinations: [{ platform: "fake", accountId: account.id }],
              schedule: { _tag: "instant", at: farAt }
            })
            yield* posts.create(org, {
              content: { text: "near" },
              destinations: [{ platform: "fake", accountId: account.id }],
              schedule: { _tag: "instant", at: nearAt }
            })
            // Notifications arrive in commit order: once the second post's is heard, the first's would have been.
            yield* until(Effect.sync(() => heard.length > 0), "the notification of the post due within the horizon")
            assert.deepStrictEqual(heard, [nearAt])

            // The scheduler was told nothing of the far post; its hourly look finds it before it is due.
            yield* TestClock.setTime(Date.parse(farAt) - 1_000)
            yield* scheduler.idle
            assert.strictEqual(yield* statusOf(far.id), "scheduled", "not a second early")
            yield* TestClock.setTime(Date.parse(farAt))
            yield* until(statusOf(far.id).pipe(Effect.map((s) => s === "published")), "the far post at its instant")
            const attempts = yield* posts.attempts(org, far.id)
            assert.strictEqual(attempts[0]!.startedAt, farAt)
          }))
        }).pipe(Effect.provide(TestClock.layer())))

      it.effect("wall-clock schedules fire at the right instant across DST changes", () =>
        Effect.gen(function*() {
          fake.calls.clear()
          fake.behaviour = (request) => Effect.succeed(FakePublisher.success(request))
          const posts = yield* PostStore
          yield* TestClock.setTime(at("2030-11-03T00:00:00Z"))
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          // New York falls back on 2030-11-03: 01:30 happens twice (05:30Z in EDT, 06:30Z in EST).
          const later = yield* posts.create(org, {
            content: { text: "later" },
            destinations: [{ platform: "fake", accountId: account.id }],
            schedule: { _tag: "local", localTime: "2030-11-03T01:30", timeZone: "America/New_York", onAmbiguous: "later" }
          })
          const earlier = yield* posts.create(org, {
            content: { text: "earlier" },
            destinations: [{ platform: "fake", accountId: account.id }],
            schedule: { _tag: "local", localTime: "2030-11-03T01:30", timeZone: "America/New_York" }
          })
          assert.strictEqual(earlier.scheduledAt, "2030-11-03T05:30:00.000Z")
          assert.strictEqual(later.scheduledAt, "2030-11-03T06:30:00.000Z")
          const statusOf = (id: string) => posts.get(org, id).pipe(Effect.map((p) => p.status))
          yield* Effect.scoped(Effect.gen(function*() {
            const scheduler = yield* Layer.build(Layer.fresh(Scheduler.layer({ pollMs: 3_600_000 }))).pipe(
              Effect.map((context) => Context.get(context, Scheduler))
            )
            yield* TestClock.setTime(at("2030-11-03T05:29:59Z"))
            yield* scheduler.wake
            // The pass the wake started is over, and nothing was left to start: the scheduler saw this instant.
            yield* scheduler.idle
            assert.strictEqual(yield* statusOf(earlier.id), "scheduled", "not a second early")
            yield* TestClock.setTime(at("2030-11-03T05:30:00Z"))
            yield* until(statusOf(earlier.id).pipe(Effect.map((s) => s === "published")), "the EDT 01:30")
            assert.strictEqual(yield* statusOf(later.id), "scheduled")
            yield* TestClock.setTime(at("2030-11-03T06:29:59Z"))
            yield* scheduler.wake
            // The pass the wake started is over, and nothing was left to start: the scheduler saw this instant.
            yield* scheduler.idle
            assert.strictEqual(yield* statusOf(later.id), "scheduled")
            // No wake-up this time: the scheduler's own timer, set from the next due time, fires.
            yield* TestClock.setTime(at("2030-11-03T06:30:00Z"))
            yield* until(statusOf(later.id).pipe(Effect.map((s) => s === "published")), "the EST 01:30")
          }))
          const attempts = yield* posts.attempts(org, later.id)
          assert.strictEqual(attempts[0]!.startedAt, "2030-11-03T06:30:00.000Z")
        }).pipe(Effect.provide(TestClock.layer())))
    })
  })
}
