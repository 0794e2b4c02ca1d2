/** File types from their first bytes, one row per type, and the declared-type rules. */
import { assert, describe, it } from "@effect/vitest"
import { Sniff } from "@omnipost/platform-kit"

const bytes = (...parts: Array<string | ReadonlyArray<number>>) =>
  Uint8Array.from(parts.flatMap((p) => typeof p === "string" ? [...Buffer.from(p, "latin1")] : [...p]))
const pad = (b: Uint8Array, length = 64) => {
  const out = new Uint8Array(Math.max(length, b.length))
  out.set(b)
  return out
}

const be16 = (n: number) => [n >> 8, n & 255]
const le16 = (n: number) => [n & 255, n >> 8]
const be32 = (n: number) => [n >>> 24, (n >> 16) & 255, (n >> 8) & 255, n & 255]
const le32 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255, (n >>> 24) & 255]
const le24 = (n: number) => [n & 255, (n >> 8) & 255, (n >> 16) & 255]
/** An `ftyp` box: size, "ftyp", major brand, minor version, compatible brands. */
const ftyp = (major: string, ...compatible: Array<string>) =>
  bytes(be32(16 + 4 * compatible.length), "ftyp", major, [0, 0, 0, 0], ...compatible)

describe("Sniff.sniff", () => {
  const rows: ReadonlyArray<readonly [string, Uint8Array, string | undefined, string | undefined, number?, number?]> = [
    // JPEG: SOI, an APP0 segment, then SOF0 with height 480 and width 640.
    ["jpeg", pad(bytes([0xff, 0xd8, 0xff, 0xe0], be16(16), "JFIF\0", new Array(9).fill(0), [0xff, 0xc0], be16(17), [8], be16(480), be16(640))), "image/jpeg", "image", 640, 480],
    ["png", pad(bytes([0x89], "PNG\r\n\x1a\n", be32(13), "IHDR", be32(1920), be32(1080))), "image/png", "image", 1920, 1080],
    ["gif", pad(bytes("GIF89a", le16(320), le16(200))), "image/gif", "gif", 320, 200],
    ["gif87a", pad(bytes("GIF87a", le16(32), le16(20))), "image/gif", "gif", 32, 20],
    ["webp (VP8X)", pad(bytes("RIFF", [0, 0, 0, 0], "WEBP", "VP8X", [10, 0, 0, 0], [0, 0, 0, 0], le24(799), le24(599))), "image/webp", "image", 800, 600],
    ["avi", pad(bytes("RIFF", [0, 0, 0, 0], "AVI LIST")), "video/x-msvideo", "video"],
    ["wav (not media we post)", pad(bytes("RIFF", [0, 0, 0, 0], "WAVEfmt ")), undefined, undefined],
    ["mp4 (isom)", pad(ftyp("isom", "isom", "iso2", "avc1", "mp41")), "video/mp4", "video"],
    ["mp4 (mp42)", pad(ftyp("mp42", "mp42", "isom")), "video/mp4", "video"],
    ["m4v", pad(ftyp("M4V ", "M4V ", "mp42")), "video/mp4", "video"],
    ["m4a (audio)", pad(ftyp("M4A ", "M4A ", "mp42")), undefined, undefined],
    ["mov (ftyp qt)", pad(ftyp("qt  ", "qt  ")), "video/quicktime", "video"],
    ["mov (legacy moov atom)", pad(bytes(be32(108), "moov")), "video/quicktime", "video"],
    ["3gp", pad(ftyp("3gp5", "3gp5", "isom")), "video/3gpp", "video"],
    ["heic", pad(ftyp("heic", "mif1", "heic")), "image/heic", "image"],
    ["heic (mif1 major)", pad(ftyp("mif1", "mif1", "heic")), "image/heic", "image"],
    ["heif (mif1 alone)", pad(ftyp("mif1", "mif1")), "image/heif", "image"],
    ["avif", pad(ftyp("avif", "avif", "mif1", "miaf")), "image/avif", "image"],
    ["avif (mif1 major)", pad(ftyp("mif1", "mif1", "avif")), "image/avif", "image"],
    ["webm", pad(bytes([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84], "webm")), "video/webm", "video"],
    ["webm (no DocType yet)", pad(bytes([0x1a, 0x45, 0xdf, 0xa3])), "video/webm", "video"],
    ["matroska", pad(bytes([0x1a, 0x45, 0xdf, 0xa3, 0xa3, 0x42, 0x82, 0x88], "matroska")), "video/x-matroska", "video"],
    ["pdf", pad(bytes("%PDF-1.7\n")), "application/pdf", "document"],
    ["zip (docx, pptx)", pad(bytes([0x50, 0x4b, 0x03, 0x04, 20, 0], "[Content_Types].xml")), "application/zip", "document"],
    ["ole (doc, ppt)", pad(bytes([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1])), "application/x-cfb", "document"],
    ["tiff (little-endian)", pad(bytes("II*\0", le32(8))), "image/tiff", "image"],
    ["tiff (big-endian)", pad(bytes("MM\0*", be32(8))), "image/tiff", "image"],
    ["bmp", pad(bytes("BM", le32(70), le32(0), le32(54), le32(40), le32(30), le32(-20 >>> 0))), "image/bmp", "image", 30, 20],
    ["bm text is not a bitmap", pad(bytes("BMW owners club newsletter")), undefined, undefined],
    ["text", pad(bytes("hello, I am definitely a picture")), undefined, undefined],
    ["html", pad(bytes("<!doctype html><html><body>admin</body></html>")), undefined, undefined],
    ["empty", new Uint8Array(0), undefined, undefined],
    ["exe", pad(bytes("MZ\x90\x00")), undefined, undefined],
    ["truncated png", bytes([0x89], "PNG"), undefined, undefined]
  ]
  for (const [name, input, mimeType, kind, width, height] of rows) {
    it(`${name}: ${mimeType ?? "unsupported"}`, () => {
      const found = Sniff.sniff(input)
      assert.strictEqual(found?.mimeType, mimeType)
      assert.strictEqual(found?.kind, kind)
      if (width !== undefined) {
        assert.strictEqual(found?.width, width)
        assert.strictEqual(found?.height, height)
      }
    })
  }

  it("every signature is decided within typeBytes", () => {
    const long = pad(ftyp("mif1", "mif1", "miaf", "MA1B", "avif"), 4096)
    assert.strictEqual(Sniff.sniff(long.subarray(0, Sniff.typeBytes))?.mimeType, "image/avif")
  })
})

