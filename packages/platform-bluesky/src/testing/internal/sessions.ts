/**
 * The fake PDS's sessions (com.atproto.server.*): app-password logins with
 * the createSession limit, signed access and single-use refresh tokens, and
 * service tokens checked as the reference PDS checks them.
 */
import type { JwtPayload } from "./jwt.js"
import type { FakeAccount, FakeState } from "./model.js"
import { type Answer, fail, type Incoming, invalid } from "./xrpc.js"

export class Sessions {
  constructor(private readonly state: FakeState) {}

  bearer(request: Incoming): string {
    const header = request.headers.authorization
    if (header === undefined) fail(401, "AuthMissing", "Authentication Required")
    const match = /^Bearer (\S+)$/.exec(header!)
    if (match === null) fail(401, "InvalidToken", "Unexpected authorization type")
    return match![1]!
  }

  verified(token: string): JwtPayload & { readonly typ: string } {
    const payload = this.state.signer.verify(token)
    if (payload === undefined) fail(401, "InvalidToken", "Token could not be verified")
    return payload!
  }

  /** The account of a valid access token; 400 `ExpiredToken` for an expired one. */
  authenticate(request: Incoming): FakeAccount {
    const payload = this.verified(this.bearer(request))
    if (payload.scope !== "com.atproto.access") fail(400, "InvalidToken", "Bad token scope")
    if (payload.exp * 1000 <= this.state.now() || this.state.expiredAccessTokens.has(payload.jti)) {
      fail(400, "ExpiredToken", "Token has expired")
    }
    const account = this.state.accounts.get(payload.sub ?? "")
    if (account === undefined) fail(401, "InvalidToken", "Token subject is not an account")
    return account!
  }

  /**
   * A service token, checked as the reference PDS checks one
   * (pds/src/auth-verifier.ts `verifyServiceJwt`, xrpc-server/src/auth.ts
   * `verifyJwt`): not an access or refresh token, not expired, for `audience`
   * and for exactly the method `lxm`, issued by an account.
   */
  serviceAuth(request: Incoming, audience: string, lxm: string): JwtPayload & { readonly iss: string } {
    const payload = this.state.signer.verify(this.bearer(request))
    if (payload === undefined) fail(401, "BadJwtSignature", "jwt signature does not match jwt issuer")
    if (payload!.typ === "at+jwt" || payload!.typ === "refresh+jwt") fail(401, "BadJwtType", `Invalid jwt type "${payload!.typ}"`)
    if (payload!.exp * 1000 <= this.state.now()) fail(401, "JwtExpired", "jwt expired")
    if (payload!.aud !== audience) fail(401, "BadJwtAudience", "jwt audience does not match service did")
    if (payload!.lxm !== lxm) {
      fail(
        401,
        "BadJwtLexiconMethod",
        payload!.lxm !== undefined
          ? `bad jwt lexicon method ("lxm"). must match: ${lxm}`
          : `missing jwt lexicon method ("lxm"). must match: ${lxm}`
      )
    }
    if (payload!.iss === undefined || !this.state.accounts.has(payload!.iss)) fail(401, "BadJwtIss", "jwt iss is not a valid did")
    return payload as JwtPayload & { readonly iss: string }
  }

