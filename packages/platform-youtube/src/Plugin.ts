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
import { Config, Option } from "effect"
import { makeYoutubePublisher } from "./Publisher.js"

/** YouTube's settings, read from the environment (or any `ConfigProvider`). */
export const config = Config.all({
  unaudited: Config.option(Config.Boolean("OMNIPOST_YOUTUBE_UNAUDITED")),
  dailyUnits: Config.option(Config.Int("OMNIPOST_YOUTUBE_DAILY_QUOTA")),
  insertCost: Config.option(Config.Int("OMNIPOST_YOUTUBE_INSERT_COST"))
})

export const plugin = Plugin.definePlugin({
  id: "youtube",
  displayName: "YouTube",
  config,
  environment: [
    {
      name: "OMNIPOST_YOUTUBE_UNAUDITED",
      description: "true when your Google API project has not passed YouTube's compliance audit: YouTube forces its uploads private, so public and unlisted posts fail validation",
      default: "false"
    },
    { name: "OMNIPOST_YOUTUBE_DAILY_QUOTA", description: "The project's daily YouTube Data API units", default: "10000" },
    { name: "OMNIPOST_YOUTUBE_INSERT_COST", description: "Units one videos.insert costs the project", default: "1600" }
  ],
  make: (config, options) =>
    makeYoutubePublisher({
      apiBaseUrl: options.baseUrl,
      unauditedProject: Option.getOrElse(config.unaudited, () => false),
      quota: { dailyUnits: Option.getOrUndefined(config.dailyUnits), insertCost: Option.getOrUndefined(config.insertCost) },
      resolveStoredMedia: options.resolveStoredMedia
    })
})
