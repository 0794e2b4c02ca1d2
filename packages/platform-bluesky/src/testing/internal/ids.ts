/**
 * Realistic AT Protocol identifiers for the fake: `did:plc:` DIDs, CIDv1
 * strings (`bafyrei…` for records, `bafkrei…` for blobs) and TID record keys.
 */
import { createHash, randomBytes } from "node:crypto"

const base32Alphabet = "abcdefghijklmnopqrstuvwxyz234567"

/** RFC 4648 base32, lowercase, no padding (multibase `b`). */
export const base32 = (bytes: Uint8Array): string => {
  let bits = 0
  let value = 0
  let out = ""
  for (const byte of bytes) {
    value = (value << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += base32Alphabet[(value >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += base32Alphabet[(value << (5 - bits)) & 31]
  return out
}

/** A CIDv1 with a sha2-256 multihash: codec 0x71 (dag-cbor) for records, 0x55 (raw) for blobs. */
export const cidFor = (codec: "dag-cbor" | "raw", digest: Uint8Array): string =>
  "b" + base32(Uint8Array.from([0x01, codec === "dag-cbor" ? 0x71 : 0x55, 0x12, 0x20, ...digest]))

export const sha256 = (data: Uint8Array | string): Uint8Array => new Uint8Array(createHash("sha256").update(data).digest())

/** `did:plc:` + 24 base32 characters, as the PLC directory issues. */
export const newDid = (): string => `did:plc:${base32(randomBytes(15)).slice(0, 24)}`

const sortableAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

/**
 * TID generator: 53 bits of microseconds since the epoch and a 10-bit clock
 * id, in base32-sortable, 13 characters. Strictly increasing per generator.
 */
export const makeTidGenerator = (now: () => number) => {
  const clockId = BigInt(Math.floor(Math.random() * 1024))
  let last = 0n
  return (): string => {
    let micros = BigInt(now()) * 1000n
    if (micros <= last) micros = last + 1n
    last = micros
    let value = (micros << 10n) | clockId
    let out = ""
    for (let index = 0; index < 13; index++) {
      out = sortableAlphabet[Number(value & 31n)] + out
      value >>= 5n
    }
    return out
  }
}

export const isTid = (value: string): boolean => /^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$/.test(value)
