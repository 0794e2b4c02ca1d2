import { Faults } from "@omnipost/platform-kit/testing"
/**
 * The fake itself, driven over raw HTTP with `fetch` through its Promise API
 * (as a user without Effect would): it must refuse what Bluesky refuses, with
 * Bluesky's error bodies, or the publisher tests prove nothing.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"

let fake: FakeBlueskyServer
let accessJwt: string
let refreshJwt: string
let did: string

const xrpc = async (nsid: string, init: { method?: string; token?: string; json?: unknown; body?: Uint8Array<ArrayBuffer>; contentType?: string; query?: Record<string, string>; base?: string } = {}) => {
  const url = new URL(`${init.base ?? fake.url}/xrpc/${nsid}`)
  for (const [key, value] of Object.entries(init.query ?? {})) url.searchParams.set(key, value)
  const response = await fetch(url, {
    method: init.method ?? (init.json !== undefined || init.body !== undefined ? "POST" : "GET"),
    headers: {
      ...(init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.json !== undefined ? { "content-type": "application/json" } : {}),
      ...(init.contentType !== undefined ? { "content-type": init.contentType } : {})
    },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    ...(init.body !== undefined ? { body: init.body } : {})
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> }
}

/** The token with one signature character changed (the first, whose six bits all count). */
const forge = (jwt: string): string => {
  const at = jwt.lastIndexOf(".") + 1
  return `${jwt.slice(0, at)}${jwt[at] === "A" ? "B" : "A"}${jwt.slice(at + 1)}`
}

const createRecord = (record: Record<string, unknown>) =>
  xrpc("com.atproto.repo.createRecord", { token: accessJwt, json: { repo: did, collection: "app.bsky.feed.post", record } })

const post = (fields: Record<string, unknown> = {}) => ({
  $type: "app.bsky.feed.post",
  text: "hello",
  createdAt: new Date().toISOString(),
  ...fields
})

const uploadImage = async (size: number) => {
  const answer = await xrpc("com.atproto.repo.uploadBlob", { token: accessJwt, body: new Uint8Array(size).fill(7), contentType: "image/png" })
  return answer.body.blob as Record<string, unknown>
}

beforeAll(async () => {
  fake = await FakeBlueskyServer.start({ videoProcessingPolls: 0 })
  const session = await xrpc("com.atproto.server.createSession", {
    json: { identifier: "alice.bsky.social", password: "alic-eapp-pass-word" }
  })
  accessJwt = session.body.accessJwt
  refreshJwt = session.body.refreshJwt
  did = session.body.did
})

afterAll(() => fake.close())

