/**
 * SSRF (issue 18), the whole matrix on a server with the default policy:
 * media URLs (`POST /v1/media/from-url`, a post's media when created and when
 * published), link cards (Bluesky's, fetched when publishing) and webhook
 * targets (when created and when delivered), each pointed at loopback,
 * private, link-local, unique-local and metadata addresses three ways:
 *
 * - by IP literal, in every spelling the URL parser reads as one (decimal,
 *   octal, hex, short, IPv4-mapped IPv6);
 * - by a name that resolves to one (`evil.test` → 127.0.0.1, through the
 *   server's `urlLookup`, not real DNS);
 * - by a redirect to one, from a host the operator allowed (the "public"
 *   server here, listed in `allowedUrlHosts`).
 *
 * The private target counts every request it receives: it must receive none.
 * Positive controls (the allowed host's photo, page and hook) prove each
 * feature does fetch, so that "nothing reached" means refused, not idle.
 * PGlite only: the policy does not depend on the database.
 */
import { afterAll, assert, describe, layer } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import type { LookupAddress } from "node:dns"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { apiLayer, connectBluesky, errorCode, request, TestApi, waitFor } from "./apiHarness.js"

const listen = (server: Server) =>
  new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)))

const photo = Samples.png(4_000, 11)

/** The private target: what nothing may reach. */
const reached: Array<string> = []
const internal = createServer((request, response) => {
  reached.push(request.url ?? "")
  response.writeHead(200, { "content-type": "text/html" }).end("<meta property=\"og:title\" content=\"SECRET\">")
})
const internalPort = await listen(internal)
const target = (path: string) => `http://127.0.0.1:${internalPort}${path}`

/** The allowed host (a public site in production): serves real content and redirects to the private target. */
const hooks: Array<string> = []
const publicSite = createServer((request, response) => {
  const url = request.url ?? ""
  if (url === "/photo.png") return void response.writeHead(200, { "content-type": "image/png" }).end(photo)
  if (url === "/page") {
    return void response.writeHead(200, { "content-type": "text/html" }).end(
      `<html><head><meta property="og:title" content="Public page"><meta property="og:image" content="${target("/og.png")}"></head></html>`
    )
  }
  if (url.startsWith("/hop-name")) return void response.writeHead(302, { location: `http://evil.test:${internalPort}${url}` }).end()
  if (url.startsWith("/hop")) return void response.writeHead(url.includes("hook") ? 307 : 302, { location: target(url) }).end()
  if (url === "/hook") {
    request.resume()
    hooks.push(url)
    return void response.writeHead(200).end()
  }
  response.writeHead(404).end()
})
const publicPort = await listen(publicSite)
const allowed = (path: string) => `http://127.0.0.1:${publicPort}${path}`
afterAll(() => {
  internal.close()
  publicSite.close()
})

/** The server's DNS for users' URLs: `evil.test` is loopback, `evil6.test` is `::1`; any other name does not exist. */
const lookup = (hostname: string, _options: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: Array<LookupAddress>) => void) => {
  if (hostname === "evil.test") return callback(null, [{ address: "127.0.0.1", family: 4 }])
  if (hostname === "evil6.test") return callback(null, [{ address: "::1", family: 6 }])
  if (hostname === "127.0.0.1") return callback(null, [{ address: "127.0.0.1", family: 4 }])
  callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), [])
}

/** Loopback, private, link-local, unique-local and metadata addresses, in the spellings that name them. */
const literals = [
  target("/x"),
  `http://2130706433:${internalPort}/x`,
  `http://0177.0.0.1:${internalPort}/x`,
  `http://0x7f.1:${internalPort}/x`,
  `http://127.1:${internalPort}/x`,
  `http://[::ffff:127.0.0.1]:${internalPort}/x`,
  `http://[::ffff:7f00:1]:${internalPort}/x`,
  `http://[::1]:${internalPort}/x`,
  `http://0.0.0.0:${internalPort}/x`,
  `http://localhost:${internalPort}/x`,
  "http://10.0.0.1/x",
  "http://172.16.0.1/x",
  "http://192.168.1.1/x",
  "http://100.64.0.1/x",
  "http://169.254.1.1/x",
  "http://[fe80::1]/x",
  "http://[fd00::1]/x",
  "http://[::ffff:10.0.0.1]/x",
  "http://169.254.169.254/latest/meta-data/",
  "http://[fd00:ec2::254]/latest/meta-data/",
  "http://metadata.google.internal/computeMetadata/v1/"
]

const imagePost = (accountId: string, url: string) => ({
  content: { text: "a picture", media: [{ source: { _tag: "url", url }, kind: "image", mimeType: "image/png", sizeBytes: photo.byteLength }] },
  destinations: [{ accountId }]
})

