/**
 * OAuth for the three platforms (authorization code, no PKCE: Meta's flows
 * take the app secret at the token endpoint).
 *
 * | platform | authorize | code → token | long-lived | refresh |
 * |---|---|---|---|---|
 * | Instagram (Instagram Login) | `www.instagram.com/oauth/authorize` | `POST api.instagram.com/oauth/access_token` (1 h) | `GET graph.instagram.com/access_token?grant_type=ig_exchange_token` (60 days) | `GET graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token` |
 * | Facebook Pages (Facebook Login) | `www.facebook.com/v25.0/dialog/oauth` | `GET graph.facebook.com/v25.0/oauth/access_token` | same, `grant_type=fb_exchange_token`; then `GET /me/accounts`: the Page token (does not expire) | none needed |
 * | Threads | `threads.net/oauth/authorize` | `POST graph.threads.net/oauth/access_token` (1 h) | `GET graph.threads.net/access_token?grant_type=th_exchange_token` (60 days) | `GET graph.threads.net/refresh_access_token?grant_type=th_refresh_token` |
 *
 * With a `baseUrl` (a fake, a proxy) every endpoint is on that URL's origin,
 * under the same paths.
 *
 * Sources: platform-specs §2.1–2.3; https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login;
 * https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived;
 * https://developers.facebook.com/docs/threads/get-started/get-access-tokens-and-permissions;
 * https://developers.facebook.com/docs/threads/get-started/long-lived-tokens.
 */
import { Clock, Duration, Effect } from "effect"
import { HttpClient } from "effect/http"
import { type Plugin, PublishError } from "@omnipost/core"
import { OAuth, OAuthApp, Transport } from "@omnipost/platform-kit"
import type { FacebookCredentials, InstagramCredentials, ThreadsCredentials } from "./Credentials.js"
import { dataOf } from "./internal/Api.js"
import * as Graph from "./internal/Graph.js"

export interface App {
  readonly clientId: string
  readonly clientSecret: string
  /** The Graph base of the platform (`fake.graphUrl`), or `undefined` for Meta's hosts. */
  readonly baseUrl?: string | undefined
}

const timeout = Duration.seconds(30)

const originOf = (baseUrl: string | undefined) => (baseUrl === undefined ? undefined : new URL(baseUrl).origin)

const expiresAtOf = (nowMs: number, expiresIn: unknown) =>
  typeof expiresIn === "number" && Number.isFinite(expiresIn) && expiresIn > 0 ? new Date(nowMs + expiresIn * 1000).toISOString() : undefined

/** A refused code or token is `AuthFailed`; the platform down stays `Transient`. */
const asAuthFailure = (platform: string) => (error: PublishError.PublishError): PublishError.PublishError =>
  error._tag === "Rejected"
    ? new PublishError.AuthFailed({
      platform,
      reason: "invalid",
      message: `the authorization was refused: ${error.message}`,
      ...(error.platformCode !== undefined ? { platformCode: error.platformCode } : {}),
      ...(error.platformMessage !== undefined ? { platformMessage: error.platformMessage } : {}),
      ...(error.httpStatus !== undefined ? { httpStatus: error.httpStatus } : {})
    })
    : error

const call = (client: HttpClient.HttpClient, platform: string, request: Omit<Graph.GraphRequest, "platform" | "write" | "timeout">) =>
  Graph.call(client, { ...request, platform, write: false, timeout }).pipe(Effect.mapError(asAuthFailure(platform)))

const field = (body: Record<string, unknown>, key: string, platform: string, operation: string) =>
  Graph.field(body, key, { platform, operation, write: false })

/** The consent URL of Meta's authorization-code flows (scopes comma-separated, as Meta writes them). */
const consentUrl = (authorize: string, app: App, request: Plugin.AuthorizationRequest) =>
  Effect.succeed(OAuthApp.consentUrl(authorize, {
    client_id: app.clientId,
    redirect_uri: request.redirectUri,
    response_type: "code",
    scope: request.scopes.join(","),
    state: request.state
  }))

