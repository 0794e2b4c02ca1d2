import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { OAuth } from "@omnipost/platform-kit"
import { FakeServer } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"

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
})
