import { assert, describe, layer } from "@effect/vitest"
import { PublishError, Registry } from "@omnipost/core"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { AccountStore } from "../src/storage/AccountStore.js"
import { health, Leases } from "../src/storage/Leases.js"
import { PostStore } from "../src/storage/PostStore.js"
import { Scheduler, type SchedulerOptions } from "../src/scheduler/Scheduler.js"
import { FakePublisher } from "../src/testing/index.js"
import { awaitSettled, makeAccount, makeOrganization, markPublishing, storesLayer, testKinds } from "./fixtures.js"

const fake = FakePublisher.counting({ platform: "fake" })
const lookup = FakePublisher.counting({ platform: "lookup", findPublished: true })
/** Says its calls are instant (`expectedCallMs: 0`). */
const quick = FakePublisher.counting({ platform: "quick", expectedCallMs: 0 })

const env = (kind: "pglite" | "postgres") =>
  Layer.mergeAll(Leases.layer, Registry.PublisherRegistry.layer([fake.publisher, lookup.publisher, quick.publisher])).pipe(
    Layer.provideMerge(storesLayer(kind))
  )

/** Runs `body` with a scheduler started for its duration (`body` may use it: `Scheduler.idle`). */
const withScheduler = <A, E, R>(body: Effect.Effect<A, E, R>, options: SchedulerOptions = {}) =>
  Effect.scoped(
    Layer.build(Layer.fresh(Scheduler.layer({ pollMs: 200, ...options }))).pipe(
      Effect.flatMap((context) => Effect.provide(body, context))
    )
  )

/** The running scheduler had its chance: its loop went to sleep with nothing left to start. */
const schedulerIdle = Effect.gen(function*() {
  yield* (yield* Scheduler).idle
})

const reset = Effect.sync(() => {
  fake.calls.clear()
  fake.requests.length = 0
  fake.posted.clear()
  fake.behaviour = (request) => Effect.succeed(FakePublisher.success(request))
  lookup.calls.clear()
  lookup.posted.clear()
  lookup.behaviour = (request) => Effect.succeed(FakePublisher.success(request))
  quick.calls.clear()
  quick.requests.length = 0
  quick.behaviour = (request) => Effect.succeed(FakePublisher.success(request))
})

