/**
 * Webhooks against a local receiver: registered over the API, fired by real
 * outcomes (a post published to FakeBluesky, one failing), signed with
 * HMAC-SHA256 over `timestamp.body`, retried with backoff after failures,
 * and logged in the delivery list.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Backoff } from "@omnipost/core"
import { Effect } from "effect"
import { createServer, type IncomingHttpHeaders } from "node:http"
import { testKinds } from "./fixtures.js"
import { deliveryBackoff, sign, signatureHeader, timestampHeader, verifySignature } from "../src/webhooks/Webhooks.js"
import { apiLayer, errorCode, request, TestApi, waitFor } from "./apiHarness.js"

interface Received {
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly status: number
}

/** A receiver on 127.0.0.1 that answers 500 (or `failure`) to the first `failFirst` deliveries, then 200. */
const receiver = (failFirst: number, failure: { readonly status: number; readonly headers?: Record<string, string> } = { status: 500 }) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ url: string; received: Array<Received>; close: () => Promise<void> }>((resolve) => {
        const received: Array<Received> = []
        const server = createServer((req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (c) => chunks.push(c))
          req.on("end", () => {
            const failing = received.length < failFirst
            const status = failing ? failure.status : 200
            received.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), status })
            res.writeHead(status, failing ? failure.headers ?? {} : {}).end()
          })
        })
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          const port = typeof address === "object" && address !== null ? address.port : 0
          resolve({
            url: `http://127.0.0.1:${port}/hook`,
            received,
            close: () => new Promise((done) => server.close(() => done()))
          })
        })
      })
    ),
    (r) => Effect.promise(r.close)
  )

describe("webhook signatures", () => {
  it("verifySignature accepts the signature of timestamp.body and rejects any change or an old timestamp", () => {
    const secret = "a-secret-of-some-length"
    const body = JSON.stringify({ type: "post.published" })
    const signature = sign(secret, 1_700_000_000, body)
    assert.match(signature, /^v1=[0-9a-f]{64}$/)
    const ok = { secret, timestamp: "1700000000", body, signature, nowSeconds: 1_700_000_010 }
    assert.isTrue(verifySignature(ok))
    assert.isFalse(verifySignature({ ...ok, body: body + " " }))
    assert.isFalse(verifySignature({ ...ok, secret: "another-secret-entirely" }))
    assert.isFalse(verifySignature({ ...ok, timestamp: "1700000001" }))
    assert.isFalse(verifySignature({ ...ok, nowSeconds: 1_700_000_000 + 301 }))
  })

  it("backs off exponentially with full jitter, the ceiling capped at an hour", () => {
    const policy = deliveryBackoff(10_000)
    assert.deepStrictEqual([0, 1, 2, 3].map((n) => Backoff.ceilingMs(policy, n)), [10_000, 20_000, 40_000, 80_000])
    assert.strictEqual(Backoff.ceilingMs(policy, 19), 3_600_000)
    assert.strictEqual(Backoff.delayMs(policy, 1, 0.5), 10_000)
    assert.isBelow(Backoff.delayMs(policy, 19, 0.999_999), 3_600_000)
  })
})

