/**
 * A real server for API tests: an isolated database (PGlite, or PostgreSQL
 * when `DATABASE_URL` is set), the whole HTTP stack on an ephemeral port of
 * 127.0.0.1, the real Bluesky publisher pointed at a `FakeBluesky`, and an
 * organization with a first API key. Requests go over real HTTP (`fetch`).
 */
import { assert } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { FakeBluesky, type FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import type { Plugin } from "@omnipost/core"
import { ConfigProvider, Context, Effect, Layer, Option } from "effect"
import { randomBytes } from "node:crypto"
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ApiKeys } from "../src/storage/ApiKeys.js"
import { type ServerConfigShape, ServerConfig } from "../src/Config.js"
import { Crypto } from "../src/storage/Crypto.js"
import { PgClient } from "@effect/sql-pg"
import { SqlClient } from "effect/sql"
import { HttpServer } from "effect/http"
import { Database, type DatabaseKind } from "../src/storage/Database.js"
import { Leases } from "../src/storage/Leases.js"
import { Scheduler } from "../src/scheduler/Scheduler.js"
import * as Server from "../src/api/Server.js"
import { makeS3Fake, type S3Fake } from "./s3Harness.js"

export interface ApiServer {
  readonly url: string
  readonly key: string
  readonly organizationId: string
  /** The first start's admin key (it manages organizations through /v1/admin). */
  readonly adminKey: string
  readonly bluesky: FakeBlueskyServer
  readonly dataDir: string
  /** Where this server keeps media (`local`: `<dataDir>/media`; `s3`: the S3 fake, under a prefix of its own). */
  readonly mediaStore: MediaStoreKind
  /** The S3 fake, when the media store is S3. */
  readonly s3?: S3Fake | undefined
  /** The stored media files (committed and partial), by storage key, whichever the store. */
  readonly storedMedia: () => Promise<ReadonlyArray<{ readonly name: string; readonly size: number }>>
}

/** The media stores a suite can run on: files, or an S3-compatible server (URLs the worker's or presigned by the store). */
export type MediaStoreKind = "local" | "s3" | "s3-presigned"

export class TestApi extends Context.Service<TestApi, ApiServer>()("test/TestApi") {}

interface ServeOptions {
  readonly scheduler?: boolean
  /** Configuration variables (plugin settings such as OMNIPOST_X_CLIENT_ID), before the environment. */
  readonly env?: Readonly<Record<string, string>>
  /** Plugins loaded after the built-in ones. */
  readonly plugins?: ReadonlyArray<Plugin.Plugin>
}

/** The whole HTTP stack on a free port of 127.0.0.1 over `database`: its URL, its data directory and the layer. */
const serve = <Extra = never>(
  database: Layer.Layer<Database | PgClient.PgClient | SqlClient.SqlClient | Extra, unknown>,
  overrides: Partial<ServerConfigShape>,
  options: ServeOptions
) =>
  Effect.gen(function*() {
    const dataDir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "omnipost-api-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const config = ServerConfig.layer({
      // Port 0: the system chooses, and the public URL names the port bound (`Server.layerListen`); it counts as
      // configured so stored media are handed to platforms by URL, as behind a real public URL.
      host: "127.0.0.1",
      port: 0,
      dataDir,
      publicUrlConfigured: true,
      defaultRateLimitPerMinute: 100_000,
      maxUploadBytes: 1_000_000,
      logRequests: false,
      webhookPollMs: 50,
      webhookBackoffBaseMs: 100,
      webhookMaxAttempts: 3,
      // Receivers and media hosts of the tests listen on 127.0.0.1; the URL-guard tests set it back to false.
      allowPrivateUrls: true,
      ...overrides
    })
    const scheduler = Scheduler.layer({ pollMs: 200, heartbeatMs: 500, backoff: { baseMs: 100, maxMs: 1000 } }).pipe(
      Layer.provide(Leases.layer)
    )
    const server = Layer.mergeAll(Server.layerNode, Server.layerDispatcher, options.scheduler === false ? Layer.empty : scheduler).pipe(
      Layer.provideMerge(Server.layerStack({ plugins: options.plugins })),
      Layer.provideMerge(Server.layerListen),
      Layer.provideMerge(config),
      Layer.provideMerge(Layer.mergeAll(Crypto.layerTest, database, NodeHttpClient.layerUndici)),
      Layer.provide(ConfigProvider.layerAdd(ConfigProvider.fromEnv({ env: { ...options.env } }), { asPrimary: true }))
    )
    return { dataDir, server }
  })

