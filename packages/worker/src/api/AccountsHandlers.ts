/**
 * `/v1/accounts`: credentials are decoded with the publisher's schema and
 * verified with the platform (`verifyCredentials`) before anything is saved;
 * they are sealed by `AccountStore` and never returned.
 */
import { AccountHealth, type Publisher, PublishError } from "@omnipost/core"
import { Clock, Effect, Option, Schema } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { type Account, AccountStore } from "../storage/AccountStore.js"
import { ServerConfig } from "../Config.js"
import { authorizationUrl, OAuthProviders, OAuthStates } from "./OAuth.js"
import { Organizations } from "../storage/Organizations.js"
import * as Paging from "./Paging.js"
import { OmnipostApi, Principal } from "./Api.js"
import * as Errors from "../Errors.js"
import type * as Models from "./Models.js"
import { PublisherRegistry } from "./PostInput.js"

/** What an account without a publisher here (its plugin removed) can post: nothing. */
const noCapabilities: AccountHealth.Capabilities = { text: false, image: false, video: false, placements: [] }

/**
 * The account as the API shows it: its token health classified now (core's
 * `AccountHealth`, from the kept refusal and the token's end), its scopes, and
 * what it can post (its publisher's rules and scope rules).
 */
export const toAccountView = (
  account: Account,
  publisher: Publisher.PlatformPublisher | undefined,
  nowMs: number
): Models.AccountView => ({
  id: account.id,
  platform: account.platform,
  platformAccountId: account.platformAccountId,
  username: account.username,
  ...(account.displayName !== undefined ? { displayName: account.displayName } : {}),
  ...(account.avatarUrl !== undefined ? { avatarUrl: account.avatarUrl } : {}),
  status: account.status,
  ...(account.tokenExpiresAt !== undefined ? { tokenExpiresAt: account.tokenExpiresAt } : {}),
  ...(account.details !== undefined ? { details: account.details } : {}),
  tokenHealth: {
    ...AccountHealth.classify({ expiresAt: account.tokenExpiresAt, refusal: account.tokenRefusal, nowMs }),
    ...(account.checkedAt !== undefined ? { checkedAt: account.checkedAt } : {})
  },
  ...(account.scopes !== undefined ? { scopes: account.scopes } : {}),
  capabilities: publisher === undefined ? noCapabilities : AccountHealth.capabilities(publisher.rules, account.scopes, publisher.scopeRules),
  createdAt: account.createdAt,
  updatedAt: account.updatedAt
})

/** `toAccountView` with this server's publishers and the time now, for any number of accounts. */
export const accountViewer = Effect.gen(function*() {
  const registry = yield* PublisherRegistry
  const nowMs = yield* Clock.currentTimeMillis
  return (account: Account) => toAccountView(account, registry.find(account.platform), nowMs)
})

/** One account's view (`accountViewer`). */
export const accountView = (account: Account) => Effect.map(accountViewer, (view) => view(account))

const definedOnly = (fields: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined))

/**
 * A platform's answer to a credentials check or a code exchange: its own
 * refusal is the caller's problem (400), an outage is ours (502).
 */
const platformFailure = (what = "the credentials") => (error: PublishError.PublishError) =>
  error._tag === "AuthFailed" || error._tag === "Rejected"
    ? Errors.make(Errors.InvalidCredentials, `${error.platform} refused ${what}: ${error.message}`, {
      platform: error.platform,
      // Details are JSON: absent fields are left out, never `undefined`.
      ...definedOnly({
        reason: error._tag === "AuthFailed" ? error.reason : error.code,
        platformCode: error.platformCode,
        platformMessage: error.platformMessage
      })
    })
    : Errors.make(Errors.PlatformError, `${error.platform} could not be reached for ${what}: ${error.message}`, {
      platform: error.platform,
      retryable: true
    })

const publisherFor = Effect.fnUntraced(function*(platform: string) {
  const registry = yield* PublisherRegistry
  const publisher = registry.find(platform)
  if (publisher === undefined) {
    return yield* Errors.make(Errors.UnknownPlatform, `no publisher is registered for "${platform}"`, {
      platform,
      registered: registry.platforms
    })
  }
  return publisher
})