for (const kind of testKinds) {
  describe(`Webhooks over HTTP (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("register, list, validation errors, delete", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const created = yield* request(api, "POST", "/v1/webhooks", {
            body: { url: "http://127.0.0.1:9/x", secret: "0123456789abcdef", events: ["post.failed"] }
          })
          assert.strictEqual(created.status, 201)
          assert.deepStrictEqual(created.body.events, ["post.failed"])
          assert.notProperty(created.body, "secret")
          const list = yield* request(api, "GET", "/v1/webhooks")
          assert.isTrue(list.body.some((w: any) => w.id === created.body.id))
          assert.notInclude(JSON.stringify(list.body), "0123456789abcdef")
          for (
            const body of [
              { url: "ftp://example.com", secret: "0123456789abcdef", events: ["post.failed"] },
              { url: "http://127.0.0.1/x", secret: "short", events: ["post.failed"] },
              { url: "http://127.0.0.1/x", secret: "0123456789abcdef", events: [] },
              { url: "http://127.0.0.1/x", secret: "0123456789abcdef", events: ["post.deleted"] }
            ]
          ) {
            const bad = yield* request(api, "POST", "/v1/webhooks", { body })
            assert.strictEqual(bad.status, 400, JSON.stringify(body))
            assert.strictEqual(errorCode(bad), "VALIDATION_FAILED")
          }
          assert.strictEqual((yield* request(api, "DELETE", `/v1/webhooks/${created.body.id}`)).status, 204)
          const again = yield* request(api, "DELETE", `/v1/webhooks/${created.body.id}`)
          assert.strictEqual(again.status, 404)
          assert.strictEqual(errorCode(again), "WEBHOOK_NOT_FOUND")
        }))

      it.effect("signed deliveries for published and failed outcomes, retried after failures, logged", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const hook = yield* receiver(1)
          const secret = "whsec_test_0123456789"
          const registered = yield* request(api, "POST", "/v1/webhooks", {
            body: {
              url: hook.url,
              secret,
              events: ["post.published", "post.failed", "destination.published", "destination.failed"]
            }
          })
          assert.strictEqual(registered.status, 201)
          const account = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          const accountId = account.body.id
          const ok = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "webhooks, please" }, destinations: [{ accountId }] }
          })
          assert.strictEqual(ok.status, 201)

          const delivered = (type: string, postId: string) =>
            hook.received.find((r) => r.status === 200 && JSON.parse(r.body).type === type && JSON.parse(r.body).data.postId === postId)
          const published = yield* waitFor(Effect.sync(() => delivered("post.published", ok.body.id)), 30_000, "post.published")
          assert.isDefined(yield* waitFor(
            Effect.sync(() => delivered("destination.published", ok.body.id)),
            30_000,
            "destination.published"
          ))

          // Signed over timestamp.body, verifiable with the secret.
          const timestamp = published.headers[timestampHeader] as string
          const signature = published.headers[signatureHeader] as string
          assert.isTrue(verifySignature({
            secret,
            timestamp,
            body: published.body,
            signature,
            nowSeconds: Math.floor(Date.now() / 1000)
          }))
          assert.isFalse(verifySignature({
            secret: "not-the-secret-at-all",
            timestamp,
            body: published.body,
            signature,
            nowSeconds: Math.floor(Date.now() / 1000)
          }))
          assert.strictEqual(published.headers["omnipost-event"], "post.published")

          // The first delivery was answered 500 and retried.
          assert.strictEqual(hook.received[0]!.status, 500)
          const deliveries = yield* request(api, "GET", `/v1/webhooks/${registered.body.id}/deliveries`)
          assert.strictEqual(deliveries.status, 200)
          const retried = deliveries.body.data.find((d: any) => d.attempts >= 2)
          assert.isDefined(retried, JSON.stringify(deliveries.body))
          assert.strictEqual(retried.status, "delivered")
          assert.strictEqual(retried.lastStatusCode, 200)

          // Failures are delivered too.
          api.bluesky.inject("com.atproto.repo.createRecord", api.bluesky.xrpcError(400, "InvalidRequest", "no"))
          const bad = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "this one fails" }, destinations: [{ accountId }] }
          })
          const failed = yield* waitFor(Effect.sync(() => delivered("post.failed", bad.body.id)), 30_000, "post.failed")
          assert.strictEqual(JSON.parse(failed.body).data.postId, bad.body.id)
          assert.isDefined(yield* waitFor(
            Effect.sync(() => delivered("destination.failed", bad.body.id)),
            30_000,
            "destination.failed"
          ))
          // Each event once per webhook.
          const ids = hook.received.filter((r) => r.status === 200).map((r) => JSON.parse(r.body).id)
          assert.strictEqual(new Set(ids).size, ids.length)
        }))

      it.effect("a receiver that never answers 2xx: the delivery fails after the maximum attempts", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const hook = yield* receiver(1_000)
          const registered = yield* request(api, "POST", "/v1/webhooks", {
            body: { url: hook.url, secret: "0123456789abcdef-x", events: ["post.published"] }
          })
          const account = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "nobody listens" }, destinations: [{ accountId: account.body.id }] }
          })
          const gaveUp = yield* waitFor(
            Effect.map(
              request(api, "GET", `/v1/webhooks/${registered.body.id}/deliveries`),
              (r) => r.body.data.find((d: any) => d.status === "failed")
            ),
            30_000,
            "the delivery to fail"
          )
          // The harness allows 3 attempts.
          assert.strictEqual(gaveUp.attempts, 3)
          assert.strictEqual(gaveUp.lastStatusCode, 500)
          assert.strictEqual(hook.received.length, 3)
        }))

      it.effect("a receiver answering 429 with Retry-After is not retried sooner", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const hook = yield* receiver(1, { status: 429, headers: { "retry-after": "600" } })
          const registered = yield* request(api, "POST", "/v1/webhooks", {
            body: { url: hook.url, secret: "0123456789abcdef-r", events: ["post.published"] }
          })
          const account = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "come back later" }, destinations: [{ accountId: account.body.id }] }
          })
          const waiting = yield* waitFor(
            Effect.map(
              request(api, "GET", `/v1/webhooks/${registered.body.id}/deliveries`),
              (r) => r.body.data.find((d: any) => d.lastStatusCode === 429 && d.status === "pending")
            ),
            30_000,
            "the first delivery to be refused"
          )
          // The harness's backoff is milliseconds; the receiver asked for 10 minutes.
          assert.isAbove(Date.parse(waiting.nextAttemptAt) - Date.now(), 500_000)
          assert.strictEqual(hook.received.length, 1)
        }))
    })
  })
}
