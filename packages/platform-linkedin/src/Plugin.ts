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
import { Config, Effect, Option, Redacted } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import { defaultVersion, makeLinkedinPublisher } from "./Publisher.js"

/** LinkedIn's settings, read from the environment (or any `ConfigProvider`). */
export const config = Config.all({
  clientId: Config.option(Config.String("OMNIPOST_LINKEDIN_CLIENT_ID")),
  clientSecret: Config.option(Config.Redacted("OMNIPOST_LINKEDIN_CLIENT_SECRET")),
  scopes: Config.option(Config.String("OMNIPOST_LINKEDIN_SCOPES")),
  version: Config.option(Config.String("OMNIPOST_LINKEDIN_VERSION"))
})

type LinkedinConfig = typeof config extends Config.Config<infer A> ? A : never

/** The app's client, when both halves are configured; a base URL override reaches one server for OAuth and API (a fake). */
const clientOf = (config: LinkedinConfig, baseUrl: string | undefined): Auth.ClientOptions | undefined =>
  Option.isSome(config.clientId) && Option.isSome(config.clientSecret)
    ? {
      clientId: config.clientId.value,
      clientSecret: Redacted.value(config.clientSecret.value),
      ...(baseUrl !== undefined ? { oauthBaseUrl: baseUrl, apiBaseUrl: baseUrl } : {})
    }
    : undefined

export const plugin = Plugin.definePlugin({
  id: "linkedin",
  displayName: "LinkedIn",
  config,
  environment: [
    { name: "OMNIPOST_LINKEDIN_CLIENT_ID", description: "Client id of your LinkedIn app: with the secret, enables the OAuth connect flow" },
    { name: "OMNIPOST_LINKEDIN_CLIENT_SECRET", description: "Client secret of your LinkedIn app", secret: true },
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
      const scopes = Option.match(config.scopes, {
        onNone: () => Auth.defaultScopes,
        onSome: (text) => text.split(/\s+/).filter((scope) => scope.length > 0)
      })
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
