/**
 * YouTube as an Omnipost plugin: what `omnipost serve` (or any host) needs to
 * run YouTube without knowing it. Credentials are connected directly (an
 * access token and, for refreshing, a refresh token).
 *
 * @example
 * import { plugin } from "@omnipost/platform-youtube"
 * const loaded = yield* Plugin.load(plugin, { baseUrl: fakeYoutube.url })
 */
import { Plugin } from "@omnipost/core"
import { Config } from "effect"
import { makeYoutubePublisher } from "./Publisher.js"

/** YouTube's settings, read from the environment (or any `ConfigProvider`). */
export const config = Config.all({})

export const plugin = Plugin.definePlugin({
  id: "youtube",
  displayName: "YouTube",
  config,
  environment: [],
  make: (_config, options) =>
    makeYoutubePublisher({
      apiBaseUrl: options.baseUrl,
      resolveStoredMedia: options.resolveStoredMedia
    })
})
