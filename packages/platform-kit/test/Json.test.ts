import { assert, describe, it } from "@effect/vitest"
import { Json } from "@omnipost/platform-kit"

describe("Json", () => {
  it("parses JSON; empty, HTML and truncated bodies are undefined, never a throw", () => {
    assert.deepStrictEqual(Json.parse('{"error":{"code":403}}'), { error: { code: 403 } })
    assert.strictEqual(Json.parse(""), undefined)
    assert.strictEqual(Json.parse("  \n"), undefined)
    assert.strictEqual(Json.parse("<html>502 Bad Gateway</html>"), undefined)
    assert.strictEqual(Json.parse('{"error":'), undefined)
  })

  it("record: plain objects only", () => {
    assert.deepStrictEqual(Json.record({ a: 1 }), { a: 1 })
    assert.strictEqual(Json.record([1]), undefined)
    assert.strictEqual(Json.record(null), undefined)
    assert.strictEqual(Json.record("x"), undefined)
  })

  it("text: non-empty strings only; textOrNumber also writes numbers (codes and ids come as either)", () => {
    assert.strictEqual(Json.text("x"), "x")
    assert.strictEqual(Json.text(""), undefined)
    assert.strictEqual(Json.text(190), undefined)
    assert.strictEqual(Json.text(undefined), undefined)
    assert.strictEqual(Json.textOrNumber("x"), "x")
    assert.strictEqual(Json.textOrNumber(190), "190")
    assert.strictEqual(Json.textOrNumber(""), undefined)
    assert.strictEqual(Json.textOrNumber({ code: 1 }), undefined)
  })
})
