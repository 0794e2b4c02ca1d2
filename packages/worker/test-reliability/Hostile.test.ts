/**
 * Hostile input (issue 18): fast-check requests against every endpoint of the
 * OpenAPI document (read from the running server, so a new endpoint is
 * covered without a change here) and the routes beside it (MCP, signed
 * media, docs), over real sockets: random JSON, wrong types, unknown fields,
 * huge and deeply nested bodies, odd Unicode, wrong content types, broken and
 * truncated multipart with path traversal in file names, any key; and over
 * raw `node:net` connections what `fetch` cannot send: invalid UTF-8 in
 * paths, headers and bodies, giant headers, bodies shorter than declared,
 * malformed HTTP, and clients that stop sending and keep the connection open.
 *
 * Never a 5xx (bar `/readyz`'s documented 503), never a hang (every request
 * answered or its connection closed by the server, a stalled one within the
 * idle timeout), never a crash (the server answers afterwards and no request
 * is left in flight), no file outside the media store; every non-2xx answer
 * is the error shape `{ "error": { "code", "message", "details"? } }`.
 *
 * Size: `RELIABILITY_REQUESTS` (default 2,000 in `npm test`; 100,000 in
 * `npm run test:reliability`), seed `RELIABILITY_SEED`. Prints how many
 * requests were tried, of which kinds, and the slowest.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { RequestsInFlight } from "../src/api/InFlight.js"
import { apiLayer, request, TestApi, waitFor } from "../test/apiHarness.js"
import { testKinds } from "../test/fixtures.js"
import { type RawAnswer, rawRequest } from "../test/rawHttp.js"
import { contentType, fileName, jsonBody, multipart, oddString } from "./hostileInput.js"
import { requestsCount, seedOf } from "./Size.js"

/**
 * Closing a stalled connection: the server's idle timeout in this suite. The
 * server's own think time counts as idle too (no byte either way), so on a
 * loaded machine a shorter one cut requests still being answered.
 */
const idleTimeoutMs = 5_000
/** A request not answered nor closed within this is a hang. */
const hangMs = 30_000
/** Requests sent at once. */
const batch = 8

interface Endpoint {
  readonly method: string
  readonly path: string
}

/** Routes served beside the OpenAPI document's. */
const extraEndpoints: ReadonlyArray<Endpoint> = [
  { method: "POST", path: "/mcp" },
  { method: "GET", path: "/mcp" },
  { method: "DELETE", path: "/mcp" },
  { method: "GET", path: "/media/{id}" },
  { method: "GET", path: "/llms.txt" },
  { method: "GET", path: "/docs" },
  { method: "GET", path: "/openapi.json" },
  { method: "GET", path: "/v1/nothing/{id}" }
]

/** Header values `fetch` accepts (Latin-1, no CR/LF): the raw client sends the rest. */
const latin1 = (value: string) => value.replace(/[^\x20-\x7e\x80-\xff]/g, "?")
const headerValue = oddString.map(latin1)

const keyChoice = fc.constantFrom("user", "user", "user", "admin", "none", "garbage", "x-api-key")

const fetchRequest = (endpoints: ReadonlyArray<Endpoint>) =>
  fc.record({
    endpoint: fc.constantFrom(...endpoints),
    method: fc.option(fc.constantFrom("PUT", "OPTIONS", "HEAD", "PATCH", "POST", "GET", "DELETE"), { nil: undefined, freq: 12 }),
    params: fc.array(fc.oneof(oddString, fileName), { minLength: 2, maxLength: 2 }),
    query: fc.dictionary(
      fc.oneof(fc.constantFrom("from", "to", "cursor", "limit", "offset", "status", "platform", "fileName", "code", "state", "error", "expires", "signature"), oddString),
      oddString,
      { maxKeys: 4 }
    ),
    key: keyChoice,
    headers: fc.dictionary(
      fc.constantFrom("idempotency-key", "x-request-id", "accept", "accept-encoding", "x-forwarded-for", "origin", "mcp-session-id", "range"),
      headerValue,
      { maxKeys: 3 }
    ),
    body: fc.oneof(
      { arbitrary: fc.constant(undefined), weight: 2 },
      { arbitrary: fc.record({ type: fc.constant("application/json"), text: jsonBody }), weight: 6 },
      { arbitrary: fc.record({ type: contentType, text: jsonBody }), weight: 2 },
      { arbitrary: multipart.map(({ body, contentType }) => ({ type: contentType, bytes: body })), weight: 3 },
      {
        arbitrary: fc.record({ type: contentType, bytes: fc.uint8Array({ maxLength: 3000 }).map((bytes) => Buffer.from(bytes)) }),
        weight: 1
      }
    )
  })

