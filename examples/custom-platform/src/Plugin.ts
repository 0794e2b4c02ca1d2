/**
 * Mastodon as an Omnipost plugin: `omnipost serve` runs it when
 * `OMNIPOST_PLUGINS` (or the config file's `plugins`) names this package.
 *
 * Configuration (environment variables, or the config file's `env`):
 *
 * | variable | what |
 * |---|---|
 * | `OMNIPOST_MASTODON_INSTANCE_URL` | the instance your app is registered on (OAuth connect) |
 * | `OMNIPOST_MASTODON_CLIENT_ID`, `OMNIPOST_MASTODON_CLIENT_SECRET` | the app's credentials (`POST /api/v1/apps`); enable OAuth connect |
 * | `OMNIPOST_MASTODON_SCOPES` | scopes asked for (default `read:accounts write:statuses write:media`) |
 * | `OMNIPOST_MASTODON_BASE_URL` | the server's generic base URL override: wins over the instance URL |
 *
 * Without a client id, accounts still connect with a token made by hand:
 * `POST /v1/accounts` with `{ "platform": "mastodon", "credentials": { "instanceUrl", "accessToken" } }`.
 */
import { Plugin } from "@omnipost/core"
import { Config, Effect, Option } from "effect"
import { HttpClient } from "effect/http"
import * as Auth from "./Auth.js"
import { makeMastodonPublisher } from "./Publisher.js"

export const config = Config.all({
  instanceUrl: Config.option(Config.String("OMNIPOST_MASTODON_INSTANCE_URL")),
  clientId: Config.option(Config.String("OMNIPOST_MASTODON_CLIENT_ID")),
  clientSecret: Config.option(Config.Redacted("OMNIPOST_MASTODON_CLIENT_SECRET")),
  scopes: Config.String("OMNIPOST_MASTODON_SCOPES").pipe(Config.withDefault(Auth.defaultScopes.join(" ")))
})

/** The plugin object (`import { plugin } from "@omnipost/example-custom-platform"`). */
export const plugin = Plugin.definePlugin({
  id: "mastodon",
  displayName: "Mastodon",
  config,
  environment: [
    { name: "OMNIPOST_MASTODON_INSTANCE_URL", description: "The instance the OAuth app is registered on" },
    { name: "OMNIPOST_MASTODON_CLIENT_ID", description: "The app's client id: enables OAuth connect" },
    { name: "OMNIPOST_MASTODON_CLIENT_SECRET", description: "The app's client secret", secret: true },
    { name: "OMNIPOST_MASTODON_SCOPES", description: "Scopes asked for, space-separated", default: Auth.defaultScopes.join(" ") }
  ],
  make: (_config, options) => makeMastodonPublisher({ resolveStoredMedia: options.resolveStoredMedia }),
  oauth: (config, options) =>
    Effect.gen(function*() {
      const instanceUrl = (options.baseUrl ?? Option.getOrUndefined(config.instanceUrl))?.replace(/\/+$/, "")
      if (Option.isNone(config.clientId)) return undefined
      // A client id without its instance or secret is a mistake to report, never a flow that silently is not there.
      if (instanceUrl === undefined || Option.isNone(config.clientSecret)) {
        return yield* Effect.die(
          new Error("OMNIPOST_MASTODON_CLIENT_ID needs OMNIPOST_MASTODON_INSTANCE_URL and OMNIPOST_MASTODON_CLIENT_SECRET")
        )
      }
      const client = yield* HttpClient.HttpClient
      const app: Auth.OAuthApp = { instanceUrl, clientId: config.clientId.value, clientSecret: config.clientSecret.value }
      const provider: Plugin.OAuthProvider<Auth.MastodonCredentials> = {
        scopes: config.scopes.split(/\s+/).filter((scope) => scope.length > 0),
        pkce: true,
        authorizationUrl: (request) => Effect.succeed(Auth.authorizationUrl(app, request)),
        exchangeCode: (request) => Auth.exchangeCode(client, app, request)
        // No `refresh`: Mastodon access tokens do not expire.
      }
      return provider
    })
})