/** Verifies credentials and saves the account (an existing connection of the same platform account is updated). */
export const connectAccount = Effect.fnUntraced(function*(options: {
  readonly organizationId: string
  readonly publisher: Publisher.PlatformPublisher
  readonly credentials: unknown
  /** The credentials are already decoded (an OAuth provider's result), not as a client sent them. */
  readonly decoded?: boolean | undefined
  readonly platformAccountId?: string | undefined
  readonly username?: string | undefined
}) {
  // A caller's credentials are strict, like the rest of its body: an unknown field is refused, not dropped.
  const credentials = options.decoded === true ? options.credentials : yield* Schema.decodeUnknownEffect(
    options.publisher.credentialsSchema
  )(options.credentials, Errors.strictParseOptions).pipe(
    Effect.mapError((error) => Errors.schemaFailure(["payload", "credentials"], error))
  )
  const profile = options.publisher.verifyCredentials !== undefined
    ? yield* options.publisher.verifyCredentials(credentials).pipe(Effect.mapError(platformFailure()))
    : options.platformAccountId !== undefined
    ? { accountId: options.platformAccountId, username: options.username ?? options.platformAccountId }
    : yield* Errors.make(
      Errors.ValidationFailed,
      `${options.publisher.displayName} cannot verify credentials: give platformAccountId (and username)`,
      { issues: [{ path: ["platformAccountId"], message: "required for this platform" }] }
    )
  const stored = yield* Schema.encodeUnknownEffect(options.publisher.credentialsSchema)(credentials).pipe(Effect.orDie)
  const accounts = yield* AccountStore
  return yield* accounts.connect({
    organizationId: options.organizationId,
    platform: options.publisher.platform,
    platformAccountId: profile.accountId,
    username: profile.username,
    displayName: profile.displayName,
    avatarUrl: profile.avatarUrl,
    details: profile.details,
    scopes: options.publisher.grantedScopes?.(credentials),
    credentials: stored,
    tokenExpiresAt: options.publisher.tokenExpiresAt?.(credentials)
  }).pipe(Effect.orDie)
})

const notFound = (e: { readonly _tag: "AccountNotFound"; readonly message: string; readonly accountId: string }) =>
  Errors.make(Errors.AccountNotFound, e.message, { accountId: e.accountId })

export const AccountsHandlers = HttpApiBuilder.group(OmnipostApi, "accounts", (handlers) =>
  Effect.gen(function*() {
    const accounts = yield* AccountStore
    const config = yield* ServerConfig
    return handlers
      .handle("list", ({ query }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const view = yield* accountViewer
          if (!Paging.asksForPage(query)) {
            return (yield* accounts.list(organizationId, { platform: query.platform }).pipe(Effect.orDie)).map(view)
          }
          const page = yield* accounts.listPage(organizationId, { platform: query.platform }, yield* Paging.pageRequest(query, Paging.defaultLimit))
            .pipe(Effect.catchTags({ InvalidCursor: (e) => Effect.fail(Errors.invalidCursor(e)), SqlError: Effect.die }))
          return Paging.toPage(page, view)
        }))
      .handle("get", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const account = yield* accounts.get(organizationId, params.id).pipe(
            Effect.catchTags({ AccountNotFound: (e) => Effect.fail(notFound(e)), SqlError: Effect.die })
          )
          return yield* accountView(account)
        }))
      .handle("connect", ({ payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const publisher = yield* publisherFor(payload.platform)
          const account = yield* connectAccount({
            organizationId,
            publisher,
            credentials: payload.credentials,
            platformAccountId: payload.platformAccountId,
            username: payload.username
          })
          return yield* accountView(account)
        }))
      .handle("oauthStart", ({ params, payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          yield* publisherFor(params.platform)
          const providers = yield* OAuthProviders
          const provider = providers.get(params.platform)
          if (provider === undefined) {
            return yield* Errors.make(
              Errors.UnknownPlatform,
              `"${params.platform}" has no OAuth flow configured here; connect it with credentials instead`,
              { platform: params.platform, oauthPlatforms: [...providers.keys()] }
            )
          }
          const redirectUri = payload.redirectUri ??
            `${config.publicUrl}/v1/accounts/oauth/${params.platform}/callback`
          const states = yield* OAuthStates
          const started = yield* states.start({ organizationId, platform: params.platform, redirectUri }).pipe(Effect.orDie)
          return {
            authorizationUrl: yield* authorizationUrl(provider, { ...started, redirectUri }),
            state: started.state,
            expiresAt: started.expiresAt
          }
        }))
      .handle("refresh", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const account = yield* accounts.get(organizationId, params.id).pipe(
            Effect.catchTags({ AccountNotFound: (e) => Effect.fail(notFound(e)), SqlError: Effect.die })
          )
          const publisher = yield* publisherFor(account.platform).pipe(
            Effect.mapError((e) => Errors.make(Errors.PlatformError, e.error.message))
          )
          // A refused token is kept on the account (its token health) before the answer says so.
          const refused = (error: PublishError.PublishError) =>
            error._tag === "AuthFailed" ? accounts.refuse(account.id, AccountHealth.refusalOf(error)).pipe(Effect.orDie) : Effect.void
          const sealed = yield* accounts.credentials(account.id).pipe(Effect.orDie)
          const credentials = yield* Schema.decodeUnknownEffect(publisher.credentialsSchema)(sealed).pipe(Effect.orDie)
          if (publisher.refreshCredentials !== undefined) {
            const fresh = yield* publisher.refreshCredentials(credentials).pipe(Effect.tapError(refused), Effect.mapError(platformFailure()))
            const encoded = yield* Schema.encodeUnknownEffect(publisher.credentialsSchema)(fresh).pipe(Effect.orDie)
            yield* accounts.updateCredentials(account.id, encoded, publisher.tokenExpiresAt?.(fresh), publisher.grantedScopes?.(fresh))
              .pipe(Effect.orDie)
            // The profile and its details (TikTok's creator info) as the platform says them now.
            if (publisher.verifyCredentials !== undefined) {
              const profile = yield* publisher.verifyCredentials(fresh).pipe(Effect.tapError(refused), Effect.mapError(platformFailure()))
              yield* accounts.updateProfile(account.id, profile).pipe(Effect.orDie)
            }
          } else if (publisher.verifyCredentials !== undefined) {
            const profile = yield* publisher.verifyCredentials(credentials).pipe(Effect.tapError(refused), Effect.mapError(platformFailure()))
            yield* accounts.updateProfile(account.id, profile).pipe(Effect.orDie)
          }
          yield* accounts.checked(account.id).pipe(Effect.orDie)
          return yield* accountView(yield* accounts.get(organizationId, account.id).pipe(Effect.orDie))
        }))
      .handle("disconnect", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          yield* accounts.remove(organizationId, params.id).pipe(
            Effect.catchTags({ AccountNotFound: (e) => Effect.fail(notFound(e)), SqlError: Effect.die })
          )
        }))
  }))

