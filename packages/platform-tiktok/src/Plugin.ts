/**
 * TikTok as an Omnipost plugin: what `omnipost serve` (or any host) needs to
 * run TikTok without knowing it. With the app's client key and secret the
 * OAuth connect flow is enabled (`POST /v1/accounts/oauth/tiktok/start`);
 * the host's signed public media URLs (core's `PluginOptions.publicMediaUrl`,
 * the worker's under `OMNIPOST_PUBLIC_URL`) let TikTok pull
 * stored media under the app's verified URL prefixes.
 *
 * @example
 * import { plugin } from "@omnipost/platform-tiktok"
 * const loaded = yield* Plugin.load(plugin, { baseUrl: fakeTiktok.url })
 */
import { Plugin } from "@omnipost/core"
import { OAuthApp } from "@omnipost/platform-kit"
import { Config, Effect, Option } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import * as Token from "./internal/Token.js"
import { makeTiktokPublisher } from "./Publisher.js"

/** TikTok's settings, read from the environment (or any `ConfigProvider`). */
export const config = Config.all({
  app: OAuthApp.config("TIKTOK", { idName: "CLIENT_KEY" }),
  unaudited: Config.option(Config.Boolean("OMNIPOST_TIKTOK_UNAUDITED")),
  verifiedUrlPrefixes: Config.option(Config.String("OMNIPOST_TIKTOK_VERIFIED_URL_PREFIXES"))
})

export type TiktokConfig = typeof config extends Config.Config<infer A> ? A : never

const clientOf = (config: TiktokConfig, baseUrl: string | undefined): Auth.ClientOptions | undefined => {
  const app = OAuthApp.client(config.app)
  if (app === undefined) return undefined
  return { clientKey: app.clientId, clientSecret: app.clientSecret, ...(baseUrl !== undefined ? { oauthBaseUrl: baseUrl } : {}) }
}

const prefixesOf = (config: TiktokConfig): ReadonlyArray<string> => OAuthApp.list(config.verifiedUrlPrefixes, [], ",")

const publisherOf = (config: TiktokConfig, options: Plugin.PluginOptions) =>
  makeTiktokPublisher({
    apiBaseUrl: options.baseUrl,
    oauth: clientOf(config, options.baseUrl),
    unauditedClient: Option.getOrElse(config.unaudited, () => false),
    verifiedUrlPrefixes: prefixesOf(config),
    resolveStoredMedia: options.resolveStoredMedia,
    publicMediaUrl: options.publicMediaUrl
  })

export const plugin = Plugin.definePlugin({
  id: "tiktok",
  displayName: "TikTok",
  config,
  environment: [
    ...OAuthApp.environment("TIKTOK", "your TikTok app (Login Kit + Content Posting API)", { idName: "CLIENT_KEY" }),
    {
      name: "OMNIPOST_TIKTOK_UNAUDITED",
      description: "true while your TikTok app has not passed the Content Posting API audit: TikTok then accepts only SELF_ONLY posts to private accounts, so other privacy levels fail validation",
      default: "false"
    },
    {
      name: "OMNIPOST_TIKTOK_VERIFIED_URL_PREFIXES",
      description: "Comma-separated URL prefixes (or domains as https://host/) verified for the app in TikTok's developer portal: media under them (OMNIPOST_PUBLIC_URL's signed media URLs included) go by PULL_FROM_URL; photo posts need it"
    }
  ],
  make: (config, options) => publisherOf(config, options),
  oauth: (config, options) =>
    Effect.gen(function*() {
      const app = clientOf(config, options.baseUrl)
      if (app === undefined) return undefined
      const client = yield* HttpClient.HttpClient
      const provider: Plugin.OAuthProvider<Auth.TiktokCredentials> = {
        scopes: Auth.defaultScopes,
        pkce: false,
        authorizationUrl: ({ redirectUri, scopes, state }) => Effect.succeed(Auth.authorizationUrl(app, { redirectUri, scopes, state })),
        exchangeCode: ({ code, redirectUri }) =>
          Effect.gen(function*() {
            const tokens = yield* Token.grant(app, { grant_type: "authorization_code", code, redirect_uri: redirectUri }, "the OAuth code exchange")
            const publisher = yield* publisherOf(config, options)
            const profile = yield* publisher.verifyCredentials!(tokens)
            return { ...tokens, openId: profile.accountId, username: profile.username } satisfies Auth.TiktokCredentials
          }).pipe(Effect.provideService(HttpClient.HttpClient, client)),
        refresh: (credentials) =>
          Effect.flatMap(publisherOf(config, options), (publisher) => publisher.refreshCredentials!(credentials)).pipe(
            Effect.provideService(HttpClient.HttpClient, client)
          )
      }
      return provider
    })
})
