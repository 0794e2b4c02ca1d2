import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { Lifecycle } from "@omnipost/core"
import type { Post } from "@omnipost/core"

const postStatuses: ReadonlyArray<Post.PostStatus> = [
  "draft",
  "scheduled",
  "publishing",
  "published",
  "partially_failed",
  "failed",
  "cancelled"
]
const destinationStatuses: ReadonlyArray<Post.DestinationStatus> = ["queued", "publishing", "published", "failed", "cancelled"]

/** The lifecycle as the issue states it, written out independently of `Lifecycle.postTransitions`. */
const allowedPost: ReadonlyArray<readonly [Post.PostStatus, Post.PostStatus]> = [
  ["draft", "scheduled"],
  ["draft", "publishing"],
  ["draft", "cancelled"],
  ["scheduled", "draft"],
  ["scheduled", "scheduled"],
  ["scheduled", "publishing"],
  ["scheduled", "cancelled"],
  ["publishing", "published"],
  ["publishing", "partially_failed"],
  ["publishing", "failed"],
  ["partially_failed", "publishing"],
  ["failed", "publishing"]
]
const allowedDestination: ReadonlyArray<readonly [Post.DestinationStatus, Post.DestinationStatus]> = [
  ["queued", "publishing"],
  ["queued", "failed"],
  ["queued", "cancelled"],
  ["publishing", "published"],
  ["publishing", "failed"],
  ["publishing", "queued"],
  ["failed", "queued"]
]

const isAllowed = <S>(table: ReadonlyArray<readonly [S, S]>, from: S, to: S) =>
  table.some(([a, b]) => a === from && b === to)

describe("Lifecycle.transitionPost", () => {
  for (const from of postStatuses) {
    for (const to of postStatuses) {
      const allowed = isAllowed(allowedPost, from, to)
      it(`${from} → ${to} is ${allowed ? "allowed" : "an InvalidStatusTransition"}`, () => {
        const result = Lifecycle.transitionPost(from, to)
        if (allowed) {
          assert.deepStrictEqual(result, Result.succeed(to))
        } else {
          assert.isTrue(Result.isFailure(result))
          const error = Result.isFailure(result) ? result.failure : undefined
          assert.instanceOf(error, Lifecycle.InvalidStatusTransition)
          assert.strictEqual(error!.entity, "post")
          assert.strictEqual(error!.from, from)
          assert.strictEqual(error!.to, to)
          assert.include(error!.message, `from ${from} to ${to}`)
        }
      })
    }
  }

  it("explains why a published post cannot be edited, cancelled or retried", () => {
    for (const to of ["draft", "scheduled", "cancelled", "publishing"] as const) {
      const result = Lifecycle.transitionPost("published", to)
      assert.isTrue(Result.isFailure(result))
      assert.include(Result.isFailure(result) ? result.failure.message : "", "a published post can no longer be edited, cancelled or retried")
    }
  })
})

describe("Lifecycle.transitionDestination", () => {
  for (const from of destinationStatuses) {
    for (const to of destinationStatuses) {
      const allowed = isAllowed(allowedDestination, from, to)
      it(`${from} → ${to} is ${allowed ? "allowed" : "an InvalidStatusTransition"}`, () => {
        const result = Lifecycle.transitionDestination(from, to)
        if (allowed) assert.deepStrictEqual(result, Result.succeed(to))
        else {
          assert.isTrue(Result.isFailure(result))
          assert.strictEqual(Result.isFailure(result) && result.failure.entity, "destination")
        }
      })
    }
  }
})

describe("Lifecycle.aggregate", () => {
  const table: ReadonlyArray<readonly [ReadonlyArray<Post.DestinationStatus>, Post.PostStatus]> = [
    [["published", "published"], "published"],
    [["published", "failed"], "partially_failed"],
    [["failed", "failed"], "failed"],
    [["published", "cancelled"], "published"],
    [["failed", "cancelled"], "failed"],
    [["cancelled", "cancelled"], "cancelled"],
    [["published", "queued"], "publishing"],
    [["failed", "publishing"], "publishing"],
    [["published", "failed", "cancelled"], "partially_failed"]
  ]
  for (const [statuses, expected] of table) {
    it(`${statuses.join(" + ")} → ${expected}`, () => {
      assert.strictEqual(Lifecycle.aggregate(statuses), expected)
    })
  }
})

describe("Lifecycle.canRetry", () => {
  it("needs a failed or partially failed post with at least one failed destination", () => {
    assert.isTrue(Lifecycle.canRetry("partially_failed", ["published", "failed"]))
    assert.isTrue(Lifecycle.canRetry("failed", ["failed"]))
    // Retrying a post with nothing failed.
    assert.isFalse(Lifecycle.canRetry("published", ["published"]))
    assert.isFalse(Lifecycle.canRetry("partially_failed", ["published", "cancelled"]))
    assert.isFalse(Lifecycle.canRetry("publishing", ["failed", "publishing"]))
  })
})
