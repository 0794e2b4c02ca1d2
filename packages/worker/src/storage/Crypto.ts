/**
 * Sealing of secrets at rest (account credentials, webhook secrets) with
 * AES-256-GCM under a keyring from the environment.
 *
 * - `OMNIPOST_ENCRYPTION_KEY` is either one key (base64 of 32 bytes; its id is
 *   derived from the key) or a keyring `id:key,id:key`: the first key seals,
 *   every key opens. Rotation: put the new key first, keep the old ones,
 *   run `AccountStore.rotateKeys` (re-seals every row), then drop the old key.
 * - Without the variable (the zero-configuration PGlite start), a key is
 *   generated once into `<OMNIPOST_DATA_DIR>/encryption.key` (mode 0600).
 *
 * Every ciphertext is bound to its row through the additional authenticated
 * data (`account:acc_…`), so a ciphertext copied onto another row does not open.
 * Stored form: `v1.<iv>.<tag>.<ciphertext>` (base64url), with the key id in its
 * own column.
 */
import { Config, Context, Effect, Layer, Option, Redacted, Schema } from "effect"
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"

export class InvalidEncryptionKey extends Schema.TaggedError<InvalidEncryptionKey>()("InvalidEncryptionKey", {
  message: Schema.String
}) {}

/** A sealed value could not be opened: unknown key id, or the data or its binding was altered. */
export class DecryptionFailed extends Schema.TaggedError<DecryptionFailed>()("DecryptionFailed", {
  keyId: Schema.String,
  message: Schema.String
}) {}

export interface Sealed {
  readonly ciphertext: string
  readonly keyId: string
}

export interface Keyring {
  /** The key that seals. */
  readonly current: { readonly id: string; readonly key: Buffer }
  readonly keys: ReadonlyMap<string, Buffer>
}

const keyIdOf = (key: Buffer) => `k${createHash("sha256").update(key).digest("hex").slice(0, 8)}`

const decodeKey = (text: string, label: string): Buffer | InvalidEncryptionKey => {
  const key = Buffer.from(text.trim(), "base64")
  return key.length === 32
    ? key
    : new InvalidEncryptionKey({
      message: `${label} must be base64 of 32 bytes (for example: openssl rand -base64 32); it decodes to ${key.length} bytes`
    })
}

/** Parses `key` or `id:key,id:key`; the first key seals. */
export const parseKeyring = (text: string): Keyring | InvalidEncryptionKey => {
  const entries = text.split(",").map((s) => s.trim()).filter((s) => s !== "")
  if (entries.length === 0) return new InvalidEncryptionKey({ message: "OMNIPOST_ENCRYPTION_KEY is empty" })
  const keys = new Map<string, Buffer>()
  let current: Keyring["current"] | undefined
  for (const entry of entries) {
    const colon = entry.indexOf(":")
    const id = colon > 0 ? entry.slice(0, colon) : undefined
    const key = decodeKey(colon > 0 ? entry.slice(colon + 1) : entry, id === undefined ? "the key" : `key "${id}"`)
    if (key instanceof InvalidEncryptionKey) return key
    const keyId = id ?? keyIdOf(key)
    if (!/^[A-Za-z0-9_-]{1,32}$/.test(keyId)) {
      return new InvalidEncryptionKey({ message: `key id "${keyId}" must be 1-32 letters, digits, '-' or '_'` })
    }
    if (keys.has(keyId)) return new InvalidEncryptionKey({ message: `key id "${keyId}" appears twice` })
    keys.set(keyId, key)
    current ??= { id: keyId, key }
  }
  return { current: current!, keys }
}

export const seal = (keyring: Keyring, plaintext: string, aad: string): Sealed => {
  const iv = randomBytes(12)
  const cipher = createCipheriv("aes-256-gcm", keyring.current.key, iv)
  cipher.setAAD(Buffer.from(aad, "utf8"))
  const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()])
  const tag = cipher.getAuthTag()
  return {
    ciphertext: `v1.${iv.toString("base64url")}.${tag.toString("base64url")}.${body.toString("base64url")}`,
    keyId: keyring.current.id
  }
}

