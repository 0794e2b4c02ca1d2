/**
 * `Server.layerListen`: the server listens before the routes are served (and
 * before the database opens), answers `503 STARTING` in between, and with
 * port 0 the configuration every service reads names the port bound.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { HttpServer } from "effect/http"
import { ServerConfig } from "../src/Config.js"
import * as Server from "../src/api/Server.js"

const requested = (overrides: Parameters<typeof ServerConfig.layer>[0]) =>
  ServerConfig.layer({ host: "127.0.0.1", port: 0, dataDir: "/nonexistent", logRequests: false, ...overrides })

describe("Server.layerListen", () => {
  it.live("with port 0: the port bound is in the configuration, and so is the public URL derived from it", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Server.layerListen.pipe(Layer.provide(requested({}))))
      const server = yield* HttpServer.HttpServer.pipe(Effect.provide(context))
      const config = yield* ServerConfig.pipe(Effect.provide(context))
      assert.strictEqual(server.address._tag, "InetAddressV4")
      const port = server.address._tag === "UnixPathAddress" ? -1 : server.address.port
      assert.isAbove(port, 0)
      assert.strictEqual(config.port, port)
      assert.strictEqual(config.publicUrl, `http://127.0.0.1:${port}`)
      assert.isFalse(config.publicUrlConfigured)
    }).pipe(Effect.scoped))

  it.live("a configured public URL is kept whatever port is bound", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Server.layerListen.pipe(Layer.provide(requested({ publicUrl: "https://posts.example.com/" }))))
      const config = yield* ServerConfig.pipe(Effect.provide(context))
      assert.isAbove(config.port, 0)
      assert.strictEqual(config.publicUrl, "https://posts.example.com")
      assert.isTrue(config.publicUrlConfigured)
    }).pipe(Effect.scoped))

  it.live("until the routes are served, a request is answered 503 STARTING in the error shape, with Retry-After", () =>
    Effect.gen(function*() {
      const context = yield* Layer.build(Server.layerListen.pipe(Layer.provide(requested({}))))
      const config = yield* ServerConfig.pipe(Effect.provide(context))
      const response = yield* Effect.promise(() => fetch(`${config.publicUrl}/v1/posts`))
      assert.strictEqual(response.status, 503)
      assert.strictEqual(response.headers.get("retry-after"), "1")
      const body = yield* Effect.promise(() => response.json() as Promise<{ error: { code: string; message: string } }>)
      assert.strictEqual(body.error.code, "STARTING")
      assert.include(body.error.message, "starting")
    }).pipe(Effect.scoped))

  it("a fixed port stays as configured (ServerConfig.boundTo)", () => {
    const config = { port: 8080, host: "0.0.0.0", publicUrl: "http://127.0.0.1:8080" } as Parameters<typeof ServerConfig.boundTo>[0]
    assert.strictEqual(ServerConfig.boundTo(config, 8080), config)
    const wildcard = { ...config, port: 0, publicUrl: "http://127.0.0.1:0" }
    assert.strictEqual(ServerConfig.boundTo(wildcard, 41234).publicUrl, "http://127.0.0.1:41234")
  })
})
