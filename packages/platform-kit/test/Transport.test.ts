/**
 * Transport classification against real sockets: a port nobody listens on, a
 * name that does not resolve, a TLS handshake with a plain HTTP server, a
 * pool closed before the request, a server that reads the request and drops
 * the connection, and a pool destroyed while the server holds the request
 * (the same undici error code as a closed pool, but after the request was
 * written). What the fake's log saw is checked against the verdict.
 */
import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Agent, type Dispatcher } from "@effect/platform-node/Undici"
import { PublishError } from "@omnipost/core"
import { Transport } from "@omnipost/platform-kit"
import { FakeServer, Faults, gate } from "@omnipost/platform-kit/testing"
import { Cause, Effect, Fiber } from "effect"
import { HttpClientError, HttpClientRequest } from "effect/http"
import { createServer } from "node:net"

const request = { platform: "test", operation: "POST /items" }

/** A platform with one endpoint that creates an item, and one that holds its answer until released. */
const platform = Effect.gen(function*() {
  const server = yield* FakeServer.make()
  const items: Array<unknown> = []
  const arrived = gate()
  const release = gate()
  server.route("POST", "/items", async (req) => {
    items.push(await req.json())
    return { status: 201, body: { id: items.length } }
  })
  server.route("POST", "/held", async (req) => {
    await req.body()
    arrived.open()
    await release.promise
    return { status: 201, body: {} }
  })
  yield* Effect.addFinalizer(() => Effect.sync(release.open))
  return { server, items, arrived, release }
})

/** An undici pool for this test, destroyed with its scope (destroying twice is harmless). */
const pool = (options?: ConstructorParameters<typeof Agent>[0]) =>
  Effect.acquireRelease(Effect.sync(() => new Agent(options)), (agent) => Effect.promise(() => agent.destroy()))

/** Sends a request through `dispatcher` with effect's undici client and returns how it failed. */
const failure = (dispatcher: Dispatcher, url: string) =>
  Effect.gen(function*() {
    const client = yield* NodeHttpClient.makeUndici.pipe(Effect.provideService(NodeHttpClient.Dispatcher, dispatcher))
    return yield* client.execute(HttpClientRequest.post(url).pipe(HttpClientRequest.bodyJsonUnsafe({ text: "hello" }))).pipe(
      Effect.flatMap((response) => response.text),
      Effect.flip
    )
  })

const codes = (error: unknown): Array<string> => {
  const found: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") found.push(code)
    const next = current as { reason?: unknown; cause?: unknown }
    current = next.reason ?? next.cause
  }
  return found
}

/** A port that was just listened on and closed: connecting to it is refused. */
const closedPort = Effect.promise(() =>
  new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
)