type FetchRequest = ReturnType<typeof fetchRequest> extends fc.Arbitrary<infer A> ? A : never

/** Bytes that are not UTF-8: lone continuation bytes, overlong forms, surrogates, truncated sequences. */
const invalidUtf8 = fc.constantFrom(
  Buffer.from([0xff, 0xfe]), Buffer.from([0xc0, 0x80]), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from([0xe2, 0x82]),
  Buffer.from([0x80]), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]), Buffer.from([0xf4, 0x90, 0x80, 0x80])
)

/** Requests over a raw connection, ending with the client's half-close. */
const rawRequestOf = (endpoints: ReadonlyArray<Endpoint>) =>
  fc.record({
    endpoint: fc.constantFrom(...endpoints),
    key: keyChoice,
    bad: invalidUtf8,
    shape: fc.constantFrom(
      "utf8-body", "utf8-path", "utf8-header", "utf8-query", "giant-header", "many-headers", "short-body",
      "truncated-multipart", "traversal", "malformed", "both-lengths", "bad-chunks", "huge-length"
    ),
    size: fc.integer({ min: 17 * 1024, max: 200 * 1024 }),
    traversal: fc.constantFrom(
      "/v1/../../etc/passwd", "/media/..%2f..%2f..%2fetc%2fpasswd", "//etc/passwd", "/v1/media/..%5c..%5cwin.ini",
      "/%2e%2e/%2e%2e/etc/passwd", "/v1/posts/%2e%2e", "/media/../../../etc/passwd?expires=1&signature=x", "*", "http://169.254.169.254/"
    ),
    multipart
  })

type RawRequest = ReturnType<typeof rawRequestOf> extends fc.Arbitrary<infer A> ? A : never

interface Tally {
  tried: number
  byKind: Map<string, number>
  byStatus: Map<string, number>
  /** Milliseconds spent per kind (summed over concurrent requests). */
  timeByKind: Map<string, number>
  slowest: { ms: number; what: string }
}

const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1)

/** Asserts an answer: no 5xx (bar /readyz's 503), and the error shape on every non-2xx with a body. */
const check = (what: string, status: number | undefined, body: string, template: string, head: boolean) => {
  if (status === undefined) return
  const readiness = template === "/readyz" && status === 503
  if (status >= 500 && !readiness) throw new Error(`${what} answered ${status}: ${body.slice(0, 500)}`)
  if (status >= 400 && !readiness && !head) {
    let parsed: any
    try {
      parsed = JSON.parse(body)
    } catch {
      throw new Error(`${what} ${status}: not JSON: ${body.slice(0, 300)}`)
    }
    const error = parsed?.error
    if (typeof error?.code !== "string" || typeof error?.message !== "string" || Object.keys(parsed).length !== 1) {
      throw new Error(`${what} ${status}: not the error shape: ${body.slice(0, 300)}`)
    }
    if (error.code === "INTERNAL_ERROR") throw new Error(`${what} ${status}: INTERNAL_ERROR`)
  }
}

const kind = testKinds.at(-1)!

