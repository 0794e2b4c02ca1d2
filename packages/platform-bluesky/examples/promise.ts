import { NodeHttpClient } from "@effect/platform-node"
import { ManagedRuntime } from "effect"
import { type BlueskyPublisherOptions, makeBlueskyPublisher } from "@omnipost/platform-bluesky"

/**
 * The Bluesky publisher for code that uses Promises. The runtime owns the
 * HTTP connection pool, so it must live as long as the publisher: build this
 * once at start-up and `close()` it at shutdown.
 */
export const startBluesky = async (options?: BlueskyPublisherOptions) => {
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  const bluesky = await runtime.runPromise(makeBlueskyPublisher(options))
  return {
    /** Resolves with the post; rejects with one of core's `PublishError`s. */
    publish: (request: Parameters<typeof bluesky.publish>[0]) => runtime.runPromise(bluesky.publish(request)),
    close: () => runtime.dispose()
  }
}
