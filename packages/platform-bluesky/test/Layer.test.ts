import { NodeHttpClient } from "@effect/platform-node"
import { assert, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Bluesky, makeBlueskyPublisher } from "@omnipost/platform-bluesky"
import { FakeBluesky } from "@omnipost/platform-bluesky/testing"
import { part, publishRequest } from "./fixtures.js"

// The wiring a user's test suite would do: one fake for the suite, the publisher as a service pointed at it.
const BlueskyAgainstFake = Layer.effect(
  Bluesky,
  Effect.gen(function*() {
    const fake = yield* FakeBluesky
    return yield* makeBlueskyPublisher(fake.publisherOptions())
  })
)

const TestLayer = BlueskyAgainstFake.pipe(
  Layer.provideMerge(Layer.merge(FakeBluesky.layer(), NodeHttpClient.layerUndici))
)

layer(TestLayer, { excludeTestServices: true })("FakeBluesky.layer and the Bluesky service", (it) => {
  it.effect("publishes through the service to the suite's fake", () =>
    Effect.gen(function*() {
      const fake = yield* FakeBluesky
      const bluesky = yield* Bluesky
      const result = yield* bluesky.publish(publishRequest(fake.credentials(), [part("via layers")]))
      assert.strictEqual(bluesky.platform, "bluesky")
      assert.strictEqual(result.platformPostId, fake.posts().at(-1)!.uri)
      assert.strictEqual(bluesky.rules.platform, "bluesky")
    }))

  it.effect("keeps state across the suite's tests", () =>
    Effect.gen(function*() {
      const fake = yield* FakeBluesky
      assert.isAtLeast(fake.posts().length, 1)
    }))
})
