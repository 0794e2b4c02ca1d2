/**
 * The URL guard: every spelling of a private address refused by `check`, DNS
 * answers refused at connect time (rebinding included), each redirect hop
 * checked, and `allowPrivate` / `allowHosts` letting local targets through.
 */
import { assert, describe, it } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { UrlGuard } from "@omnipost/platform-kit"
import { Effect, Exit, Layer } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { LookupAddress } from "node:dns"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"

const reasonOf = (url: string, options?: UrlGuard.Options) => UrlGuard.refusal(url, options)?.reason

describe("UrlGuard.check", () => {
  const refused: ReadonlyArray<readonly [string, UrlGuard.Reason]> = [
    ["http://127.0.0.1:8080/internal/admin", "loopback"],
    ["http://127.1/", "loopback"],
    ["http://2130706433/", "loopback"],
    ["http://0177.0.0.1/", "loopback"],
    ["http://0x7f.1/", "loopback"],
    ["http://0x7f000001/", "loopback"],
    ["http://017700000001/", "loopback"],
    ["http://127.255.255.254/", "loopback"],
    ["http://[::1]/", "loopback"],
    ["http://[0:0:0:0:0:0:0:1]/", "loopback"],
    ["http://[::ffff:127.0.0.1]/", "loopback"],
    ["http://[::ffff:7f00:1]/", "loopback"],
    ["http://[::127.0.0.1]/", "loopback"],
    ["http://localhost/", "loopback"],
    ["http://LOCALHOST./", "loopback"],
    ["http://api.localhost/", "loopback"],
    ["http://0.0.0.0/", "unspecified"],
    ["http://0/", "unspecified"],
    ["http://[::]/", "unspecified"],
    ["http://10.1.2.3/", "private"],
    ["http://172.16.0.1/", "private"],
    ["http://172.31.255.255/", "private"],
    ["http://192.168.1.1/", "private"],
    ["http://[::ffff:192.168.1.1]/", "private"],
    ["http://[::ffff:c0a8:101]/", "private"],
    ["http://[64:ff9b::10.0.0.1]/", "private"],
    ["http://[2002:c0a8:101::1]/", "private"],
    ["http://100.64.0.1/", "shared"],
    ["http://169.254.1.1/", "link-local"],
    ["http://[fe80::1]/", "link-local"],
    ["http://[fc00::1]/", "unique-local"],
    ["http://[fd12:3456::1]/", "unique-local"],
    ["http://169.254.169.254/latest/meta-data/", "metadata"],
    ["http://[::ffff:169.254.169.254]/", "metadata"],
    ["http://[fd00:ec2::254]/", "metadata"],
    ["http://metadata.google.internal/computeMetadata/v1/", "metadata"],
    ["http://metadata.google.internal./", "metadata"],
    ["http://100.100.100.200/", "metadata"],
    ["http://224.0.0.1/", "multicast"],
    ["http://[ff02::1]/", "multicast"],
    ["http://255.255.255.255/", "broadcast"],
    ["http://192.0.2.1/", "reserved"],
    ["http://[2001:db8::1]/", "reserved"],
    ["http://240.0.0.1/", "reserved"],
    ["file:///etc/passwd", "scheme"],
    ["ftp://example.com/a.jpg", "scheme"],
    ["gopher://example.com/", "scheme"],
    ["http://user:secret@example.com/a.jpg", "credentials"],
    ["not a url", "invalid"],
    ["/relative/path.jpg", "invalid"]
  ]
  for (const [url, reason] of refused) {
    it(`${url}: ${reason}`, () => assert.strictEqual(reasonOf(url), reason))
  }

  const allowed = [
    "https://example.com/a.jpg",
    "http://93.184.216.34/a.jpg",
    "https://[2606:4700:4700::1111]/",
    "http://[::ffff:8.8.8.8]/",
    "http://[2002:0808:0808::1]/",
    "http://172.32.0.1/",
    "http://100.128.0.1/",
    "https://cdn.example.com:8443/path?q=1#frag",
    "http://localhost.example.com/"
  ]
  for (const url of allowed) {
    it(`${url}: allowed`, () => assert.isUndefined(UrlGuard.refusal(url)))
  }

  it("the message names the URL, the address, why, and how to allow it", () => {
    const refusal = UrlGuard.refusal("http://0x7f.1:9000/internal/admin", { howToAllow: "set OMNIPOST_ALLOW_PRIVATE_URLS=true" })!
    assert.strictEqual(refusal.host, "127.0.0.1")
    assert.isTrue(refusal.allowable)
    assert.include(refusal.message, "http://127.0.0.1:9000/internal/admin")
    assert.include(refusal.message, "127.0.0.1 is a loopback address")
    assert.include(refusal.message, "set OMNIPOST_ALLOW_PRIVATE_URLS=true")
  })

  it("passwords are not repeated in messages", () => {
    const refusal = UrlGuard.refusal("https://alice:hunter2@example.com/x")!
    assert.notInclude(refusal.message, "hunter2")
    assert.notInclude(refusal.url, "hunter2")
  })

  it("allowPrivate allows local addresses, never metadata, multicast or reserved ones", () => {
    const options = { allowPrivate: true }
    for (const url of ["http://127.0.0.1:1/", "http://localhost/", "http://[::1]/", "http://10.0.0.1/", "http://[fd12::1]/", "http://100.64.0.1/", "http://169.254.1.1/"]) {
      assert.isUndefined(reasonOf(url, options), url)
    }
    assert.strictEqual(reasonOf("http://169.254.169.254/", options), "metadata")
    assert.strictEqual(reasonOf("http://metadata.google.internal/", options), "metadata")
    assert.strictEqual(reasonOf("http://224.0.0.1/", options), "multicast")
    assert.strictEqual(reasonOf("http://192.0.2.1/", options), "reserved")
    const metadata = UrlGuard.refusal("http://169.254.169.254/", options)!
    assert.isFalse(metadata.allowable)
    assert.include(metadata.message, "never fetched")
  })

  it("allowHosts trusts exactly the hosts (and ports) it names", () => {
    const options = { allowHosts: ["pds.localhost", "10.0.0.5:8080", "[::1]:3000"] }
    assert.isUndefined(reasonOf("http://pds.localhost/", options))
    assert.isUndefined(reasonOf("http://10.0.0.5:8080/x", options))
    assert.strictEqual(reasonOf("http://10.0.0.5:8081/x", options), "private")
    assert.strictEqual(reasonOf("http://10.0.0.6:8080/x", options), "private")
    assert.isUndefined(reasonOf("http://[::1]:3000/", options))
    assert.strictEqual(reasonOf("http://[::1]:3001/", options), "loopback")
    assert.strictEqual(reasonOf("http://169.254.169.254/", { allowHosts: ["169.254.169.254"] }), "metadata")
  })

  it.effect("check fails with the typed error", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(UrlGuard.check("http://[::ffff:7f00:1]/"))
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(UrlGuard.check("http://[::ffff:7f00:1]/"))
      assert.strictEqual(error._tag, "UrlRefused")
      assert.strictEqual(error.reason, "loopback")
      const url = yield* UrlGuard.check("https://example.com/a.jpg")
      assert.strictEqual(url.hostname, "example.com")
    }))
})

