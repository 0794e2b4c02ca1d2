/**
 * The three Meta platforms as Omnipost plugins: `instagram`, `facebook` and
 * `threads`, what `omnipost serve` (or any host) needs to run them without
 * knowing them. Each enables OAuth when its app's client id and secret are
 * set; without them accounts connect with their credentials
 * (`POST /v1/accounts`), checked by `verifyCredentials`.
 *
 * The publishers take the host's public media URLs (core's
 * `PluginOptions.publicMediaUrl`): Meta fetches media by URL, so stored media
 * needs one (without, validation reports `PUBLIC_URL_REQUIRED`).
 *
 * @example
 * import { instagramPlugin } from "@omnipost/platform-meta"
 * const loaded = yield* Plugin.load(instagramPlugin, { baseUrl: fake.graphUrl })
 */
import { Plugin } from "@omnipost/core"
import { OAuthApp } from "@omnipost/platform-kit"
import { Config, Effect, Option } from "effect"
import { HttpClient } from "effect/http"
import { facebookProvider, instagramFacebookProvider, instagramProvider, threadsProvider } from "./Auth.js"
import { makeFacebookPublisher } from "./Facebook.js"
import { makeInstagramPublisher } from "./Instagram.js"
import { makeThreadsPublisher } from "./Threads.js"

/** The app, when both halves are configured, with the base URL of a fake (or Meta's own when undefined). */
const appOf = (config: OAuthApp.AppConfig, options: Plugin.PluginOptions) => {
  const app = OAuthApp.client(config)
  return app === undefined ? undefined : { ...app, baseUrl: options.baseUrl }
}

const publisherOptions = (options: Plugin.PluginOptions) => ({
  baseUrl: options.baseUrl,
  resolveStoredMedia: options.resolveStoredMedia,
  publicMediaUrl: options.publicMediaUrl
})

export const instagramPlugin = Plugin.definePlugin({
  id: "instagram",
  displayName: "Instagram",
  config: Config.all({
    app: OAuthApp.config("INSTAGRAM"),
    login: Config.Literals(["instagram", "facebook"], "OMNIPOST_INSTAGRAM_LOGIN").pipe(Config.withDefault("instagram" as const))
  }),
  environment: [
    ...OAuthApp.environment("INSTAGRAM", "your Instagram app (a Facebook app with OMNIPOST_INSTAGRAM_LOGIN=facebook)"),
    {
      name: "OMNIPOST_INSTAGRAM_LOGIN",
      description: "instagram: Instagram Login (graph.instagram.com); facebook: Facebook Login, the account reached through its Page (graph.facebook.com)",
      default: "instagram"
    }
  ],
  make: (_config, options) => makeInstagramPublisher(publisherOptions(options)),
  oauth: (config, options) =>
    Effect.map(HttpClient.HttpClient, (client) => {
      const app = appOf(config.app, options)
      return app === undefined
        ? undefined
        : config.login === "facebook"
        ? instagramFacebookProvider(client, app)
        : instagramProvider(client, app)
    })
})

export const facebookPlugin = Plugin.definePlugin({
  id: "facebook",
  displayName: "Facebook",
  config: Config.all({ app: OAuthApp.config("FACEBOOK"), pageId: Config.option(Config.String("OMNIPOST_FACEBOOK_PAGE_ID")) }),
  environment: [
    ...OAuthApp.environment("FACEBOOK", "your Facebook app"),
    { name: "OMNIPOST_FACEBOOK_PAGE_ID", description: "The Page OAuth connects when the user grants several", default: "the first Page granted" }
  ],
  make: (_config, options) => makeFacebookPublisher(publisherOptions(options)),
  oauth: (config, options) =>
    Effect.map(HttpClient.HttpClient, (client) => {
      const app = appOf(config.app, options)
      return app === undefined ? undefined : facebookProvider(client, { ...app, pageId: Option.getOrUndefined(config.pageId) })
    })
})

export const threadsPlugin = Plugin.definePlugin({
  id: "threads",
  displayName: "Threads",
  config: OAuthApp.config("THREADS"),
  environment: OAuthApp.environment("THREADS", "your Threads app"),
  make: (_config, options) => makeThreadsPublisher(publisherOptions(options)),
  oauth: (config, options) =>
    Effect.map(HttpClient.HttpClient, (client) => {
      const app = appOf(config, options)
      return app === undefined ? undefined : threadsProvider(client, app)
    })
})

/** Every plugin of the package. */
export const plugins: ReadonlyArray<Plugin.Plugin> = [instagramPlugin, facebookPlugin, threadsPlugin]