/** Where a test reaches a server listening on 127.0.0.1 (on the port the system chose). */
const urlOf = (server: HttpServer.HttpServer["Service"]) =>
  server.address._tag === "UnixPathAddress" ? server.address.path : `http://127.0.0.1:${server.address.port}`

/** The server and its services, for one suite. */
export const apiLayer = <Extra = never>(
  kind: DatabaseKind,
  overrides: Partial<ServerConfigShape> = {},
  options: ServeOptions & {
    /** Where media are stored (default `local`). */
    readonly mediaStore?: MediaStoreKind
    /** The database, instead of `Database.layerTest(kind)` (e.g. one reached through a `tcpProxy`). */
    readonly database?: Layer.Layer<Database | PgClient.PgClient | SqlClient.SqlClient | Extra, unknown>
  } = {}
) =>
  Layer.unwrap(Effect.gen(function*() {
    const bluesky = yield* FakeBluesky.make()
    const mediaStore = options.mediaStore ?? "local"
    const s3 = mediaStore === "local" ? undefined : yield* makeS3Fake()
    const prefix = `server-${randomBytes(4).toString("hex")}`
    const mediaEnv = s3 === undefined ? {} : s3.env(prefix, mediaStore === "s3-presigned" ? "presigned" : "worker")
    const { dataDir, server } = yield* serve<Extra>(
      // Without `database`, `Extra` is never: the default layer provides exactly the database services.
      options.database ?? (Database.layerTest(kind) as Layer.Layer<Database | PgClient.PgClient | SqlClient.SqlClient | Extra, unknown>),
      { ...overrides, platformBaseUrls: { bluesky: bluesky.url, ...overrides.platformBaseUrls } },
      { ...options, env: { ...mediaEnv, ...options.env } }
    )
    const storedMedia = async () => {
      if (s3 === undefined) {
        const dir = join(dataDir, "media")
        return existsSync(dir) ? readdirSync(dir).map((name) => ({ name, size: statSync(join(dir, name)).size })) : []
      }
      const objects = await s3.objects(prefix)
      return objects.map((object) => ({ name: object.key.slice(prefix.length + 1), size: object.size }))
    }
    const testApi = Layer.effect(
      TestApi,
      Effect.gen(function*() {
        const keys = yield* ApiKeys
        const url = urlOf(yield* HttpServer.HttpServer)
        const first = yield* keys.bootstrap
        const created = Option.getOrThrow(first)
        const organizationId = yield* keys.defaultOrganization
        return TestApi.of({
          url,
          key: created.key,
          organizationId,
          adminKey: created.adminKey.key,
          bluesky,
          dataDir,
          mediaStore,
          s3,
          storedMedia
        })
      }).pipe(Effect.orDie)
    )
    return testApi.pipe(Layer.provideMerge(server))
  }))

/**
 * Another API server on the database of `api` (the suite's `apiLayer`), with
 * services of its own (rate limiter, caches), as a second process would be:
 * on PostgreSQL over a pool of its own; on PGlite, which belongs to one
 * process, over the same client. Its `ApiServer` has the first's keys; its
 * media are kept locally.
 */
