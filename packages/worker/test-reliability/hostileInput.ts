/**
 * Hostile requests for `Hostile.test.ts`, as fast-check arbitraries (the raw
 * ones are sent by `test/rawHttp.ts`).
 */
import fc from "fast-check"

/** Strings people and programs send by mistake, and the odd ones. */
export const oddString = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.constantFrom(
    "", " ", "\uD800", "\uDFFF", "\uFEFF", "\u202E", "e\u0301", "ǅ", "ﷺ", "𝕏", "..%2F..%2Fetc%2Fpasswd", "../../etc/passwd",
    "..\\..\\windows\\system32", "%2e%2e%2f", "'; DROP TABLE posts; --", "2027-02-30T10:00:00Z", "2026-13-45", "-1", "1e309",
    "NaN", "null", "true", "[]", "{}", "🏳️‍🌈".repeat(50), "a".repeat(5000), "%", "%zz", "pst_", "acc_", "med_", "whk_", "key_",
    "org_", "grp_", "pst_00000000000000000000000000", "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "file:///etc/passwd"
  )
)

/** JSON text nested `depth` levels. */
const nested = (depth: number, asArray: boolean): string =>
  asArray ? `${"[".repeat(depth)}"x"${"]".repeat(depth)}` : `${"{\"content\":".repeat(depth)}"x"${"}".repeat(depth)}`

/** Shapes close to the API's own bodies, with wrong types and unknown fields mixed in. */
const almostValid = fc.record({
  content: fc.oneof(fc.record({ text: oddString }), oddString, fc.jsonValue({ maxDepth: 2 })),
  destinations: fc.oneof(fc.array(fc.record({ accountId: oddString }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
  scheduledAt: fc.oneof(oddString, fc.integer(), fc.date({ noInvalidDate: true }).map((date) => date.toISOString())),
  name: oddString,
  url: oddString,
  secret: oddString,
  events: fc.array(oddString, { maxLength: 3 }),
  platform: fc.oneof(fc.constantFrom("bluesky", "x", "linkedin", "youtube", "tiktok", "instagram"), oddString),
  credentials: fc.dictionary(oddString, oddString, { maxKeys: 3 }),
  accountIds: fc.array(oddString, { maxLength: 3 }),
  limit: fc.oneof(fc.integer(), oddString),
  __proto__: fc.jsonValue({ maxDepth: 1 }),
  constructor: fc.jsonValue({ maxDepth: 1 })
}, { requiredKeys: [] })

/** JSON bodies as text: any value, near-valid shapes, unknown fields, huge and deep ones, and text that is not JSON. */
export const jsonBody = fc.oneof(
  { arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)), weight: 3 },
  { arbitrary: almostValid.map((value) => JSON.stringify(value)), weight: 4 },
  { arbitrary: fc.dictionary(oddString, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }).map((value) => JSON.stringify(value)), weight: 2 },
  { arbitrary: fc.integer({ min: 10, max: 20_000 }).chain((depth) => fc.boolean().map((asArray) => nested(depth, asArray))), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      JSON.stringify({ content: { text: "x".repeat(300_000) }, destinations: [] }),
      JSON.stringify({ content: { text: "é".repeat(120_000) }, destinations: [{ accountId: "acc_x" }] }),
      JSON.stringify(Array.from({ length: 5000 }, (_, i) => ({ accountId: `acc_${i}` }))),
      JSON.stringify({ url: `https://example.invalid/${"a".repeat(100_000)}`, events: ["post.published"], secret: "s".repeat(50_000) }),
      `{"content":{"text":"${"\\ud800".repeat(2000)}"}}`,
      `{"a":1,"a":2,"a":3}`
    ),
    weight: 1
  },
  { arbitrary: oddString, weight: 2 }
)

/** File names of multipart parts: path traversal, absolute paths, odd Unicode. */
export const fileName = fc.oneof(
  fc.constantFrom(
    "../../../../etc/passwd", "..\\..\\..\\boot.ini", "/etc/shadow", "C:\\Windows\\win.ini", "....//....//x.png", "%2e%2e%2fx.png",
    "a/../../b.png", ".", "..", "", " ", "x.png\u0000.txt", "\u202Egnp.exe", "CON", "a".repeat(5000) + ".png", "ファイル.png",
    "\"quoted\".png", "semi;colon.png", "new\r\nline.png"
  ),
  oddString
)

/** Bytes of a file part: an image's first bytes, random bytes, nothing. */
const fileBytes = fc.oneof(
  fc.constant(Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex")),
  fc.uint8Array({ maxLength: 2000 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.alloc(0))
)

export interface Multipart {
  readonly contentType: string
  readonly body: Buffer
}

/** Multipart bodies, broken in every way a client can break them (and sometimes whole). */
export const multipart: fc.Arbitrary<Multipart> = fc.record({
  boundary: fc.oneof(fc.constant("b0undary"), fc.constantFrom("", "\"quoted\"", "x".repeat(200), "a b"), oddString),
  declared: fc.constantFrom("same", "other", "none"),
  parts: fc.array(
    fc.record({
      name: fc.oneof(fc.constantFrom("file", "files", "fileName", ""), oddString),
      fileName: fc.option(fileName, { nil: undefined }),
      type: fc.option(fc.constantFrom("image/png", "video/mp4", "text/plain", "application/json", "image/*", "x"), { nil: undefined }),
      bytes: fileBytes
    }),
    { maxLength: 3 }
  ),
  ending: fc.constantFrom("closed", "open", "truncated", "garbage")
}).map(({ boundary, declared, parts, ending }) => {
  const chunks: Array<Buffer> = []
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.fileName === undefined ? "" : `; filename="${part.fileName}"`}`
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n`))
    if (part.type !== undefined) chunks.push(Buffer.from(`Content-Type: ${part.type}\r\n`))
    chunks.push(Buffer.from("\r\n"), part.bytes, Buffer.from("\r\n"))
  }
  if (ending === "closed") chunks.push(Buffer.from(`--${boundary}--\r\n`))
  if (ending === "garbage") chunks.push(Buffer.from(`--${boundary}\r\n\r\n\r\n--${boundary}`))
  let body = Buffer.concat(chunks)
  if (ending === "truncated") body = body.subarray(0, Math.floor(body.length / 2))
  const header = declared === "none" ? "" : `; boundary=${declared === "same" ? boundary : "something-else"}`
  return { contentType: `multipart/form-data${header}`, body }
})

export const contentType = fc.constantFrom(
  "application/json", "application/json; charset=utf-16", "application/merge-patch+json", "text/plain", "text/html",
  "application/x-www-form-urlencoded", "multipart/form-data", "application/octet-stream", "image/png", "video/mp4",
  "application/xml", "*/*", "", ";;;", "application/json; boundary=x"
)
