/**
 * Registering the custom platform next to a built-in one. Nothing in core
 * changes: the registry takes any `PlatformPublisher`.
 *
 * @example
 * const program = Effect.gen(function*() {
 *   const registry = yield* Registry.PublisherRegistry
 *   return registry.validate(post)
 * }).pipe(Effect.provide(registryLayer()), Effect.provide(NodeHttpClient.layerUndici))
 */
import { Effect, type Layer } from "effect"
import type { HttpClient } from "effect/http"
import { Registry } from "@omnipost/core"
import { type BlueskyPublisherOptions, makeBlueskyPublisher } from "@omnipost/platform-bluesky"
import { makeMastodonPublisher, type MastodonPublisherOptions } from "../src/Publisher.js"

export interface RegistryOptions {
  readonly bluesky?: BlueskyPublisherOptions | undefined
  readonly mastodon?: MastodonPublisherOptions | undefined
}

/** The built-in Bluesky publisher and the custom Mastodon one, in one registry. */
export const makeRegistry = (options: RegistryOptions = {}) =>
  Effect.gen(function*() {
    const bluesky = yield* makeBlueskyPublisher(options.bluesky)
    const mastodon = yield* makeMastodonPublisher(options.mastodon)
    return yield* Registry.make([bluesky, mastodon])
  })

export const registryLayer = (
  options: RegistryOptions = {}
): Layer.Layer<Registry.PublisherRegistry, Registry.RegistryError, HttpClient.HttpClient> =>
  Registry.PublisherRegistry.layerEffect(
    Effect.gen(function*() {
      return [yield* makeBlueskyPublisher(options.bluesky), yield* makeMastodonPublisher(options.mastodon)]
    })
  )
