/**
 * Media bytes that are what they say: random content behind a real header,
 * because the kit's `MediaSource` judges the type from the bytes.
 */
import { randomBytes } from "node:crypto"

const stamp = (size: number, header: ReadonlyArray<number> | Uint8Array): Uint8Array => {
  const bytes = new Uint8Array(randomBytes(size))
  bytes.set(header.slice(0, size))
  return bytes
}

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0))
const u32be = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]

/** A PNG header (signature + IHDR of 64×64) followed by random bytes. */
export const png = (size: number): Uint8Array =>
  stamp(size, [0x89, ...ascii("PNG\r\n\x1a\n"), ...u32be(13), ...ascii("IHDR"), ...u32be(64), ...u32be(64)])

/** A JPEG start (SOI + APP0) followed by random bytes. */
export const jpeg = (size: number): Uint8Array => stamp(size, [0xff, 0xd8, 0xff, 0xe0])

/** A GIF89a header (64×64) followed by random bytes. */
export const gif = (size: number): Uint8Array => stamp(size, [...ascii("GIF89a"), 64, 0, 64, 0])

/** An MP4 `ftyp` box (brand isom) followed by random bytes. */
export const mp4 = (size: number): Uint8Array => stamp(size, [...u32be(16), ...ascii("ftypisom"), 0, 0, 2, 0])
