/**
 * X as an Omnipost plugin: what `omnipost serve` (or any host) needs to run
 * X without knowing it. OAuth 2.0 with PKCE when `OMNIPOST_X_CLIENT_ID` is
 * set; credentials (OAuth 2.0 or OAuth 1.0a tokens) can always be connected
 * directly.
 *
 * @example
 * import { plugin } from "@omnipost/platform-twitter"
 * const loaded = yield* Plugin.load(plugin, { baseUrl: fakeX.url })
 */
import { Plugin } from "@omnipost/core"
import { OAuthApp } from "@omnipost/platform-kit"
import { Config, Effect, Option, Redacted } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import { makeXPublisher } from "./Publisher.js"

/** X's settings, read from the environment (or any `ConfigProvider`). */
export const config = Config.all({
  // A public app (PKCE) has no secret: OAuth is on with the id alone.
  app: OAuthApp.config("X"),
  scopes: Config.option(Config.String("OMNIPOST_X_SCOPES"))
})

export const plugin = Plugin.definePlugin({
  id: "x",
  displayName: "X",
  config,
  environment: [
    { name: "OMNIPOST_X_CLIENT_ID", description: "OAuth 2.0 client id of your X app: enables the OAuth connect flow" },
    { name: "OMNIPOST_X_CLIENT_SECRET", description: "Client secret, for a confidential X app (Basic auth on the token endpoint)", secret: true },
    { name: "OMNIPOST_X_SCOPES", description: "Scopes asked for, space-separated", default: Auth.defaultScopes.join(" ") }
  ],
  make: (_config, options) =>
    makeXPublisher({
      apiBaseUrl: options.baseUrl,
      upload: { resolveStoredMedia: options.resolveStoredMedia }
    }),
  oauth: (config, options) =>
    Effect.gen(function*() {
      if (Option.isNone(config.app.clientId)) return undefined
      const client = yield* HttpClient.HttpClient
      const clientId = config.app.clientId.value
      const clientSecret = Option.map(config.app.clientSecret, Redacted.value).pipe(Option.getOrUndefined)
      const scopes = OAuthApp.list(config.scopes, Auth.defaultScopes)
      const provider: Plugin.OAuthProvider<Auth.XCredentials> = {
        scopes,
        pkce: true,
        authorizationUrl: ({ codeVerifier, redirectUri, scopes, state }) =>
          Auth.authorizationUrl({ clientId, redirectUri, scopes, state, codeVerifier }).pipe(Effect.map((r) => r.url)),
        exchangeCode: ({ code, codeVerifier, redirectUri }) =>
          Auth.exchangeCode({ clientId, clientSecret, code, codeVerifier: codeVerifier ?? "", redirectUri, apiBaseUrl: options.baseUrl })
            .pipe(Effect.provideService(HttpClient.HttpClient, client)),
        refresh: (credentials) =>
          credentials._tag === "oauth2"
            ? Auth.refreshAccessToken(credentials, { apiBaseUrl: options.baseUrl }).pipe(
              Effect.provideService(HttpClient.HttpClient, client)
            )
            : Effect.succeed(credentials)
      }
      return provider
    })
})
