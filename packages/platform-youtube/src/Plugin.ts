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
import { OAuthApp } from "@omnipost/platform-kit"
import { Config, Effect, Option } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import * as Token from "./internal/Token.js"
import { makeYoutubePublisher } from "./Publisher.js"

/** YouTube's settings, read from the environment (or any `ConfigProvider`). */
export const config = Config.all({
  app: OAuthApp.config("YOUTUBE"),
  unaudited: Config.option(Config.Boolean("OMNIPOST_YOUTUBE_UNAUDITED")),
  dailyUnits: Config.option(Config.Int("OMNIPOST_YOUTUBE_DAILY_QUOTA")),
  insertCost: Config.option(Config.Int("OMNIPOST_YOUTUBE_INSERT_COST"))
})

type YoutubeConfig = typeof config extends Config.Config<infer A> ? A : never

/** The app's client, when both halves are configured; a base URL override reaches one server for OAuth and API (a fake). */
const clientOf = (config: YoutubeConfig, baseUrl: string | undefined): Auth.ClientOptions | undefined => {
  const app = OAuthApp.client(config.app)
  return app !== undefined && baseUrl !== undefined ? { ...app, oauthBaseUrl: baseUrl } : app
}

export const plugin = Plugin.definePlugin({
  id: "youtube",
  displayName: "YouTube",
  config,
  environment: [
    ...OAuthApp.environment("YOUTUBE", "your Google Cloud project's OAuth app (YouTube Data API v3 enabled)"),
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
      oauth: clientOf(config, options.baseUrl),
      unauditedProject: Option.getOrElse(config.unaudited, () => false),
      quota: { dailyUnits: Option.getOrUndefined(config.dailyUnits), insertCost: Option.getOrUndefined(config.insertCost) },
      resolveStoredMedia: options.resolveStoredMedia
    }),
  oauth: (config, options) =>
    Effect.gen(function*() {
      const app = clientOf(config, options.baseUrl)
      if (app === undefined) return undefined
      const client = yield* HttpClient.HttpClient
      const apiBaseUrl = (options.baseUrl ?? Auth.defaultApiBaseUrl).replace(/\/+$/, "")
      const provider: Plugin.OAuthProvider<Auth.YoutubeCredentials> = {
        scopes: Auth.defaultScopes,
        pkce: false,
        authorizationUrl: ({ redirectUri, scopes, state }) => Effect.succeed(Auth.authorizationUrl(app, { redirectUri, scopes, state })),
        exchangeCode: ({ code, redirectUri }) =>
          Effect.gen(function*() {
            const tokens = yield* Token.grant(app, { grant_type: "authorization_code", code, redirect_uri: redirectUri }, "the OAuth code exchange")
            const publisher = yield* makeYoutubePublisher({ apiBaseUrl, oauth: app })
            const profile = yield* publisher.verifyCredentials!(tokens)
            return { ...tokens, channelId: profile.accountId } satisfies Auth.YoutubeCredentials
          }).pipe(Effect.provideService(HttpClient.HttpClient, client)),
        refresh: (credentials) =>
          Effect.flatMap(makeYoutubePublisher({ apiBaseUrl, oauth: app }), (publisher) => publisher.refreshCredentials!(credentials)).pipe(
            Effect.provideService(HttpClient.HttpClient, client)
          )
      }
      return provider
    })
})
