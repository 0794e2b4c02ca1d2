/**
 * LinkedIn as an Omnipost plugin: what `omnipost serve` (or any host) needs
 * to run LinkedIn without knowing it. The OAuth connect flow is on when
 * `OMNIPOST_LINKEDIN_CLIENT_ID` and `OMNIPOST_LINKEDIN_CLIENT_SECRET` are set
 * (`POST /v1/accounts/oauth/linkedin/start`, then LinkedIn sends the member to
 * the callback); credentials can always be connected directly.
 *
 * @example
 * import { plugin } from "@omnipost/platform-linkedin"
 * const loaded = yield* Plugin.load(plugin, { baseUrl: fakeLinkedin.url })
 */
import { Plugin } from "@omnipost/core"
import { OAuthApp } from "@omnipost/platform-kit"
import { Config, Effect, Option } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import { defaultVersion, makeLinkedinPublisher } from "./Publisher.js"

/** LinkedIn's settings, read from the environment (or any `ConfigProvider`). */
export const config = Config.all({
  app: OAuthApp.config("LINKEDIN"),
  scopes: Config.option(Config.String("OMNIPOST_LINKEDIN_SCOPES")),
  version: Config.option(Config.String("OMNIPOST_LINKEDIN_VERSION"))
})

type LinkedinConfig = typeof config extends Config.Config<infer A> ? A : never

/** The app's client, when both halves are configured; a base URL override reaches one server for OAuth and API (a fake). */
const clientOf = (config: LinkedinConfig, baseUrl: string | undefined): Auth.ClientOptions | undefined => {
  const app = OAuthApp.client(config.app)
  return app !== undefined && baseUrl !== undefined ? { ...app, oauthBaseUrl: baseUrl, apiBaseUrl: baseUrl } : app
}

export const plugin = Plugin.definePlugin({
  id: "linkedin",
  displayName: "LinkedIn",
  config,
  environment: [
    ...OAuthApp.environment("LINKEDIN", "your LinkedIn app"),
    { name: "OMNIPOST_LINKEDIN_SCOPES", description: "Scopes asked for, space-separated", default: Auth.defaultScopes.join(" ") },
    {
      name: "OMNIPOST_LINKEDIN_VERSION",
      description: "The LinkedIn-Version header (YYYYMM) of every /rest call; LinkedIn sunsets versions after about a year",
      default: defaultVersion
    }
  ],
  make: (config, options) =>
    makeLinkedinPublisher({
      apiBaseUrl: options.baseUrl,
      version: Option.getOrUndefined(config.version),
      resolveStoredMedia: options.resolveStoredMedia,
      oauth: clientOf(config, options.baseUrl)
    }),
  oauth: (config, options) =>
    Effect.gen(function*() {
      const app = clientOf(config, options.baseUrl)
      if (app === undefined) return undefined
      const client = yield* HttpClient.HttpClient
      const scopes = OAuthApp.list(config.scopes, Auth.defaultScopes)
      const provider: Plugin.OAuthProvider<Auth.LinkedinCredentials> = {
        scopes,
        // LinkedIn's web flow authenticates the app with its secret; PKCE is for native apps.
        pkce: false,
        authorizationUrl: ({ redirectUri, scopes, state }) =>
          Effect.succeed(Auth.authorizationUrl({ clientId: app.clientId, redirectUri, scopes, state, oauthBaseUrl: app.oauthBaseUrl })),
        exchangeCode: ({ code, redirectUri }) =>
          Auth.exchangeCode({ ...app, code, redirectUri }).pipe(Effect.provideService(HttpClient.HttpClient, client)),
        refresh: (credentials) => Auth.refresh(credentials, app).pipe(Effect.provideService(HttpClient.HttpClient, client))
      }
      return provider
    })
})
