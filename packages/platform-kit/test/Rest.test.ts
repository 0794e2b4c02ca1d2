/**
 * The kit's authorized JSON call against a FakeServer: bearer token, query,
 * the connection's and the call's headers, JSON and byte bodies, every
 * status back from `call`, the platform's mapping on `ok`, and calls without
 * an answer classified (a read `Transient`, a write `OutcomeUnknown`, a
 * failing media stream its own error).
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { PublishError } from "@omnipost/core"
import { Rest } from "@omnipost/platform-kit"
import { FakeServer, Faults } from "@omnipost/platform-kit/testing"
import { Effect, Stream } from "effect"
import { HttpClient } from "effect/http"

const api = Rest.make({
  platform: "acme",
  fromResponse: (status, _headers, body, operation) =>
    status === 401
      ? new PublishError.AuthFailed({ platform: "acme", reason: "invalid", message: `${operation}: ${JSON.stringify(body)}` })
      : new PublishError.Rejected({ platform: "acme", httpStatus: status, message: `${operation} refused` })
})

const setup = Effect.gen(function*() {
  const server = yield* FakeServer.make()
  const seen: Array<{ authorization?: string; accept?: string; version?: string; trace?: string; query: string; body: string; type?: string }> = []
  server.route("*", "/echo/*", async (request) => {
    seen.push({
      authorization: request.headers.authorization,
      accept: request.headers.accept,
      version: request.headers["x-version"] as string | undefined,
      trace: request.headers["x-trace"] as string | undefined,
      query: request.url.search,
      body: await request.text(),
      type: request.headers["content-type"]
    })
    return request.query.get("status") === "401"
      ? { status: 401, body: { error: "bad token" } }
      : request.query.get("status") === "308"
      ? { status: 308, headers: { range: "bytes=0-9" } }
      : { status: 200, body: { id: "1" } }
  })
  const connection: Rest.Connection = {
    client: yield* HttpClient.HttpClient,
    apiBaseUrl: server.url,
    accessToken: "tok",
    timeout: "5 seconds",
    headers: { "x-version": "202611" }
  }
  return { server, seen, connection }
})

describe("Rest", () => {
  it.effect("sends the bearer token, JSON accept, the query and both sets of headers; JSON and byte bodies", () =>
    Effect.gen(function*() {
      const { connection, seen } = yield* setup
      const answer = yield* api.ok(connection, {
        method: "POST",
        path: "/echo/a",
        query: { q: "List(urn:li:x)" },
        headers: { "x-trace": "t1" },
        json: { text: "hi" },
        operation: "POST /echo"
      })
      assert.strictEqual(answer.status, 200)
      assert.deepStrictEqual(answer.body, { id: "1" })
      assert.deepInclude(seen[0], { authorization: "Bearer tok", version: "202611", trace: "t1", body: '{"text":"hi"}' })
      assert.include(seen[0]!.accept, "application/json")
      assert.strictEqual(new URLSearchParams(seen[0]!.query).get("q"), "List(urn:li:x)")
      yield* api.ok(connection, {
        method: "PUT",
        path: `${connection.apiBaseUrl}/echo/absolute`,
        bytes: { data: new TextEncoder().encode("abc"), contentType: "video/mp4" },
        operation: "PUT chunk"
      })
      assert.deepInclude(seen[1], { body: "abc", type: "video/mp4" })
      yield* api.ok(connection, {
        method: "PUT",
        path: "/echo/stream",
        stream: { stream: Stream.make(new TextEncoder().encode("xyz")), contentLength: 3 },
        operation: "PUT stream"
      })
      assert.deepInclude(seen[2], { body: "xyz", type: "application/octet-stream" })
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("call gives every status back; ok and failure map 400 and more with the platform's mapping", () =>
    Effect.gen(function*() {
      const { connection } = yield* setup
      const resumable = yield* api.call(connection, { method: "PUT", path: "/echo/r", query: { status: "308" }, operation: "PUT session" })
      assert.strictEqual(resumable.status, 308)
      assert.strictEqual(resumable.headers.range, "bytes=0-9")
      const raw = yield* api.call(connection, { method: "GET", path: "/echo/x", query: { status: "401" }, operation: "GET /me" })
      assert.strictEqual(raw.status, 401)
      const refused = yield* Effect.flip(api.ok(connection, { method: "GET", path: "/echo/x", query: { status: "401" }, operation: "GET /me" }))
      assert.strictEqual(refused._tag, "AuthFailed")
      assert.strictEqual(refused.message, 'GET /me: {"error":"bad token"}')
      const failed = yield* Effect.flip(api.failure(raw, "again"))
      assert.strictEqual(failed._tag, "AuthFailed")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it.effect("no answer: a read is Transient, a write that may have been applied OutcomeUnknown, a failing media stream its own error", () =>
    Effect.gen(function*() {
      const { connection, server } = yield* setup
      server.inject("*", Faults.dropAfterApply(), { times: 2 })
      const read = yield* Effect.flip(api.call(connection, { method: "GET", path: "/echo/r", operation: "GET /echo" }))
      assert.strictEqual(read._tag, "Transient")
      const write = yield* Effect.flip(api.call(connection, { method: "POST", path: "/echo/w", json: {}, operation: "POST /posts", write: true }))
      assert.strictEqual(write._tag, "OutcomeUnknown")
      const tooLarge = new PublishError.Rejected({ platform: "acme", code: "MEDIA_TOO_LARGE", message: "the media is too large" })
      const media = yield* Effect.flip(api.call(connection, {
        method: "PUT",
        path: "/echo/m",
        stream: { stream: Stream.concat(Stream.make(new Uint8Array(4)), Stream.fail(tooLarge)), contentLength: 8 },
        operation: "PUT media"
      }))
      assert.strictEqual(media._tag, "Rejected")
      assert.strictEqual((media as PublishError.Rejected).code, "MEDIA_TOO_LARGE")
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))

  it("errorFields: the platform, and the status, code and message only when known", () => {
    assert.deepStrictEqual(Rest.errorFields("acme", 403, { code: "ACCESS_DENIED", message: "no scope" }), {
      platform: "acme",
      httpStatus: 403,
      platformCode: "ACCESS_DENIED",
      platformMessage: "no scope"
    })
    assert.deepStrictEqual(Rest.errorFields("acme", undefined, {}), { platform: "acme" })
    assert.deepStrictEqual(Object.keys(Rest.errorFields("acme", 500, { code: undefined, message: "down" })), ["platform", "httpStatus", "platformMessage"])
  })
})
