/**
 * The fake's OAuth endpoints, one set per login (platform-specs §2; the
 * sources in `Auth.ts`): the authorize pages (the signed-in user, `approver`,
 * approves at once and is redirected back with a code), the code exchanges
 * (codes work once, for the app and redirect URI they were issued to), the
 * long-lived token exchanges and refreshes, and `GET /me/accounts` with the
 * Pages' tokens.
 */
import type { Answer, FakeRequest } from "@omnipost/platform-kit/testing"
import { randomBytes } from "node:crypto"
import type { FakeMetaServer } from "../FakeMeta.js"
import { graphError, paramsOf, type TokenKind } from "./state.js"

export interface FakeApp {
  readonly platform: "instagram" | "threads" | "facebook"
  readonly clientId: string
  readonly clientSecret: string
}

interface IssuedCode {
  readonly app: FakeApp
  readonly redirectUri: string
  readonly ownerId: string
  readonly scopes: ReadonlyArray<string>
}

const longLivedSeconds = 60 * 86_400
const kindOf = (app: FakeApp): TokenKind => (app.platform === "facebook" ? "user" : app.platform)

export const oauthRoutes = (fake: FakeMetaServer): void => {
  const codes = new Map<string, IssuedCode>()
  const oauthError = (message: string): Answer => graphError(400, 100, message, { type: "OAuthException" })

  const authorize = async (request: FakeRequest): Promise<Answer> => {
    const params = await paramsOf(request)
    const app = fake.apps.get(params.client_id ?? "")
    if (app === undefined) return oauthError("Invalid platform app")
    const redirectUri = params.redirect_uri
    if (redirectUri === undefined || params.response_type !== "code") return oauthError("redirect_uri and response_type=code are required")
    const ownerId = fake.approver[app.platform]
    if (ownerId === undefined) return { status: 403, body: "no user is signed in" }
    const code = randomBytes(16).toString("hex")
    codes.set(code, { app, redirectUri, ownerId, scopes: (params.scope ?? "").split(",").filter(Boolean) })
    const target = new URL(redirectUri)
    target.searchParams.set("code", code)
    if (params.state !== undefined) target.searchParams.set("state", params.state)
    return { status: 302, headers: { location: target.toString() } }
  }

  /** Redeems a code once: the app's secret and the same redirect URI. */
  const redeem = (params: Record<string, string>, platforms: ReadonlyArray<FakeApp["platform"]>): IssuedCode | Answer => {
    const app = fake.apps.get(params.client_id ?? "")
    if (app === undefined || !platforms.includes(app.platform) || app.clientSecret !== params.client_secret) {
      return oauthError("Error validating client secret.")
    }
    const issued = codes.get(params.code ?? "")
    codes.delete(params.code ?? "")
    if (issued === undefined || issued.app !== app || issued.redirectUri !== params.redirect_uri) {
      return oauthError("Invalid verification code format.")
    }
    return issued
  }

  const issue = (app: FakeApp, ownerId: string, scopes: ReadonlyArray<string>, lifetime: "short" | "long") =>
    fake.issueToken(kindOf(app), ownerId, scopes.length > 0 ? scopes : ["*"], lifetime)

  fake.server.route("GET", "/oauth/authorize", authorize, { operation: "GET /oauth/authorize" })
  fake.server.route("GET", "/:version/dialog/oauth", authorize, { operation: "GET /dialog/oauth" })

  // Instagram Login and Threads: the code for a short-lived token (1 hour).
  fake.server.route("POST", "/oauth/access_token", async (request) => {
    const params = await paramsOf(request)
    if (params.grant_type !== "authorization_code") return oauthError("grant_type must be authorization_code")
    const issued = redeem(params, ["instagram", "threads"])
    if ("status" in issued) return issued
    const token = issue(issued.app, issued.ownerId, issued.scopes, "short")
    return issued.app.platform === "instagram"
      ? { status: 200, body: { data: [{ access_token: token, user_id: issued.ownerId, permissions: issued.scopes.join(",") }] } }
      : { status: 200, body: { access_token: token, user_id: issued.ownerId } }
  }, { operation: "POST /oauth/access_token" })

  // Short-lived → long-lived (60 days): ig_exchange_token, th_exchange_token.
  fake.server.route("GET", "/access_token", async (request) => {
    const params = await paramsOf(request)
    const token = fake.tokens.get(params.access_token ?? "")
    const platform = params.grant_type === "ig_exchange_token" ? "instagram" : params.grant_type === "th_exchange_token" ? "threads" : undefined
    const app = [...fake.apps.values()].find((candidate) => candidate.platform === platform && candidate.clientSecret === params.client_secret)
    if (platform === undefined || app === undefined) return oauthError("Error validating client secret.")
    if (token === undefined || token.expired || token.kind !== platform) return graphError(400, 190, "Invalid OAuth access token.")
    const long = issue(app, token.ownerId, token.scopes, "long")
    return { status: 200, body: { access_token: long, token_type: "bearer", expires_in: longLivedSeconds } }
  }, { operation: "GET /access_token" })

  // A long-lived token, not expired, for a fresh one: ig_refresh_token, th_refresh_token.
  fake.server.route("GET", "/refresh_access_token", async (request) => {
    const params = await paramsOf(request)
    const token = fake.tokens.get(params.access_token ?? "")
    const platform = params.grant_type === "ig_refresh_token" ? "instagram" : params.grant_type === "th_refresh_token" ? "threads" : undefined
    if (platform === undefined) return oauthError("Unsupported grant_type")
    if (token === undefined || token.kind !== platform) return graphError(400, 190, "Invalid OAuth access token.")
    if (token.expired) return graphError(400, 190, "Error validating access token: Session has expired.", { subcode: 463 })
    if (token.lifetime !== "long") return graphError(400, 190, "Only long-lived tokens can be refreshed.")
    fake.refreshes += 1
    const app = [...fake.apps.values()].find((candidate) => candidate.platform === platform)!
    const fresh = issue(app, token.ownerId, token.scopes, "long")
    return { status: 200, body: { access_token: fresh, token_type: "bearer", expires_in: longLivedSeconds } }
  }, { operation: "GET /refresh_access_token" })

  // Facebook Login: the code, then fb_exchange_token, on one endpoint.
  fake.server.route("GET", "/:version/oauth/access_token", async (request) => {
    const params = await paramsOf(request)
    if (params.grant_type === "fb_exchange_token") {
      const app = fake.apps.get(params.client_id ?? "")
      const token = fake.tokens.get(params.fb_exchange_token ?? "")
      if (app === undefined || app.platform !== "facebook" || app.clientSecret !== params.client_secret) return oauthError("Error validating client secret.")
      if (token === undefined || token.expired || token.kind !== "user") return graphError(400, 190, "Invalid OAuth access token.")
      return { status: 200, body: { access_token: issue(app, token.ownerId, token.scopes, "long"), token_type: "bearer", expires_in: longLivedSeconds } }
    }
    const issued = redeem(params, ["facebook"])
    if ("status" in issued) return issued
    return { status: 200, body: { access_token: issue(issued.app, issued.ownerId, issued.scopes, "short"), token_type: "bearer", expires_in: 3600 } }
  }, { operation: "GET /oauth/access_token" })

  // The Pages the user granted, each with its Page token (derived from a long-lived user token, it does not expire).
  fake.graphRoute("GET", "/:version/:id/accounts", "GET /me/accounts", ["user"], (call) => {
    if (call.request.params.id !== "me" && call.request.params.id !== call.token.ownerId) return graphError(400, 10, "Permission denied")
    const pages = fake.pageManagers.get(call.token.ownerId) ?? []
    return {
      status: 200,
      body: {
        data: pages.map((pageId) => {
          const page = fake.profiles.get(pageId)!
          const linked = fake.linkedInstagram.get(page.id)
          const instagram = linked === undefined ? undefined : fake.profiles.get(linked)
          return {
            id: page.id,
            name: page.name,
            access_token: fake.issueToken("page", page.id),
            tasks: ["CREATE_CONTENT", "MANAGE"],
            ...(instagram !== undefined ? { instagram_business_account: { id: instagram.id, username: instagram.username } } : {})
          }
        })
      }
    }
  })
}
