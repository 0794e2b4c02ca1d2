/**
 * OAuth 2.0 connect flows (authorization code with PKCE) for the platforms
 * that need them. A provider says how to build the authorization URL and how
 * to exchange a code for credentials; the states (with the PKCE verifier)
 * live in `oauth_states` for 10 minutes and are used once.
 */
import { Clock, Context, Effect, Layer, Option } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { HttpClient } from "effect/http"
import { Auth as XAuth } from "@omnipost/platform-twitter"
import { ServerConfig } from "./Config.js"
import { randomBytes } from "node:crypto"

export interface OAuthProvider {
  readonly platform: string
  readonly authorizationUrl: (options: {
    readonly state: string
    readonly codeVerifier: string
    readonly redirectUri: string
  }) => Effect.Effect<string>
  /** Exchanges the code for the platform's credentials (what `credentialsSchema` decodes). */
  readonly exchange: (options: {
    readonly code: string
    readonly codeVerifier: string
    readonly redirectUri: string
  }) => Effect.Effect<unknown, { readonly message: string }>
}

/** The providers the server knows, by platform id. */
export class OAuthProviders extends Context.Service<OAuthProviders, ReadonlyMap<string, OAuthProvider>>()(
  "@omnipost/worker/OAuthProviders"
) {
  static readonly layer = (providers: ReadonlyArray<OAuthProvider>) =>
    Layer.succeed(OAuthProviders, new Map(providers.map((p) => [p.platform, p])))

  /** X's OAuth 2.0 (PKCE) when `OMNIPOST_X_CLIENT_ID` is configured; none otherwise. */
  static readonly layerConfigured: Layer.Layer<OAuthProviders, never, ServerConfig | HttpClient.HttpClient> = Layer.effect(
    OAuthProviders,
    Effect.gen(function*() {
      const config = yield* ServerConfig
      const client = yield* HttpClient.HttpClient
      const providers = new Map<string, OAuthProvider>()
      const clientId = config.xClientId
      if (clientId !== undefined) {
        const apiBaseUrl = config.platformBaseUrls.x
        providers.set("x", {
          platform: "x",
          authorizationUrl: ({ codeVerifier, redirectUri, state }) =>
            XAuth.authorizationUrl({ clientId, redirectUri, state, codeVerifier }).pipe(Effect.map((r) => r.url)),
          exchange: ({ code, codeVerifier, redirectUri }) =>
            XAuth.exchangeCode({
              clientId,
              clientSecret: config.xClientSecret,
              code,
              codeVerifier,
              redirectUri,
              ...(apiBaseUrl !== undefined ? { apiBaseUrl } : {})
            }).pipe(Effect.provideService(HttpClient.HttpClient, client))
        })
      }
      return providers
    })
  )
}

export const stateTtlSeconds = 600

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url")

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
            const state = base64url(randomBytes(24))
            const codeVerifier = base64url(randomBytes(48))
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