describe("FakeBluesky: auth", () => {
  it("issues three-part JWTs, a did:plc DID and a DID document naming the PDS", async () => {
    assert.match(fake.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.strictEqual(accessJwt.split(".").length, 3)
    assert.match(did, /^did:plc:[a-z2-7]{24}$/)
    const session = await xrpc("com.atproto.server.createSession", { json: { identifier: did, password: "alic-eapp-pass-word" } })
    assert.strictEqual(session.body.didDoc.service[0].serviceEndpoint, fake.url)
  })

  it("answers missing, forged and misused tokens with XRPC errors", async () => {
    const valid = await createRecord(post())
    assert.strictEqual(valid.status, 200)
    const none = await xrpc("com.atproto.repo.createRecord", { json: { repo: did, collection: "app.bsky.feed.post", record: post() } })
    assert.deepStrictEqual([none.status, none.body.error], [401, "AuthMissing"])
    assert.isString(none.body.message)
    const forged = await xrpc("com.atproto.repo.createRecord", { token: forge(accessJwt), json: { repo: did, collection: "app.bsky.feed.post", record: post() } })
    assert.deepStrictEqual([forged.status, forged.body.error], [401, "InvalidToken"])
    // The same signature bytes spelled differently (the last character's spare bits): still refused.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    const last = accessJwt[accessJwt.length - 1]!
    const respelled = `${accessJwt.slice(0, -1)}${alphabet[alphabet.indexOf(last) ^ 1]}`
    assert.deepStrictEqual(Buffer.from(respelled.split(".")[2]!, "base64url"), Buffer.from(accessJwt.split(".")[2]!, "base64url"))
    const aliased = await xrpc("com.atproto.repo.createRecord", { token: respelled, json: { repo: did, collection: "app.bsky.feed.post", record: post() } })
    assert.deepStrictEqual([aliased.status, aliased.body.error], [401, "InvalidToken"])
    const wrongScope = await xrpc("com.atproto.repo.createRecord", { token: refreshJwt, json: { repo: did, collection: "app.bsky.feed.post", record: post() } })
    assert.deepStrictEqual([wrongScope.status, wrongScope.body.error], [400, "InvalidToken"])
  })

  it("sends ratelimit headers on every answer, errors included", async () => {
    const ok = await xrpc("com.atproto.identity.resolveHandle", { query: { handle: "alice.bsky.social" } })
    const bad = await xrpc("com.atproto.identity.resolveHandle", { query: { handle: "nobody.example" } })
    for (const answer of [ok, bad]) {
      for (const name of ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy"]) {
        assert.isNotNull(answer.headers.get(name), name)
      }
    }
    assert.deepStrictEqual([bad.status, bad.body.error, bad.body.message], [400, "InvalidRequest", "Unable to resolve handle"])
  })

  it("counts createSession per account in its ratelimit headers", async () => {
    const login = () => xrpc("com.atproto.server.createSession", { json: { identifier: "alice.bsky.social", password: "alic-eapp-pass-word" } })
    const before = Number((await login()).headers.get("ratelimit-remaining"))
    const after = await login()
    assert.strictEqual(Number(after.headers.get("ratelimit-remaining")), before - 1)
    assert.strictEqual(after.headers.get("ratelimit-policy"), "30;w=300")
  })

  it("a refresh token works once", async () => {
    const session = await xrpc("com.atproto.server.createSession", { json: { identifier: "alice.bsky.social", password: "alic-eapp-pass-word" } })
    const first = await xrpc("com.atproto.server.refreshSession", { method: "POST", token: session.body.refreshJwt })
    assert.strictEqual(first.status, 200)
    const again = await xrpc("com.atproto.server.refreshSession", { method: "POST", token: session.body.refreshJwt })
    assert.deepStrictEqual([again.status, again.body.error], [400, "ExpiredToken"])
  })
})

describe("FakeBluesky: createRecord lexicon checks", () => {
  const refusals: ReadonlyArray<readonly [string, () => Promise<Record<string, unknown>>, RegExp]> = [
    ["301 graphemes", async () => post({ text: "a".repeat(301) }), /300 graphemes/],
    ["3001 bytes in 1001 graphemes", async () => post({ text: "€".repeat(1001) }), /3000/],
    ["no createdAt", async () => ({ $type: "app.bsky.feed.post", text: "x" }), /createdAt/],
    ["a facet past the end of the text", async () => post({ text: "hi #x", facets: [{ index: { byteStart: 3, byteEnd: 6 }, features: [{ $type: "app.bsky.richtext.facet#tag", tag: "x" }] }] }), /outside the text/],
    ["a facet starting after it ends", async () => post({ facets: [{ index: { byteStart: 3, byteEnd: 2 }, features: [{ $type: "app.bsky.richtext.facet#tag", tag: "x" }] }] }), /outside the text/],
    ["a mention without a DID", async () => post({ text: "@bob", facets: [{ index: { byteStart: 0, byteEnd: 4 }, features: [{ $type: "app.bsky.richtext.facet#mention", did: "bob" }] }] }), /did/],
    ["four langs", async () => post({ langs: ["en", "de", "fr", "it"] }), /langs/],
    ["five images", async () => {
      const blob = await uploadImage(10)
      return post({ embed: { $type: "app.bsky.embed.images", images: Array.from({ length: 5 }, () => ({ image: blob, alt: "" })) } })
    }, /more than 4/],
    ["an image without alt", async () => post({ embed: { $type: "app.bsky.embed.images", images: [{ image: await uploadImage(10) }] } }), /"alt"/],
    ["an unknown embed", async () => post({ embed: { $type: "app.bsky.embed.gallery" } }), /embed/],
    ["a reply to a post that does not exist", async () => {
      const ghost = { uri: `at://${did}/app.bsky.feed.post/3k4duaz5vfs2b`, cid: "bafyreiaaaa" }
      return post({ reply: { root: ghost, parent: ghost } })
    }, /does not exist/]
  ]

  for (const [name, record, message] of refusals) {
    it(`refuses ${name}`, async () => {
      const answer = await createRecord(await record())
      assert.strictEqual(answer.status, 400)
      assert.strictEqual(answer.body.error, "InvalidRequest")
      assert.match(answer.body.message, message)
    })
  }

  it("refuses a blob that was never uploaded with BlobNotFound, after the lexicon checks (pds blob/transactor.ts)", async () => {
    const ghost = { $type: "blob", ref: { $link: "bafkreiaaaa" }, mimeType: "image/png", size: 10 }
    const answer = await createRecord(post({ embed: { $type: "app.bsky.embed.images", images: [{ alt: "", image: ghost }] } }))
    assert.deepStrictEqual([answer.status, answer.body.error], [400, "BlobNotFound"])
    assert.match(answer.body.message, /Could not find blob: bafkreiaaaa/)
  })

  it("keeps each repo's blobs apart: the same bytes uploaded by two accounts are cited by each, and never by a third", async () => {
    fake.createAccount({ handle: "bob.bsky.social", password: "bobb-appp-pass-word" })
    fake.createAccount({ handle: "carol.bsky.social", password: "caro-lapp-pass-word" })
    const login = async (identifier: string, password: string) =>
      (await xrpc("com.atproto.server.createSession", { json: { identifier, password } })).body as { accessJwt: string; did: string }
    const bob = await login("bob.bsky.social", "bobb-appp-pass-word")
    const carol = await login("carol.bsky.social", "caro-lapp-pass-word")
    const bytes = new Uint8Array(64).fill(9)
    const upload = async (token: string) =>
      (await xrpc("com.atproto.repo.uploadBlob", { token, body: bytes, contentType: "image/png" })).body.blob as Record<string, unknown>
    const mine = await upload(accessJwt)
    const bobs = await upload(bob.accessJwt)
    assert.deepStrictEqual(mine, bobs, "the same bytes have the same CID")
    const cite = (token: string, repo: string, blob: Record<string, unknown>) =>
      xrpc("com.atproto.repo.createRecord", {
        token,
        json: { repo, collection: "app.bsky.feed.post", record: post({ embed: { $type: "app.bsky.embed.images", images: [{ alt: "", image: blob }] } }) }
      })
    // Bob's upload came last; Alice's copy is still hers.
    assert.strictEqual((await cite(accessJwt, did, mine)).status, 200)
    assert.strictEqual((await cite(bob.accessJwt, bob.did, bobs)).status, 200)
    const stolen = await cite(carol.accessJwt, carol.did, mine)
    assert.deepStrictEqual([stolen.status, stolen.body.error], [400, "BlobNotFound"])
  })

  it("checks that reply refs form one thread", async () => {
    const root = (await createRecord(post({ text: "root" }))).body
    const otherRoot = (await createRecord(post({ text: "other root" }))).body
    const reply = (await createRecord(post({ text: "reply", reply: { root: ref(root), parent: ref(root) } }))).body
    assert.match(reply.uri, /\/app\.bsky\.feed\.post\/[2-7a-j][2-7a-z]{12}$/)
    assert.match(reply.cid, /^bafyrei[a-z2-7]{52}$/)
    const wrongCid = await createRecord(post({ reply: { root: ref(root), parent: { uri: reply.uri, cid: root.cid } } }))
    assert.match(wrongCid.body.message, /cid/)
    const replyAsRoot = await createRecord(post({ reply: { root: ref(reply), parent: ref(reply) } }))
    assert.match(replyAsRoot.body.message, /not a thread root/)
    const crossThread = await createRecord(post({ reply: { root: ref(otherRoot), parent: ref(reply) } }))
    assert.match(crossThread.body.message, /not in the thread/)
  })
})

describe("FakeBluesky: video service and faults", () => {
  it("takes a video only with a service token for this PDS", async () => {
    const nowSeconds = Math.floor(Date.now() / 1000)
    const wrongAud = await xrpc("com.atproto.server.getServiceAuth", { token: accessJwt, query: { aud: "did:web:elsewhere.example", lxm: "com.atproto.repo.uploadBlob", exp: String(nowSeconds + 600) } })
    const rejected = await xrpc("app.bsky.video.uploadVideo", { base: fake.videoUrl, token: wrongAud.body.token, query: { did, name: "a.mp4" }, body: new Uint8Array(10), contentType: "video/mp4" })
    assert.deepStrictEqual([rejected.status, rejected.body.error], [401, "BadJwtAudience"])

    const tooLong = await xrpc("com.atproto.server.getServiceAuth", { token: accessJwt, query: { aud: fake.serviceDid, exp: String(nowSeconds + 7200) } })
    assert.deepStrictEqual([tooLong.status, tooLong.body.error], [400, "BadExpiration"])

    const auth = await xrpc("com.atproto.server.getServiceAuth", { token: accessJwt, query: { aud: fake.serviceDid, lxm: "com.atproto.repo.uploadBlob", exp: String(nowSeconds + 1800) } })
    const job = await xrpc("app.bsky.video.uploadVideo", { base: fake.videoUrl, token: auth.body.token, query: { did, name: "a.mp4" }, body: new Uint8Array(2048).fill(1), contentType: "video/mp4" })
    assert.strictEqual(job.status, 200)
    const status = await xrpc("app.bsky.video.getJobStatus", { base: fake.videoUrl, query: { jobId: job.body.jobId } })
    assert.strictEqual(status.body.jobStatus.state, "JOB_STATE_COMPLETED")
    assert.strictEqual(status.body.jobStatus.blob.size, 2048)
    const again = await xrpc("app.bsky.video.uploadVideo", { base: fake.videoUrl, token: auth.body.token, query: { did, name: "a.mp4" }, body: new Uint8Array(2048).fill(1), contentType: "video/mp4" })
    assert.deepStrictEqual([again.status, again.body.error, again.body.jobId], [409, "already_exists", job.body.jobId])
  })

  it("injects each fault for the next N calls only", async () => {
    fake.inject("com.atproto.identity.resolveHandle", fake.rateLimited(42), { times: 2 })
    const call = () => xrpc("com.atproto.identity.resolveHandle", { query: { handle: "alice.bsky.social" } })
    const first = await call()
    const second = await call()
    const third = await call()
    assert.deepStrictEqual([first.status, second.status, third.status], [429, 429, 200])
    assert.strictEqual(first.body.error, "RateLimitExceeded")
    assert.strictEqual(first.headers.get("ratelimit-remaining"), "0")
    const reset = Number(first.headers.get("ratelimit-reset"))
    assert.isAtMost(Math.abs(reset - (Math.floor(Date.now() / 1000) + 42)), 2)

    fake.inject("com.atproto.identity.resolveHandle", Faults.dropBeforeApply())
    const dropped = await call().then(() => "answered", () => "dropped")
    assert.strictEqual(dropped, "dropped")

    fake.inject("com.atproto.identity.resolveHandle", Faults.slow({ delayMs: 200 }))
    const started = Date.now()
    const slow = await call()
    assert.strictEqual(slow.status, 200)
    assert.isAtLeast(Date.now() - started, 190)
  })
})

const ref = (answer: Record<string, any>) => ({ uri: answer.uri as string, cid: answer.cid as string })
