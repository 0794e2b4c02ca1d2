/**
 * A database error while preparing a call (before anything is sent, or
 * before an unknown outcome is looked up) is a blink, retried: never an
 * outcome. Issue 18: it used to settle orphans `OUTCOME_UNKNOWN` for good
 * (their look-up never made) and first comments `ACCOUNT_NOT_FOUND`.
 */
import { assert, describe, layer } from "@effect/vitest"
import { type Publisher, Registry } from "@omnipost/core"
import { Deferred, Effect, Layer } from "effect"
import { SqlError } from "effect/sql"
import { AccountStore } from "../src/storage/AccountStore.js"
import { Leases } from "../src/storage/Leases.js"
import { PostStore } from "../src/storage/PostStore.js"
import { Scheduler } from "../src/scheduler/Scheduler.js"
import { FakePublisher } from "../src/testing/index.js"
import { awaitSettled, makeAccount, makeOrganization, markPublishing, storesLayer, testKinds } from "./fixtures.js"

const lookup = FakePublisher.counting({ platform: "lookup", findPublished: true })

/** A platform that takes first comments; `commented` holds each comment call. */
const commented: Array<string> = []
const commenting: Publisher.PlatformPublisher = {
  ...FakePublisher.counting({ platform: "commenting" }).publisher,
  comment: (request) =>
    Effect.sync(() => {
      commented.push(request.text)
      return { platformCommentId: `c_${commented.length}`, url: "https://example.com/c", postedAt: new Date().toISOString() }
    })
}

const env = (kind: "pglite" | "postgres") =>
  Layer.mergeAll(Leases.layer, Registry.PublisherRegistry.layer([lookup.publisher, commenting])).pipe(Layer.provideMerge(storesLayer(kind)))

const connectionLost = () =>
  new SqlError.SqlError({ reason: new SqlError.ConnectionError({ cause: new Error("connection terminated"), message: "connection terminated" }) })

/**
 * The stores' `AccountStore`, whose credential reads fail with a connection
 * error the first `failures` times; `failed` completes on the last of them.
 */
const flakyAccounts = (failures: number, failed: Deferred.Deferred<void>) =>
  Layer.effect(AccountStore)(Effect.gen(function*() {
    const accounts = yield* AccountStore
    let left = failures
    return AccountStore.of({
      ...accounts,
      credentials: (accountId) =>
        left > 0
          ? Effect.suspend(() => {
            left--
            return Deferred.succeed(failed, undefined).pipe(Effect.andThen(Effect.fail(connectionLost())))
          })
          : accounts.credentials(accountId)
    })
  }))

for (const kind of testKinds) {
  describe(`a database error while preparing (${kind})`, () => {
    layer(env(kind), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("an orphan whose credentials cannot be read is looked up later, not settled unknown", () =>
        Effect.gen(function*() {
          const posts = yield* PostStore
          const leases = yield* Leases
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "lookup")
          const post = yield* posts.create(org, { content: { text: "x" }, destinations: [{ platform: "lookup", accountId: account.id }] })
          // A worker marks it publishing, the platform takes the post, and the worker dies before the answer.
          const now = new Date()
          const [claim] = yield* leases.claim({ workerId: "wrk_dead", now, leaseMs: 1, limit: 10 })
          const marked = yield* markPublishing({ claim: claim!, workerId: "wrk_dead", attemptId: "att_dead", now, leaseMs: 1 })
          assert.isDefined(marked)
          lookup.posted.set("att_dead", FakePublisher.success({ destinationId: claim!.id, attemptId: "att_dead" } as never))
          const failed = yield* Deferred.make<void>()
          const scheduler = Scheduler.layer({ pollMs: 50, leaseMs: 300 }).pipe(Layer.provide(flakyAccounts(1, failed)))
          yield* Effect.scoped(Layer.build(Layer.fresh(scheduler)).pipe(
            Effect.andThen(Deferred.await(failed)),
            Effect.andThen(awaitSettled({ postIds: [post.id] }))
          ))
          const done = yield* posts.get(org, post.id)
          assert.strictEqual(done.destinations[0]!.status, "published")
          assert.strictEqual(lookup.total(), 0, "never published again")
          const attempts = yield* posts.attempts(org, post.id)
          assert.deepStrictEqual(attempts.map((a) => [a.id, a.outcome]), [["att_dead", "reconciled_published"]])
        }))

      it.effect("a first comment whose credentials cannot be read is retried, not failed ACCOUNT_NOT_FOUND", () =>
        Effect.gen(function*() {
          const posts = yield* PostStore
          const org = yield* makeOrganization
          commented.length = 0
          const account = yield* makeAccount(org, "commenting")
          const post = yield* posts.create(org, {
            content: { text: "launch", comment: "details" },
            destinations: [{ platform: "commenting", accountId: account.id }]
          })
          const failed = yield* Deferred.make<void>()
          const scheduler = Scheduler.layer({ pollMs: 50, backoff: { baseMs: 10, maxMs: 10, factor: 1 } }).pipe(
            Layer.provide(flakyAccounts(1, failed))
          )
          const comment = yield* Effect.scoped(Layer.build(Layer.fresh(scheduler)).pipe(
            Effect.andThen(Deferred.await(failed)),
            Effect.andThen(Effect.gen(function*() {
              while (true) {
                const now = (yield* posts.get(org, post.id)).destinations[0]!.comment
                if (now !== undefined && now.status !== "pending") return now
                yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))
              }
            }))
          ))
          assert.strictEqual(comment.status, "published", JSON.stringify(comment))
          assert.strictEqual(comment.attempts, 2, "the blink counted as one attempt, then posted")
          assert.strictEqual(commented.length, 1)
        }))
    })
  })
}
