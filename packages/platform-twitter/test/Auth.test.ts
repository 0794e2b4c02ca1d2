import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it, layer } from "@effect/vitest"
import { Auth } from "@omnipost/platform-twitter"
import { authScheme, FakeX, Faults } from "@omnipost/platform-twitter/testing"
import { Effect, Layer } from "effect"
import { createHash } from "node:crypto"

describe("OAuth 1.0a signatures (RFC 5849)", () => {
  it("reproduces the X documentation's 'Creating a signature' example", () => {
    // developer.x.com/en/docs/authentication/oauth-1-0a/creating-a-signature
    const url = "https://api.twitter.com/1.1/statuses/update.json?include_entities=true"
    const parameters = [
      ["status", "Hello Ladies + Gentlemen, a signed OAuth request!"],
      ["oauth_consumer_key", "xvz1evFS4wEEPTGEFPHBog"],
      ["oauth_nonce", "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"],
      ["oauth_signature_method", "HMAC-SHA1"],
      ["oauth_timestamp", "1318622958"],
      ["oauth_token", "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"],
      ["oauth_version", "1.0"]
    ] as const
    const base = Auth.signatureBaseString("POST", url, parameters)
    assert.strictEqual(
      base,
      "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521"
    )
    const signature = Auth.hmacSha1Signature(
      base,
      "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
      "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
    )
    assert.strictEqual(signature, "hCtSmYh+iHYCEqBWrE7C7hYmtUk=")
  })

  it("reproduces RFC 5849 §1.2's signed request (no oauth_version)", () => {
    const header = Auth.oauth1AuthorizationHeader({
      method: "GET",
      url: "http://photos.example.net/photos?file=vacation.jpg&size=original",
      consumerKey: "dpf43f3p2l4k3l03",
      consumerSecret: "kd94hf93k423kf44",
      token: "nnch734d00sl2jdk",
      tokenSecret: "pfkkdhi9sl3r4s00",
      nonce: "chapoH",
      timestamp: 137131202,
      includeVersion: false
    })
    assert.include(header, `oauth_signature="MdpQcU8iPSUjWoN%2FUDMsK2sui9I%3D"`)
    const parsed = Auth.parseOAuth1Header(header)
    assert.deepStrictEqual(parsed?.find(([k]) => k === "oauth_signature")?.[1], "MdpQcU8iPSUjWoN/UDMsK2sui9I=")
  })

  it("percent-encodes per RFC 3986, stricter than encodeURIComponent", () => {
    assert.strictEqual(Auth.percentEncode("Ladies + Gentlemen!*'()"), "Ladies%20%2B%20Gentlemen%21%2A%27%28%29")
    assert.strictEqual(Auth.percentEncode("☃"), "%E2%98%83")
    assert.strictEqual(Auth.percentEncode("-._~"), "-._~")
  })

  it("normalizes the base string URI: lowercase host, default port dropped, query removed", () => {
    assert.strictEqual(Auth.baseStringUri("HTTP://Example.COM:80/r%20v/X?id=123"), "http://example.com/r%20v/X")
    assert.strictEqual(Auth.baseStringUri("https://www.example.net:8080/?q=1"), "https://www.example.net:8080/")
  })
})

