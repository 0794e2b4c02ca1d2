/**
 * The fake base: lifecycle on port 0 (Promise and Effect), routes, the
 * request log, each fault of the vocabulary with its default, per-operation
 * and per-count injection, rate-limit windows on the fake's clock, and media
 * checked by their bytes.
 */
import { assert, describe, it } from "@effect/vitest"
import { FakeMedia, FakeServer, Faults, gate } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { Readable } from "node:stream"

/** A small "platform": POST /items creates an item (the state a fault may or may not reach). */
const platform = async (options?: ConstructorParameters<typeof Object>[0]) => {
  const items: Array<unknown> = []
  const server = await FakeServer.start({
    errorAnswer: (status) => ({ status, body: { error: `E${status}`, message: "from the platform" } }),
    ...(options as object)
  })
  server.route("POST", "/items", async (request) => {
    const item = await request.json()
    items.push(item)
    return { status: 201, body: { id: items.length } }
  })
  server.route("GET", "/items/:id", (request) => {
    const item = items[Number(request.params.id) - 1]
    return item === undefined ? { status: 404, body: { error: "NotFound" } } : { status: 200, body: item }
  })
  return { server, items }
}

const post = (url: string, body: unknown) =>
  fetch(`${url}/items`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

describe("FakeServer", () => {
  it("listens on 127.0.0.1 and an ephemeral port, routes with params, logs every request", async () => {
    const { server, items } = await platform()
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.notStrictEqual(server.port, 0)
      const created = await post(server.url, { text: "hello" })
      assert.strictEqual(created.status, 201)
      assert.deepStrictEqual(await created.json(), { id: 1 })
      const read = await fetch(`${server.url}/items/1`)
      assert.deepStrictEqual(await read.json(), { text: "hello" })
      const missing = await fetch(`${server.url}/nowhere`)
      assert.strictEqual(missing.status, 404)
      assert.deepStrictEqual(await missing.json(), { error: "E404", message: "from the platform" })
      assert.deepStrictEqual(items, [{ text: "hello" }])
      assert.deepStrictEqual(
        server.requests.map((r) => [r.method, r.path, r.operation, r.status, r.outcome, r.applied]),
        [
          ["POST", "/items", "POST /items", 201, "answered", true],
          ["GET", "/items/1", "GET /items/:id", 200, "answered", true],
          ["GET", "/nowhere", undefined, 404, "answered", false]
        ]
      )
      assert.strictEqual(server.requests[0]!.bodyBytes, JSON.stringify({ text: "hello" }).length)
    } finally {
      await server.close()
    }
  })

  it("a last `*` segment takes the rest of the path; the log numbers arrivals across servers", async () => {
    const a = await FakeServer.start()
    const b = await FakeServer.start()
    try {
      a.route("GET", "/pages/*", (request) => ({ status: 200, body: { rest: request.params["*"] } }))
      assert.deepStrictEqual(await (await fetch(`${a.url}/pages/x/y%20z`)).json(), { rest: "x/y z" })
      assert.strictEqual((await fetch(`${a.url}/pages`)).status, 404)
      await fetch(`${b.url}/anything`)
      await fetch(`${a.url}/pages/again`)
      const merged = [...a.requests, ...b.requests].sort((x, y) => x.seq - y.seq).map((r) => r.path)
      assert.deepStrictEqual(merged, ["/pages/x/y%20z", "/pages", "/anything", "/pages/again"])
    } finally {
      await a.close()
      await b.close()
    }
  })

  it("dropBeforeApply: read whole, not applied, no answer", async () => {
    const { server, items } = await platform()
    try {
      server.inject("POST /items", Faults.dropBeforeApply())
      const error = await post(server.url, { n: 1 }).then(() => undefined, (e: unknown) => e)
      assert.instanceOf(error, Error)
      assert.deepStrictEqual(items, [])
      const logged = server.requests[0]!
      assert.deepStrictEqual([logged.outcome, logged.applied, logged.fault, logged.status], ["dropped", false, "DropBeforeApply", 0])
      assert.strictEqual(logged.bodyBytes, JSON.stringify({ n: 1 }).length)
      // One request only: the next one goes through.
      assert.strictEqual((await post(server.url, { n: 2 })).status, 201)
      assert.deepStrictEqual(items, [{ n: 2 }])
    } finally {
      await server.close()
    }
  })

  it("dropAfterApply: applied, then the connection is destroyed", async () => {
    const { server, items } = await platform()
    try {
      server.inject("POST /items", Faults.dropAfterApply())
      const error = await post(server.url, { n: 1 }).then(() => undefined, (e: unknown) => e)
      assert.instanceOf(error, Error)
      assert.deepStrictEqual(items, [{ n: 1 }])
      assert.deepStrictEqual([server.requests[0]!.outcome, server.requests[0]!.applied], ["dropped", true])
    } finally {
      await server.close()
    }
  })

  it("cutBody: a half-finished upload, the connection destroyed part way through the body, nothing applied", async () => {
    const { server, items } = await platform()
    try {
      server.inject("POST /items", Faults.cutBody(64 * 1024))
      const body = JSON.stringify({ blob: "x".repeat(1024 * 1024) })
      const error = await post(server.url, JSON.parse(body)).then(() => undefined, (e: unknown) => e)
      assert.instanceOf(error, Error)
      assert.deepStrictEqual(items, [])
      const logged = server.requests[0]!
      assert.deepStrictEqual([logged.outcome, logged.applied, logged.fault], ["dropped", false, "CutBody"])
      assert.isAtLeast(logged.bodyBytes, 64 * 1024)
      assert.isBelow(logged.bodyBytes, body.length)
      assert.strictEqual((await post(server.url, { n: 2 })).status, 201)
    } finally {
      await server.close()
    }
  })

  it("status: the platform's error body by default, or the one given; never applied", async () => {
    const { server, items } = await platform()
    try {
      server.inject("POST /items", Faults.status(503))
      server.inject("POST /items", Faults.status(400, { headers: { "x-reason": "bad" }, body: { error: "InvalidRequest" } }))
      const first = await post(server.url, {})
      assert.strictEqual(first.status, 503)
      assert.deepStrictEqual(await first.json(), { error: "E503", message: "from the platform" })
      const second = await post(server.url, {})
      assert.strictEqual(second.status, 400)
      assert.strictEqual(second.headers.get("x-reason"), "bad")
      assert.deepStrictEqual(await second.json(), { error: "InvalidRequest" })
      assert.deepStrictEqual(items, [])
      assert.deepStrictEqual(server.requests.map((r) => r.fault), ["Status", "Status"])
    } finally {
      await server.close()
    }
  })

  it("slow: applied at once, answered when the test opens the gate", async () => {
    const { server, items } = await platform()
    try {
      const release = gate()
      server.inject("POST /items", Faults.slow({ until: release.promise }))
      const answer = post(server.url, { n: 1 })
      const arrived = await server.waitForRequest((r) => r.operation === "POST /items" && r.applied)
      assert.deepStrictEqual(items, [{ n: 1 }])
      assert.strictEqual(arrived.outcome, "pending")
      release.open()
      assert.strictEqual((await answer).status, 201)
      assert.strictEqual(arrived.outcome, "answered")
    } finally {
      await server.close()
    }
  })

  it("slow with beforeApply: nothing is applied until the gate opens", async () => {
    const { server, items } = await platform()
    try {
      const release = gate()
      server.inject("POST /items", Faults.slow({ until: release.promise, beforeApply: true }))
      const answer = post(server.url, { n: 1 })
      const arrived = await server.waitForRequest("POST /items")
      assert.isFalse(arrived.applied)
      assert.deepStrictEqual(items, [])
      release.open()
      assert.strictEqual((await answer).status, 201)
      assert.deepStrictEqual(items, [{ n: 1 }])
    } finally {
      await server.close()
    }
  })

  it("faults count per operation: `after` lets requests through, `times` repeats", async () => {
    const { server } = await platform()
    try {
      server.inject("POST /items", Faults.status(500), { after: 1, times: 2 })
      const statuses: Array<number> = []
      for (let i = 0; i < 4; i++) statuses.push((await post(server.url, { i })).status)
      assert.deepStrictEqual(statuses, [201, 500, 500, 201])
      // Another operation is untouched.
      assert.strictEqual((await fetch(`${server.url}/items/1`)).status, 200)
    } finally {
      await server.close()
    }
  })

  it("`*` injects into every operation; clearFaults removes everything", async () => {
    const { server } = await platform()
    try {
      server.inject("*", Faults.status(502), { times: 2 })
      assert.strictEqual((await post(server.url, {})).status, 502)
      assert.strictEqual((await fetch(`${server.url}/items/1`)).status, 502)
      server.inject("*", Faults.status(502))
      server.clearFaults()
      assert.strictEqual((await post(server.url, {})).status, 201)
    } finally {
      await server.close()
    }
  })

  it("rateLimitWindow: N requests, then 429 with rate-limit headers until the window resets on the fake's clock", async () => {
    let nowMs = 1_700_000_000_000
    const { server, items } = await platform({ now: () => nowMs })
    try {
      server.inject("POST /items", Faults.rateLimitWindow({ limit: 2, windowMs: 60_000 }))
      assert.strictEqual((await post(server.url, { n: 1 })).status, 201)
      nowMs += 10_000
      assert.strictEqual((await post(server.url, { n: 2 })).status, 201)
      const limited = await post(server.url, { n: 3 })
      assert.strictEqual(limited.status, 429)
      assert.deepStrictEqual(await limited.json(), { error: "E429", message: "from the platform" })
      assert.strictEqual(limited.headers.get("ratelimit-limit"), "2")
      assert.strictEqual(limited.headers.get("ratelimit-remaining"), "0")
      assert.strictEqual(limited.headers.get("ratelimit-reset"), "50")
      assert.strictEqual(limited.headers.get("retry-after"), "50")
      assert.strictEqual(limited.headers.get("ratelimit-policy"), "2;w=60")
      assert.strictEqual((await post(server.url, { n: 4 })).status, 429)
      nowMs += 50_000
      assert.strictEqual((await post(server.url, { n: 5 })).status, 201)
      assert.deepStrictEqual(items, [{ n: 1 }, { n: 2 }, { n: 5 }])
    } finally {
      await server.close()
    }
  })

  it("rateLimitWindow with remaining 0: limited at once, let through again when the window resets", async () => {
    let nowMs = 1_700_000_000_000
    const { server, items } = await platform({ now: () => nowMs })
    try {
      server.inject("POST /items", Faults.rateLimitWindow({ limit: 300, windowMs: 1_000, remaining: 0 }))
      const limited = await post(server.url, { n: 1 })
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.headers.get("ratelimit-limit"), "300")
      assert.strictEqual(limited.headers.get("ratelimit-remaining"), "0")
      assert.strictEqual(limited.headers.get("retry-after"), "1")
      nowMs += 1_000
      assert.strictEqual((await post(server.url, { n: 2 })).status, 201)
      assert.deepStrictEqual(items, [{ n: 2 }])
    } finally {
      await server.close()
    }
  })

  it("a fake writes its own platform's rate-limit headers (X's epoch-second reset)", async () => {
    const nowMs = 1_700_000_000_000
    const server = await FakeServer.start({
      now: () => nowMs,
      rateLimitHeaders: (state) => ({
        "x-rate-limit-limit": String(state.limit),
        "x-rate-limit-remaining": String(state.remaining),
        "x-rate-limit-reset": String(Math.floor(state.resetAtMs / 1000))
      })
    })
    try {
      server.route("POST", "/2/tweets", () => ({ status: 201, body: {} }))
      server.inject("POST /2/tweets", Faults.rateLimitWindow({ limit: 1, windowMs: 900_000 }))
      await fetch(`${server.url}/2/tweets`, { method: "POST" })
      const limited = await fetch(`${server.url}/2/tweets`, { method: "POST" })
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.headers.get("x-rate-limit-reset"), String(Math.floor((nowMs + 900_000) / 1000)))
      assert.isNull(limited.headers.get("ratelimit-limit"))
    } finally {
      await server.close()
    }
  })

  it("operations named by the request (an XRPC method id)", async () => {
    const server = await FakeServer.start()
    try {
      server.route("*", "/xrpc/:nsid", (request) => ({ status: 200, body: { nsid: request.operation } }), {
        operation: (request) => request.params.nsid!
      })
      server.inject("com.atproto.repo.createRecord", Faults.status(500))
      const other = await fetch(`${server.url}/xrpc/com.atproto.server.getSession`)
      assert.deepStrictEqual(await other.json(), { nsid: "com.atproto.server.getSession" })
      const failed = await fetch(`${server.url}/xrpc/com.atproto.repo.createRecord`, { method: "POST" })
      assert.strictEqual(failed.status, 500)
      assert.strictEqual(server.requestsOf("com.atproto.repo.createRecord").length, 1)
    } finally {
      await server.close()
    }
  })

  it("answers stream, and a large upload is read piece by piece", async () => {
    const server = await FakeServer.start()
    try {
      server.route("POST", "/upload", async (request) => {
        const received = await FakeMedia.receive(request.stream)
        return { status: 200, body: { size: received.size, sha256: received.sha256 } }
      })
      server.route("GET", "/stream", () => ({
        status: 200,
        headers: { "content-type": "application/octet-stream" },
        stream: (async function*() {
          for (let i = 0; i < 4; i++) yield new Uint8Array(1000).fill(i)
        })()
      }))
      const data = new Uint8Array(3_000_000).map((_, i) => i % 251)
      const answer = await fetch(`${server.url}/upload`, { method: "POST", body: data })
      assert.deepStrictEqual(await answer.json(), { size: data.byteLength, sha256: createHash("sha256").update(data).digest("hex") })
      assert.strictEqual(server.requests[0]!.bodyBytes, data.byteLength)
      const streamed = new Uint8Array(await (await fetch(`${server.url}/stream`)).arrayBuffer())
      assert.strictEqual(streamed.byteLength, 4000)
      assert.strictEqual(streamed[3999], 3)
    } finally {
      await server.close()
    }
  })

  it("dropConnection: a handler cuts an upload part way through its body; the client gets no answer", async () => {
    const server = await FakeServer.start()
    let read = 0
    server.route("PUT", "/upload", async (request) => {
      for await (const chunk of request.stream as AsyncIterable<Buffer>) {
        read += chunk.byteLength
        if (read >= 100_000) break
      }
      request.dropConnection()
      return { status: 200, body: { never: "sent" } }
    })
    try {
      const failed = await fetch(`${server.url}/upload`, { method: "PUT", body: new Uint8Array(4 * 1024 * 1024) }).then(
        () => false,
        () => true
      )
      assert.isTrue(failed)
      const [logged] = server.requests
      assert.strictEqual(logged!.outcome, "dropped")
      assert.strictEqual(logged!.status, 0)
      assert.isFalse(logged!.applied)
      assert.isTrue(read >= 100_000 && read < 4 * 1024 * 1024)
    } finally {
      await server.close()
    }
  })

  it.effect("as an Effect scoped resource: closed with its scope", () =>
    Effect.gen(function*() {
      const url = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* FakeServer.make()
        server.route("GET", "/ping", () => ({ status: 200, body: "pong" }))
        const answer = yield* Effect.promise(() => fetch(`${server.url}/ping`).then((r) => r.text()))
        assert.strictEqual(answer, "pong")
        return server.url
      }))
      const after = yield* Effect.promise(() => fetch(`${url}/ping`).then(() => "answered", () => "closed"))
      assert.strictEqual(after, "closed")
    }))

  it("close releases held answers", async () => {
    const { server } = await platform()
    server.inject("POST /items", Faults.slow({ until: new Promise(() => {}) }))
    const answer = post(server.url, {}).then(() => "answered", () => "failed")
    await server.waitForRequest("POST /items")
    await server.close()
    assert.oneOf(await answer, ["answered", "failed"])
  })
})

