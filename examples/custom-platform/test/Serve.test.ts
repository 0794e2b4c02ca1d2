/**
 * The plugin in `omnipost serve`, as an operator runs it: the worker's built
 * executable in a child process, `OMNIPOST_PLUGINS` naming this package's
 * directory, the plugin's settings in the environment, listening on port 0
 * behind a public URL. Against the fake Mastodon: register an app, connect
 * an account over the API with OAuth (start → the instance's
 * `/oauth/authorize` → the callback → `/oauth/token` →
 * `verify_credentials`), schedule a post, and see the scheduler publish it.
 *
 * Needs the packages built (`npx turbo run build`, which `npm test` does).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { FakeMastodonServer } from "../src/testing/index.js"

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..")
const bin = join(repoRoot, "packages/worker/dist/bin.js")
/** Where the server says it is: a proxy in front of it would answer here. */
const publicUrl = "http://omnipost.test"

interface Served {
  readonly child: ChildProcess
  readonly url: string
  readonly key: string
  output: string
  /** `--data-dir`: where the database and the generated key are placed. */
  dataDir: string
}

/** Starts `omnipost serve` and waits until it has printed its address and first API key (or exited). */
const serve = (env: Record<string, string>) =>
  new Promise<Served>((resolve, reject) => {
    if (!existsSync(bin)) return reject(new Error(`${bin} is missing: build first (npx turbo run build)`))
    const dataDir = mkdtempSync(join(tmpdir(), "omnipost-serve-"))
    const { DATABASE_URL: _database, ...inherited } = process.env
    const child = spawn(process.execPath, [bin, "serve", "--port", "0", "--data-dir", dataDir, "--public-url", publicUrl], {
      cwd: repoRoot,
      env: { ...inherited, OMNIPOST_LOG_REQUESTS: "false", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    child.on("exit", () => rmSync(dataDir, { recursive: true, force: true }))
    let output = ""
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8")
      const url = /Omnipost API:\s+(http:\/\/\S+)\/v1/.exec(output)?.[1]
      const key = /API key \(shown once, store it now\):\s+(\S+)/.exec(output)?.[1]
      if (url !== undefined && key !== undefined) resolve({ child, url, key, output, dataDir })
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.on("exit", (code) => reject(new Error(`omnipost serve exited (${code}) before it was ready:\n${output}`)))
  })

/** Ends the server with SIGTERM and waits for it to exit. */
const stop = (served: Served) =>
  new Promise<void>((resolve) => {
    if (served.child.exitCode !== null) return resolve()
    served.child.once("exit", () => resolve())
    served.child.kill("SIGTERM")
  })

const call = async (served: Served, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${served.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${served.key}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return { status: response.status, body: (await response.json()) as any }
}

describe("omnipost serve with the Mastodon plugin", () => {
  it.live("connects an account with OAuth and publishes a scheduled post through the scheduler", () =>
    Effect.acquireUseRelease(
      Effect.promise(() => FakeMastodonServer.start()),
      (fake) =>
        Effect.promise(async () => {
          // The operator registers an app on the instance, with the server's public callback.
          const callback = `${publicUrl}/v1/accounts/oauth/mastodon/callback`
          const app = await (await fetch(`${fake.url}/api/v1/apps`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ client_name: "Omnipost", redirect_uris: callback, scopes: "read write" })
          })).json() as { client_id: string; client_secret: string }

          const served = await serve({
            OMNIPOST_PLUGINS: "./examples/custom-platform",
            OMNIPOST_MASTODON_INSTANCE_URL: fake.url,
            OMNIPOST_MASTODON_CLIENT_ID: app.client_id,
            OMNIPOST_MASTODON_CLIENT_SECRET: app.client_secret
          })
          try {
            // `--data-dir` alone (no OMNIPOST_DATA_DIR) places the database and the generated key there.
            assert.isTrue(existsSync(join(served.dataDir, "pgdata")))
            assert.isTrue(existsSync(join(served.dataDir, "encryption.key")))
            // The built-in platforms first (their list grows), then the plugin, with its OAuth flow.
            assert.match(served.output, /Platforms:\s+x, bluesky(, [a-z_-]+( \(OAuth\))?)*, mastodon \(OAuth\)/)

            const started = await call(served, "POST", "/v1/accounts/oauth/mastodon/start", {})
            assert.strictEqual(started.status, 200, JSON.stringify(started.body))
            const authorize = new URL(started.body.authorizationUrl)
            assert.strictEqual(`${authorize.origin}${authorize.pathname}`, `${fake.url}/oauth/authorize`)
            assert.strictEqual(authorize.searchParams.get("scope"), "read:accounts write:statuses write:media")
            assert.strictEqual(authorize.searchParams.get("code_challenge_method"), "S256")

            // The user's browser: the instance redirects back to the public callback, which the proxy serves.
            const approved = await fetch(authorize, { redirect: "manual" })
            assert.strictEqual(approved.status, 302)
            const location = new URL(approved.headers.get("location")!)
            assert.strictEqual(`${location.origin}${location.pathname}`, callback)
            assert.isNotNull(location.searchParams.get("code"))
            const connected = await fetch(`${served.url}${location.pathname}${location.search}`)
            const account = await connected.json() as any
            assert.strictEqual(connected.status, 200, JSON.stringify(account))
            assert.strictEqual(account.platform, "mastodon")
            assert.strictEqual(account.username, "alice")
            assert.strictEqual(account.platformAccountId, "109")
            // The code works once.
            const replayed = await fetch(`${served.url}${location.pathname}${location.search}`)
            assert.strictEqual(replayed.status, 400)

            const scheduledAt = new Date(Date.now() + 2_000).toISOString()
            const created = await call(served, "POST", "/v1/posts", {
              content: { text: "Hello from a plugin in omnipost serve" },
              destinations: [{ accountId: account.id, settings: { visibility: "unlisted" } }],
              scheduledAt
            })
            assert.strictEqual(created.status, 201, JSON.stringify(created.body))
            assert.strictEqual(created.body.status, "scheduled")

            let post: any
            for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
              post = (await call(served, "GET", `/v1/posts/${created.body.id}`)).body
              if (["published", "failed", "partially_failed"].includes(post.status)) break
              await new Promise((resolve) => setTimeout(resolve, 200))
            }
            assert.strictEqual(post.status, "published", JSON.stringify(post))
            const status = fake.statuses.find((s) => s.text === "Hello from a plugin in omnipost serve")
            assert.isDefined(status)
            assert.strictEqual(status!.visibility, "unlisted")
            assert.strictEqual(status!.accountId, "109")
            assert.strictEqual(post.destinations[0].url, `${fake.url}/@alice/${status!.id}`)
            // Published by the scheduler at its time, not at once.
            assert.isAtLeast(Date.parse(status!.createdAt), Date.parse(scheduledAt))
            assert.strictEqual(post.destinations[0].publishedAt, status!.createdAt)
          } finally {
            await stop(served)
          }
        }),
      (fake) => Effect.promise(() => fake.close())
    ), { timeout: 180_000 })

  it.live("refuses to start when a configured plugin cannot be loaded, saying which and why", () =>
    Effect.promise(async () => {
      const failed = await serve({ OMNIPOST_PLUGINS: "./examples/custom-platform,@acme/omnipost-nowhere" }).then(
        async (served) => {
          await stop(served)
          return undefined
        },
        (error: Error) => error.message
      )
      assert.isDefined(failed)
      assert.match(failed!, /exited \(1\)/)
      assert.include(failed!, "@acme/omnipost-nowhere (from OMNIPOST_PLUGINS): cannot find the package")
    }), { timeout: 120_000 })
})
