/**
 * Bluesky as an Omnipost plugin: what `omnipost serve` (or any host) needs
 * to run Bluesky without knowing it.
 *
 * Bluesky has no OAuth provider here: an account connects with its handle
 * and an app password (`POST /v1/accounts` with
 * `{ "platform": "bluesky", "credentials": { "identifier", "appPassword" } }`),
 * which `verifyCredentials` checks by logging in before anything is saved;
 * the publisher then keeps the session fresh itself. (AT Protocol OAuth needs
 * DPoP and a client metadata document, a different flow from the plain
 * authorization-code one core's `OAuthProvider` describes.)
 *
 * @example
 * import { plugin } from "@omnipost/platform-bluesky"
 * const loaded = yield* Plugin.load(plugin, { baseUrl: fakeBluesky.url })
 */
import { Plugin } from "@omnipost/core"
import { Config, Option } from "effect"
import { makeBlueskyPublisher } from "./Publisher.js"

/** Bluesky's settings, read from the environment (or any `ConfigProvider`). */
export const config = Config.all({
  videoServiceUrl: Config.option(Config.String("OMNIPOST_BLUESKY_VIDEO_SERVICE_URL")),
  videoServiceDid: Config.option(Config.String("OMNIPOST_BLUESKY_VIDEO_SERVICE_DID")),
  appUrl: Config.option(Config.String("OMNIPOST_BLUESKY_APP_URL"))
})

export const plugin = Plugin.definePlugin({
  id: "bluesky",
  displayName: "Bluesky",
  config,
  environment: [
    {
      name: "OMNIPOST_BLUESKY_VIDEO_SERVICE_URL",
      description: "The video service videos are uploaded through",
      default: "https://video.bsky.app"
    },
    {
      name: "OMNIPOST_BLUESKY_VIDEO_SERVICE_DID",
      description: "The video service's DID, the audience of its upload-quota token",
      default: "did:web: and the host name of OMNIPOST_BLUESKY_VIDEO_SERVICE_URL"
    },
    { name: "OMNIPOST_BLUESKY_APP_URL", description: "Base of the public post URLs", default: "https://bsky.app" }
  ],
  // The base URL is the login service (the entryway or a PDS); an account's credentials may name their own.
  make: (config, options) =>
    makeBlueskyPublisher({
      serviceUrl: options.baseUrl,
      videoServiceUrl: Option.getOrUndefined(config.videoServiceUrl),
      videoServiceDid: Option.getOrUndefined(config.videoServiceDid),
      appUrl: Option.getOrUndefined(config.appUrl),
      resolveStoredMedia: options.resolveStoredMedia
    })
})