describe(`hostile input on every endpoint (${kind})`, () => {
  layer(
    apiLayer(kind, { requestIdleTimeoutMs: idleTimeoutMs, allowPrivateUrls: false, maxUploadBytes: 200_000 }),
    { timeout: 3_600_000, excludeTestServices: true }
  )((it) => {
    it.effect("never a 5xx, a crash or a hang; always the error shape", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const port = Number(new URL(api.url).port)
        const openapi = yield* request(api, "GET", "/openapi.json", { key: null })
        const endpoints: Array<Endpoint> = [...extraEndpoints]
        for (const [path, operations] of Object.entries(openapi.body.paths as Record<string, Record<string, unknown>>)) {
          for (const method of Object.keys(operations)) {
            if (["get", "post", "patch", "put", "delete"].includes(method)) endpoints.push({ method: method.toUpperCase(), path })
          }
        }
        // Every route of the document, not a hand-picked list.
        assert.isAtLeast(endpoints.length, 40)
        const total = requestsCount()
        const seed = seedOf()
        const tally: Tally = { tried: 0, byKind: new Map(), byStatus: new Map(), timeByKind: new Map(), slowest: { ms: 0, what: "" } }
        const seen = new Set<string>()
        const keyOf = (choice: string): Record<string, string> =>
          choice === "user" ? { authorization: `Bearer ${api.key}` }
          : choice === "admin" ? { authorization: `Bearer ${api.adminKey}` }
          : choice === "x-api-key" ? { "x-api-key": api.key }
          : choice === "garbage" ? { authorization: "Bearer opk_live_0000000000000000000000000000" }
          : {}
        const fill = (template: string, params: ReadonlyArray<string>) => {
          let index = 0
          // Lone surrogates cannot be percent-encoded: round-trip through UTF-8 (they become U+FFFD).
          return template.replace(/\{[^}]+\}/g, () => encodeURIComponent(Buffer.from(params[index++ % 2]!, "utf8").toString("utf8")))
        }
        const record = (what: string, kindOf: string, status: number | undefined, ms: number) => {
          tally.tried++
          count(tally.byKind, kindOf)
          const bucket = kindOf === "fetch" ? `fetch ${what.split(" ")[0]} ${what.split(" ")[1]!.replace(/^http:\/\/[^/]+/, "").split("/").slice(0, 3).join("/")}` : kindOf
          tally.timeByKind.set(bucket, (tally.timeByKind.get(bucket) ?? 0) + ms)
          count(tally.byStatus, status === undefined ? "closed" : String(status))
          if (ms > tally.slowest.ms) tally.slowest = { ms, what }
        }

        const sendFetch = async (input: FetchRequest) => {
          const method = input.method ?? input.endpoint.method
          const path = fill(input.endpoint.path, input.params)
          const search = new URLSearchParams(input.query).toString()
          const url = `${api.url}${path}${search === "" ? "" : `?${search}`}`
          const headers: Record<string, string> = { ...input.headers, ...keyOf(input.key) }
          const canHaveBody = method !== "GET" && method !== "HEAD"
          let body: Uint8Array<ArrayBuffer> | string | undefined
          if (input.body !== undefined && canHaveBody) {
            if (input.body.type !== "") headers["content-type"] = latin1(input.body.type)
            body = "text" in input.body ? input.body.text : new Uint8Array(input.body.bytes)
          }
          const what = `${method} ${url.slice(0, 200)} (${headers["content-type"] ?? "no body type"})`
          const started = performance.now()
          const response = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(hangMs) }).catch((error) => {
            throw new Error(`${what}: no answer (${String(error)}: ${String(error?.cause)}) with ${JSON.stringify(headers).slice(0, 300)}`)
          })
          const text = await response.text()
          const ms = performance.now() - started
          seen.add(`${input.endpoint.method} ${input.endpoint.path}`)
          record(what, "fetch", response.status, ms)
          check(what, response.status, text, input.endpoint.path, method === "HEAD")
        }

        const sendRaw = async (input: RawRequest) => {
          const { endpoint, bad, size, shape } = input
          const auth = Object.entries(keyOf(input.key)).map(([name, value]) => `${name}: ${value}\r\n`).join("")
          const path = fill(endpoint.path, ["x", "y"])
          const method = endpoint.method
          const line = (target: string | Buffer) => Buffer.concat([Buffer.from(`${method} `), Buffer.from(target), Buffer.from(" HTTP/1.1\r\n")])
          const head = (extra = "") => Buffer.from(`host: 127.0.0.1\r\nconnection: close\r\n${auth}${extra}`)
          const json = (body: Buffer) => [line(path), head(`content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`), body]
          let chunks: Array<Buffer>
          switch (shape) {
            case "utf8-body":
              chunks = json(Buffer.concat([Buffer.from("{\"content\":{\"text\":\"a"), bad, Buffer.from("\"},\"name\":\""), bad, Buffer.from("\",\"url\":\"https://x.invalid/"), bad, Buffer.from("\"}")]))
              break
            case "utf8-path":
              chunks = [line(Buffer.concat([Buffer.from(`${path}/`), bad])), head("\r\n")]
              break
            case "utf8-query":
              chunks = [line(Buffer.concat([Buffer.from(`${path}?limit=`), bad, Buffer.from("&status="), bad])), head("\r\n")]
              break
            case "utf8-header":
              chunks = [line(path), head(), Buffer.from("idempotency-key: "), bad, Buffer.from("\r\nx-request-id: "), bad, Buffer.from("\r\nauthorization: Bearer "), bad, Buffer.from("\r\n\r\n")]
              break
            case "giant-header":
              chunks = [line(path), head(`x-giant: ${"a".repeat(size)}\r\n\r\n`)]
              break
            case "many-headers":
              chunks = [line(path), head(Array.from({ length: 3000 }, (_, i) => `x-h${i}: ${i}\r\n`).join("") + "\r\n")]
              break
            case "short-body":
              chunks = [line(path), head("content-type: application/json\r\ncontent-length: 5000\r\n\r\n"), Buffer.from("{\"content\":")]
              break
            case "truncated-multipart": {
              const declared = input.multipart.body.length + 1000
              chunks = [line("/v1/media"), head(`content-type: multipart/form-data; boundary=b0undary\r\ncontent-length: ${declared}\r\n\r\n`), input.multipart.body]
              break
            }
            case "traversal":
              chunks = [line(input.traversal), head("\r\n")]
              break
            case "malformed":
              chunks = [Buffer.concat([Buffer.from("GET /v1/posts HTTP/9.9\r\n"), bad, Buffer.from(" nonsense\r\n\r\n")])]
              break
            case "both-lengths":
              chunks = [line(path), head("content-length: 4\r\ntransfer-encoding: chunked\r\n\r\n"), Buffer.from("0\r\n\r\nGET / HTTP/1.1\r\n\r\n")]
              break
            case "bad-chunks":
              chunks = [line(path), head("content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"), Buffer.from("zz\r\n{}\r\nffffffffffffffff\r\n")]
              break
            case "huge-length":
              chunks = [line(path), head("content-type: application/json\r\ncontent-length: 99999999999999999999\r\n\r\n"), Buffer.from("{}")]
              break
          }
          const what = `raw ${shape} ${method} ${endpoint.path}`
          const answer: RawAnswer = await rawRequest(port, chunks, { after: "end", deadlineMs: hangMs })
          if (!answer.closed) throw new Error(`${what}: neither answered nor closed within ${hangMs} ms`)
          seen.add(`${endpoint.method} ${endpoint.path}`)
          record(what, `raw ${shape}`, answer.status, answer.ms)
          check(what, answer.status, answer.body, endpoint.path, method === "HEAD")
        }

        const one = fc.oneof(
          { arbitrary: fetchRequest(endpoints).map((input) => ({ fetch: input })), weight: 4 },
          { arbitrary: rawRequestOf(endpoints).map((input) => ({ raw: input })), weight: 1 }
        )
        const started = performance.now()
        const details = yield* Effect.promise(() =>
          fc.check(
            fc.asyncProperty(fc.array(one, { minLength: batch, maxLength: batch }), async (requests) => {
              await Promise.all(requests.map((input) => "fetch" in input ? sendFetch(input.fetch) : sendRaw(input.raw)))
            }),
            { numRuns: Math.ceil(total / batch), seed, endOnFailure: true }
          )
        )
        if (details.failed) {
          // The counterexample's bodies can be megabytes: the failure's message says which request failed and how.
          const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)
          assert.fail(`seed ${seed}, path ${details.counterexamplePath}, after ${tally.tried} requests: ${cause}`)
        }

        // Clients that stop sending and keep the connection open: each closed by the server
        // (answered or not) within the idle timeout, not held for ever.
        const stalls = Math.max(8, Math.ceil(total / 1000))
        const stalled = yield* Effect.promise(() =>
          Promise.all(Array.from({ length: stalls }, async (_, i) => {
            const endpoint = endpoints[i % endpoints.length]!
            const path = fill(endpoint.path, ["x", "y"])
            const head = `${endpoint.method} ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${api.key}\r\n`
            const chunks = [
              [Buffer.from(`${endpoint.method} /v1/po`)],
              [Buffer.from(head)],
              [Buffer.from(`${head}content-type: application/json\r\ncontent-length: 1000\r\n\r\n{"content":{"te`)],
              [Buffer.from(`POST /v1/media HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${api.key}\r\ncontent-type: multipart/form-data; boundary=b\r\ncontent-length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n\x89PNG`)]
            ][i % 4]!
            const answer = await rawRequest(port, chunks, { after: "stall", deadlineMs: idleTimeoutMs + 10_000 })
            if (!answer.closed) throw new Error(`stalled client ${i} (${endpoint.method} ${endpoint.path}): connection still open ${answer.ms} ms later`)
            tally.tried++
            count(tally.byKind, "stalled client")
            count(tally.byStatus, answer.status === undefined ? "closed" : String(answer.status))
            check(`stalled client ${i}`, answer.status, answer.body, endpoint.path, false)
            return answer.ms
          }))
        )
        const elapsed = performance.now() - started

        // No crash: the server still answers, and no request is left running.
        const health = yield* request(api, "GET", "/healthz", { key: null })
        assert.strictEqual(health.status, 200)
        const requests = yield* RequestsInFlight
        yield* waitFor(requests.count.pipe(Effect.map((n) => n === 0 ? true : undefined)), 20_000, "no request in flight")
        // No upload landed outside the media store, whatever its file name said.
        const media = join(api.dataDir, "media")
        for (const name of existsSync(media) ? readdirSync(media, { recursive: true }).map(String) : []) {
          assert.notInclude(name, "..")
        }
        for (const depth of [1, 2, 3, 4]) {
          for (const name of ["passwd", "shadow", "win.ini", "boot.ini", "b.png", "x.png", "x.png.txt"]) {
            assert.isFalse(existsSync(join(media, ..."../".repeat(depth).split("/"), name)), `${depth} levels up: ${name}`)
          }
        }
        // Most endpoints were reached (the draw is random).
        assert.isAtLeast(seen.size, Math.floor(endpoints.length * 0.8), [...seen].join(", "))

        const kinds = [...tally.byKind].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ×${n}`).join(", ")
        const statuses = [...tally.byStatus].sort((a, b) => a[0].localeCompare(b[0])).map(([name, n]) => `${name} ×${n}`).join(", ")
        console.log(
          `hostile input (${kind}, seed ${seed}): ${tally.tried} requests on ${endpoints.length} endpoints in ${(elapsed / 1000).toFixed(1)} s; ` +
            `slowest ${tally.slowest.ms.toFixed(0)} ms (${tally.slowest.what}); ${stalls} stalled clients closed after ` +
            `${Math.min(...stalled).toFixed(0)}-${Math.max(...stalled).toFixed(0)} ms (idle timeout ${idleTimeoutMs} ms)\n  kinds: ${kinds}\n  statuses: ${statuses}`
        )
        if (process.env.HOSTILE_PROFILE) console.log([...tally.timeByKind].sort((a, b) => b[1] - a[1]).slice(0, 15))
        assert.isAtLeast(tally.tried, total)
      }), { timeout: 3_600_000 })
  })
})