describe("OAuth 2.0 PKCE", () => {
  it.effect("builds the authorization URL with state, S256 challenge and the posting scopes", () =>
    Effect.gen(function*() {
      const request = yield* Auth.authorizationUrl({ clientId: "client-1", redirectUri: "https://app.example/cb" })
      const url = new URL(request.url)
      assert.strictEqual(url.origin + url.pathname, "https://x.com/i/oauth2/authorize")
      assert.strictEqual(url.searchParams.get("response_type"), "code")
      assert.strictEqual(url.searchParams.get("client_id"), "client-1")
      assert.strictEqual(url.searchParams.get("redirect_uri"), "https://app.example/cb")
      assert.strictEqual(url.searchParams.get("scope"), "tweet.read tweet.write users.read media.write offline.access")
      assert.strictEqual(url.searchParams.get("state"), request.state)
      assert.strictEqual(url.searchParams.get("code_challenge_method"), "S256")
      const expected = createHash("sha256").update(request.codeVerifier).digest("base64url")
      assert.strictEqual(url.searchParams.get("code_challenge"), expected)
      // RFC 7636 §4.1: 43-128 characters of the unreserved set.
      assert.match(request.codeVerifier, /^[A-Za-z0-9\-._~]{43,128}$/)
      const other = yield* Auth.authorizationUrl({ clientId: "client-1", redirectUri: "https://app.example/cb" })
      assert.notStrictEqual(other.state, request.state)
      assert.notStrictEqual(other.codeVerifier, request.codeVerifier)
    }))

  it.effect("computes the RFC 7636 Appendix B challenge", () =>
    Effect.gen(function*() {
      const challenge = yield* Auth.codeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
      assert.strictEqual(challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    }))
})

layer(Layer.mergeAll(FakeX.layer(), NodeHttpClient.layerUndici), { excludeTestServices: true })(
  "OAuth 2.0 against the fake",
  (it) => {
    it.effect("exchanges a code (public client) and the token works", () =>
      Effect.gen(function*() {
        const fake = yield* FakeX
        fake.registerClient({ clientId: "public-app" })
        const request = yield* Auth.authorizationUrl({ clientId: "public-app", redirectUri: "https://app.example/cb" })
        const { code, state } = fake.approveAuthorization(request.url, "pkce_user")
        assert.strictEqual(state, request.state)
        const credentials = yield* Auth.exchangeCode({
          clientId: "public-app",
          code,
          redirectUri: "https://app.example/cb",
          codeVerifier: request.codeVerifier,
          apiBaseUrl: fake.url
        })
        assert.strictEqual(credentials._tag, "oauth2")
        assert.isString(credentials.refreshToken)
        assert.isTrue(Date.parse(credentials.expiresAt!) > Date.now() + 7000 * 1000)
        // A code is good once.
        const again = yield* Effect.flip(Auth.exchangeCode({
          clientId: "public-app",
          code,
          redirectUri: "https://app.example/cb",
          codeVerifier: request.codeVerifier,
          apiBaseUrl: fake.url
        }))
        assert.strictEqual(again._tag, "AuthFailed")
      }))

    it.effect("refuses a code exchange with the wrong verifier", () =>
      Effect.gen(function*() {
        const fake = yield* FakeX
        fake.registerClient({ clientId: "public-app-2" })
        const request = yield* Auth.authorizationUrl({ clientId: "public-app-2", redirectUri: "https://app.example/cb" })
        const { code } = fake.approveAuthorization(request.url, "pkce_user2")
        const error = yield* Effect.flip(Auth.exchangeCode({
          clientId: "public-app-2",
          code,
          redirectUri: "https://app.example/cb",
          codeVerifier: "x".repeat(43),
          apiBaseUrl: fake.url
        }))
        assert.strictEqual(error._tag, "AuthFailed")
        assert.strictEqual(error.platformCode, "invalid_request")
        assert.include(error.platformMessage ?? "", "authorization code")
      }))

    it.effect("refreshes with Basic auth for a confidential client and rotates the refresh token", () =>
      Effect.gen(function*() {
        const fake = yield* FakeX
        const credentials = fake.issueOAuth2Token({
          username: "confidential_user",
          clientId: "confidential-app",
          clientSecret: "s3cret"
        })
        const fresh = yield* Auth.refreshAccessToken(credentials, { apiBaseUrl: fake.url })
        assert.notStrictEqual(fresh.accessToken, credentials.accessToken)
        assert.notStrictEqual(fresh.refreshToken, credentials.refreshToken)
        assert.strictEqual(fresh.clientSecret, "s3cret")
        assert.include(fake.requests.filter((r) => r.operation === "POST /2/oauth2/token").map((r) => authScheme(r)), "basic")
        // The spent refresh token is refused: the user must reconnect.
        const spent = yield* Effect.flip(Auth.refreshAccessToken(credentials, { apiBaseUrl: fake.url }))
        assert.strictEqual(spent._tag, "AuthFailed")
        if (spent._tag === "AuthFailed") assert.strictEqual(spent.reason, "revoked")
      }))

    it.effect("keeps the old refresh token when the answer has none", () =>
      Effect.gen(function*() {
        const fake = yield* FakeX
        const credentials = fake.issueOAuth2Token({ username: "keep_refresh" })
        fake.inject("POST /2/oauth2/token", Faults.status(200, { body: { token_type: "bearer", access_token: "new-access", expires_in: 7200, refresh_token: "" } }))
        const fresh = yield* Auth.refreshAccessToken(credentials, { apiBaseUrl: fake.url })
        assert.strictEqual(fresh.accessToken, "new-access")
        assert.strictEqual(fresh.refreshToken, credentials.refreshToken)
      }))

    it.effect("a 5xx while refreshing is Transient", () =>
      Effect.gen(function*() {
        const fake = yield* FakeX
        const credentials = fake.issueOAuth2Token({ username: "refresh_5xx" })
        fake.inject("POST /2/oauth2/token", Faults.status(503))
        const error = yield* Effect.flip(Auth.refreshAccessToken(credentials, { apiBaseUrl: fake.url }))
        assert.strictEqual(error._tag, "Transient")
        assert.strictEqual(error.httpStatus, 503)
      }))
  }
)