describe("Sniff.contradicts", () => {
  it("a declared type contradicts only when it is specific and different", () => {
    assert.isFalse(Sniff.contradicts(undefined, "image/png"))
    assert.isFalse(Sniff.contradicts("application/octet-stream", "image/png"))
    assert.isFalse(Sniff.contradicts("image/*", "image/png"))
    assert.isFalse(Sniff.contradicts("image/png; charset=binary", "image/png"))
    assert.isFalse(Sniff.contradicts("IMAGE/PNG", "image/png"))
    assert.isFalse(Sniff.contradicts("image/jpg", "image/jpeg"))
    assert.isFalse(Sniff.contradicts("video/mov", "video/quicktime"))
    assert.isFalse(Sniff.contradicts("image/heif", "image/heic"))
    assert.isFalse(Sniff.contradicts(
      "application/vnd.openxmlformats-officedocument.presentationml.presentation",
      "application/zip"
    ))
    assert.isTrue(Sniff.contradicts("image/jpeg", "image/png"))
    assert.isTrue(Sniff.contradicts("video/mp4", "image/png"))
    assert.isTrue(Sniff.contradicts("video/mp4", "video/quicktime"))
    assert.isTrue(Sniff.contradicts("application/msword", "application/zip"))
  })
})

describe("Sniff.judge", () => {
  const png = pad(bytes([0x89], "PNG\r\n\x1a\n", be32(13), "IHDR", be32(10), be32(10)))
  const html = pad(bytes("<html><body>internal admin</body></html>"))

  it("matches, using the sniffed type when none was declared", () => {
    const verdict = Sniff.judge(png, undefined)
    assert.strictEqual(verdict._tag, "Match")
    assert.strictEqual(verdict._tag === "Match" ? verdict.mimeType : "", "image/png")
  })

  it("a declared refinement of a container is kept", () => {
    const docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    const verdict = Sniff.judge(pad(bytes([0x50, 0x4b, 0x03, 0x04])), docx)
    assert.deepStrictEqual(verdict._tag === "Match" ? verdict.mimeType : verdict._tag, docx)
  })

  it("names declared and actual on a mismatch", () => {
    assert.deepStrictEqual(Sniff.judge(png, "image/jpeg"), { _tag: "Mismatch", declared: "image/jpeg", actual: "image/png" })
  })

  it("bytes of no known type declared as an image are a mismatch (an HTML page is not a JPEG)", () => {
    assert.deepStrictEqual(Sniff.judge(html, "image/jpeg"), { _tag: "Mismatch", declared: "image/jpeg", actual: undefined })
  })

  it("a declared type sniffing cannot confirm is unknown, not refused", () => {
    assert.deepStrictEqual(Sniff.judge(html, "text/html; charset=utf-8"), { _tag: "Unknown", mimeType: "text/html" })
    assert.deepStrictEqual(Sniff.judge(html, undefined), { _tag: "Unknown", mimeType: undefined })
  })
})

describe("Sniff.sniff: dimensions as displayed (image-size)", () => {
  /** A JPEG whose APP1 EXIF block says `orientation`, then SOF0 with the stored 640 x 480. */
  const exifJpeg = (orientation: number) => {
    // TIFF header (big endian), IFD0 at 8 with one entry: 0x0112 Orientation, SHORT, count 1, the value; no next IFD.
    const tiff = bytes("MM", be16(42), be32(8), be16(1), be16(0x0112), be16(3), be32(1), be16(orientation), [0, 0], be32(0))
    const app1 = bytes([0xff, 0xe1], be16(2 + 6 + tiff.length), "Exif\0\0", [...tiff])
    return pad(bytes([0xff, 0xd8], [...app1], [0xff, 0xc0], be16(17), [8], be16(480), be16(640), [3], new Array(9).fill(0), [0xff, 0xd9]))
  }

  it("a portrait phone photo (EXIF orientation 6 or 8) reports its portrait size; 1 to 4 keep the stored one", () => {
    for (const orientation of [6, 8, 5, 7]) {
      const found = Sniff.sniff(exifJpeg(orientation))
      assert.deepStrictEqual([found?.width, found?.height, found?.orientation], [480, 640, orientation], `orientation ${orientation}`)
    }
    for (const orientation of [1, 3]) {
      const found = Sniff.sniff(exifJpeg(orientation))
      assert.deepStrictEqual([found?.width, found?.height, found?.orientation], [640, 480, orientation], `orientation ${orientation}`)
    }
  })

  it("a head too short for the frame header gives the type without dimensions, never a throw", () => {
    const head = exifJpeg(6).subarray(0, 40)
    const found = Sniff.sniff(head)
    assert.strictEqual(found?.mimeType, "image/jpeg")
    assert.isUndefined(found?.width)
  })
})
