/**
 * Prefixed, sortable, random ids: `post_01J…`, `dst_01J…`, `att_01J…`.
 *
 * The time prefix (milliseconds, base32) keeps ids roughly ordered by
 * creation, which keeps B-tree inserts local; the 80 random bits make
 * collisions across processes negligible.
 */
import { randomBytes } from "node:crypto"

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

const encodeTime = (ms: number) => {
  let out = ""
  let value = ms
  for (let i = 0; i < 10; i++) {
    out = alphabet[value % 32]! + out
    value = Math.floor(value / 32)
  }
  return out
}

const encodeRandom = (bytes: Uint8Array) => {
  let out = ""
  for (const byte of bytes) out += alphabet[byte % 32]!
  return out
}

export type Prefix = "org" | "key" | "acc" | "post" | "dst" | "att" | "med" | "whk" | "whd" | "wrk" | "req" | "grp"

/** A new id with the given prefix, such as `post_01jd3…`. */
export const make = (prefix: Prefix, now: number = Date.now()): string =>
  `${prefix}_${encodeTime(now)}${encodeRandom(randomFrom(16))}`

/**
 * Random bytes from a pool refilled 8 KiB at a time: asking the system for 16
 * bytes per id costs more than the rest of an id (the scheduler makes one per
 * call). Each byte is used once.
 */
let pool = Buffer.alloc(0)
let poolAt = 0
const randomFrom = (count: number): Buffer => {
  if (poolAt + count > pool.length) {
    pool = randomBytes(Math.max(8_192, count))
    poolAt = 0
  }
  const bytes = pool.subarray(poolAt, poolAt + count)
  poolAt += count
  return bytes
}

/** `count` new ids at once (one call for the random bytes): the scheduler's attempt ids. */
export const makeMany = (prefix: Prefix, count: number, now: number = Date.now()): Array<string> => {
  const time = `${prefix}_${encodeTime(now)}`
  // One buffer of random bytes mapped to the alphabet in place, then cut into ids: no per-character strings.
  const random = randomFrom(16 * count)
  const bytes = Buffer.allocUnsafe(random.length)
  for (let i = 0; i < random.length; i++) bytes[i] = alphabetCodes[random[i]! % 32]!
  const text = bytes.toString("latin1")
  return Array.from({ length: count }, (_, i) => time + text.slice(16 * i, 16 * i + 16))
}

const alphabetCodes = Uint8Array.from(alphabet, (c) => c.charCodeAt(0))
