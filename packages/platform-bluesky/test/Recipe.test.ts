/**
 * The README's Promise recipe, as written: the README must hold
 * `examples/promise.ts` verbatim, and that file is what runs here, against
 * the fake, for more than one call after it was built.
 */
import { readFileSync } from "node:fs"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { makeBlueskyPublisher } from "@omnipost/platform-bluesky"
import { FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { Effect } from "effect"
import { startBluesky } from "../examples/promise.js"
import { publishRequest } from "./fixtures.js"

const packageDir = new URL("..", import.meta.url)

let fake: FakeBlueskyServer
beforeAll(async () => {
  fake = await FakeBlueskyServer.start()
})
afterAll(() => fake.close())

describe("the README's Promise recipe", () => {
  it("is in the README verbatim", () => {
    const recipe = readFileSync(new URL("examples/promise.ts", packageDir), "utf8")
    const readme = readFileSync(new URL("README.md", packageDir), "utf8")
    assert.include(readme, "```ts\n" + recipe + "```\n")
  })

  it("publishes, again and again, after it was built", async () => {
    const bluesky = await startBluesky(fake.publisherOptions())
    try {
      const first = await bluesky.publish(publishRequest(fake.credentials(), [{ text: "first", media: [] }]))
      const second = await bluesky.publish(publishRequest(fake.credentials(), [{ text: "second", media: [] }]))
      assert.deepStrictEqual(fake.posts().map((post) => (post.value as { text: string }).text), ["first", "second"])
      assert.notStrictEqual(first.platformPostId, second.platformPostId)
      // A refusal rejects with the publish error itself.
      const refusal = await bluesky.publish(publishRequest(fake.credentials(), [{ text: "a".repeat(301), media: [] }])).then(
        () => undefined,
        (error: unknown) => error as { readonly _tag?: string; readonly code?: string }
      )
      assert.deepStrictEqual([refusal?._tag, refusal?.code], ["Rejected", "CONTENT_TOO_LONG"])
    } finally {
      await bluesky.close()
    }
  })

  it("the old recipe's closed pool (UND_ERR_DESTROYED) is Transient: nothing was sent, so it is not OutcomeUnknown", async () => {
    // Effect.runPromise + Effect.provide closes the pool once the publisher is built.
    const broken = await Effect.runPromise(makeBlueskyPublisher(fake.publisherOptions()).pipe(Effect.provide(NodeHttpClient.layerUndici)))
    const before = fake.posts().length
    const error = await Effect.runPromise(Effect.flip(broken.publish(publishRequest(fake.credentials(), [{ text: "never sent", media: [] }]))))
    assert.strictEqual(error._tag, "Transient")
    assert.include(error.message, "UND_ERR_DESTROYED")
    assert.strictEqual(fake.posts().length, before)
  })
})
