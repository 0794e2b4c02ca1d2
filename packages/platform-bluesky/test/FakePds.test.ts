/**
 * The fake behaves as the reference PDS (`@atproto/pds` from npm) did when the
 * publisher was tried against it: each test names the reference behaviour it
 * models (file paths in bluesky-social/atproto; see the README's "What we
 * looked up, and where").
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { rawXrpc } from "./fixtures.js"

let fake: FakeBlueskyServer
let accessJwt: string
let did: string

const xrpc = (nsid: string, init: Parameters<typeof rawXrpc>[2] = {}) => rawXrpc(fake.url, nsid, init)

const serviceToken = async (aud: string, lxm?: string) => {
  const answer = await xrpc("com.atproto.server.getServiceAuth", {
    token: accessJwt,
    query: { aud, ...(lxm !== undefined ? { lxm } : {}), exp: String(Math.floor(Date.now() / 1000) + 60) }
  })
  assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
  return answer.body.token as string
}

const uploadVideo = (token: string, size = 2048, fill = 1) =>
  rawXrpc(fake.videoUrl, "app.bsky.video.uploadVideo", {
    token,
    query: { did, name: "a.mp4" },
    body: new Uint8Array(size).fill(fill),
    contentType: "video/mp4"
  })

const createRecord = (record: Record<string, unknown>) =>
  xrpc("com.atproto.repo.createRecord", { token: accessJwt, json: { repo: did, collection: "app.bsky.feed.post", record } })

const post = (fields: Record<string, unknown> = {}) => ({
  $type: "app.bsky.feed.post",
  text: "hello",
  createdAt: new Date().toISOString(),
  ...fields
})

beforeAll(async () => {
  fake = await FakeBlueskyServer.start({ videoProcessingPolls: 0 })
  const session = await xrpc("com.atproto.server.createSession", {
    json: { identifier: "alice.bsky.social", password: "alic-eapp-pass-word" }
  })
  accessJwt = session.body.accessJwt
  did = session.body.did
})

afterAll(() => fake.close())

describe("service auth, as the PDS checks it (pds/src/auth-verifier.ts verifyServiceJwt)", () => {
  it("the PDS's service DID is did:web of its host name, without the port (pds/src/config/config.ts)", () => {
    assert.strictEqual(fake.serviceDid, `did:web:${new URL(fake.url).hostname}`)
    assert.notInclude(fake.serviceDid, "%3A")
  })

  it("an upload token whose audience carries the port is refused: BadJwtAudience", async () => {
    const host = new URL(fake.url).host
    for (const aud of [`did:web:${host.replace(":", "%3A")}`, "did:web:elsewhere.example"]) {
      const answer = await uploadVideo(await serviceToken(aud, "com.atproto.repo.uploadBlob"))
      assert.deepStrictEqual([answer.status, answer.body.error], [401, "BadJwtAudience"], aud)
    }
  })

  it("an upload token for another method, or for none, is refused: BadJwtLexiconMethod", async () => {
    const other = await uploadVideo(await serviceToken(fake.serviceDid, "com.atproto.repo.createRecord"))
    assert.deepStrictEqual([other.status, other.body.error], [401, "BadJwtLexiconMethod"])
    assert.match(other.body.message, /must match: com\.atproto\.repo\.uploadBlob/)
    const none = await uploadVideo(await serviceToken(fake.serviceDid))
    assert.deepStrictEqual([none.status, none.body.error], [401, "BadJwtLexiconMethod"])
    assert.match(none.body.message, /missing jwt lexicon method/)
  })

  it("an access token is no service token: BadJwtType", async () => {
    const answer = await uploadVideo(accessJwt)
    assert.deepStrictEqual([answer.status, answer.body.error], [401, "BadJwtType"])
  })

  it("a token for the PDS's DID and uploadBlob is taken by the video service and by uploadBlob itself", async () => {
    const token = await serviceToken(fake.serviceDid, "com.atproto.repo.uploadBlob")
    const job = await uploadVideo(token, 4096, 3)
    assert.strictEqual(job.status, 200, JSON.stringify(job.body))
    // authorizationOrUserServiceAuth: a token with an lxm claim is checked as a service token.
    const blob = await xrpc("com.atproto.repo.uploadBlob", { token, body: new Uint8Array(10).fill(4), contentType: "image/png" })
    assert.strictEqual(blob.status, 200, JSON.stringify(blob.body))
    const wrongMethod = await xrpc("com.atproto.repo.uploadBlob", {
      token: await serviceToken(fake.serviceDid, "app.bsky.video.uploadVideo"),
      body: new Uint8Array(10),
      contentType: "image/png"
    })
    assert.deepStrictEqual([wrongMethod.status, wrongMethod.body.error], [401, "BadJwtLexiconMethod"])
  })

  it("getUploadLimits wants a token for the video service's DID and its own method (social-app upload.shared.ts)", async () => {
    const limits = (token: string) => rawXrpc(fake.videoUrl, "app.bsky.video.getUploadLimits", { token })
    const good = await limits(await serviceToken(fake.videoServiceDid, "app.bsky.video.getUploadLimits"))
    assert.deepStrictEqual([good.status, good.body.canUpload], [200, true])
    const pdsAudience = await limits(await serviceToken(fake.serviceDid, "app.bsky.video.getUploadLimits"))
    assert.deepStrictEqual([pdsAudience.status, pdsAudience.body.error], [401, "BadJwtAudience"])
    const uploadMethod = await limits(await serviceToken(fake.videoServiceDid, "com.atproto.repo.uploadBlob"))
    assert.deepStrictEqual([uploadMethod.status, uploadMethod.body.error], [401, "BadJwtLexiconMethod"])
  })
})

describe("blob limits, where the PDS applies them", () => {
  it("uploadBlob takes an image over the embed's limit; the record that embeds it is refused (lexicon app.bsky.embed.images maxSize 2,000,000)", async () => {
    const upload = (size: number) =>
      xrpc("com.atproto.repo.uploadBlob", { token: accessJwt, body: new Uint8Array(size).fill(9), contentType: "image/jpeg" })
    const atCap = await upload(2_000_000)
    const over = await upload(2_000_001)
    assert.deepStrictEqual([atCap.status, over.status], [200, 200])
    const embed = (blob: unknown) => ({ $type: "app.bsky.embed.images", images: [{ image: blob, alt: "" }] })
    const accepted = await createRecord(post({ embed: embed(atCap.body.blob) }))
    assert.strictEqual(accepted.status, 200, JSON.stringify(accepted.body))
    const refused = await createRecord(post({ embed: embed(over.body.blob) }))
    assert.deepStrictEqual([refused.status, refused.body.error], [400, "InvalidRequest"])
    assert.match(refused.body.message, /blob too big \(maximum 2000000, got 2000001\)/)
  })

  it("uploadBlob refuses a body over the PDS's upload limit with 413 PayloadTooLarge (xrpc-server)", async () => {
    const small = await FakeBlueskyServer.start({ maxBlobBytes: 1000 })
    try {
      const session = await rawXrpc(small.url, "com.atproto.server.createSession", {
        json: { identifier: "alice.bsky.social", password: "alic-eapp-pass-word" }
      })
      const over = await rawXrpc(small.url, "com.atproto.repo.uploadBlob", {
        token: session.body.accessJwt,
        body: new Uint8Array(1001),
        contentType: "image/png"
      })
      assert.deepStrictEqual([over.status, over.body.error], [413, "PayloadTooLarge"])
    } finally {
      await small.close()
    }
  })
})

describe("tags, per the lexicons (app.bsky.feed.post tags, app.bsky.richtext.facet#tag)", () => {
  const scotland = "\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}"
  const tagFacet = (text: string, tag: string) => ({
    text,
    facets: [{
      index: { byteStart: 0, byteEnd: Buffer.byteLength(text) },
      features: [{ $type: "app.bsky.richtext.facet#tag", tag }]
    }]
  })

  const cases: ReadonlyArray<readonly [string, Record<string, unknown>, RegExp | undefined]> = [
    ["64 graphemes in tags", { tags: ["a".repeat(64)] }, undefined],
    ["65 graphemes in tags", { tags: ["ok", "a".repeat(65)] }, /grapheme too big \(maximum 64, got 65\)/],
    ["644 bytes in 23 graphemes in tags", { tags: [scotland.repeat(23)] }, /string too big \(maximum 640, got 644\)/],
    ["9 tags", { tags: Array.from({ length: 9 }, (_, i) => `t${i}`) }, /more than 8/],
    ["a facet tag of 64 graphemes", tagFacet(`#${"b".repeat(64)}`, "b".repeat(64)), undefined],
    ["a facet tag of 65 graphemes", tagFacet(`#${"b".repeat(65)}`, "b".repeat(65)), /grapheme too big \(maximum 64, got 65\)/],
    ["a facet tag of 644 bytes", tagFacet(`#${scotland.repeat(23)}`, scotland.repeat(23)), /string too big \(maximum 640, got 644\)/]
  ]
  for (const [name, fields, refusal] of cases) {
    it(`${refusal === undefined ? "accepts" : "refuses"} ${name}`, async () => {
      const answer = await createRecord(post(fields))
      if (refusal === undefined) {
        assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
      } else {
        assert.deepStrictEqual([answer.status, answer.body.error], [400, "InvalidRequest"])
        assert.match(answer.body.message, refusal)
      }
    })
  }
})

describe("uploadBlob's type comes from the bytes (pds/src/actor-store/blob/transactor.ts: sniffed, else the declared type)", () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 8, 0, 0, 0, 6, 8, 6, 0, 0, 0])
  const mp4 = new Uint8Array([0, 0, 0, 0x18, ...Buffer.from("ftypisom"), 0, 0, 2, 0, ...Buffer.from("isomiso2"), 0, 0, 0, 8, ...Buffer.from("free")])
  const pdf = new Uint8Array(Buffer.from("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", "latin1"))
  const unknown = new Uint8Array(64).map((_, index) => (index * 37 + 11) % 251)
  const upload = (body: Uint8Array, contentType: string) =>
    xrpc("com.atproto.repo.uploadBlob", { token: accessJwt, body: new Uint8Array(body), contentType })
  const images = (blob: unknown) => ({ $type: "app.bsky.embed.images", images: [{ image: blob, alt: "" }] })

  it("answers the sniffed type, whatever was declared", async () => {
    const answers = await Promise.all([upload(png, "image/jpeg"), upload(mp4, "image/jpeg"), upload(pdf, "image/png")])
    assert.deepStrictEqual(answers.map((answer) => [answer.status, answer.body.blob.mimeType]), [
      [200, "image/png"],
      [200, "video/mp4"],
      [200, "application/pdf"]
    ])
  })

  it("keeps the declared type when the bytes are of no known type", async () => {
    const answer = await upload(unknown, "image/webp")
    assert.deepStrictEqual([answer.status, answer.body.blob.mimeType], [200, "image/webp"])
  })

  it("a blob whose bytes are not an image cannot be embedded as one (the embed's accept, checked when the record is created)", async () => {
    for (const [body, declared, actual] of [[mp4, "image/jpeg", "video/mp4"], [pdf, "image/png", "application/pdf"]] as const) {
      const blob = (await upload(body, declared)).body.blob
      const refused = await createRecord(post({ embed: images(blob) }))
      assert.deepStrictEqual([refused.status, refused.body.error], [400, "InvalidRequest"])
      assert.include(refused.body.message, `Expected "image/*" (got "${actual}")`)
      // Declaring the type the client thought it sent does not help: the PDS kept the sniffed one.
      const relabelled = await createRecord(post({ embed: images({ ...blob, mimeType: declared }) }))
      assert.deepStrictEqual([relabelled.status, relabelled.body.error], [400, "InvalidMimeType"])
    }
    const pngBlob = (await upload(png, "image/jpeg")).body.blob
    const accepted = await createRecord(post({ embed: images(pngBlob) }))
    assert.strictEqual(accepted.status, 200, JSON.stringify(accepted.body))
  })
})
