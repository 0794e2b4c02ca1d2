/**
 * The publisher registry of this server: every loaded plugin's publisher
 * (`Plugins`), plus publishers given directly by an embedding application.
 */
import { type Publisher as CorePublisher, Registry } from "@omnipost/core"
import { Effect, Layer } from "effect"
import { Plugins } from "./Plugins.js"

/** The registry of the loaded plugins' publishers plus `extra`. */
export const layer = (
  extra: ReadonlyArray<CorePublisher.PlatformPublisher> = []
): Layer.Layer<Registry.PublisherRegistry, Registry.RegistryError, Plugins> =>
  Layer.effect(
    Registry.PublisherRegistry,
    Effect.gen(function*() {
      const plugins = yield* Plugins
      return yield* Registry.make([...plugins.map((loaded) => loaded.publisher), ...extra])
    })
  )
