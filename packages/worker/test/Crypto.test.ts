import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { randomBytes } from "node:crypto"
import { Crypto, DecryptionFailed, InvalidEncryptionKey, open, parseKeyring, seal, type Keyring } from "../src/storage/Crypto.js"

const key = () => randomBytes(32).toString("base64")
const ring = (text: string) => {
  const keyring = parseKeyring(text)
  if (keyring instanceof InvalidEncryptionKey) throw new Error(keyring.message)
  return keyring as Keyring
}

describe("Crypto", () => {
  it("seals and opens, bound to the row", () => {
    const keyring = ring(key())
    const sealed = seal(keyring, "secret token", "account:acc_1")
    assert.notInclude(sealed.ciphertext, "secret")
    assert.strictEqual(open(keyring, sealed, "account:acc_1"), "secret token")
    const other = open(keyring, sealed, "account:acc_2")
    assert.instanceOf(other, DecryptionFailed)
  })

  it("never seals the same plaintext to the same ciphertext (fresh IV)", () => {
    const keyring = ring(key())
    assert.notStrictEqual(seal(keyring, "x", "a").ciphertext, seal(keyring, "x", "a").ciphertext)
  })

  it("detects tampering", () => {
    const keyring = ring(key())
    const sealed = seal(keyring, "secret token", "a")
    const parts = sealed.ciphertext.split(".")
    const body = Buffer.from(parts[3]!, "base64url")
    body[0] = body[0]! ^ 1
    const tampered = { ...sealed, ciphertext: [parts[0], parts[1], parts[2], body.toString("base64url")].join(".") }
    assert.instanceOf(open(keyring, tampered, "a"), DecryptionFailed)
  })

  it("keyring: the first key seals, every key opens; an unknown key id fails", () => {
    const oldKey = key()
    const newKey = key()
    const before = ring(`old:${oldKey}`)
    const sealedBefore = seal(before, "v", "a")
    assert.strictEqual(sealedBefore.keyId, "old")
    const after = ring(`new:${newKey},old:${oldKey}`)
    assert.strictEqual(after.current.id, "new")
    assert.strictEqual(open(after, sealedBefore, "a"), "v")
    assert.strictEqual(seal(after, "v", "a").keyId, "new")
    const onlyNew = ring(`new:${newKey}`)
    const failure = open(onlyNew, sealedBefore, "a")
    assert.instanceOf(failure, DecryptionFailed)
    assert.strictEqual((failure as DecryptionFailed).keyId, "old")
  })

  it("a bare key gets an id derived from it, stable across processes", () => {
    const k = key()
    assert.strictEqual(ring(k).current.id, ring(k).current.id)
    assert.notStrictEqual(ring(k).current.id, ring(key()).current.id)
  })

  it("rejects keys that are not 32 bytes, duplicate ids, and empty keyrings", () => {
    assert.instanceOf(parseKeyring(randomBytes(16).toString("base64")), InvalidEncryptionKey)
    assert.instanceOf(parseKeyring(`a:${key()},a:${key()}`), InvalidEncryptionKey)
    assert.instanceOf(parseKeyring(" , "), InvalidEncryptionKey)
    assert.instanceOf(parseKeyring(`bad id!:${key()}`), InvalidEncryptionKey)
  })

  it.effect("the layer fails with a typed error on a bad key", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.provide(Effect.asVoid(Crypto), Crypto.layerKeyring("not-a-key")))
      assert.strictEqual(error._tag, "InvalidEncryptionKey")
    }))

  it.effect("openJson round-trips JSON", () =>
    Effect.gen(function*() {
      const crypto = yield* Crypto
      const sealed = crypto.sealJson({ accessJwt: "a", refreshJwt: "r" }, "account:x")
      assert.deepStrictEqual(yield* crypto.openJson(sealed, "account:x"), { accessJwt: "a", refreshJwt: "r" })
    }).pipe(Effect.provide(Crypto.layerTest)))
})
