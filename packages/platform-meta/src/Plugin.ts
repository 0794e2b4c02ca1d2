/**
 * The three Meta platforms as Omnipost plugins: `instagram`, `facebook` and
 * `threads`, what `omnipost serve` (or any host) needs to run them without
 * knowing them.
 *
 * @example
 * import { instagramPlugin } from "@omnipost/platform-meta"
 * const loaded = yield* Plugin.load(instagramPlugin, { baseUrl: fake.graphUrl })
 */
import { Plugin } from "@omnipost/core"
import { Config } from "effect"
import { makeFacebookPublisher } from "./Facebook.js"
import { makeInstagramPublisher } from "./Instagram.js"
import { makeThreadsPublisher } from "./Threads.js"

export const instagramConfig = Config.succeed({})

export const instagramPlugin = Plugin.definePlugin({
  id: "instagram",
  displayName: "Instagram",
  config: instagramConfig,
  environment: [],
  make: (_config, options) =>
    makeInstagramPublisher({ baseUrl: options.baseUrl, resolveStoredMedia: options.resolveStoredMedia })
})

export const threadsPlugin = Plugin.definePlugin({
  id: "threads",
  displayName: "Threads",
  config: Config.succeed({}),
  environment: [],
  make: (_config, options) => makeThreadsPublisher({ baseUrl: options.baseUrl, resolveStoredMedia: options.resolveStoredMedia })
})

export const facebookPlugin = Plugin.definePlugin({
  id: "facebook",
  displayName: "Facebook",
  config: Config.succeed({}),
  environment: [],
  make: (_config, options) => makeFacebookPublisher({ baseUrl: options.baseUrl, resolveStoredMedia: options.resolveStoredMedia })
})

/** Every plugin of the package. */
export const plugins: ReadonlyArray<Plugin.Plugin> = [instagramPlugin, facebookPlugin, threadsPlugin]
