/**
 * A platform's OAuth app as a plugin's settings, once for every platform: the
 * client id and secret read through Effect `Config` from
 * `OMNIPOST_<PLATFORM>_CLIENT_ID` / `_CLIENT_SECRET` (TikTok names its id the
 * client key), described for `omnipost serve --help`, and the app only when
 * both halves are set. Also the two other things every plugin's OAuth setup
 * did by hand: a list setting (scopes, URL prefixes) and the consent page's
 * URL.
 *
 * @example
 * export const config = Config.all({ app: OAuthApp.config("LINKEDIN"), scopes: Config.option(Config.String("OMNIPOST_LINKEDIN_SCOPES")) })
 * environment: [...OAuthApp.environment("LINKEDIN", "LinkedIn"), …]
 * const app = OAuthApp.client(config.app) // { clientId, clientSecret } | undefined
 * const url = OAuthApp.consentUrl("https://www.linkedin.com/oauth/v2/authorization", { response_type: "code", client_id, … })
 */
import type { Plugin } from "@omnipost/core"
import { Config, Option, Redacted } from "effect"

/** How the platform names the app's id (`CLIENT_ID` by default; TikTok's is `CLIENT_KEY`). */
export interface Naming {
  readonly idName?: "CLIENT_ID" | "CLIENT_KEY" | undefined
}

const idVariable = (platform: string, naming: Naming | undefined): string => `OMNIPOST_${platform}_${naming?.idName ?? "CLIENT_ID"}`
const secretVariable = (platform: string): string => `OMNIPOST_${platform}_CLIENT_SECRET`

/** The app's id and secret, each optional: `OMNIPOST_<PLATFORM>_CLIENT_ID` (or `_CLIENT_KEY`) and `OMNIPOST_<PLATFORM>_CLIENT_SECRET`. */
export const config = (platform: string, naming?: Naming) =>
  Config.all({
    clientId: Config.option(Config.String(idVariable(platform, naming))),
    clientSecret: Config.option(Config.Redacted(secretVariable(platform)))
  })

export type AppConfig = Config.Success<ReturnType<typeof config>>

/** The two variables, described: `what` names the app ("your LinkedIn app"). */
export const environment = (platform: string, what: string, naming?: Naming): ReadonlyArray<Plugin.EnvironmentVariable> => [
  { name: idVariable(platform, naming), description: `${naming?.idName === "CLIENT_KEY" ? "Client key" : "Client id"} of ${what}: with the secret, enables the OAuth connect flow` },
  { name: secretVariable(platform), description: `Client secret of ${what}`, secret: true }
]

/** The app, when both halves are configured; otherwise `undefined` (no OAuth connect, credentials only). */
export const client = (app: AppConfig): { readonly clientId: string; readonly clientSecret: string } | undefined =>
  Option.isSome(app.clientId) && Option.isSome(app.clientSecret)
    ? { clientId: app.clientId.value, clientSecret: Redacted.value(app.clientSecret.value) }
    : undefined

/** A list setting (scopes, URL prefixes): split on `separator`, trimmed, blanks dropped; `defaults` when unset. */
export const list = (
  value: Option.Option<string>,
  defaults: ReadonlyArray<string>,
  separator: RegExp | string = /\s+/
): ReadonlyArray<string> =>
  Option.match(value, {
    onNone: () => defaults,
    onSome: (text) => text.split(separator).map((item) => item.trim()).filter((item) => item.length > 0)
  })

/** The consent page: `endpoint` with the request's query parameters, in the order given (undefined ones left out). */
export const consentUrl = (endpoint: string, params: Readonly<Record<string, string | undefined>>): string => {
  const url = new URL(endpoint)
  for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(name, value)
  return url.toString()
}
