/**
 * Media bytes that are what they say, for tests: a real header of the type
 * (what the kit's `Sniff`, `MediaSource` and `FakeMedia` judge, as real
 * services do), then filler. Deterministic for a given seed, so two samples
 * of the same seed are the same file and of different seeds differ.
 *
 * @example
 * const photo = Samples.png(300_000)            // a 300 KB "PNG" of 64×64
 * const clip = Samples.of("video/mp4", 5_000_000, 7)
 */

const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0))
const u32be = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
const u32le = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff]
const u16be = (n: number) => [(n >>> 8) & 0xff, n & 0xff]

/** `size` pseudo-random bytes (a linear congruential sequence from `seed`). */
export const filler = (size: number, seed = 1): Uint8Array => {
  const data = new Uint8Array(size)
  let state = (seed * 2654435761) >>> 0 || 1
  for (let index = 0; index < size; index++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff
    data[index] = state >>> 16 & 0xff
  }
  return data
}

const stamp = (size: number, header: ReadonlyArray<number>, seed: number): Uint8Array => {
  const bytes = filler(size, seed)
  bytes.set(header.slice(0, size))
  return bytes
}

/** Headers by type: PNG/JPEG/GIF/WebP carry dimensions (`width`×`height`). */
const headers = (width: number, height: number): Readonly<Record<string, ReadonlyArray<number>>> => ({
  "image/png": [0x89, ...ascii("PNG\r\n\x1a\n"), ...u32be(13), ...ascii("IHDR"), ...u32be(width), ...u32be(height), 8, 6, 0, 0, 0],
  "image/jpeg": [0xff, 0xd8, 0xff, 0xe0, ...u16be(16), ...ascii("JFIF\0"), 1, 1, 0, 0, 1, 0, 1, 0, 0, 0xff, 0xc0, ...u16be(17), 8, ...u16be(height), ...u16be(width), 3],
  "image/gif": [...ascii("GIF89a"), width & 0xff, width >>> 8, height & 0xff, height >>> 8],
  "image/webp": [...ascii("RIFF"), ...u32le(0), ...ascii("WEBPVP8X"), ...u32le(10), 0, 0, 0, 0, ...u32le(width - 1).slice(0, 3), ...u32le(height - 1).slice(0, 3)],
  "video/mp4": [...u32be(24), ...ascii("ftypisom"), 0, 0, 2, 0, ...ascii("isomiso2")],
  "video/quicktime": [...u32be(20), ...ascii("ftypqt  "), 0, 0, 2, 0, ...ascii("qt  ")],
  "application/pdf": ascii("%PDF-1.7\n")
})

/** The types `of` can make. */
export const types: ReadonlyArray<string> = Object.keys(headers(1, 1))

/**
 * A `moov` box holding only an `mvhd` (ISO/IEC 14496-12 §8.2.2, version 0):
 * the movie's duration, as players and platforms read it, at timescale 1000.
 */
const moov = (durationSeconds: number): Array<number> => {
  const timescale = 1000
  const mvhd = [
    ...u32be(108), ...ascii("mvhd"), 0, 0, 0, 0, // version 0, flags
    ...u32be(0), ...u32be(0), // creation, modification
    ...u32be(timescale), ...u32be(Math.round(durationSeconds * timescale)),
    0, 1, 0, 0, 1, 0, ...new Array<number>(10).fill(0), // rate 1.0, volume 1.0, reserved
    ...u32be(0x10000), ...u32be(0), ...u32be(0), ...u32be(0), ...u32be(0x10000), ...u32be(0), ...u32be(0), ...u32be(0), ...u32be(0x40000000), // unity matrix
    ...new Array<number>(24).fill(0), ...u32be(2) // pre-defined, next track id
  ]
  return [...u32be(8 + mvhd.length), ...ascii("moov"), ...mvhd]
}

/**
 * A sample of `mimeType` (one of `types`) of `size` bytes. A video given
 * `durationSeconds` carries it in a `moov`/`mvhd` box after its `ftyp`
 * (`FakeMedia.durationSeconds` reads it), so fakes can check durations by
 * the bytes.
 */
export const of = (
  mimeType: string,
  size: number,
  seed = 1,
  dims: { readonly width: number; readonly height: number; readonly durationSeconds?: number | undefined } = { width: 64, height: 64 }
): Uint8Array => {
  const header = headers(dims.width, dims.height)[mimeType]
  if (header === undefined) throw new Error(`Samples.of: no sample for ${mimeType} (known: ${types.join(", ")})`)
  const withDuration = dims.durationSeconds !== undefined && (mimeType === "video/mp4" || mimeType === "video/quicktime")
    ? [...header, ...moov(dims.durationSeconds)]
    : header
  return stamp(size, withDuration, seed)
}

export const png = (size: number, seed = 1): Uint8Array => of("image/png", size, seed)
export const jpeg = (size: number, seed = 1): Uint8Array => of("image/jpeg", size, seed)
export const gif = (size: number, seed = 1): Uint8Array => of("image/gif", size, seed)
export const webp = (size: number, seed = 1): Uint8Array => of("image/webp", size, seed)
export const mp4 = (size: number, seed = 1): Uint8Array => of("video/mp4", size, seed)
export const pdf = (size: number, seed = 1): Uint8Array => of("application/pdf", size, seed)