/** A resolver that answers from a table, or from a function of the call count (DNS rebinding). */
const fakeLookup = (answer: (host: string, call: number) => string | undefined): UrlGuard.LookupFunction => {
  const calls = new Map<string, number>()
  return (host, _options, callback) => {
    const call = (calls.get(host) ?? 0) + 1
    calls.set(host, call)
    const address = answer(host, call)
    if (address === undefined) {
      return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" }), [])
    }
    const found: LookupAddress = { address, family: address.includes(":") ? 6 : 4 }
    callback(null, [found])
  }
}

describe("UrlGuard.checkResolved", () => {
  it.effect("refuses a name whose DNS answer is private, naming the address", () =>
    Effect.gen(function*() {
      const lookup = fakeLookup((host) => (host === "evil.example" ? "127.0.0.1" : "93.184.216.34"))
      const error = yield* Effect.flip(UrlGuard.checkResolved("http://evil.example/a.jpg", { lookup }))
      assert.strictEqual(error.reason, "loopback")
      assert.strictEqual(error.address, "127.0.0.1")
      assert.include(error.message, "evil.example resolves to 127.0.0.1")
      yield* UrlGuard.checkResolved("http://fine.example/a.jpg", { lookup })
    }))

  it.effect("localhost through the system resolver", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(UrlGuard.checkResolved("http://localhost:9/"))
      assert.strictEqual(error.reason, "loopback")
    }))

  it.effect("a name that does not resolve is left to the fetch", () =>
    Effect.gen(function*() {
      const url = yield* UrlGuard.checkResolved("http://nowhere.invalid/", { lookup: fakeLookup(() => undefined) })
      assert.strictEqual(url.hostname, "nowhere.invalid")
    }))
})