describe("Transport with real connections", () => {
  it.effect("connection refused: not sent, Transient even for a write", () =>
    Effect.scoped(Effect.gen(function*() {
      const port = yield* closedPort
      const error = yield* failure(yield* pool(), `http://127.0.0.1:${port}/items`)
      assert.include(codes(error), "ECONNREFUSED")
      assert.strictEqual(Transport.delivery(error), "NotSent")
      const classified = Transport.classify(error, request)
      assert.strictEqual(classified._tag, "Transient")
      assert.match(classified.message, /POST \/items was not sent \(connect ECONNREFUSED 127\.0\.0\.1/)
    })))

  it.effect("a name that does not resolve: not sent", () =>
    Effect.scoped(Effect.gen(function*() {
      const dispatcher = yield* pool({
        connect: {
          lookup: (hostname: string, _options: unknown, callback: (error: Error) => void) =>
            callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND", hostname }))
        } as never
      })
      const error = yield* failure(dispatcher, "http://api.platform.invalid/items")
      assert.include(codes(error), "ENOTFOUND")
      assert.strictEqual(Transport.classify(error, request)._tag, "Transient")
    })))

  it.effect("a TLS handshake that fails (https to a plain HTTP server): not sent, and the server saw no request", () =>
    Effect.scoped(Effect.gen(function*() {
      const { items, server } = yield* platform
      const error = yield* failure(yield* pool(), `https://127.0.0.1:${server.port}/items`)
      assert.strictEqual(Transport.delivery(error), "NotSent", Transport.describe(error))
      assert.strictEqual(Transport.classify(error, request)._tag, "Transient")
      assert.strictEqual(server.requests.length, 0)
      assert.strictEqual(items.length, 0)
    })))

  it.effect("a pool destroyed or closed before the request (UND_ERR_DESTROYED, UND_ERR_CLOSED): not sent", () =>
    Effect.scoped(Effect.gen(function*() {
      const { arrived, items, release, server } = yield* platform
      // The Promise recipe's bug: the layer's pool was destroyed before the publisher used it.
      const destroyed = yield* pool()
      yield* Effect.promise(() => destroyed.destroy())
      const afterDestroy = yield* failure(destroyed, `${server.url}/items`)
      assert.include(codes(afterDestroy), "UND_ERR_DESTROYED")
      assert.strictEqual(Transport.classify(afterDestroy, request)._tag, "Transient")

      // A pool closing (it waits for the request it holds) refuses new requests.
      const closing = yield* pool()
      const client = yield* NodeHttpClient.makeUndici.pipe(Effect.provideService(NodeHttpClient.Dispatcher, closing))
      const held = yield* Effect.forkChild(client.execute(HttpClientRequest.post(`${server.url}/held`)))
      yield* Effect.promise(() => arrived.promise)
      const closed = closing.close()
      const afterClose = yield* failure(closing, `${server.url}/items`)
      assert.include(codes(afterClose), "UND_ERR_CLOSED")
      assert.strictEqual(Transport.classify(afterClose, request)._tag, "Transient")
      release.open()
      assert.strictEqual((yield* Fiber.join(held)).status, 201)
      yield* Effect.promise(() => closed)
      assert.deepStrictEqual(server.requests.map((entry) => entry.path), ["/held"])
      assert.strictEqual(items.length, 0)
    })))

  it.effect("the server reads the request and drops the connection: maybe sent, OutcomeUnknown for a write", () =>
    Effect.scoped(Effect.gen(function*() {
      const { server } = yield* platform
      server.inject("POST /items", Faults.dropBeforeApply(), { times: 2 })
      const dispatcher = yield* pool()
      const error = yield* failure(dispatcher, `${server.url}/items`)
      assert.strictEqual(Transport.delivery(error), "MaybeSent")
      const write = Transport.classify(error, request)
      assert.strictEqual(write._tag, "OutcomeUnknown")
      assert.match(write.message, /may have been sent/)
      // The same failure on a read is only Transient.
      const read = yield* failure(dispatcher, `${server.url}/items`)
      assert.strictEqual(Transport.classify(read, { ...request, write: false })._tag, "Transient")
      assert.deepStrictEqual(server.requests.map((entry) => entry.outcome), ["dropped", "dropped"])
    })))

  it.effect("a pool destroyed while the server holds the request: UND_ERR_DESTROYED after the write, so maybe sent", () =>
    Effect.scoped(Effect.gen(function*() {
      const { arrived, server } = yield* platform
      const dispatcher = yield* pool()
      const fiber = yield* Effect.forkChild(failure(dispatcher, `${server.url}/held`))
      yield* Effect.promise(() => arrived.promise)
      yield* Effect.promise(() => dispatcher.destroy())
      const error = yield* Fiber.join(fiber)
      assert.include(codes(error), "UND_ERR_DESTROYED")
      assert.strictEqual(Transport.delivery(error), "MaybeSent")
      assert.strictEqual(Transport.classify(error, request)._tag, "OutcomeUnknown")
    })))

  it.effect("an invalid URL is never sent", () =>
    Effect.scoped(Effect.gen(function*() {
      const error = yield* failure(yield* pool(), "http://exa mple.com/items")
      assert.isTrue(HttpClientError.isHttpClientError(error))
      assert.strictEqual(Transport.delivery(error), "NotSent")
    })))
})

describe("Transport.delivery by error code (other clients, no undici evidence)", () => {
  const wrapped = (cause: unknown) => ({ _tag: "HttpClientError", reason: { _tag: "TransportError", cause } })
  const cases: ReadonlyArray<readonly [string, unknown, Transport.Delivery]> = [
    ["ECONNREFUSED", Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }), "NotSent"],
    ["EAI_AGAIN", Object.assign(new Error("getaddrinfo EAI_AGAIN"), { code: "EAI_AGAIN" }), "NotSent"],
    ["a certificate error", Object.assign(new Error("certificate has expired"), { code: "CERT_HAS_EXPIRED" }), "NotSent"],
    [
      "every address refused (AggregateError)",
      new AggregateError([Object.assign(new Error("a"), { code: "ECONNREFUSED" }), Object.assign(new Error("b"), { code: "ENETUNREACH" })]),
      "NotSent"
    ],
    ["fetch's TypeError with the cause inside", new TypeError("fetch failed", { cause: Object.assign(new Error("x"), { code: "ENOTFOUND" }) }), "NotSent"],
    ["ECONNRESET", Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" }), "MaybeSent"],
    ["UND_ERR_SOCKET (other side closed)", Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" }), "MaybeSent"],
    ["a timeout", Object.assign(new Error("headers timeout"), { code: "UND_ERR_HEADERS_TIMEOUT" }), "MaybeSent"],
    ["no code at all", new Error("socket hang up"), "MaybeSent"],
    ["not an error", "boom", "MaybeSent"]
  ]
  for (const [name, cause, expected] of cases) {
    it(`${name}: ${expected}`, () => {
      assert.strictEqual(Transport.delivery(wrapped(cause)), expected)
      assert.strictEqual(Transport.delivery(cause), expected)
    })
  }

  it("noAnswer: a write that timed out may have been applied; a read is Transient", () => {
    const write = Transport.noAnswer({ ...request, after: "30s" })
    assert.strictEqual(write._tag, "OutcomeUnknown")
    assert.match(write.message, /POST \/items timed out without an answer within 30s/)
    assert.strictEqual(Transport.noAnswer({ ...request, write: false })._tag, "Transient")
    // Effect.timeout's error, mapped with everything else.
    assert.strictEqual(Transport.classify(new Cause.TimeoutError(), request)._tag, "OutcomeUnknown")
    assert.strictEqual(Transport.classify(new Cause.TimeoutError(), { ...request, write: false })._tag, "Transient")
  })
})

describe("Transport.publishErrorIn", () => {
  it("finds the publish error a request body's stream failed with, through the client's wrapping; none in a plain transport error", () => {
    const source = new PublishError.Rejected({ platform: "acme", code: "MEDIA_TOO_LARGE", message: "too large" })
    const wrapped = { _tag: "HttpClientError", reason: { _tag: "EncodeError", cause: { cause: source } } }
    assert.strictEqual(Transport.publishErrorIn(wrapped), source)
    assert.strictEqual(Transport.publishErrorIn(source), source)
    assert.isUndefined(Transport.publishErrorIn({ _tag: "HttpClientError", reason: { _tag: "TransportError", cause: new Error("reset") } }))
    // A tag alone is not enough: core's errors carry their platform.
    assert.isUndefined(Transport.publishErrorIn({ _tag: "Rejected", message: "not ours" }))
  })
})