export const OAuthCallbackHandlers = HttpApiBuilder.group(OmnipostApi, "oauth", (handlers) =>
  handlers.handle("callback", ({ params, query }) =>
    Effect.gen(function*() {
      if (query.error !== undefined) {
        return yield* Errors.make(Errors.InvalidCredentials, `the authorization was refused: ${query.error}`, {
          platform: params.platform
        })
      }
      if (query.code === undefined || query.state === undefined) {
        return yield* Errors.make(Errors.ValidationFailed, "the callback needs `code` and `state`", {
          issues: [{ path: ["query"], message: "code and state are required" }]
        })
      }
      const states = yield* OAuthStates
      const pending = yield* states.take(query.state, params.platform).pipe(Effect.orDie)
      if (Option.isNone(pending)) {
        return yield* Errors.make(Errors.ValidationFailed, "the OAuth state is unknown, used or expired; start again", {
          issues: [{ path: ["query", "state"], message: "unknown, used or expired" }]
        })
      }
      // The state was issued to a key of this organization; it may have been disabled since.
      const organization = yield* (yield* Organizations).get(pending.value.organizationId).pipe(Effect.orDie)
      if (Option.isSome(organization) && organization.value.disabledAt !== undefined) {
        return yield* Errors.make(
          Errors.OrganizationDisabled,
          `organization ${organization.value.id} is disabled: no account is connected to it`,
          { organizationId: organization.value.id }
        )
      }
      const providers = yield* OAuthProviders
      const provider = providers.get(params.platform)
      const publisher = yield* publisherFor(params.platform)
      if (provider === undefined) {
        return yield* Errors.make(Errors.UnknownPlatform, `"${params.platform}" has no OAuth flow configured here`)
      }
      const credentials = yield* provider.exchangeCode({
        code: query.code,
        redirectUri: pending.value.redirectUri,
        ...(provider.pkce ? { codeVerifier: pending.value.codeVerifier } : {})
      }).pipe(
        Effect.catchDefect((defect) =>
          Effect.fail(new PublishError.Transient({ platform: params.platform, message: `the code exchange crashed: ${String(defect)}` }))
        ),
        Effect.mapError(platformFailure("the code exchange"))
      )
      const account = yield* connectAccount({
        organizationId: pending.value.organizationId,
        publisher,
        credentials,
        decoded: true
      })
      return yield* accountView(account)
    })))
