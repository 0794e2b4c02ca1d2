/**
 * The README's walk-through against a really started server: `omnipost serve`
 * is spawned as its own process (the built `packages/worker/dist/bin.js`, as
 * `npm start` runs it) on embedded PGlite in a fresh data directory; its first
 * API key is read from what it prints; the Bluesky account lives on the
 * platform fake. Then SIGTERM, and the server must exit cleanly.
 */
import { FakeBluesky, type FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { bin, printedApiUrl } from "./processes.js"
import {
  connectBluesky,
  createKey,
  pixel,
  results,
  schedulePost,
  type Server,
  uploadImage,
  waitForOutcome
} from "../src/walkthrough.js"


describe("self-hosted walk-through", () => {
  let child: ChildProcess
  let output = ""
  let fake: FakeBlueskyServer
  let server: Server
  let dataDir: string

  beforeAll(async () => {
    expect(existsSync(bin), `${bin} is built by \`npm run build\` (npm test and npm start build it)`).toBe(true)
    fake = await FakeBluesky.start()
    dataDir = mkdtempSync(join(tmpdir(), "omnipost-walkthrough-"))
    const env: NodeJS.ProcessEnv = { ...process.env, OMNIPOST_LOG_REQUESTS: "false" }
    // The zero-configuration start: embedded PGlite, a generated encryption key.
    delete env.DATABASE_URL
    delete env.OMNIPOST_ENCRYPTION_KEY
    child = spawn(process.execPath, [bin, "serve", "--port", "0", "--data-dir", dataDir], {
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    child.stdout!.on("data", (chunk) => (output += chunk))
    child.stderr!.on("data", (chunk) => (output += chunk))
    const key = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no API key printed within 180 s:\n${output}`)), 180_000)
      const check = () => {
        const match = /API key \(shown once[^:]*:\s+(omp_[0-9a-z]+)/.exec(output)
        if (match && printedApiUrl(output) !== undefined) {
          clearTimeout(timer)
          done(match[1]!)
        }
      }
      child.stdout!.on("data", check)
      child.once("exit", (code) => fail(new Error(`the server exited (${code}):\n${output}`)))
    })
    // Port 0: the system chose the port; the server printed where it listens.
    server = { url: printedApiUrl(output)!, key }
  })

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill("SIGKILL")
    }
    await fake?.close()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  })

  it("start → key → account on the fake → scheduled post with an image → published → results → graceful stop", async () => {
    expect(output).toContain(`Omnipost API:  ${server.url}/v1`)
    expect(output).toContain(`Docs:          ${server.url}/docs`)

    const key = await createKey(server, "walk-through")
    expect(key.key).toMatch(/^omp_/)
    const mine: Server = { ...server, key: key.key }

    const account = await connectBluesky(mine, fake.credentials())
    expect(account.username).toBe("alice.bsky.social")

    const media = await uploadImage(mine, pixel, "pixel.png")
    expect(media.mimeType).toBe("image/png")
    const image = await fetch(media.url)
    expect(image.status).toBe(200)

    const at = new Date(Date.now() + 3_000)
    const post = await schedulePost(mine, { text: "Hello from the walk-through", accountId: account.id, mediaId: media.id, at })
    expect(post.status).toBe("scheduled")
    expect(new Date(post.scheduledAt).getTime()).toBe(Math.floor(at.getTime()))
    const repeat = await schedulePost(mine, { text: "Hello from the walk-through", accountId: account.id, mediaId: media.id, at })
    expect(repeat.id).toBe(post.id)

    const before = Date.now()
    const { post: settled, seen } = await waitForOutcome(mine, post.id)
    expect(settled.status, JSON.stringify(settled.destinations)).toBe("published")
    expect(seen[0]).toBe("scheduled")
    // Not before its time.
    expect(new Date(settled.destinations[0].publishedAt).getTime()).toBeGreaterThanOrEqual(at.getTime() - 50)
    expect(Date.now() - before).toBeLessThan(60_000)

    const [result] = results(settled)
    expect(result!.status).toBe("published")
    expect(result!.url).toMatch(/^https:\/\/bsky\.app\/profile\/alice\.bsky\.social\/post\//)
    const records = fake.posts()
    expect(records.length).toBe(1)
    expect(JSON.stringify(records[0])).toContain("A single pixel")
    expect(JSON.stringify(records[0])).toContain("Hello from the walk-through")

    // The CLI against the same server: a post with a file (upload progress on stderr), then its status.
    const picture = join(dataDir, "cli-pixel.png")
    writeFileSync(picture, pixel)
    const cli = (...args: Array<string>) =>
      new Promise<{ stdout: string; stderr: string }>((done, fail) =>
        execFile(process.execPath, [bin, ...args, "--url", mine.url, "--key", mine.key], (error, stdout, stderr) =>
          error ? fail(new Error(`${args.join(" ")}: ${error.message}\n${stderr}`)) : done({ stdout, stderr })
        )
      )
    const accounts = JSON.parse((await cli("accounts", "list", "--platform", "bluesky")).stdout)
    expect(accounts.map((a: { id: string }) => a.id)).toContain(account.id)
    const posted = await cli("post", "Posted by the CLI", "--account", account.id, "--file", picture)
    expect(posted.stderr).toContain("100%")
    const cliPost = JSON.parse(posted.stdout)
    expect(cliPost.content.media[0].mimeType).toBe("image/png")
    await waitForOutcome(mine, cliPost.id)
    const status = await cli("status", cliPost.id)
    expect(status.stdout).toMatch(new RegExp(`${cliPost.id}\\s+published`))
    expect(status.stdout).toMatch(/bluesky\s+published\s+attempts 1\s+https:\/\/bsky\.app\//)

    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)))
    child.kill("SIGTERM")
    const code = await Promise.race([exited, new Promise<"timeout">((done) => setTimeout(() => done("timeout"), 30_000))])
    expect(code).toBe(0)

    // With the server stopped, `keys` works on the database directly (PGlite belongs to one process at a time).
    const direct = (...args: Array<string>) =>
      new Promise<string>((done, fail) =>
        execFile(
          process.execPath,
          [bin, ...args],
          { env: { ...process.env, OMNIPOST_DATA_DIR: dataDir, DATABASE_URL: "", OMNIPOST_API_KEY: "" } },
          (error, stdout, stderr) => (error ? fail(new Error(`${args.join(" ")}: ${stderr}`)) : done(stdout))
        )
      )
    expect(await direct("migrate")).toContain("migrations applied")
    const keys = JSON.parse(await direct("keys", "list"))
    expect(keys.map((k: { name: string }) => k.name)).toEqual(expect.arrayContaining(["first key", "walk-through"]))
    expect(JSON.stringify(keys)).not.toContain(key.key)
    const added = JSON.parse(await direct("keys", "create", "--name", "offline"))
    expect(added.key).toMatch(/^omp_/)
    expect(await direct("keys", "revoke", added.id)).toContain(`revoked ${added.id}`)
  })
})
