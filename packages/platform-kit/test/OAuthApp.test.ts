import { assert, describe, it } from "@effect/vitest"
import { OAuthApp } from "@omnipost/platform-kit"
import { ConfigProvider, Effect, Option } from "effect"

const read = (env: Record<string, string>, platform: string, naming?: OAuthApp.Naming) =>
  Effect.runSync(OAuthApp.config(platform, naming).parse(ConfigProvider.fromEnv({ env })))

describe("OAuthApp", () => {
  it("the app is there only when both its id and its secret are set", () => {
    assert.deepStrictEqual(OAuthApp.client(read({ OMNIPOST_ACME_CLIENT_ID: "id", OMNIPOST_ACME_CLIENT_SECRET: "s" }, "ACME")), {
      clientId: "id",
      clientSecret: "s"
    })
    assert.isUndefined(OAuthApp.client(read({ OMNIPOST_ACME_CLIENT_ID: "id" }, "ACME")))
    assert.isUndefined(OAuthApp.client(read({ OMNIPOST_ACME_CLIENT_SECRET: "s" }, "ACME")))
    // TikTok names its id the client key.
    const tiktok = read({ OMNIPOST_TIKTOK_CLIENT_KEY: "k", OMNIPOST_TIKTOK_CLIENT_SECRET: "s" }, "TIKTOK", { idName: "CLIENT_KEY" })
    assert.deepStrictEqual(OAuthApp.client(tiktok), { clientId: "k", clientSecret: "s" })
  })

  it("describes its two variables, the secret marked secret", () => {
    const variables = OAuthApp.environment("TIKTOK", "your TikTok app", { idName: "CLIENT_KEY" })
    assert.deepStrictEqual(variables.map((v) => [v.name, v.secret === true]), [["OMNIPOST_TIKTOK_CLIENT_KEY", false], ["OMNIPOST_TIKTOK_CLIENT_SECRET", true]])
    assert.match(variables[0]!.description, /^Client key of your TikTok app/)
  })

  it("a list setting: split, trimmed, blanks dropped; the defaults when unset", () => {
    assert.deepStrictEqual(OAuthApp.list(Option.some("  a  b\tc "), ["d"]), ["a", "b", "c"])
    assert.deepStrictEqual(OAuthApp.list(Option.some("https://x/ , ,https://y/"), [], ","), ["https://x/", "https://y/"])
    assert.deepStrictEqual(OAuthApp.list(Option.none(), ["d"]), ["d"])
  })

  it("the consent URL keeps the endpoint's own query, encodes the parameters and leaves out undefined ones", () => {
    const url = new URL(OAuthApp.consentUrl("https://auth.example/authorize?tenant=t", { client_id: "a b", scope: "x y&z", state: undefined }))
    assert.strictEqual(url.origin + url.pathname, "https://auth.example/authorize")
    assert.deepStrictEqual([...url.searchParams], [["tenant", "t"], ["client_id", "a b"], ["scope", "x y&z"]])
  })
})
