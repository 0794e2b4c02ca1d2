import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { OAuth } from "@omnipost/platform-kit"
import { FakeServer } from "@omnipost/platform-kit/testing"
import { PublishError } from "@omnipost/core"
import { Effect, Schema } from "effect"

describe("OAuth", () => {
  it("tokensFrom: expiry from expires_in, scopes split, a refresh answer without a refresh token keeps the old one", () => {
    const now = Date.parse("2026-12-01T00:00:00Z")
    assert.deepStrictEqual(OAuth.tokensFrom({ access_token: "a", refresh_token: "r", expires_in: 3600, scope: "x y" }, now), {
      accessToken: "a",
      refreshToken: "r",
      expiresAt: "2026-12-01T01:00:00.000Z",
      scopes: ["x", "y"]
    })
    assert.deepStrictEqual(OAuth.tokensFrom({ access_token: "b", expires_in: 60 }, now, { accessToken: "a", refreshToken: "r", scopes: ["x"] }), {
      accessToken: "b",
      refreshToken: "r",
      expiresAt: "2026-12-01T00:01:00.000Z",
      scopes: ["x"]
    })
    assert.strictEqual(OAuth.tokensFrom({ error: "invalid_grant" }, now), undefined)
    assert.strictEqual(OAuth.tokensFrom(undefined, now), undefined)
  })

  it.effect("postToken: a form with the client's id and secret; any status comes back", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make()
      let form: URLSearchParams | undefined
      server.route("POST", "/token", async (request) => {
        form = new URLSearchParams(await request.text())
        return form.get("code") === "good"
          ? { status: 200, body: { access_token: "t", expires_in: 10 } }
          : { status: 400, body: { error: "invalid_grant" } }
      })
      const call = (code: string) =>
        OAuth.postToken({ tokenUrl: `${server.url}/token`, clientId: "id", clientSecret: "secret", params: { grant_type: "authorization_code", code } })
      const ok = yield* call("good")
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(form!.get("client_id"), "id")
      assert.strictEqual(form!.get("client_secret"), "secret")
      assert.strictEqual(form!.get("grant_type"), "authorization_code")
      const bad = yield* call("bad")
      assert.strictEqual(bad.status, 400)
      assert.deepStrictEqual(bad.body, { error: "invalid_grant" })
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("postToken: a confidential client with clientAuthentication basic sends Basic auth, not its secret in the form; a public client only its id", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make()
      const seen: Array<{ readonly authorization: string | undefined; readonly form: URLSearchParams }> = []
      server.route("POST", "/token", async (request) => {
        seen.push({ authorization: request.headers.authorization, form: new URLSearchParams(await request.text()) })
        return { status: 200, body: { access_token: "t" } }
      })
      const params = { grant_type: "refresh_token", refresh_token: "r" }
      yield* OAuth.postToken({ tokenUrl: `${server.url}/token`, clientId: "id", clientSecret: "secret", clientAuthentication: "basic", params })
      yield* OAuth.postToken({ tokenUrl: `${server.url}/token`, clientId: "id", clientAuthentication: "basic", params })
      assert.strictEqual(seen[0]!.authorization, `Basic ${Buffer.from("id:secret").toString("base64")}`)
      assert.isNull(seen[0]!.form.get("client_secret"))
      assert.isNull(seen[0]!.form.get("client_id"))
      assert.strictEqual(seen[0]!.form.get("refresh_token"), "r")
      assert.isUndefined(seen[1]!.authorization)
      assert.strictEqual(seen[1]!.form.get("client_id"), "id")
      assert.isNull(seen[1]!.form.get("client_secret"))
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("grant: the decoded answer; a refused grant is AuthFailed (revoked at the revoked statuses); 5xx as the platform maps it; no token is Transient; no answer is Transient", () =>
    Effect.gen(function*() {
      const server = yield* FakeServer.make()
      server.route("POST", "/token", async (request) => {
        const code = new URLSearchParams(await request.text()).get("code")
        if (code === "good") return { status: 200, body: { access_token: "t", expires_in: 60 } }
        if (code === "dead") return { status: 400, body: { error: "invalid_grant", error_description: "used" } }
        if (code === "client") return { status: 401, body: { error: "invalid_client" } }
        if (code === "down") return { status: 503, body: "<html>down</html>" }
        return { status: 200, body: { token_type: "bearer" } }
      })
      const grant = (code: string, tokenUrl = `${server.url}/token`) =>
        OAuth.grant({
          tokenUrl,
          clientId: "id",
          clientSecret: "secret",
          params: { grant_type: "authorization_code", code },
          platform: "acme",
          label: "Acme",
          operation: "the OAuth code exchange",
          schema: Schema.Struct({ access_token: Schema.String, expires_in: Schema.optional(Schema.Number) }),
          fromResponse: (answer) =>
            answer.status >= 500
              ? Effect.succeed(new PublishError.Transient({ platform: "acme", message: `down: ${answer.text}` }))
              : Effect.succeed(
                new PublishError.Rejected({
                  platform: "acme",
                  message: "refused",
                  platformCode: String((answer.body as { error?: string }).error),
                  platformMessage: (answer.body as { error_description?: string }).error_description
                })
              )
        }).pipe(Effect.flip)
      assert.deepStrictEqual(yield* Effect.flip(grant("good")), { access_token: "t", expires_in: 60 })
      const dead = yield* grant("dead")
      assert.strictEqual(dead._tag, "AuthFailed")
      assert.strictEqual((dead as PublishError.AuthFailed).reason, "revoked")
      assert.strictEqual(dead.message, "Acme refused the OAuth code exchange: used")
      assert.strictEqual(dead.platformCode, "invalid_grant")
      assert.strictEqual(dead.httpStatus, 400)
      const client = yield* grant("client")
      assert.strictEqual((client as PublishError.AuthFailed).reason, "invalid")
      const down = yield* grant("down")
      assert.strictEqual(down._tag, "Transient")
      assert.include(down.message, "<html>down</html>")
      const empty = yield* grant("empty")
      assert.strictEqual(empty._tag, "Transient")
      assert.strictEqual(empty.message, "the OAuth code exchange: Acme answered 200 without an access token")
      const closed = yield* grant("good", "http://127.0.0.1:1/token")
      assert.strictEqual(closed._tag, "Transient")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})