export const open = (keyring: Keyring, sealed: Sealed, aad: string): string | DecryptionFailed => {
  const key = keyring.keys.get(sealed.keyId)
  if (key === undefined) {
    return new DecryptionFailed({
      keyId: sealed.keyId,
      message: `no key "${sealed.keyId}" in OMNIPOST_ENCRYPTION_KEY; was a key removed before rotation finished?`
    })
  }
  const parts = sealed.ciphertext.split(".")
  if (parts.length !== 4 || parts[0] !== "v1") {
    return new DecryptionFailed({ keyId: sealed.keyId, message: "the sealed value is not in the v1 format" })
  }
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(parts[1]!, "base64url"))
  decipher.setAAD(Buffer.from(aad, "utf8"))
  decipher.setAuthTag(Buffer.from(parts[2]!, "base64url"))
  // node:crypto reports a failed authentication by throwing; this is plain code, not an Effect.
  try {
    return Buffer.concat([decipher.update(Buffer.from(parts[3]!, "base64url")), decipher.final()]).toString("utf8")
  } catch {
    return new DecryptionFailed({
      keyId: sealed.keyId,
      message: "the sealed value failed authentication (altered, or sealed for another row)"
    })
  }
}

export class Crypto extends Context.Service<Crypto, {
  readonly keyring: Keyring
  /** Seals a string, bound to `aad` (say `account:acc_…`). */
  readonly seal: (plaintext: string, aad: string) => Sealed
  readonly open: (sealed: Sealed, aad: string) => Effect.Effect<string, DecryptionFailed>
  readonly sealJson: (value: unknown, aad: string) => Sealed
  readonly openJson: (sealed: Sealed, aad: string) => Effect.Effect<unknown, DecryptionFailed>
}>()("@omnipost/worker/Crypto") {
  static readonly make = (keyring: Keyring): Crypto["Service"] => {
    const openEffect = (sealed: Sealed, aad: string): Effect.Effect<string, DecryptionFailed> => {
      const result = open(keyring, sealed, aad)
      return typeof result === "string" ? Effect.succeed(result) : Effect.fail(result)
    }
    return {
      keyring,
      seal: (plaintext, aad) => seal(keyring, plaintext, aad),
      open: openEffect,
      sealJson: (value, aad) => seal(keyring, JSON.stringify(value), aad),
      openJson: (sealed, aad) =>
        openEffect(sealed, aad).pipe(
          Effect.flatMap((text) =>
            Effect.try({
              try: () => JSON.parse(text) as unknown,
              catch: () => new DecryptionFailed({ keyId: sealed.keyId, message: "the sealed value is not JSON" })
            })
          )
        )
    }
  }

  /** From a keyring string (`key` or `id:key,id:key`). */
  static readonly layerKeyring = (text: string | Redacted.Redacted) =>
    Layer.effect(Crypto)(Effect.suspend(() => {
      const keyring = parseKeyring(Redacted.isRedacted(text) ? Redacted.value(text) : text)
      return keyring instanceof InvalidEncryptionKey ? Effect.fail(keyring) : Effect.succeed(Crypto.make(keyring))
    }))

  /**
   * `OMNIPOST_ENCRYPTION_KEY`, or else a key generated once into
   * `<OMNIPOST_DATA_DIR>/encryption.key`. With `DATABASE_URL` set the key must
   * be given: a generated key on one machine would leave the other workers
   * unable to read credentials.
   */
  static readonly layer = Layer.unwrap(Effect.gen(function*() {
    const configured = yield* Config.option(Config.Redacted("OMNIPOST_ENCRYPTION_KEY"))
    if (Option.isSome(configured)) return Crypto.layerKeyring(configured.value)
    const databaseUrl = yield* Config.option(Config.String("DATABASE_URL"))
    if (Option.isSome(databaseUrl) && databaseUrl.value !== "") {
      return Layer.effect(Crypto)(Effect.fail(
        new InvalidEncryptionKey({
          message: "OMNIPOST_ENCRYPTION_KEY is required with DATABASE_URL (every worker must share it); generate one with: openssl rand -base64 32"
        })
      ))
    }
    const dataDir = yield* Config.String("OMNIPOST_DATA_DIR").pipe(Config.withDefault(".omnipost"))
    const file = join(dataDir, "encryption.key")
    const text = yield* Effect.sync(() => {
      if (!existsSync(file)) {
        mkdirSync(dirname(file), { recursive: true })
        writeFileSync(file, `${randomBytes(32).toString("base64")}\n`, { mode: 0o600, flag: "wx" })
      }
      return readFileSync(file, "utf8")
    })
    return Crypto.layerKeyring(text)
  }))

  /** A fresh random key, for tests. */
  static readonly layerTest = Layer.sync(Crypto)(() =>
    Crypto.make(parseKeyring(randomBytes(32).toString("base64")) as Keyring)
  )
}