/**
 * The code exchange of Instagram Login and Threads (`POST /oauth/access_token`,
 * the app secret in the form): the kit's `OAuth.postToken`, Meta's answer read
 * as every Graph answer is (`Graph.answerOf`); a refused code is `AuthFailed`.
 */
const exchangeCodeAt = (client: HttpClient.HttpClient, platform: string, tokenUrl: string, app: App, request: Plugin.CodeExchange) => {
  const operation = "POST /oauth/access_token"
  return OAuth.postToken({
    tokenUrl,
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    params: { grant_type: "authorization_code", redirect_uri: request.redirectUri, code: request.code },
    timeout
  }).pipe(
    Effect.provideService(HttpClient.HttpClient, client),
    Effect.mapError((error) => Transport.classify(error, { platform, operation, write: false })),
    Effect.flatMap((answer) => Graph.answerOf(answer, { platform, operation, write: false })),
    Effect.mapError(asAuthFailure(platform))
  )
}

// ---------------------------------------------------------------------------
// Instagram API with Instagram Login

export const instagramScopes = ["instagram_business_basic", "instagram_business_content_publish"]

const instagramEndpoints = (app: App) => {
  const origin = originOf(app.baseUrl)
  return {
    authorize: `${origin ?? "https://www.instagram.com"}/oauth/authorize`,
    token: `${origin ?? "https://api.instagram.com"}/oauth/access_token`,
    exchange: `${origin ?? "https://graph.instagram.com"}/access_token`,
    refresh: `${origin ?? "https://graph.instagram.com"}/refresh_access_token`
  }
}

/** The provider of the `instagram` plugin (Instagram Login). */
export const instagramProvider = (client: HttpClient.HttpClient, app: App): Plugin.OAuthProvider<InstagramCredentials> => {
  const endpoints = instagramEndpoints(app)
  const platform = "instagram"
  const longLived = (shortToken: string, userId: string) =>
    Effect.gen(function*() {
      const answer = yield* call(client, platform, {
        operation: "GET /access_token?grant_type=ig_exchange_token",
        method: "GET",
        url: endpoints.exchange,
        params: { grant_type: "ig_exchange_token", client_secret: app.clientSecret, access_token: shortToken }
      })
      const expiresAt = expiresAtOf(yield* Clock.currentTimeMillis, answer.expires_in)
      return {
        accessToken: yield* field(answer, "access_token", platform, "ig_exchange_token"),
        userId,
        login: "instagram" as const,
        ...(expiresAt !== undefined ? { expiresAt } : {})
      } satisfies InstagramCredentials
    })
  return {
    scopes: instagramScopes,
    pkce: false,
    authorizationUrl: (request) => consentUrl(endpoints.authorize, app, request),
    exchangeCode: (request) =>
      Effect.gen(function*() {
        const answer = yield* exchangeCodeAt(client, platform, endpoints.token, app, request)
        // Instagram Login answers `{ data: [{ access_token, user_id, permissions }] }` (older apps: the object itself).
        const granted = dataOf(answer)[0] ?? answer
        const shortToken = yield* field(granted, "access_token", platform, "POST /oauth/access_token")
        return yield* longLived(shortToken, yield* field(granted, "user_id", platform, "POST /oauth/access_token"))
      }),
    refresh: (credentials) =>
      Effect.gen(function*() {
        const answer = yield* call(client, platform, {
          operation: "GET /refresh_access_token",
          method: "GET",
          url: endpoints.refresh,
          params: { grant_type: "ig_refresh_token", access_token: credentials.accessToken }
        })
        const expiresAt = expiresAtOf(yield* Clock.currentTimeMillis, answer.expires_in)
        return {
          ...credentials,
          accessToken: yield* field(answer, "access_token", platform, "ig_refresh_token"),
          ...(expiresAt !== undefined ? { expiresAt } : {})
        }
      })
  }
}

