import { assert, describe, it } from "@effect/vitest"
import { PublishError, type Publisher } from "@omnipost/core"
import { Effect } from "effect"
import { Thread } from "../src/index.js"

/** A platform in memory: what was prepared and posted, in order, and which post fails. */
const platform = (options: { readonly failPrepareAt?: number; readonly failPostAt?: number; readonly error?: PublishError.PublishError } = {}) => {
  const log: Array<string> = []
  const live: Array<{ readonly text: string; readonly replyTo: string | undefined; readonly root: string | undefined }> = []
  const error = options.error ?? new PublishError.Transient({ platform: "mem", message: "503", httpStatus: 503 })
  const run = (parts: ReadonlyArray<string>, postedParts?: ReadonlyArray<Publisher.PublishedPart>) =>
    Thread.publish({
      platform: "mem",
      parts,
      postedParts,
      prepare: (part, index) =>
        Effect.suspend(() => {
          log.push(`prepare ${index}`)
          return index === options.failPrepareAt ? Effect.fail(error) : Effect.succeed(part.toUpperCase())
        }),
      post: (prepared, { index, replyTo, root }) =>
        Effect.suspend(() => {
          log.push(`post ${index}`)
          if (index === options.failPostAt) return Effect.fail(error)
          live.push({ text: prepared, replyTo: replyTo?.platformPostId, root: root?.platformPostId })
          const id = `id${live.length}`
          return Effect.succeed({ platformPostId: id, url: `https://mem/${id}`, replyRef: `cid${live.length}` })
        })
    })
  return { log, live, run }
}

describe("Thread.publish", () => {
  it.effect("prepares every part before posting any, then posts in order, each replying to the one before", () =>
    Effect.gen(function*() {
      const mem = platform()
      const parts = yield* mem.run(["a", "b", "c"])
      assert.deepStrictEqual(mem.log, ["prepare 0", "prepare 1", "prepare 2", "post 0", "post 1", "post 2"])
      assert.deepStrictEqual(mem.live, [
        { text: "A", replyTo: undefined, root: undefined },
        { text: "B", replyTo: "id1", root: "id1" },
        { text: "C", replyTo: "id2", root: "id1" }
      ])
      assert.deepStrictEqual(parts.map((p) => p.platformPostId), ["id1", "id2", "id3"])
    }))

  it.effect("a failed preparation posts nothing and carries no parts", () =>
    Effect.gen(function*() {
      const mem = platform({ failPrepareAt: 2 })
      const error = yield* Effect.flip(mem.run(["a", "b", "c"]))
      assert.strictEqual(error._tag, "Transient")
      assert.isUndefined(error.postedParts)
      assert.deepStrictEqual(mem.live, [])
    }))

  it.effect("part k failing keeps the error's tag and fields and carries parts 1..k-1; a retry resumes at k as a reply to k-1", () =>
    Effect.gen(function*() {
      const limited = new PublishError.RateLimited({ platform: "mem", message: "slow down", retryAfterSeconds: 30, scope: "account" })
      const mem = platform({ failPostAt: 2, error: limited })
      const error = yield* Effect.flip(mem.run(["a", "b", "c", "d"]))
      assert.strictEqual(error._tag, "RateLimited")
      assert.strictEqual(error._tag === "RateLimited" ? error.retryAfterSeconds : undefined, 30)
      assert.include(error.message, "slow down")
      assert.include(error.message, "part 3 of 4 failed")
      assert.deepStrictEqual(error.postedParts?.map((p) => [p.platformPostId, p.replyRef]), [["id1", "cid1"], ["id2", "cid2"]])

      const retry = platform()
      // The retry's platform continues the same memory: parts 1-2 live there already.
      retry.live.push(...mem.live)
      const parts = yield* retry.run(["a", "b", "c", "d"], error.postedParts)
      // Only parts 3 and 4 are prepared and posted; 3 replies to 2 within 1.
      assert.deepStrictEqual(retry.log, ["prepare 2", "prepare 3", "post 2", "post 3"])
      assert.deepStrictEqual(retry.live.slice(2), [{ text: "C", replyTo: "id2", root: "id1" }, { text: "D", replyTo: "id3", root: "id1" }])
      assert.deepStrictEqual(parts.map((p) => p.platformPostId), ["id1", "id2", "id3", "id4"])
    }))

  it.effect("a failed preparation on resume keeps the live parts on the error", () =>
    Effect.gen(function*() {
      const mem = platform({ failPrepareAt: 1 })
      const live = [{ platformPostId: "x1", url: "https://mem/x1" }]
      const error = yield* Effect.flip(mem.run(["a", "b"], live))
      assert.deepStrictEqual(error.postedParts, live)
    }))

  it.effect("every part live already: nothing is posted; more live parts than the post has: THREAD_CHANGED", () =>
    Effect.gen(function*() {
      const mem = platform()
      const live = [{ platformPostId: "x1", url: "u1" }, { platformPostId: "x2", url: "u2" }]
      assert.deepStrictEqual(yield* mem.run(["a", "b"], live), live)
      assert.deepStrictEqual(mem.log, [])
      const error = yield* Effect.flip(mem.run(["a"], live))
      assert.strictEqual(error._tag, "Rejected")
      assert.strictEqual(error._tag === "Rejected" ? error.code : undefined, "THREAD_CHANGED")
      assert.deepStrictEqual(error.postedParts, live)
    }))
})

describe("Thread.found", () => {
  const part = (n: number) => ({ platformPostId: `id${n}`, url: `https://mem/id${n}` })
  it.effect("none found is not posted, all is the result, the first parts are a Transient carrying them", () =>
    Effect.gen(function*() {
      assert.isUndefined(yield* Thread.found({ platform: "mem", total: 2, found: [], publishedAt: "t" }))
      const all = yield* Thread.found({ platform: "mem", total: 2, found: [part(1), part(2)], publishedAt: "t" })
      assert.deepStrictEqual(all, { platformPostId: "id1", url: "https://mem/id1", publishedAt: "t", parts: [part(1), part(2)] })
      const some = yield* Effect.flip(Thread.found({ platform: "mem", total: 3, found: [part(1)], publishedAt: "t" }))
      assert.strictEqual(some._tag, "Transient")
      assert.deepStrictEqual(some.postedParts, [part(1)])
      assert.include(some.message, "parts 1-1 of 3")
    }))
})
