import { Lru } from "@omnipost/core"
import { assert, describe, it } from "@effect/vitest"
import * as fc from "fast-check"

describe("Lru", () => {
  it("drops the least recently used entry when full; a read makes an entry recent", () => {
    const lru = new Lru<string, number>(2)
    lru.set("a", 1).set("b", 2)
    assert.strictEqual(lru.get("a"), 1)
    lru.set("c", 3)
    assert.isFalse(lru.has("b"))
    assert.deepStrictEqual([lru.get("a"), lru.get("c"), lru.size], [1, 3, 2])
  })

  it("getOrSet computes once, and caches an undefined answer too", () => {
    const lru = new Lru<string, number | undefined>(4)
    let calls = 0
    const compute = () => (calls++, undefined)
    assert.isUndefined(lru.getOrSet("k", compute))
    assert.isUndefined(lru.getOrSet("k", compute))
    assert.strictEqual(calls, 1)
  })

  it("refuses a capacity below 1", () => {
    assert.throws(() => new Lru(0), RangeError)
  })

  it("never holds more than its capacity, and always holds the last key set (property)", () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 20 })), { maxLength: 200 }), (capacity, ops) => {
      const lru = new Lru<number, number>(capacity)
      const model: Array<number> = []
      for (const [write, key] of ops) {
        if (write) {
          lru.set(key, key)
          const at = model.indexOf(key)
          if (at >= 0) model.splice(at, 1)
          else if (model.length >= capacity) model.shift()
          model.push(key)
          assert.isTrue(lru.has(key))
        } else {
          const at = model.indexOf(key)
          assert.strictEqual(lru.get(key), at >= 0 ? key : undefined)
          if (at >= 0) model.push(...model.splice(at, 1))
        }
        assert.isAtMost(lru.size, capacity)
        assert.strictEqual(lru.size, model.length)
      }
    }))
  })
})