export const secondServer = (api: ApiServer, kind: DatabaseKind, overrides: Partial<ServerConfigShape> = {}) =>
  Effect.gen(function*() {
    const database = kind === "postgres"
      ? Database.layerPostgres({ url: (yield* Database).url, maxConnections: 4 })
      : Layer.succeedContext(yield* Effect.context<Database | PgClient.PgClient | SqlClient.SqlClient>())
    const { server } = yield* serve(database, { ...overrides, platformBaseUrls: { bluesky: api.bluesky.url } }, { scheduler: false })
    // A memo map of its own: the suite's would hand back the first server's layers (the same constants).
    const built = yield* Layer.buildWithMemoMap(server, yield* Layer.makeMemoMap, yield* Effect.scope)
    return { ...api, url: urlOf(Context.get(built, HttpServer.HttpServer)) }
  })

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: any
}

/** One request; `body` objects are sent as JSON. */
export const request = (
  api: ApiServer,
  method: string,
  path: string,
  options: {
    readonly body?: unknown
    readonly key?: string | null
    readonly headers?: Record<string, string>
    readonly raw?: BodyInit
  } = {}
): Effect.Effect<Answer> =>
  Effect.promise(async () => {
    const headers: Record<string, string> = { ...options.headers }
    const key = options.key === undefined ? api.key : options.key
    if (key !== null) headers.authorization = `Bearer ${key}`
    let body: BodyInit | undefined = options.raw
    if (options.body !== undefined) {
      headers["content-type"] ??= "application/json"
      body = typeof options.body === "string" ? options.body : JSON.stringify(options.body)
    }
    const response = await fetch(`${api.url}${path}`, { method, headers, body, ...(body instanceof ReadableStream ? { duplex: "half" } : {}) } as RequestInit)
    const text = await response.text()
    let parsed: unknown = text
    try {
      parsed = text === "" ? undefined : JSON.parse(text)
    } catch {
      // not JSON
    }
    return { status: response.status, headers: response.headers, body: parsed }
  })

/** A tiny valid PNG (1×1). */
export const png1x1 = Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f1e2b40000000049454e44ae426082",
  "hex"
)

/** Polls `check` until it returns a value (not undefined), or fails after `timeoutMs`. */
export const waitFor = <A>(check: Effect.Effect<A | undefined>, timeoutMs = 20_000, what = "condition") =>
  Effect.gen(function*() {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const value = yield* check
      if (value !== undefined) return value
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 100)))
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

/** Connects the harness's Bluesky fake account over the API; its account id. */
export const connectBluesky = (api: ApiServer) =>
  Effect.gen(function*() {
    const answer = yield* request(api, "POST", "/v1/accounts", {
      body: { platform: "bluesky", credentials: api.bluesky.credentials() }
    })
    if (answer.status !== 201) return yield* Effect.die(new Error(`connecting Bluesky: ${answer.status} ${JSON.stringify(answer.body)}`))
    return answer.body.id as string
  })

/**
 * The OAuth connect flow over the API against a platform fake: start, the
 * account owner consents at the fake (a 302 to our callback), the callback.
 * Each step's status is checked; the callback's answer (the account) is returned.
 */
export const connectOAuth = (api: ApiServer, platform: string) =>
  Effect.gen(function*() {
    const started = yield* request(api, "POST", `/v1/accounts/oauth/${platform}/start`, { body: {} })
    assert.strictEqual(started.status, 200, JSON.stringify(started.body))
    const consent = yield* Effect.promise(() => fetch(started.body.authorizationUrl, { redirect: "manual" }))
    assert.strictEqual(consent.status, 302)
    const callbackUrl = new URL(consent.headers.get("location")!)
    const callback = yield* request(api, "GET", `${callbackUrl.pathname}${callbackUrl.search}`, { key: null })
    assert.strictEqual(callback.status, 200, JSON.stringify(callback.body))
    return callback
  })

/** Asserts the error shape and returns the code. */
export const errorCode = (answer: Answer): string => {
  const error = answer.body?.error
  if (typeof error?.code !== "string" || typeof error?.message !== "string") {
    throw new Error(`not an error body: ${answer.status} ${JSON.stringify(answer.body)}`)
  }
  return error.code
}