// ---------------------------------------------------------------------------
// Facebook Login, Pages

export const facebookScopes = ["pages_show_list", "pages_read_engagement", "pages_manage_posts", "publish_video", "business_management"]

/** Facebook Login's endpoints and its code → long-lived user token exchange (shared by Pages and Instagram through its Page). */
const facebookLogin = (client: HttpClient.HttpClient, app: App & { readonly version?: string | undefined }, platform: string) => {
  const version = app.version ?? "v25.0"
  const graph = app.baseUrl ?? `https://graph.facebook.com/${version}`
  const dialog = `${originOf(app.baseUrl) ?? "https://www.facebook.com"}/${version}/dialog/oauth`
  const token = (params: Graph.Params, operation: string) =>
    call(client, platform, { operation, method: "GET", url: `${graph}/oauth/access_token`, params })
  return {
    graph,
    authorizationUrl: (request: Plugin.AuthorizationRequest) => consentUrl(dialog, app, request),
    /** The code for a short-lived user token, that for a long-lived one (60 days). */
    userToken: (request: Plugin.CodeExchange) =>
      Effect.gen(function*() {
        const short = yield* token({
          client_id: app.clientId,
          client_secret: app.clientSecret,
          redirect_uri: request.redirectUri,
          code: request.code
        }, "GET /oauth/access_token (code)").pipe(Effect.flatMap((answer) => field(answer, "access_token", platform, "code")))
        const long = yield* token({
          grant_type: "fb_exchange_token",
          client_id: app.clientId,
          client_secret: app.clientSecret,
          fb_exchange_token: short
        }, "GET /oauth/access_token (fb_exchange_token)")
        return {
          accessToken: yield* field(long, "access_token", platform, "fb_exchange_token"),
          expiresAt: expiresAtOf(yield* Clock.currentTimeMillis, long.expires_in)
        }
      }),
    pages: (userToken: string, fields: string) =>
      call(client, platform, {
        operation: "GET /me/accounts",
        method: "GET",
        url: `${graph}/me/accounts`,
        params: { fields },
        accessToken: userToken
      }).pipe(Effect.map(dataOf))
  }
}

/** The provider of the `facebook` plugin: a long-lived user token, then the Page's token (`pageId` picks one Page; default the first). */
export const facebookProvider = (
  client: HttpClient.HttpClient,
  app: App & { readonly version?: string | undefined; readonly pageId?: string | undefined }
): Plugin.OAuthProvider<FacebookCredentials> => {
  const platform = "facebook"
  const login = facebookLogin(client, app, platform)
  return {
    scopes: facebookScopes,
    pkce: false,
    authorizationUrl: login.authorizationUrl,
    exchangeCode: (request) =>
      Effect.gen(function*() {
        const user = yield* login.userToken(request)
        const pages = yield* login.pages(user.accessToken, "id,name,access_token,tasks")
        const page = app.pageId === undefined ? pages[0] : pages.find((item) => item.id === app.pageId)
        if (page === undefined || typeof page.access_token !== "string") {
          return yield* new PublishError.AuthFailed({
            platform,
            reason: "missing_permission",
            message: app.pageId === undefined
              ? "the Facebook user granted no Page: reconnect and select a Page this app may publish to"
              : `the Facebook user did not grant Page ${app.pageId}: reconnect and select it`
          })
        }
        return {
          pageId: String(page.id),
          pageAccessToken: page.access_token,
          userAccessToken: user.accessToken,
          ...(typeof page.name === "string" ? { pageName: page.name } : {})
        } satisfies FacebookCredentials
      })
  }
}

// ---------------------------------------------------------------------------
// Instagram API with Facebook Login (a professional account reached through its Page)

export const instagramFacebookScopes = ["instagram_basic", "instagram_content_publish", "pages_show_list", "pages_read_engagement", "business_management"]

