/**
 * The Express app on an ephemeral port, driven over HTTP, publishing through
 * the real Bluesky and X publishers to their in-process fakes.
 */
import type { Server } from "node:http"
import type { AddressInfo } from "node:net"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { createOmnipost, type FanOut } from "@omnipost/core"
import { FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { FakeXServer, Faults } from "@omnipost/platform-twitter/testing"
import { createApp } from "../src/app.ts"
import { createPublishers, type Publishers } from "../src/publishers.ts"

let bluesky: FakeBlueskyServer
let x: FakeXServer
let publishers: Publishers
let server: Server
let baseUrl = ""
const events: Array<FanOut.PublishEvent> = []

const post = async (path: string, body: unknown) => {
  const response = await fetch(`${baseUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body)
  })
  return { status: response.status, body: await response.json() as any }
}

const get = async (path: string) => {
  const response = await fetch(`${baseUrl}${path}`)
  return { status: response.status, body: await response.json() as any }
}

const toBoth = (text: string) => ({
  content: { text },
  destinations: [
    { platform: "bluesky", accountId: "alice.bsky.social" },
    { platform: "x", accountId: "alice" }
  ]
})

beforeAll(async () => {
  bluesky = await FakeBlueskyServer.start()
  x = await FakeXServer.start()
  publishers = await createPublishers({ bluesky: bluesky.publisherOptions(), x: { apiBaseUrl: x.url } })
  const credentials = {
    "bluesky:alice.bsky.social": bluesky.credentials(),
    "x:alice": x.issueOAuth2Token({ username: "alice" })
  }
  const omnipost = createOmnipost({
    publishers: publishers.publishers,
    credentials,
    retry: { initialDelayMs: 10, maxDelayMs: 50, jitter: 0, maxAttempts: 2 }
  })
  server = createApp({ omnipost, onProgress: (event) => events.push(event) }).listen(0, "127.0.0.1")
  await new Promise<void>((resolve) => server.once("listening", () => resolve()))
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}, 30_000)

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()))
  await publishers?.close()
  await bluesky?.close()
  await x?.close()
})

describe("POST /posts", () => {
  it("publishes one post to Bluesky and X", async () => {
    events.length = 0
    const { body, status } = await post("/posts", toBoth("Hello from an Express backend"))
    assert.strictEqual(status, 201)
    assert.strictEqual(body.status, "published")
    assert.deepStrictEqual(body.destinations.map((d: any) => [d.platform, d.status]), [["bluesky", "published"], ["x", "published"]])
    assert.match(body.destinations[0].url, /^https:\/\/bsky\.app\/profile\/alice\.bsky\.social\/post\//)
    assert.match(body.destinations[1].url, /^https:\/\/x\.com\/alice\/status\/\d+$/)
    assert.strictEqual(bluesky.posts().at(-1)!.value.text, "Hello from an Express backend")
    assert.strictEqual(x.tweets.at(-1)!.text, "Hello from an Express backend")
    assert.deepStrictEqual(
      events.filter((e) => e.platform === "x").map((e) => e._tag),
      ["AttemptStarted", "Published"]
    )
  })

  it("answers 400 with every validation issue, and publishes nothing", async () => {
    const before = x.tweets.length
    const { body, status } = await post("/posts", {
      content: { text: "z".repeat(301) },
      destinations: [
        { platform: "bluesky", accountId: "alice.bsky.social" },
        { platform: "x", accountId: "alice", settings: { replySettings: "nobody" } },
        { platform: "instagram", accountId: "ig" }
      ]
    })
    assert.strictEqual(status, 400)
    assert.strictEqual(body.error.code, "INVALID_POST")
    const codes = body.issues.map((issue: any) => `${issue.platform}:${issue.code}`).sort()
    assert.includeMembers(codes, ["bluesky:CONTENT_TOO_LONG", "x:CONTENT_TOO_LONG", "x:INVALID_SETTINGS", "instagram:UNKNOWN_PLATFORM"])
    const bluesky300 = body.issues.find((issue: any) => issue.platform === "bluesky")
    assert.strictEqual(bluesky300.limit, 300)
    assert.strictEqual(bluesky300.actual, 301)
    assert.strictEqual(x.tweets.length, before)
  })

  it("answers 400 for a body that is not JSON, or not a post", async () => {
    const broken = await post("/posts", "{ not json")
    assert.strictEqual(broken.status, 400)
    assert.strictEqual(broken.body.error.code, "INVALID_JSON")
    const notAPost = await post("/posts", [1, 2, 3])
    assert.strictEqual(notAPost.status, 400)
    assert.strictEqual(notAPost.body.issues[0].code, "INVALID_POST")
  })

  it("reports a partial failure with X's own error, then retries only the failed destination", async () => {
    x.inject("POST /2/tweets", Faults.status(403, { body: { detail: "You are not allowed to create a Tweet with duplicate content.", status: 403, title: "Forbidden", type: "about:blank" } }))
    const blueskyBefore = bluesky.posts().length
    const first = await post("/posts", toBoth("Partial, then whole"))
    assert.strictEqual(first.status, 207)
    assert.strictEqual(first.body.status, "partially_failed")
    const failed = first.body.destinations[1]
    assert.strictEqual(failed.status, "failed")
    assert.strictEqual(failed.lastError.code, "DUPLICATE_CONTENT")
    assert.strictEqual(failed.lastError.httpStatus, 403)
    assert.include(failed.lastError.platformMessage, "duplicate content")
    assert.strictEqual(bluesky.posts().length, blueskyBefore + 1)

    const stored = await get(`/posts/${first.body.id}`)
    assert.strictEqual(stored.status, 207)
    assert.strictEqual(stored.body.status, "partially_failed")

    const retried = await post(`/posts/${first.body.id}/retry`, {})
    assert.strictEqual(retried.status, 201)
    assert.strictEqual(retried.body.status, "published")
    assert.strictEqual(bluesky.posts().length, blueskyBefore + 1, "Bluesky was not posted again")
    assert.strictEqual(x.tweets.at(-1)!.text, "Partial, then whole")

    const again = await post(`/posts/${first.body.id}/retry`, {})
    assert.strictEqual(again.status, 409)
    assert.strictEqual(again.body.error.code, "INVALID_STATUS_TRANSITION")
    assert.strictEqual((await get("/posts/nope")).status, 404)
  })

  it("retries a 503 from X and reports the attempts", async () => {
    x.inject("POST /2/tweets", Faults.status(503))
    const { body, status } = await post("/posts", toBoth("Second time lucky"))
    assert.strictEqual(status, 201)
    const attempts = body.destinations[1].attempts
    assert.deepStrictEqual(attempts.map((a: any) => a.outcome), ["failed", "published"])
    assert.strictEqual(attempts[0].error.code, "PLATFORM_UNAVAILABLE")
    assert.isString(attempts[0].retryAt)
  })
})

describe("other routes", () => {
  it("POST /posts/validate answers the report without publishing", async () => {
    const before = x.tweets.length
    const valid = await post("/posts/validate", toBoth("fine"))
    assert.deepStrictEqual(valid.body, { valid: true, issues: [] })
    const invalid = await post("/posts/validate", { content: {}, destinations: [{ platform: "x", accountId: "alice" }] })
    assert.isFalse(invalid.body.valid)
    assert.strictEqual(invalid.body.issues[0].code, "CONTENT_REQUIRED")
    assert.strictEqual(x.tweets.length, before)
  })

  it("GET /platforms lists the registered platforms", async () => {
    const { body, status } = await get("/platforms")
    assert.strictEqual(status, 200)
    assert.deepStrictEqual(body.map((p: any) => p.platform), ["bluesky", "x"])
    assert.isTrue(body.every((p: any) => p.threads === true))
  })
})
