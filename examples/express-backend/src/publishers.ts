/**
 * The built-in publishers, built once at start-up. Platform packages build
 * their publishers from an `HttpClient`; this is the only place the backend
 * touches Effect, and it is five lines: a runtime holding Node's HTTP client,
 * and the publishers made in it. Everything else uses the Promise facade.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, ManagedRuntime } from "effect"
import type { Publisher } from "@omnipost/core"
import { type BlueskyPublisherOptions, makeBlueskyPublisher } from "@omnipost/platform-bluesky"
import { makeXPublisher, type XPublisherOptions } from "@omnipost/platform-twitter"

export interface PublisherOptions {
  /** Where Bluesky is (a fake's `publisherOptions()` in tests). */
  readonly bluesky?: BlueskyPublisherOptions | undefined
  /** Where X is (`{ apiBaseUrl: fake.url }` in tests). */
  readonly x?: XPublisherOptions | undefined
}

export interface Publishers {
  readonly publishers: ReadonlyArray<Publisher.PlatformPublisher>
  /** Closes the HTTP client's connections. */
  readonly close: () => Promise<void>
}

export const createPublishers = async (options: PublisherOptions = {}): Promise<Publishers> => {
  const runtime = ManagedRuntime.make(NodeHttpClient.layerUndici)
  const publishers = await runtime.runPromise(Effect.all([makeBlueskyPublisher(options.bluesky), makeXPublisher(options.x)]))
  return { publishers, close: () => runtime.dispose() }
}