describe("FakeMedia", () => {
  const png = new Uint8Array([0x89, ...Buffer.from("PNG\r\n\x1a\n"), 0, 0, 0, 13, ...Buffer.from("IHDR"), 0, 0, 0, 8, 0, 0, 0, 6, ...new Array(40).fill(0)])
  const html = new TextEncoder().encode("<!doctype html><h1>internal admin</h1>")

  it("accepts by the bytes, whatever was declared", () => {
    const verdict = FakeMedia.check(png, { accept: ["image/*"] })
    assert.strictEqual(verdict._tag, "Accepted")
    assert.strictEqual(verdict._tag === "Accepted" ? verdict.sniffed.width : 0, 8)
  })

  it("refuses bytes of no media type (an HTML page sent as image/jpeg) and types not accepted", () => {
    assert.deepStrictEqual(FakeMedia.check(html, { accept: ["image/*"] })._tag, "Refused")
    const video = FakeMedia.check(png, { accept: ["video/mp4"] })
    assert.strictEqual(video._tag === "Refused" ? video.reason : "", "type")
  })

  it("refuses past the size cap, counted from the bytes", async () => {
    const received = await FakeMedia.receive(Readable.from([png, new Uint8Array(1000)]), { keepBytes: 10 })
    assert.strictEqual(received.size, png.byteLength + 1000)
    assert.isUndefined(received.bytes)
    const verdict = FakeMedia.check(received, { accept: ["image/png"], maxBytes: 1000 })
    assert.strictEqual(verdict._tag === "Refused" ? verdict.reason : "", "size")
  })
})
