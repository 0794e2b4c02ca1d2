/**
 * File types from their first bytes (magic numbers), and image dimensions
 * from their headers, so a file is what its bytes say rather than what its
 * declared Content-Type claims. Platforms sniff too (Bluesky's `uploadBlob`
 * answers the type it found, X refuses a video declared as an image), so a
 * mismatch is found here, before anything is posted. Dimensions come from
 * `image-size`; the type table below is ours, synchronous over the first 64
 * bytes (see the kit README for why not `file-type`).
 *
 * @example
 * const found = Sniff.sniff(head)            // { mimeType: "image/png", kind: "image", width, height }
 * Sniff.judge(head, "image/jpeg")            // { _tag: "Mismatch", declared: "image/jpeg", actual: "image/png" }
 */
import { imageSize } from "image-size"

/** What the bytes are. */
export interface Sniffed {
  readonly mimeType: string
  readonly kind: "image" | "video" | "gif" | "document"
  /** As displayed: after the EXIF orientation (5-8 swap width and height). */
  readonly width?: number | undefined
  readonly height?: number | undefined
  /** The EXIF orientation (1-8) when the image has one. */
  readonly orientation?: number | undefined
}

/** How many leading bytes `sniff` wants for dimensions (a JPEG's frame header may sit after large EXIF blocks). */
export const sniffBytes = 256 * 1024

/** How many leading bytes decide the type (every supported signature, ftyp brands and EBML DocType fit). */
export const typeBytes = 64

/** The types `sniff` recognises, for messages ("supported: JPEG, PNG, …"). */
export const supportedNames: ReadonlyArray<string> = [
  "JPEG", "PNG", "GIF", "WebP", "HEIC/HEIF", "AVIF", "BMP", "TIFF",
  "MP4", "MOV", "3GP", "WebM", "Matroska", "AVI",
  "PDF", "ZIP-based (DOCX, PPTX, XLSX)", "legacy Office (DOC, PPT, XLS)"
]

const ascii = (b: Uint8Array, offset: number, text: string) => {
  if (b.length < offset + text.length) return false
  for (let i = 0; i < text.length; i++) if (b[offset + i] !== text.charCodeAt(i)) return false
  return true
}
const startsWith = (b: Uint8Array, bytes: ReadonlyArray<number>, offset = 0) =>
  b.length >= offset + bytes.length && bytes.every((v, i) => b[offset + i] === v)

const u32be = (b: Uint8Array, o: number) => ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!
const u32le = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16)) + ((b[o + 3]! << 24) >>> 0)

/**
 * An image's dimensions as it is displayed, by `image-size` (JPEG with its
 * EXIF orientation, PNG, GIF, WebP, BMP, TIFF, HEIF/AVIF): an orientation
 * of 5 to 8 turns the picture a quarter, so a portrait phone photo stored
 * landscape reports its portrait size. Undefined when the head does not
 * hold them (a truncated header, a JPEG whose frame header lies past it).
 */
const dimensions = (b: Uint8Array): { width: number; height: number; orientation?: number } | undefined => {
  try {
    const size = imageSize(b)
    if (size.width === undefined || size.height === undefined) return undefined
    const orientation = size.orientation
    const turned = orientation !== undefined && orientation >= 5 && orientation <= 8
    return {
      width: turned ? size.height : size.width,
      height: turned ? size.width : size.height,
      ...(orientation !== undefined ? { orientation } : {})
    }
  } catch {
    return undefined
  }
}

const brandAt = (b: Uint8Array, o: number) => String.fromCharCode(b[o] ?? 0, b[o + 1] ?? 0, b[o + 2] ?? 0, b[o + 3] ?? 0)

const heicBrands = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs"])
const avifBrands = new Set(["avif", "avis"])
const audioBrands = new Set(["M4A ", "M4B ", "M4P ", "F4A ", "F4B "])