for (const kind of testKinds) {
  describe(`Scheduler (${kind})`, () => {
    layer(env(kind), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("publishes a due post to every destination once, logs the attempts and the outcome events", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const a = yield* makeAccount(org, "fake")
          const b = yield* makeAccount(org, "fake")
          const post = yield* posts.create(org, {
            content: { text: "hello" },
            platformOverrides: { fake: { text: "hello fake" } },
            destinations: [{ platform: "fake", accountId: a.id }, {
              platform: "fake",
              accountId: b.id,
              override: { text: "just b" }
            }]
          })
          yield* withScheduler(awaitSettled({ postIds: [post.id] }))
          const done = yield* posts.get(org, post.id)
          assert.strictEqual(done.status, "published")
          assert.deepStrictEqual(done.destinations.map((d) => d.status), ["published", "published"])
          assert.strictEqual(done.destinations[0]!.platformPostId, `p_${done.destinations[0]!.id}`)
          assert.deepStrictEqual(done.destinations.map((d) => fake.calls.get(d.id)), [1, 1])
          // Overrides applied: platform override, then the destination's.
          const texts = new Map(fake.requests.map((r) => [r.destinationId, r.destination.parts[0].text]))
          assert.strictEqual(texts.get(done.destinations[0]!.id), "hello fake")
          assert.strictEqual(texts.get(done.destinations[1]!.id), "just b")
          const attempts = yield* posts.attempts(org, post.id)
          assert.deepStrictEqual(attempts.map((x) => x.outcome), ["published", "published"])
          // Readers see an event once every transaction older than its own has ended (other suites share the
          // PostgreSQL server, so a moment later at most).
          let events = yield* posts.events({ organizationId: org })
          for (let i = 0; i < 200 && events.items.length < 3; i++) {
            yield* Effect.sleep("25 millis")
            events = yield* posts.events({ organizationId: org })
          }
          assert.sameMembers(events.items.map((e) => e.type), ["destination.published", "destination.published", "post.published"])
        }))

      it.effect("a post due now is picked up through the notification, not the poll", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          // The poll is an hour: only the notification can start this post in time. No wait for LISTEN:
          // the scheduler's layer is built only once its LISTEN is in place (Loop.run awaits it).
          const elapsed = yield* withScheduler(
            Effect.gen(function*() {
              const started = Date.now()
              const post = yield* posts.create(org, { content: { text: "now" }, destinations: [{ platform: "fake", accountId: account.id }] })
              yield* awaitSettled({ postIds: [post.id], timeoutMs: 10_000 })
              return Date.now() - started
            }),
            { pollMs: 3_600_000 }
          )
          assert.strictEqual(fake.total(), 1)
          assert.isBelow(elapsed, 10_000)
        }))

      it.effect("four schedulers on one database publish 400 destinations exactly once", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const accounts = yield* Effect.forEach([1, 2, 3, 4], () => makeAccount(org, "fake"))
          const ids = yield* Effect.forEach(Array.from({ length: 200 }, (_, i) => i), (i) =>
            posts.create(org, {
              content: { text: `post ${i}` },
              destinations: [{ platform: "fake", accountId: accounts[i % 4]!.id }, { platform: "fake", accountId: accounts[(i + 1) % 4]!.id }]
            }).pipe(Effect.map((p) => p.id)), { concurrency: 8 })
          const one = (n: number) => Layer.fresh(Scheduler.layer({ workerId: `wrk_test_${n}`, pollMs: 100, concurrency: 8 }))
          const four = Layer.mergeAll(one(1), one(2), one(3), one(4))
          yield* Effect.scoped(Layer.build(four).pipe(Effect.andThen(awaitSettled({ postIds: ids, timeoutMs: 60_000 }))))
          const sql = yield* SqlClient.SqlClient
          // This test's own destinations only: a destination an earlier test left due must not be counted here.
          const own = yield* sql<{ id: string }>`SELECT id FROM destinations WHERE ${sql.in("post_id", ids)}`
          assert.strictEqual(own.length, 400)
          assert.deepStrictEqual(own.map((d) => fake.calls.get(d.id)).filter((n) => n !== 1), [], "each called exactly once")
          const workers = yield* sql<{ worker_id: string; n: string }>`
            SELECT worker_id, count(*) AS n FROM attempts WHERE ${sql.in("post_id", ids)} GROUP BY worker_id`
          assert.isAbove(workers.length, 1, "the work was shared")
          const statuses = yield* sql<{ status: string; n: string }>`
            SELECT status, count(*) AS n FROM posts WHERE ${sql.in("id", ids)} GROUP BY status`
          assert.deepStrictEqual(statuses.map((s) => [s.status, Number(s.n)]), [["published", 200]])
        }))

      it.effect("a transient error is retried with backoff and next_retry_at; a rejection fails; the post is partially failed; a manual retry publishes", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const flaky = yield* makeAccount(org, "fake")
          const rejected = yield* makeAccount(org, "fake")
          fake.behaviour = (request, call) =>
            request.destination.accountId === rejected.id
              ? Effect.fail(new PublishError.Rejected({ platform: "fake", message: "duplicate", platformCode: "187", code: "DUPLICATE_CONTENT" }))
              : call === 1
              ? Effect.fail(new PublishError.Transient({ platform: "fake", message: "502", httpStatus: 502 }))
              : Effect.succeed(FakePublisher.success(request))
          const post = yield* posts.create(org, {
            content: { text: "x" },
            destinations: [{ platform: "fake", accountId: flaky.id }, { platform: "fake", accountId: rejected.id }]
          })
          yield* withScheduler(awaitSettled({ postIds: [post.id] }), { backoff: { baseMs: 100, maxMs: 1_000 } })
          const done = yield* posts.get(org, post.id)
          assert.strictEqual(done.status, "partially_failed")
          assert.strictEqual(done.destinations[0]!.status, "published")
          assert.strictEqual(done.destinations[0]!.attempts, 2)
          assert.strictEqual(done.destinations[1]!.status, "failed")
          assert.strictEqual(done.destinations[1]!.lastError?.code, "DUPLICATE_CONTENT")
          assert.strictEqual(done.destinations[1]!.lastError?.platformCode, "187")
          assert.strictEqual(fake.calls.get(done.destinations[1]!.id), 1, "a rejection is not retried")
          const attempts = yield* posts.attempts(org, post.id)
          assert.sameMembers(attempts.map((a) => a.outcome), ["retry", "published", "failed"])
          // Manual retry of the failed destination.
          fake.behaviour = (request) => Effect.succeed(FakePublisher.success(request))
          const retried = yield* posts.retry(org, post.id)
          assert.strictEqual(retried.status, "publishing")
          yield* withScheduler(awaitSettled({ postIds: [post.id] }))
          const final = yield* posts.get(org, post.id)
          assert.strictEqual(final.status, "published")
          assert.strictEqual(fake.calls.get(done.destinations[0]!.id), 2, "the published destination was not published again")
        }))

      it.effect("a retry stores next_retry_at, never sooner than the backoff", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          fake.behaviour = () => Effect.fail(new PublishError.Transient({ platform: "fake", message: "503" }))
          const post = yield* posts.create(org, { content: { text: "x" }, destinations: [{ platform: "fake", accountId: account.id }] })
          const before = Date.now()
          yield* withScheduler(
            Effect.gen(function*() {
              // Until the failure is stored (queued again, with its retry time): a signal, not a guess of how long that takes.
              let stored = (yield* posts.get(org, post.id)).destinations[0]!
              while (stored.nextRetryAt === undefined || stored.status !== "queued") {
                yield* Effect.sleep("10 millis")
                stored = (yield* posts.get(org, post.id)).destinations[0]!
              }
            }),
            { backoff: { baseMs: 60_000, maxMs: 120_000, jitter: 0.5 } }
          )
          const read = yield* posts.get(org, post.id)
          const d = read.destinations[0]!
          assert.strictEqual(d.status, "queued")
          assert.strictEqual(d.lastError?.code, "PLATFORM_UNAVAILABLE")
          const delay = Date.parse(d.nextRetryAt!) - before
          // Drawn in [30 s, 60 s) (jitter 0.5 of a 60 s ceiling), from a failure after `before`.
          assert.isAtLeast(delay, 30_000)
          assert.isAtMost(delay, 76_000)
          assert.strictEqual(fake.calls.get(d.id), 1)
          yield* posts.cancel(org, post.id).pipe(Effect.ignore)
        }))

      it.effect("a rate limit pauses that account only: other accounts keep publishing", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const limited = yield* makeAccount(org, "fake")
          const free = yield* makeAccount(org, "fake")
          fake.behaviour = (request) =>
            request.destination.accountId === limited.id
              ? Effect.fail(new PublishError.RateLimited({ platform: "fake", message: "429", retryAfterSeconds: 600, scope: "account" }))
              : Effect.succeed(FakePublisher.success(request))
          const first = yield* posts.create(org, { content: { text: "1" }, destinations: [{ platform: "fake", accountId: limited.id }] })
          yield* withScheduler(Effect.gen(function*() {
            while ((yield* posts.get(org, first.id)).destinations[0]!.attempts < 1) yield* Effect.sleep("10 millis")
            const second = yield* posts.create(org, { content: { text: "2" }, destinations: [{ platform: "fake", accountId: limited.id }] })
            const other = yield* posts.create(org, { content: { text: "3" }, destinations: [{ platform: "fake", accountId: free.id }] })
            yield* awaitSettled({ postIds: [other.id] })
            yield* schedulerIdle
            assert.strictEqual((yield* posts.get(org, second.id)).destinations[0]!.attempts, 0, "the paused account was not called")
            assert.isUndefined(fake.calls.get((yield* posts.get(org, second.id)).destinations[0]!.id), "no call for it")
            assert.strictEqual((yield* posts.get(org, other.id)).status, "published")
            yield* posts.cancel(org, second.id)
          }))
          const sql = yield* SqlClient.SqlClient
          const pauses = yield* sql<{ scope: string; paused_until: Date }>`SELECT scope, paused_until FROM rate_limit_pauses WHERE scope = ${`fake:${limited.id}`}`
          assert.strictEqual(pauses.length, 1)
          assert.isAtLeast(pauses[0]!.paused_until.getTime() - Date.now(), 590_000 - 10_000)
          const d = (yield* posts.get(org, first.id)).destinations[0]!
          assert.strictEqual(d.status, "queued")
          assert.isAtLeast(Date.parse(d.nextRetryAt!) - Date.now(), 590_000 - 10_000, "honours retry-after")
          yield* posts.cancel(org, first.id).pipe(Effect.ignore)
        }))

      it.effect("an auth failure fails the destination and marks the account for reconnection", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const accounts = yield* AccountStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          fake.behaviour = () => Effect.fail(new PublishError.AuthFailed({ platform: "fake", message: "token revoked", reason: "revoked" }))
          const post = yield* posts.create(org, { content: { text: "x" }, destinations: [{ platform: "fake", accountId: account.id }] })
          yield* withScheduler(awaitSettled({ postIds: [post.id] }))
          const done = yield* posts.get(org, post.id)
          assert.strictEqual(done.status, "failed")
          assert.strictEqual(done.destinations[0]!.lastError?.code, "AUTH_EXPIRED")
          assert.strictEqual((yield* accounts.get(org, account.id)).status, "needs_reconnect")
        }))

      it.effect("an unknown outcome is never retried: failed OUTCOME_UNKNOWN, or reconciled through findPublished", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const a = yield* makeAccount(org, "fake")
          const b = yield* makeAccount(org, "lookup")
          fake.behaviour = () => Effect.fail(new PublishError.OutcomeUnknown({ platform: "fake", message: "socket hang up" }))
          // The lookup platform received the post but the answer was lost.
          lookup.behaviour = (request) =>
            Effect.sync(() => lookup.posted.set(request.attemptId, FakePublisher.success(request))).pipe(
              Effect.andThen(Effect.fail(new PublishError.OutcomeUnknown({ platform: "lookup", message: "timeout" })))
            )
          const post = yield* posts.create(org, {
            content: { text: "x" },
            destinations: [{ platform: "fake", accountId: a.id }, { platform: "lookup", accountId: b.id }]
          })
          yield* withScheduler(awaitSettled({ postIds: [post.id] }))
          const done = yield* posts.get(org, post.id)
          assert.strictEqual(done.destinations[0]!.status, "failed")
          assert.strictEqual(done.destinations[0]!.lastError?.code, "OUTCOME_UNKNOWN")
          assert.strictEqual(fake.calls.get(done.destinations[0]!.id), 1)
          assert.strictEqual(done.destinations[1]!.status, "published")
          assert.strictEqual(lookup.calls.get(done.destinations[1]!.id), 1)
          assert.strictEqual(done.status, "partially_failed")
          const attempts = yield* posts.attempts(org, post.id)
          assert.sameMembers(attempts.map((x) => x.outcome), ["outcome_unknown", "reconciled_published"])
        }))

      it.effect("a destination left publishing by a dead worker is taken over and reported as an unknown outcome, not reposted", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const leases = yield* Leases
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          const post = yield* posts.create(org, { content: { text: "x" }, destinations: [{ platform: "fake", accountId: account.id }] })
          // A worker claims and marks it publishing, then "dies": its lease ended a second ago (no wait for it to run out).
          const now = new Date()
          const [claim] = yield* leases.claim({ workerId: "wrk_dead", now, leaseMs: -1_000, limit: 10 })
          assert.strictEqual(claim!.postId, post.id)
          const marked = yield* markPublishing({ claim: claim!, workerId: "wrk_dead", attemptId: "att_dead", now, leaseMs: -1_000 })
          assert.isDefined(marked)
          const [lease] = yield* (yield* SqlClient.SqlClient)<{ expired: boolean }>`
            SELECT lease_expires_at < now() AS expired FROM destinations WHERE id = ${claim!.id}`
          assert.isTrue(lease!.expired, "the dead worker's lease has expired")
          yield* withScheduler(awaitSettled({ postIds: [post.id] }))
          const done = yield* posts.get(org, post.id)
          assert.strictEqual(done.status, "failed")
          assert.strictEqual(done.destinations[0]!.lastError?.code, "OUTCOME_UNKNOWN")
          assert.include(done.destinations[0]!.lastError!.message, "wrk_dead")
          assert.strictEqual(fake.total(), 0, "never published again automatically")
          const attempts = yield* posts.attempts(org, post.id)
          assert.deepStrictEqual(attempts.map((a) => [a.id, a.outcome]), [["att_dead", "outcome_unknown"]])
        }))

      it.effect("cancelling a claimed destination before the call stops it", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const leases = yield* Leases
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          const post = yield* posts.create(org, { content: { text: "x" }, destinations: [{ platform: "fake", accountId: account.id }] })
          const now = new Date()
          const [claim] = yield* leases.claim({ workerId: "wrk_a", now, leaseMs: 30_000, limit: 10 })
          const cancelled = yield* posts.cancel(org, post.id)
          assert.strictEqual(cancelled.status, "cancelled")
          const marked = yield* markPublishing({ claim: claim!, workerId: "wrk_a", attemptId: "att_x", now, leaseMs: 30_000 })
          assert.isUndefined(marked)
          const after = yield* posts.get(org, post.id)
          assert.strictEqual(after.destinations[0]!.status, "cancelled")
          assert.strictEqual(after.destinations[0]!.attempts, 0)
          // Once marked publishing, a cancel is refused.
          const other = yield* posts.create(org, { content: { text: "y" }, destinations: [{ platform: "fake", accountId: account.id }] })
          const [claim2] = yield* leases.claim({ workerId: "wrk_a", now: new Date(), leaseMs: 30_000, limit: 10 })
          yield* markPublishing({ claim: claim2!, workerId: "wrk_a", attemptId: "att_y", now: new Date(), leaseMs: 30_000 })
          const refused = yield* Effect.flip(posts.cancel(org, other.id))
          assert.strictEqual(refused._tag, "InvalidStatusTransition")
          yield* leases.settle({
            destinationId: claim2!.id,
            postId: other.id,
            attemptId: "att_y",
            now: new Date(),
            outcome: { _tag: "Published", platformPostId: "1", url: "u", publishedAt: new Date(), parts: [] }
          })
        }))

      it.effect("claimAndMark takes what fits each account's and platform's room, in due order, and leaves the rest untouched", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const leases = yield* Leases
          const sql = yield* SqlClient.SqlClient
          const org = yield* makeOrganization
          const a = yield* makeAccount(org, "fake")
          const b = yield* makeAccount(org, "fake")
          const created: Array<{ id: string; account: string }> = []
          for (let i = 0; i < 4; i++) {
            for (const account of [a.id, b.id]) {
              const post = yield* posts.create(org, { content: { text: `r${i}` }, destinations: [{ platform: "fake", accountId: account }] })
              created.push({ id: post.id, account })
            }
          }
          const c = yield* makeAccount(org, "lookup")
          const multi = yield* posts.create(org, {
            content: { text: "two" },
            destinations: [{ platform: "fake", accountId: a.id }, { platform: "lookup", accountId: c.id }]
          })
          const now = new Date(Date.now() + 1_000)
          const marked = yield* leases.claimAndMark({
            workerId: "wrk_rooms",
            now,
            leaseMs: 30_000,
            limit: 20,
            platforms: ["fake"],
            rooms: { accounts: [{ accountId: a.id, room: 1 }], platforms: [], defaultPlatformRoom: 20, defaultAccountRoom: 2 },
            attemptIds: Array.from({ length: 20 }, (_, i) => `att_rooms_${i}`)
          })
          // Account a: room 1 (listed); account b: the default 2; platform "lookup" was not asked for.
          const byAccount = (account: string) => marked.filter((m) => m.claim.accountId === account)
          assert.strictEqual(byAccount(a.id).length, 1)
          assert.strictEqual(byAccount(b.id).length, 2)
          const due = marked.map((m) => m.claim.dueAt.getTime())
          assert.deepStrictEqual(due, [...due].sort((x, y) => x - y))
          for (const m of marked) {
            assert.strictEqual(m.marked.onlyDestination, m.claim.postId !== multi.id)
            assert.isDefined(m.marked.credentials)
          }
          const rows = yield* sql<{ status: string; lease_owner: string | null; n: string }>`
            SELECT status, lease_owner, count(*) AS n FROM destinations WHERE organization_id = ${org} GROUP BY status, lease_owner`
          const count = (status: string, owner: string | null) =>
            Number(rows.find((r) => r.status === status && r.lease_owner === owner)?.n ?? 0)
          assert.strictEqual(count("publishing", "wrk_rooms"), 3)
          // The rest were not even leased: another worker (or the next round) takes them at once.
          assert.strictEqual(count("queued", null), created.length + 2 - 3)
          // The in-flight attempts show in the post's attempt log before their outcome.
          const first = marked[0]!
          const log = yield* posts.attempts(org, first.claim.postId)
          assert.deepStrictEqual(log.map((x) => [x.id, x.outcome, x.workerId]), [[first.marked.attemptId, undefined, "wrk_rooms"]])
          // Given back without a call: queued again, due now, the attempt logged not_sent.
          const back = yield* leases.unmark({
            workerId: "wrk_rooms",
            items: marked.map((m) => ({ destinationId: m.claim.id, attemptId: m.marked.attemptId })),
            now
          })
          assert.strictEqual(back, 3)
          const after = yield* posts.attempts(org, first.claim.postId)
          assert.deepStrictEqual(after.map((x) => x.outcome), ["not_sent"])
          const stored = yield* posts.get(org, first.claim.postId)
          assert.strictEqual(stored.destinations[0]!.status, "queued")
          // With room for all: a post with two destinations is not settled by one outcome alone.
          const all = yield* leases.claimAndMark({
            workerId: "wrk_rooms",
            now: new Date(now.getTime() + 1_000),
            leaseMs: 30_000,
            limit: 20,
            platforms: ["fake"],
            rooms: { accounts: [], platforms: [], defaultPlatformRoom: 20, defaultAccountRoom: 20 },
            attemptIds: Array.from({ length: 20 }, (_, i) => `att_all_${i}`)
          })
          assert.strictEqual(all.length, created.length + 1)
          for (const m of all) assert.strictEqual(m.marked.onlyDestination, m.claim.postId !== multi.id)
          yield* leases.unmark({
            workerId: "wrk_rooms",
            items: all.map((m) => ({ destinationId: m.claim.id, attemptId: m.marked.attemptId })),
            now
          })
          // And it publishes normally afterwards.
          yield* withScheduler(awaitSettled({ postIds: [...created.map((c) => c.id), multi.id] }))
          const published = yield* posts.get(org, first.claim.postId)
          assert.strictEqual(published.status, "published")
          const final = yield* posts.attempts(org, first.claim.postId)
          // (The test's clock ran ahead of the real one, so the log's order by start says little here.)
          assert.sameMembers(final.map((x) => x.outcome ?? "running"), ["not_sent", "not_sent", "published"])
          const both = yield* posts.get(org, multi.id)
          assert.deepStrictEqual(both.destinations.map((d) => d.status), ["published", "published"])
        }))

      it.effect("with slow calls, destinations waiting for a slot stay queued and a cancel stops them", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          fake.behaviour = (request) => Effect.succeed(FakePublisher.success(request)).pipe(Effect.delay("400 millis"))
          const created = yield* Effect.forEach([0, 1, 2, 3], (i) =>
            posts.create(org, { content: { text: `slow${i}` }, destinations: [{ platform: "fake", accountId: account.id }] }))
          const outcomes = yield* withScheduler(
            Effect.gen(function*() {
              while (!created.some((p) => fake.calls.has(p.destinations[0]!.id))) yield* Effect.sleep("5 millis")
              // One call in flight (concurrency 1); the others are claimed at most, never marked.
              const cancelled = yield* Effect.forEach(created, (p) =>
                posts.cancel(org, p.id).pipe(Effect.as("cancelled" as const), Effect.orElseSucceed(() => "too late" as const)))
              yield* awaitSettled({ postIds: created.map((p) => p.id) })
              return cancelled
            }),
            { concurrency: 1, perAccount: 1, workerId: "wrk_slow" }
          )
          assert.strictEqual(outcomes.filter((o) => o === "too late").length, 1, "only the post in its call was past cancelling")
          assert.strictEqual(created.filter((p) => fake.calls.has(p.destinations[0]!.id)).length, 1)
          for (const [i, p] of created.entries()) {
            const stored = yield* posts.get(org, p.id)
            assert.strictEqual(stored.status, outcomes[i] === "cancelled" ? "cancelled" : "published")
          }
        }))

      it.effect("destinations claimed ahead fire at their due time; a cancel, an edit, a reschedule, refreshed credentials or a removed account before then still win", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const accounts = yield* AccountStore
          const sql = yield* SqlClient.SqlClient
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          const refreshedAccount = yield* makeAccount(org, "fake", { token: "before the refresh" })
          const removedAccount = yield* makeAccount(org, "fake")
          const dueAt = Date.now() + 1_200
          const at = (ms: number) => ({ _tag: "instant" as const, at: new Date(ms).toISOString() })
          const make = (text: string, accountId = account.id) =>
            posts.create(org, { content: { text }, schedule: at(dueAt), destinations: [{ platform: "fake", accountId }] })
          const [kept, cancelled, edited, moved] = [yield* make("kept"), yield* make("cancelled"), yield* make("before"), yield* make("moved")]
          const [refreshed, removed] = [yield* make("refreshed", refreshedAccount.id), yield* make("removed", removedAccount.id)]
          const ids = [kept, cancelled, edited, moved, refreshed, removed].map((p) => p.destinations[0]!.id)
          const callTimes = new Map<string, number>()
          fake.behaviour = (request) =>
            Effect.sync(() => {
              callTimes.set(request.destinationId, Date.now())
              return FakePublisher.success(request)
            })
          yield* withScheduler(
            Effect.gen(function*() {
              // Wait until all four are claimed ahead (leased, still queued).
              for (let i = 0; i < 200; i++) {
                const rows = yield* sql<{ n: string }>`
                  SELECT count(*) AS n FROM destinations WHERE ${sql.in("id", ids)} AND status = 'queued' AND lease_owner = 'wrk_ahead'`
                if (Number(rows[0]!.n) === ids.length) break
                yield* Effect.sleep("10 millis")
              }
              const leased = yield* sql<{ n: string }>`SELECT count(*) AS n FROM destinations WHERE ${sql.in("id", ids)} AND lease_owner = 'wrk_ahead'`
              assert.strictEqual(Number(leased[0]!.n), ids.length, "claimed ahead of their due time")
              assert.isBelow(Date.now(), dueAt, "the test was too slow to act before the due time")
              yield* posts.cancel(org, cancelled.id)
              yield* posts.update(org, edited.id, { content: { text: "after" } })
              yield* posts.update(org, moved.id, { schedule: at(dueAt + 800) })
              // What another worker's token refresh does: the call must use the credentials as they are at the mark.
              yield* accounts.updateCredentials(refreshedAccount.id, { token: "after the refresh" })
              yield* accounts.remove(org, removedAccount.id)
              yield* awaitSettled({ postIds: [kept.id, edited.id, moved.id, refreshed.id, removed.id], timeoutMs: 20_000 })
            }),
            { workerId: "wrk_ahead", prefetchMs: 5_000, pollMs: 100 }
          )
          assert.isAtLeast(callTimes.get(ids[0]!)!, dueAt, "not called before its due time")
          assert.isFalse(callTimes.has(ids[1]!), "a cancelled post was published")
          const editedRequest = fake.requests.find((r) => r.destinationId === edited.destinations[0]!.id)
          assert.strictEqual(editedRequest?.destination.parts[0].text, "after", "the edit made after the claim was published")
          assert.isAtLeast(callTimes.get(ids[3]!)!, dueAt + 800, "a rescheduled post waited for its new time")
          for (const p of [kept, edited, moved, refreshed]) assert.strictEqual((yield* posts.get(org, p.id)).status, "published")
          assert.strictEqual((yield* posts.get(org, cancelled.id)).status, "cancelled")
          const refreshedRequest = fake.requests.find((r) => r.destinationId === refreshed.destinations[0]!.id)
          assert.deepStrictEqual(refreshedRequest?.credentials, { token: "after the refresh" }, "called with the credentials read ahead")
          assert.isFalse(callTimes.has(ids[5]!), "published through a removed account")
          const removedPost = yield* posts.get(org, removed.id)
          assert.strictEqual(removedPost.destinations[0]!.status, "failed")
          assert.strictEqual(removedPost.destinations[0]!.lastError?.code, "ACCOUNT_NOT_FOUND")
        }))

      it.effect("claiming ahead takes a fair share: what is due in the window, divided among the live workers", () =>
        Effect.gen(function*() {
          const posts = yield* PostStore
          const leases = yield* Leases
          const sql = yield* SqlClient.SqlClient
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          // An hour ahead, and heartbeats dated then: only this test's workers are live in this window.
          const dueAt = new Date(Date.now() + 3_600_000)
          const created = yield* Effect.forEach(Array.from({ length: 10 }, (_, i) => i), (i) =>
            posts.create(org, {
              content: { text: `share ${i}` },
              schedule: { _tag: "instant", at: dueAt.toISOString() },
              destinations: [{ platform: "fake", accountId: account.id }]
            }))
          const now = new Date(dueAt.getTime() - 500)
          // Earlier tests may have left a few queued destinations due by then: they count too.
          const due = yield* sql<{ n: string }>`
            SELECT count(*) AS n FROM destinations WHERE status = 'queued' AND due_at <= ${dueAt} AND platform = 'fake'`
          const total = Number(due[0]!.n)
          assert.isAtLeast(total, 10)
          yield* leases.heartbeat("wrk_fair_a", now)
          yield* leases.heartbeat("wrk_fair_b", now)
          yield* leases.heartbeat("wrk_fair_stopped", now, true)
          yield* leases.heartbeat("wrk_fair_silent", new Date(now.getTime() - 60_000))
          const claimAhead = (workerId: string, fair = true) =>
            leases.claimUpcoming({
              workerId,
              now,
              until: dueAt,
              leaseMs: 30_000,
              limit: 100,
              platforms: ["fake"],
              liveSince: fair ? new Date(now.getTime() - 15_000) : undefined
            })
          // Two live workers (a stopped one and a silent one do not count): half each.
          assert.strictEqual((yield* claimAhead("wrk_fair_a")).length, Math.ceil(total / 2))
          assert.strictEqual((yield* claimAhead("wrk_fair_a")).length, 0, "a worker holding its share takes no more")
          assert.strictEqual((yield* claimAhead("wrk_fair_b")).length, total - Math.ceil(total / 2))
          // Without a fair share, a worker takes what it asks for: nothing is left.
          assert.strictEqual((yield* claimAhead("wrk_fair_c", false)).length, 0)
          const owners = yield* sql<{ lease_owner: string | null }>`
            SELECT DISTINCT lease_owner FROM destinations WHERE organization_id = ${org} ORDER BY lease_owner`
          assert.deepStrictEqual(owners.map((r) => r.lease_owner), ["wrk_fair_a", "wrk_fair_b"])
          yield* leases.release("wrk_fair_a")
          yield* leases.release("wrk_fair_b")
          for (const post of created) yield* posts.cancel(org, post.id)
        }))

      it.effect("a publisher's expected call time lets its first burst be marked ahead; without one, marks wait for free slots", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const sql = yield* SqlClient.SqlClient
          const org = yield* makeOrganization
          // Calls block until the gate opens, so no call is ever timed: only the hint can allow marking ahead.
          const publishingAtFirst = (counting: typeof fake) =>
            Effect.gen(function*() {
              let open = () => {}
              const gate = new Promise<void>((resolve) => (open = resolve))
              counting.behaviour = (request) => Effect.promise(() => gate).pipe(Effect.as(FakePublisher.success(request)))
              const account = yield* makeAccount(org, counting.publisher.platform)
              const created = yield* Effect.forEach(Array.from({ length: 20 }, (_, i) => i), (i) =>
                posts.create(org, { content: { text: `burst ${i}` }, destinations: [{ platform: counting.publisher.platform, accountId: account.id }] }))
              return yield* withScheduler(
                Effect.gen(function*() {
                  while (counting.total() < 2) yield* Effect.sleep("5 millis")
                  yield* schedulerIdle
                  const rows = yield* sql<{ n: string }>`
                    SELECT count(*) AS n FROM destinations WHERE account_id = ${account.id} AND status = 'publishing'`
                  open()
                  yield* awaitSettled({ postIds: created.map((p) => p.id) })
                  return Number(rows[0]!.n)
                }),
                { workerId: `wrk_hint_${counting.publisher.platform}`, concurrency: 2, perAccount: 2, batchSize: 4 }
              )
            })
          assert.isAtLeast(yield* publishingAtFirst(quick), 10, "marked ahead of the free slots")
          assert.strictEqual(yield* publishingAtFirst(fake), 2, "marked only for the free slots")
        }))

      it.effect("many concurrent cancels racing four schedulers: a cancelled post is never published", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          fake.behaviour = (request) => Effect.succeed(FakePublisher.success(request)).pipe(Effect.delay("2 millis"))
          const one = (n: number) => Layer.fresh(Scheduler.layer({ workerId: `wrk_race_${n}`, pollMs: 100 }))
          const four = Layer.mergeAll(one(1), one(2), one(3), one(4))
          const results = yield* Effect.scoped(Layer.build(four).pipe(Effect.andThen(Effect.gen(function*() {
            const created = yield* Effect.forEach(Array.from({ length: 60 }, (_, i) => i), (i) =>
              posts.create(org, { content: { text: `c${i}` }, destinations: [{ platform: "fake", accountId: account.id }] }), { concurrency: 4 })
            const outcomes = yield* Effect.forEach(created, (p) => posts.cancel(org, p.id).pipe(Effect.as("cancelled" as const), Effect.orElseSucceed(() => "too late" as const)), {
              concurrency: 8
            })
            yield* awaitSettled({ postIds: created.map((p) => p.id) })
            return created.map((p, i) => ({ id: p.id, destinationId: p.destinations[0]!.id, outcome: outcomes[i]! }))
          }))))
          for (const r of results) {
            const post = yield* posts.get(org, r.id)
            if (r.outcome === "cancelled") {
              assert.strictEqual(post.status, "cancelled")
              assert.isUndefined(fake.calls.get(r.destinationId), "a cancelled post was published")
            } else {
              assert.strictEqual(post.status, "published")
              assert.strictEqual(fake.calls.get(r.destinationId), 1)
            }
          }
        }))

      it.effect("graceful shutdown lets calls in flight finish and reports the worker stopped", () =>
        Effect.gen(function*() {
          yield* reset
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "fake")
          fake.behaviour = (request) => Effect.succeed(FakePublisher.success(request)).pipe(Effect.delay("300 millis"))
          const post = yield* posts.create(org, { content: { text: "x" }, destinations: [{ platform: "fake", accountId: account.id }] })
          const live = yield* withScheduler(
            Effect.gen(function*() {
              while (fake.total() === 0) yield* Effect.sleep("5 millis")
              return yield* health({ now: new Date() })
            }),
            { workerId: "wrk_graceful" }
          )
          assert.isAtLeast(live.liveWorkers, 1)
          const done = yield* posts.get(org, post.id)
          assert.strictEqual(done.status, "published", "the call in flight finished before shutdown completed")
          const sql = yield* SqlClient.SqlClient
          const worker = yield* sql<{ stopped_at: Date | null }>`SELECT stopped_at FROM workers WHERE id = 'wrk_graceful'`
          assert.isNotNull(worker[0]!.stopped_at)
        }))
    })
  })
}