// ---------------------------------------------------------------------------
// The guarded client, against real servers on loopback

const listen = (handler: Parameters<typeof createServer>[1]) =>
  Effect.acquireRelease(
    Effect.callback<Server>((resume) => {
      const server = createServer(handler)
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.callback<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => ({ server, port: (server.address() as AddressInfo).port, hits: [] as Array<string> })))

/** A server that records each request's path and answers "secret". */
const secretServer = Effect.gen(function*() {
  const hits: Array<string> = []
  const { port } = yield* listen((req, res) => {
    hits.push(req.url ?? "")
    res.writeHead(200, { "content-type": "text/plain" }).end("secret")
  })
  return { port, hits }
})

/** A server that redirects every request to `location`. */
const redirectServer = (location: () => string) =>
  listen((_req, res) => res.writeHead(302, { location: location() }).end())

const fetchWith = (options: UrlGuard.Options, url: string, redirects = 5) =>
  Effect.gen(function*() {
    const client = HttpClient.followRedirects(yield* HttpClient.HttpClient, redirects)
    const response = yield* client.execute(HttpClientRequest.get(url))
    return { status: response.status, body: yield* response.text }
  }).pipe(Effect.provide(UrlGuard.layerHttpClient(options)))

describe("UrlGuard.layerHttpClient", () => {
  it.effect("refuses the attack from issue 11 and never reaches the server", () =>
    Effect.gen(function*() {
      const target = yield* secretServer
      const error = yield* Effect.flip(fetchWith({}, `http://127.0.0.1:${target.port}/internal/admin`))
      assert.strictEqual(error.reason._tag, "InvalidUrlError")
      const refused = UrlGuard.refusalOf(error)
      assert.strictEqual(refused?.reason, "loopback")
      assert.include(error.message, "loopback")
      assert.deepStrictEqual(target.hits, [])
    }).pipe(Effect.scoped))

  it.effect("odd spellings and IPv6 forms of loopback are refused before connecting", () =>
    Effect.gen(function*() {
      const target = yield* secretServer
      for (const host of ["2130706433", "0x7f.1", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "[::1]", "localhost"]) {
        const error = yield* Effect.flip(fetchWith({}, `http://${host}:${target.port}/`))
        assert.strictEqual(UrlGuard.refusalOf(error)?.reason, "loopback", host)
      }
      assert.deepStrictEqual(target.hits, [])
    }).pipe(Effect.scoped))

  it.effect("allowPrivate lets loopback through (local development, fakes)", () =>
    Effect.gen(function*() {
      const target = yield* secretServer
      const answer = yield* fetchWith({ allowPrivate: true }, `http://127.0.0.1:${target.port}/ok`)
      assert.deepStrictEqual(answer, { status: 200, body: "secret" })
      const viaName = yield* fetchWith({ allowPrivate: true }, `http://localhost:${target.port}/name`)
      assert.strictEqual(viaName.status, 200)
      assert.deepStrictEqual(target.hits, ["/ok", "/name"])
    }).pipe(Effect.scoped))

  it.effect("a name resolving to 127.0.0.1 is refused at connect time, by the answer connected to", () =>
    Effect.gen(function*() {
      const target = yield* secretServer
      const lookup = fakeLookup(() => "127.0.0.1")
      const error = yield* Effect.flip(fetchWith({ lookup }, `http://media.example:${target.port}/a.jpg`))
      const refused = UrlGuard.refusalOf(error)
      assert.strictEqual(refused?.reason, "loopback")
      assert.strictEqual(refused?.address, "127.0.0.1")
      assert.include(refused?.message ?? "", `http://media.example:${target.port}/a.jpg`)
      assert.deepStrictEqual(target.hits, [])
      // The same resolver with allowPrivate: the connection goes to the answer (the guard really is in the path).
      const allowed = yield* fetchWith({ lookup, allowPrivate: true }, `http://media.example:${target.port}/a.jpg`)
      assert.strictEqual(allowed.body, "secret")
    }).pipe(Effect.scoped))

  it.effect("DNS rebinding: public when checked, loopback when connecting, refused", () =>
    Effect.gen(function*() {
      const target = yield* secretServer
      const lookup = fakeLookup((_host, call) => (call === 1 ? "93.184.216.34" : "127.0.0.1"))
      const url = `http://rebind.example:${target.port}/internal/admin`
      yield* UrlGuard.checkResolved(url, { lookup })
      const error = yield* Effect.flip(fetchWith({ lookup }, url))
      assert.strictEqual(UrlGuard.refusalOf(error)?.address, "127.0.0.1")
      assert.deepStrictEqual(target.hits, [])
    }).pipe(Effect.scoped))

  it.effect("a redirect to loopback is refused at the hop", () =>
    Effect.gen(function*() {
      const target = yield* secretServer
      for (const location of [`http://127.0.0.1:${target.port}/internal/admin`, `http://[::1]:${target.port}/`, `http://localhost:${target.port}/`]) {
        const hop = yield* redirectServer(() => location)
        // The first hop is trusted by host and port; the redirect target is not.
        const error = yield* Effect.flip(fetchWith({ allowHosts: [`127.0.0.1:${hop.port}`] }, `http://127.0.0.1:${hop.port}/a.jpg`))
        assert.strictEqual(UrlGuard.refusalOf(error)?.reason, "loopback", location)
      }
      assert.deepStrictEqual(target.hits, [])
    }).pipe(Effect.scoped))

  it.effect("a redirect to a name resolving to a private address is refused at connect time", () =>
    Effect.gen(function*() {
      const target = yield* secretServer
      const hop = yield* redirectServer(() => `http://internal.example:${target.port}/`)
      const lookup = fakeLookup(() => "10.0.0.7")
      const error = yield* Effect.flip(fetchWith({ allowHosts: [`127.0.0.1:${hop.port}`], lookup }, `http://127.0.0.1:${hop.port}/`))
      assert.strictEqual(UrlGuard.refusalOf(error)?.reason, "private")
      assert.strictEqual(UrlGuard.refusalOf(error)?.address, "10.0.0.7")
    }).pipe(Effect.scoped))

  it.effect("a redirect to another trusted host is followed", () =>
    Effect.gen(function*() {
      const target = yield* secretServer
      const hop = yield* redirectServer(() => `http://127.0.0.1:${target.port}/final`)
      const answer = yield* fetchWith(
        { allowHosts: [`127.0.0.1:${hop.port}`, `127.0.0.1:${target.port}`] },
        `http://127.0.0.1:${hop.port}/`
      )
      assert.deepStrictEqual(answer, { status: 200, body: "secret" })
    }).pipe(Effect.scoped))

  it.effect("the UrlGuard service carries the same options", () =>
    Effect.gen(function*() {
      const guard = yield* UrlGuard.UrlGuard
      assert.isTrue(guard.options.allowPrivate)
      yield* guard.check("http://127.0.0.1/")
    }).pipe(Effect.provide(Layer.fresh(UrlGuard.layerHttpClient({ allowPrivate: true })))))
})

describe("UrlGuard.fetcherFor", () => {
  it.effect("options given: the ambient client guarded with them; none: the host's fetcher (strict)", () =>
    Effect.gen(function*() {
      const target = yield* secretServer
      const url = `http://127.0.0.1:${target.port}/ok`
      const get = (fetcher: UrlGuard.Fetcher) =>
        fetcher.client.execute(HttpClientRequest.get(url)).pipe(Effect.flatMap((response) => response.text))
      const local = yield* UrlGuard.fetcherFor({ allowPrivate: true })
      assert.strictEqual(yield* get(local), "secret")
      assert.isTrue(local.guard.options.allowPrivate === true)
      const strict = yield* UrlGuard.fetcherFor(undefined)
      assert.isTrue(Exit.isFailure(yield* Effect.exit(get(strict))))
      assert.deepStrictEqual(target.hits, ["/ok"])
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})