/** ISO base media files (MP4, MOV, 3GP, HEIF, AVIF) by their `ftyp` major and compatible brands. */
const isoMedia = (b: Uint8Array): Sniffed | undefined => {
  const major = brandAt(b, 8)
  const boxEnd = Math.min(b.length, Math.max(16, u32be(b, 0)))
  const brands = new Set([major])
  for (let o = 16; o + 4 <= boxEnd; o += 4) brands.add(brandAt(b, o))
  const has = (set: ReadonlySet<string>) => [...brands].some((brand) => set.has(brand))
  if (avifBrands.has(major) || ((major === "mif1" || major === "msf1") && has(avifBrands))) {
    return { mimeType: "image/avif", kind: "image" }
  }
  if (heicBrands.has(major) || ((major === "mif1" || major === "msf1") && has(heicBrands))) {
    return { mimeType: "image/heic", kind: "image" }
  }
  if (major === "mif1" || major === "msf1") return { mimeType: "image/heif", kind: "image" }
  if (major === "qt  ") return { mimeType: "video/quicktime", kind: "video" }
  if (major.startsWith("3g2")) return { mimeType: "video/3gpp2", kind: "video" }
  if (major.startsWith("3gp")) return { mimeType: "video/3gpp", kind: "video" }
  if (audioBrands.has(major)) return undefined
  return { mimeType: "video/mp4", kind: "video" }
}

/** EBML (Matroska, WebM): the DocType element (0x4282) names which. */
const ebml = (b: Uint8Array): Sniffed => {
  for (let o = 4; o + 3 < Math.min(b.length, typeBytes); o++) {
    if (b[o] === 0x42 && b[o + 1] === 0x82) {
      const size = b[o + 2]! & 0x7f // a one-byte vint: "webm" and "matroska" are short
      if (ascii(b, o + 3, "matroska") && size >= 8) return { mimeType: "video/x-matroska", kind: "video" }
      break
    }
  }
  return { mimeType: "video/webm", kind: "video" }
}

// QuickTime files from before `ftyp` start with one of these atoms.
const legacyQuickTimeAtoms = ["moov", "mdat", "wide", "free", "skip", "pnot"]
const bmpHeaderSizes = new Set([12, 40, 52, 56, 64, 108, 124])

/** The type of a file from its first bytes (with an image's displayed dimensions), or undefined when it is none of the supported types. */
export const sniff = (b: Uint8Array): Sniffed | undefined => {
  const found = sniffType(b)
  return found !== undefined && (found.kind === "image" || found.kind === "gif") ? { ...found, ...dimensions(b) } : found
}

const sniffType = (b: Uint8Array): Sniffed | undefined => {
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { mimeType: "image/jpeg", kind: "image" }
  if (b.length >= 24 && b[0] === 0x89 && ascii(b, 1, "PNG\r\n\x1a\n")) return { mimeType: "image/png", kind: "image" }
  if (ascii(b, 0, "GIF87a") || ascii(b, 0, "GIF89a")) return { mimeType: "image/gif", kind: "gif" }
  if (ascii(b, 0, "RIFF") && ascii(b, 8, "WEBP")) return { mimeType: "image/webp", kind: "image" }
  if (ascii(b, 0, "RIFF") && ascii(b, 8, "AVI ")) return { mimeType: "video/x-msvideo", kind: "video" }
  if (ascii(b, 4, "ftyp")) return isoMedia(b)
  if (b.length >= 8 && legacyQuickTimeAtoms.some((atom) => ascii(b, 4, atom))) {
    return { mimeType: "video/quicktime", kind: "video" }
  }
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) return ebml(b)
  if (ascii(b, 0, "%PDF-")) return { mimeType: "application/pdf", kind: "document" }
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04])) return { mimeType: "application/zip", kind: "document" }
  if (startsWith(b, [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])) {
    return { mimeType: "application/x-cfb", kind: "document" }
  }
  if (ascii(b, 0, "II*\0") || ascii(b, 0, "MM\0*")) return { mimeType: "image/tiff", kind: "image" }
  if (ascii(b, 0, "BM") && b.length >= 26 && bmpHeaderSizes.has(u32le(b, 14))) return { mimeType: "image/bmp", kind: "image" }
  return undefined
}