/**
 * The `instagram` plugin's provider with Facebook Login
 * (`OMNIPOST_INSTAGRAM_LOGIN=facebook`): a long-lived user token, and the
 * Instagram account linked to a granted Page (`instagram_business_account`).
 */
export const instagramFacebookProvider = (
  client: HttpClient.HttpClient,
  app: App & { readonly version?: string | undefined }
): Plugin.OAuthProvider<InstagramCredentials> => {
  const platform = "instagram"
  const login = facebookLogin(client, app, platform)
  return {
    scopes: instagramFacebookScopes,
    pkce: false,
    authorizationUrl: login.authorizationUrl,
    exchangeCode: (request) =>
      Effect.gen(function*() {
        const user = yield* login.userToken(request)
        const pages = yield* login.pages(user.accessToken, "id,name,instagram_business_account{id,username}")
        const linked = pages
          .map((page) => page.instagram_business_account as { id?: unknown; username?: unknown } | undefined)
          .find((account) => account !== undefined && typeof account.id === "string")
        if (linked === undefined) {
          return yield* new PublishError.AuthFailed({
            platform,
            reason: "missing_permission",
            message: "no granted Page has a linked Instagram professional account: link one to a Page, then reconnect and select that Page"
          })
        }
        return {
          accessToken: user.accessToken,
          userId: String(linked.id),
          login: "facebook" as const,
          ...(typeof linked.username === "string" ? { username: linked.username } : {}),
          ...(user.expiresAt !== undefined ? { expiresAt: user.expiresAt } : {})
        } satisfies InstagramCredentials
      })
  }
}

// ---------------------------------------------------------------------------
// Threads

export const threadsScopes = ["threads_basic", "threads_content_publish"]

/** The provider of the `threads` plugin: a long-lived token (60 days), refreshed before it runs out. */
export const threadsProvider = (client: HttpClient.HttpClient, app: App): Plugin.OAuthProvider<ThreadsCredentials> => {
  const platform = "threads"
  const origin = originOf(app.baseUrl)
  const endpoints = {
    authorize: `${origin ?? "https://threads.net"}/oauth/authorize`,
    token: `${origin ?? "https://graph.threads.net"}/oauth/access_token`,
    exchange: `${origin ?? "https://graph.threads.net"}/access_token`,
    refresh: `${origin ?? "https://graph.threads.net"}/refresh_access_token`
  }
  const withToken = (answer: Record<string, unknown>, base: Omit<ThreadsCredentials, "accessToken" | "expiresAt">, operation: string) =>
    Effect.gen(function*() {
      const expiresAt = expiresAtOf(yield* Clock.currentTimeMillis, answer.expires_in)
      return {
        ...base,
        accessToken: yield* field(answer, "access_token", platform, operation),
        ...(expiresAt !== undefined ? { expiresAt } : {})
      } satisfies ThreadsCredentials
    })
  return {
    scopes: threadsScopes,
    pkce: false,
    authorizationUrl: (request) => consentUrl(endpoints.authorize, app, request),
    exchangeCode: (request) =>
      Effect.gen(function*() {
        const answer = yield* exchangeCodeAt(client, platform, endpoints.token, app, request)
        const shortToken = yield* field(answer, "access_token", platform, "POST /oauth/access_token")
        const userId = yield* field(answer, "user_id", platform, "POST /oauth/access_token")
        const long = yield* call(client, platform, {
          operation: "GET /access_token?grant_type=th_exchange_token",
          method: "GET",
          url: endpoints.exchange,
          params: { grant_type: "th_exchange_token", client_secret: app.clientSecret, access_token: shortToken }
        })
        return yield* withToken(long, { userId }, "th_exchange_token")
      }),
    refresh: (credentials) =>
      call(client, platform, {
        operation: "GET /refresh_access_token",
        method: "GET",
        url: endpoints.refresh,
        params: { grant_type: "th_refresh_token", access_token: credentials.accessToken }
      }).pipe(Effect.flatMap((answer) => withToken(answer, credentials, "th_refresh_token")))
  }
}