describe("SSRF: media URLs, link cards and webhooks never reach private addresses (pglite)", () => {
  layer(
    apiLayer("pglite", { allowPrivateUrls: false, allowedUrlHosts: [`127.0.0.1:${publicPort}`], urlLookup: lookup }),
    { timeout: 180_000, excludeTestServices: true }
  )((it) => {
    const settle = (id: string) =>
      Effect.gen(function*() {
        const api = yield* TestApi
        return yield* waitFor(
          Effect.map(request(api, "GET", `/v1/posts/${id}`), (r) => ["published", "failed"].includes(r.body.status) ? r.body : undefined),
          30_000,
          `post ${id} settled`
        )
      })

    it.effect("media URLs: by IP literal, by a name resolving to loopback, by a redirect", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const accountId = yield* connectBluesky(api)
        // The control: the allowed host's photo is fetched.
        const control = yield* request(api, "POST", "/v1/media/from-url", { body: { url: allowed("/photo.png") } })
        assert.strictEqual(control.status, 201, JSON.stringify(control.body))
        for (const url of literals) {
          const fetched = yield* request(api, "POST", "/v1/media/from-url", { body: { url } })
          assert.strictEqual(fetched.status, 400, `${url}: ${JSON.stringify(fetched.body)}`)
          assert.strictEqual(errorCode(fetched), "URL_NOT_ALLOWED", url)
          const created = yield* request(api, "POST", "/v1/posts", { body: imagePost(accountId, url) })
          assert.strictEqual(errorCode(created), "URL_NOT_ALLOWED", url)
        }
        for (const url of [`http://evil.test:${internalPort}/x.png`, `http://evil6.test:${internalPort}/x.png`, allowed("/hop.png"), allowed("/hop-name.png")]) {
          const fetched = yield* request(api, "POST", "/v1/media/from-url", { body: { url } })
          assert.strictEqual(fetched.status, 400, `${url}: ${JSON.stringify(fetched.body)}`)
          assert.strictEqual(errorCode(fetched), "URL_NOT_ALLOWED", url)
          // A post names it (the URL alone says nothing wrong); publishing fetches it through the guard and fails.
          const created = yield* request(api, "POST", "/v1/posts", { body: imagePost(accountId, url) })
          assert.strictEqual(created.status, 201, `${url}: ${JSON.stringify(created.body)}`)
          const failed = yield* settle(created.body.id)
          assert.strictEqual(failed.status, "failed", url)
          assert.strictEqual(failed.destinations[0].lastError.code, "URL_NOT_ALLOWED", `${url}: ${JSON.stringify(failed.destinations[0].lastError)}`)
        }
        assert.deepStrictEqual(reached, [])
      }))

    it.effect("link cards: the page at a private address, by IP, by name or by redirect, is never fetched; nor an og:image there", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const accountId = yield* connectBluesky(api)
        const card = (url: string) =>
          Effect.gen(function*() {
            const created = yield* request(api, "POST", "/v1/posts", { body: { content: { text: `see ${url}` }, destinations: [{ accountId }] } })
            assert.strictEqual(created.status, 201, `${url}: ${JSON.stringify(created.body)}`)
            const settled = yield* settle(created.body.id)
            assert.strictEqual(settled.status, "published", `${url}: ${JSON.stringify(settled.destinations[0].lastError)}`)
            const record = api.bluesky.posts().find((post) => String(post.value.text).includes(url))
            return (record?.value.embed as { external?: { title: string; thumb?: unknown } } | undefined)?.external
          })
        // The control: the allowed page's card has its title (its og:image is private: no thumbnail).
        const control = yield* card(allowed("/page"))
        assert.strictEqual(control?.title, "Public page")
        assert.isUndefined(control?.thumb)
        for (const url of [target("/page"), `http://[::ffff:7f00:1]:${internalPort}/page`, `http://evil.test:${internalPort}/page`, allowed("/hop-page"), allowed("/hop-name-page")]) {
          const external = yield* card(url)
          // A card is best-effort: the URL as its title, nothing read from the private page.
          assert.notStrictEqual(external?.title, "SECRET", url)
        }
        assert.deepStrictEqual(reached, [])
      }))

    it.effect("webhooks: private targets refused when created; by name or by redirect, never delivered there", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const accountId = yield* connectBluesky(api)
        const create = (url: string) =>
          request(api, "POST", "/v1/webhooks", { body: { url, secret: "0123456789abcdef0123", events: ["post.published"] } })
        for (const url of literals) {
          const answer = yield* create(url)
          assert.strictEqual(answer.status, 400, `${url}: ${JSON.stringify(answer.body)}`)
          assert.strictEqual(errorCode(answer), "URL_NOT_ALLOWED", url)
        }
        const control = yield* create(allowed("/hook"))
        assert.strictEqual(control.status, 201, JSON.stringify(control.body))
        const sneaky: Array<string> = []
        for (const url of [`http://evil.test:${internalPort}/hook`, allowed("/hop-hook"), allowed("/hop-name-hook")]) {
          const answer = yield* create(url)
          // Created or refused; either way nothing may be delivered there.
          if (answer.status === 201) sneaky.push(answer.body.id)
          else assert.strictEqual(errorCode(answer), "URL_NOT_ALLOWED", url)
        }
        const post = yield* request(api, "POST", "/v1/posts", { body: { content: { text: "an event" }, destinations: [{ accountId }] } })
        yield* settle(post.body.id)
        yield* waitFor(Effect.sync(() => hooks.length > 0 ? true : undefined), 30_000, "the control hook's delivery")
        for (const id of sneaky) {
          // Each was attempted (and failed), not left untried.
          const attempted = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/webhooks/${id}/deliveries`), (r) => {
              const deliveries = (r.body.data ?? r.body) as Array<{ attempts: number; status: string; lastError?: string }>
              return deliveries.some((d) => d.attempts > 0) ? deliveries : undefined
            }),
            30_000,
            `an attempt of ${id}`
          )
          assert.isTrue(attempted.every((d) => d.status !== "delivered"), JSON.stringify(attempted))
        }
        assert.deepStrictEqual(reached, [])
      }))
  })
})