/** Other names of a type, as declared by browsers and HTTP servers. */
const aliases: Readonly<Record<string, string>> = {
  "image/jpg": "image/jpeg",
  "image/pjpeg": "image/jpeg",
  "image/x-png": "image/png",
  "image/heic-sequence": "image/heic",
  "image/heif-sequence": "image/heif",
  "image/avif-sequence": "image/avif",
  "image/x-ms-bmp": "image/bmp",
  "video/mov": "video/quicktime",
  "video/x-quicktime": "video/quicktime",
  "video/x-m4v": "video/mp4",
  "video/m4v": "video/mp4",
  "video/avi": "video/x-msvideo",
  "video/msvideo": "video/x-msvideo",
  "video/mkv": "video/x-matroska",
  "application/x-zip-compressed": "application/zip"
}

/** The declared type without parameters, lower case, with aliases resolved; `undefined` when it says nothing specific. */
export const normalizeDeclared = (declared: string | undefined): string | undefined => {
  const d = (declared ?? "").split(";")[0]!.trim().toLowerCase()
  if (d === "" || d === "application/octet-stream" || d === "binary/octet-stream" || d.endsWith("/*")) return undefined
  return aliases[d] ?? d
}

/**
 * Containers whose sniffed type is a family: a ZIP is a DOCX when declared so
 * (Office Open XML is ZIP), an OLE compound file a DOC/PPT/XLS.
 */
const refines = (declared: string, detected: string) =>
  // HEIC is HEIF with HEVC images; files and servers use either name.
  (declared === "image/heif" && detected === "image/heic") || (declared === "image/heic" && detected === "image/heif") ||
  (detected === "application/zip" && declared.startsWith("application/vnd.openxmlformats-officedocument.")) ||
  (detected === "application/x-cfb" &&
    (declared === "application/msword" || declared === "application/vnd.ms-powerpoint" || declared === "application/vnd.ms-excel"))

/**
 * Whether a declared Content-Type contradicts the detected one. Generic
 * declarations (`application/octet-stream`, none, wildcards) never do; a
 * specific one must name the same type (`image/jpg` counts as `image/jpeg`),
 * or a refinement of a container (a DOCX of a ZIP).
 */
export const contradicts = (declared: string | undefined, detected: string): boolean => {
  const d = normalizeDeclared(declared)
  return d !== undefined && d !== detected && !refines(d, detected)
}

/** Types `sniff` can confirm: a file declared as one of these whose bytes are unrecognisable is not what it claims. */
const sniffable = new Set([
  "image/jpeg", "image/png", "image/gif", "image/webp", "image/heic", "image/heif", "image/avif", "image/bmp", "image/tiff",
  "video/mp4", "video/quicktime", "video/3gpp", "video/3gpp2", "video/webm", "video/x-matroska", "video/x-msvideo",
  "application/pdf", "application/zip"
])

/** The verdict on a file's first bytes against its declared type. */
export type Verdict =
  /** The bytes are a known type that agrees with the declaration; `mimeType` is the one to use (the declared refinement, else the sniffed). */
  | { readonly _tag: "Match"; readonly sniffed: Sniffed; readonly mimeType: string }
  /** The bytes are not what was declared. */
  | { readonly _tag: "Mismatch"; readonly declared: string; readonly actual: string | undefined }
  /** The bytes are of no known type and the declared type cannot be checked (`mimeType` is the declared one, if any). */
  | { readonly _tag: "Unknown"; readonly mimeType: string | undefined }

/** Judges `head` (at least `typeBytes`, or the whole file if shorter) against a declared type. */
export const judge = (head: Uint8Array, declared: string | undefined): Verdict => {
  const found = sniff(head)
  const d = normalizeDeclared(declared)
  if (found === undefined) {
    return d !== undefined && sniffable.has(d)
      ? { _tag: "Mismatch", declared: d, actual: undefined }
      : { _tag: "Unknown", mimeType: d }
  }
  if (d !== undefined && d !== found.mimeType) {
    return refines(d, found.mimeType)
      ? { _tag: "Match", sniffed: found, mimeType: d }
      : { _tag: "Mismatch", declared: d, actual: found.mimeType }
  }
  return { _tag: "Match", sniffed: found, mimeType: found.mimeType }
}
