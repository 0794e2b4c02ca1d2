/**
 * File type detection from the first bytes (magic numbers), and image
 * dimensions from the headers, so a file is what its bytes say rather than
 * what its declared Content-Type claims.
 */
export interface Sniffed {
  readonly mimeType: string
  readonly kind: "image" | "video" | "gif" | "document"
  readonly width?: number | undefined
  readonly height?: number | undefined
}

/** How many leading bytes `sniff` wants (JPEG dimensions may sit after large EXIF blocks). */
export const sniffBytes = 256 * 1024

const ascii = (b: Uint8Array, offset: number, text: string) => {
  if (b.length < offset + text.length) return false
  for (let i = 0; i < text.length; i++) if (b[offset + i] !== text.charCodeAt(i)) return false
  return true
}

const u16be = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!
const u16le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8)
const u24le = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)
const u32be = (b: Uint8Array, o: number) => ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!

const jpegSize = (b: Uint8Array): { width: number; height: number } | undefined => {
  let o = 2
  while (o + 9 < b.length) {
    if (b[o] !== 0xff) return undefined
    const marker = b[o + 1]!
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      o += 2
      continue
    }
    const length = u16be(b, o + 2)
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: u16be(b, o + 5), width: u16be(b, o + 7) }
    }
    o += 2 + length
  }
  return undefined
}

const webpSize = (b: Uint8Array): { width: number; height: number } | undefined => {
  if (ascii(b, 12, "VP8X") && b.length >= 30) return { width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 }
  if (ascii(b, 12, "VP8L") && b.length >= 25) {
    const bits = b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)
    return { width: (bits & 0x3fff) + 1, height: ((bits >> 14) & 0x3fff) + 1 }
  }
  if (ascii(b, 12, "VP8 ") && b.length >= 30) return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff }
  return undefined
}

/** The type of a file from its first bytes, or undefined when it is none of the supported types. */
export const sniff = (b: Uint8Array): Sniffed | undefined => {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    return { mimeType: "image/jpeg", kind: "image", ...jpegSize(b) }
  }
  if (b.length >= 24 && b[0] === 0x89 && ascii(b, 1, "PNG\r\n\x1a\n")) {
    return { mimeType: "image/png", kind: "image", width: u32be(b, 16), height: u32be(b, 20) }
  }
  if (ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a")) {
    return { mimeType: "image/gif", kind: "gif", ...(b.length >= 10 ? { width: u16le(b, 6), height: u16le(b, 8) } : {}) }
  }
  if (ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP")) return { mimeType: "image/webp", kind: "image", ...webpSize(b) }
  if (ascii(b, 4, "ftyp")) {
    const brand = String.fromCharCode(b[8] ?? 0, b[9] ?? 0, b[10] ?? 0, b[11] ?? 0)
    if (brand === "qt  ") return { mimeType: "video/quicktime", kind: "video" }
    if (brand.startsWith("heic") || brand === "mif1" || brand === "heix") return { mimeType: "image/heic", kind: "image" }
    return { mimeType: "video/mp4", kind: "video" }
  }
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) {
    return { mimeType: "video/webm", kind: "video" }
  }
  if (ascii(b, 0, "%PDF-")) return { mimeType: "application/pdf", kind: "document" }
  return undefined
}

/**
 * Whether a declared Content-Type contradicts the detected one. Generic
 * declarations (`application/octet-stream`, none, wildcards) never do; a
 * specific one must name the same type (`image/jpg` counts as `image/jpeg`).
 */
export const contradicts = (declared: string | undefined, detected: string): boolean => {
  const d = (declared ?? "").split(";")[0]!.trim().toLowerCase()
  if (d === "" || d === "application/octet-stream" || d.endsWith("/*") || d === "binary/octet-stream") return false
  const normal = d === "image/jpg" ? "image/jpeg" : d === "video/mov" ? "video/quicktime" : d
  return normal !== detected
}
