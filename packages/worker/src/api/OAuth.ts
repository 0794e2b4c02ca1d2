/**
 * OAuth 2.0 connect flows (authorization code, with PKCE when the provider
 * uses it) for every loaded plugin that has an OAuth provider. The states
 * (with the PKCE verifier) live in `oauth_states` for 10 minutes and are used
 * once.
 */
import { Plugin } from "@omnipost/core"
import { Clock, Context, Effect, Layer, Option } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { randomBytes } from "node:crypto"
import { Plugins } from "../plugins/Plugins.js"

/** The OAuth providers of the loaded plugins, by platform id. */
export class OAuthProviders extends Context.Service<OAuthProviders, ReadonlyMap<string, Plugin.OAuthProvider>>()(
  "@omnipost/worker/OAuthProviders"
) {
  static readonly layer = (providers: Readonly<Record<string, Plugin.OAuthProvider>>) =>
    Layer.succeed(OAuthProviders, new Map(Object.entries(providers)))

  /** Every loaded plugin's provider (a plugin whose config does not enable OAuth has none). */
  static readonly layerFromPlugins: Layer.Layer<OAuthProviders, never, Plugins> = Layer.effect(
    OAuthProviders,
    Effect.gen(function*() {
      const plugins = yield* Plugins
      return new Map(plugins.flatMap((loaded) => loaded.oauth !== undefined ? [[loaded.plugin.id, loaded.oauth] as const] : []))
    })
  )
}

/** The authorization URL of a flow: with PKCE, the S256 challenge of its verifier. */
export const authorizationUrl = (
  provider: Plugin.OAuthProvider,
  flow: { readonly state: string; readonly codeVerifier: string; readonly redirectUri: string }
): Effect.Effect<string> =>
  Effect.gen(function*() {
    const pkce = provider.pkce
      ? { codeVerifier: flow.codeVerifier, codeChallenge: yield* Plugin.codeChallengeS256(flow.codeVerifier) }
      : {}
    return yield* provider.authorizationUrl({ state: flow.state, redirectUri: flow.redirectUri, scopes: provider.scopes, ...pkce })
  })

export const stateTtlSeconds = 600

export interface PendingState {
  readonly organizationId: string
  readonly platform: string
  readonly codeVerifier: string
  readonly redirectUri: string
}

export class OAuthStates extends Context.Service<OAuthStates, {
  readonly start: (options: {
    readonly organizationId: string
    readonly platform: string
    readonly redirectUri: string
  }) => Effect.Effect<{ readonly state: string; readonly codeVerifier: string; readonly expiresAt: string }, SqlError.SqlError>
  /** The pending state, consumed (a state works once); none when unknown, used or expired. */
  readonly take: (state: string, platform: string) => Effect.Effect<Option.Option<PendingState>, SqlError.SqlError>
}>()("@omnipost/worker/OAuthStates") {
  static readonly layer = Layer.effect(
    OAuthStates,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      return OAuthStates.of({
        start: (options) =>
          Effect.gen(function*() {
            const state = randomBytes(24).toString("base64url")
            const codeVerifier = Plugin.makeCodeVerifier()
            // Abandoned flows leave states behind: clear the expired ones as new flows start.
            yield* sql`DELETE FROM oauth_states WHERE expires_at < now()`
            const now = yield* Clock.currentTimeMillis
            const expiresAt = new Date(now + stateTtlSeconds * 1000).toISOString()
            yield* sql`INSERT INTO oauth_states (state, organization_id, platform, code_verifier, redirect_uri, expires_at)
              VALUES (${state}, ${options.organizationId}, ${options.platform}, ${codeVerifier}, ${options.redirectUri}, ${expiresAt})`
            return { state, codeVerifier, expiresAt }
          }),
        take: (state, platform) =>
          sql<{ organization_id: string; platform: string; code_verifier: string; redirect_uri: string }>`
            DELETE FROM oauth_states WHERE state = ${state} AND platform = ${platform} AND expires_at > now()
            RETURNING organization_id, platform, code_verifier, redirect_uri`.pipe(
            Effect.map((rows) =>
              Option.map(Option.fromNullishOr(rows[0]), (row) => ({
                organizationId: row.organization_id,
                platform: row.platform,
                codeVerifier: row.code_verifier,
                redirectUri: row.redirect_uri
              }))
            )
          )
      })
    })
  )
}
