import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "@omnipost/platform-kit"
import { Effect, Schema } from "effect"

describe("Credentials", () => {
  const decode = Credentials.decode(Schema.Struct({ accessToken: Schema.String }), { platform: "acme", label: "Acme" })

  it.effect("decodes stored credentials; a malformed record is AuthFailed invalid (reconnect), never a defect", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* decode({ accessToken: "t" }), { accessToken: "t" })
      const error = yield* Effect.flip(decode({ token: 1 }))
      assert.strictEqual(error._tag, "AuthFailed")
      assert.strictEqual(error.reason, "invalid")
      assert.strictEqual(error.platform, "acme")
      assert.match(error.message, /^The stored Acme credentials are malformed: /)
    }))
})