  /** Whether the request carries a service token (an `lxm` claim), as the PDS tells them apart. */
  isServiceToken(request: Incoming): boolean {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? "")?.[1]
    const body = token?.split(".")[1]
    if (body === undefined) return false
    try {
      return (JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as { lxm?: unknown }).lxm != null
    } catch {
      return false
    }
  }

  issueSession(account: FakeAccount): Answer {
    const nowSeconds = Math.floor(this.state.now() / 1000)
    const aud = this.state.serviceDid
    const accessJwt = this.state.signer.sign("at+jwt", {
      scope: "com.atproto.access",
      sub: account.did,
      aud,
      iat: nowSeconds,
      exp: nowSeconds + this.state.options.accessTokenTtlSeconds
    })
    this.state.liveAccessTokens.add(this.state.signer.verify(accessJwt)!.jti)
    const refreshJwt = this.state.signer.sign("refresh+jwt", {
      scope: "com.atproto.refresh",
      sub: account.did,
      aud,
      iat: nowSeconds,
      exp: nowSeconds + this.state.options.refreshTokenTtlSeconds
    })
    return {
      status: 200,
      body: {
        accessJwt,
        refreshJwt,
        handle: account.handle,
        did: account.did,
        didDoc: {
          "@context": ["https://www.w3.org/ns/did/v1"],
          id: account.did,
          alsoKnownAs: [`at://${account.handle}`],
          service: [{ id: "#atproto_pds", type: "AtprotoPersonalDataServer", serviceEndpoint: this.state.url }]
        },
        email: account.email,
        emailConfirmed: true,
        active: true
      }
    }
  }

  createSession(body: Record<string, unknown>): Answer {
    const identifier = typeof body.identifier === "string" ? body.identifier.toLowerCase() : invalid("Input must have the property \"identifier\"")
    const password = typeof body.password === "string" ? body.password : invalid("Input must have the property \"password\"")
    const account = this.state.accounts.get(identifier) ?? this.state.accountByHandle(identifier) ??
      [...this.state.accounts.values()].find((candidate) => candidate.email === identifier)
    const key = account?.did ?? identifier
    const now = this.state.now()
    const windowMs = this.state.options.createSessionLimit.windowSeconds * 1000
    const attempts = (this.state.sessionAttempts.get(key) ?? []).filter((at) => now - at < windowMs)
    if (attempts.length >= this.state.options.createSessionLimit.max) {
      const reset = Math.ceil((attempts[0]! + windowMs) / 1000)
      return {
        status: 429,
        body: { error: "RateLimitExceeded", message: "Rate Limit Exceeded" },
        headers: {
          "ratelimit-limit": String(this.state.options.createSessionLimit.max),
          "ratelimit-remaining": "0",
          "ratelimit-reset": String(reset),
          "ratelimit-policy": `${this.state.options.createSessionLimit.max};w=${this.state.options.createSessionLimit.windowSeconds}`
        }
      }
    }
    attempts.push(now)
    this.state.sessionAttempts.set(key, attempts)
    if (account === undefined || account.password !== password) {
      fail(401, "AuthenticationRequired", "Invalid identifier or password")
    }
    const session = this.issueSession(account!)
    return {
      ...session,
      headers: {
        "ratelimit-remaining": String(this.state.options.createSessionLimit.max - attempts.length),
        "ratelimit-reset": String(Math.ceil((attempts[0]! + windowMs) / 1000))
      }
    }
  }

  refreshSession(request: Incoming): Answer {
    const token = this.bearer(request)
    const payload = this.verified(token)
    if (payload.scope !== "com.atproto.refresh") fail(400, "InvalidToken", "Invalid token type")
    if (this.state.usedRefreshTokens.has(payload.jti)) fail(400, "ExpiredToken", "Token has been revoked")
    if (payload.exp * 1000 <= this.state.now()) fail(400, "ExpiredToken", "Token has expired")
    const account = this.state.accounts.get(payload.sub ?? "")
    if (account === undefined) fail(400, "InvalidToken", "Token subject is not an account")
    // Refresh tokens are single-use: rotation revokes the one presented.
    this.state.usedRefreshTokens.add(payload.jti)
    return this.issueSession(account!)
  }

  getServiceAuth(request: Incoming, query: URLSearchParams): Answer {
    const account = this.authenticate(request)
    const aud = query.get("aud") ?? invalid("Params must have the property \"aud\"")
    const nowSeconds = Math.floor(this.state.now() / 1000)
    const expParam = query.get("exp")
    const exp = expParam === null ? nowSeconds + 60 : Number(expParam)
    if (!Number.isInteger(exp)) invalid("exp must be an integer")
    if (exp <= nowSeconds) fail(400, "BadExpiration", "expiration is in past")
    if (exp - nowSeconds > 3600) fail(400, "BadExpiration", "cannot request a token with an expiration more than an hour in the future")
    const lxm = query.get("lxm") ?? undefined
    const token = this.state.signer.sign("JWT", { iss: account.did, aud, ...(lxm !== undefined ? { lxm } : {}), iat: nowSeconds, exp })
    return { status: 200, body: { token } }
  }
}
