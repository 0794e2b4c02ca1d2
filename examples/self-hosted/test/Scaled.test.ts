/**
 * Scaling out on PostgreSQL (runs when `DATABASE_URL` is set, which `npm test`
 * does when PostgreSQL answers on 127.0.0.1:5432; reported as skipped otherwise): `omnipost serve --api-only` and `omnipost serve --worker-only` as two
 * processes on one fresh database. The API process takes the post; the
 * worker process publishes it; `/readyz` on the API sees the other process's
 * scheduler heartbeat. Both stop cleanly on SIGTERM.
 */
import { FakeBluesky, type FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { Effect, Exit, Scope } from "effect"
import { rmSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { printedApiUrl, type Serving, sharedEnvironment, spawnServe } from "./processes.js"
import { connectBluesky, type Server, waitForOutcome } from "../src/walkthrough.js"


describe("serve modes", () => {
  it("--api-only and --worker-only exclude each other", async () => {
    const { child, output } = spawnServe(["--api-only", "--worker-only"])
    const code = await new Promise<number | null>((done) => child.once("exit", (c) => done(c)))
    expect(code).not.toBe(0)
    expect(output()).toContain("--api-only and --worker-only exclude each other")
  })
})

describe.runIf(Boolean(process.env.DATABASE_URL))("API and scheduler as separate processes (PostgreSQL)", () => {
  const scope = Effect.runSync(Scope.make())
  const children: Array<Serving> = []
  let fake: FakeBlueskyServer
  let server: Server
  let dataDir: string

  const start = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) => {
    const entry = spawnServe(args, env)
    children.push(entry)
    return entry
  }

  beforeAll(async () => {
    // A fresh database on the server of DATABASE_URL, dropped afterwards.
    const shared = await sharedEnvironment(scope, "omnipost-scaled-")
    fake = await FakeBluesky.start()
    dataDir = shared.dataDir
    const env = shared.env
    const api = start(["--api-only", "--port", "0"], env)
    const worker = start(["--worker-only"], env)
    const key = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`no key within 120 s:\n${api.output()}\n${worker.output()}`)), 120_000)
      const check = () => {
        // Whichever process starts first creates the organization and prints its first key.
        const match = /API key \(shown once[^:]*:\s+(omp_[0-9a-z]+)/.exec(api.output() + worker.output())
        if (match && api.output().includes("Omnipost API:") && worker.output().includes("Scheduler:")) {
          clearTimeout(timer)
          clearInterval(poll)
          done(match[1]!)
        }
      }
      const poll = setInterval(check, 100)
    })
    server = { url: printedApiUrl(api.output())!, key }
  })

  afterAll(async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill("SIGKILL")
    await fake?.close()
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  it("the API process accepts, the worker process publishes, /readyz sees the worker", async () => {
    expect(children[0]!.output()).not.toContain("Scheduler:")
    expect(children[1]!.output()).not.toContain("Omnipost API:")
    const account = await connectBluesky(server, fake.credentials())
    const created = await fetch(`${server.url}/v1/posts`, {
      method: "POST",
      headers: { authorization: `Bearer ${server.key}`, "content-type": "application/json" },
      body: JSON.stringify({ content: { text: "published by the other process" }, destinations: [{ accountId: account.id }] })
    }).then((r) => r.json() as Promise<{ id: string }>)
    const { post } = await waitForOutcome(server, created.id)
    expect(post.status).toBe("published")
    expect(fake.posts().length).toBe(1)
    const ready = await fetch(`${server.url}/readyz`).then((r) => r.json() as Promise<any>)
    expect(ready.scheduler.alive).toBe(true)

    const codes = await Promise.all(children.map(({ child }) => {
      const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)))
      child.kill("SIGTERM")
      return exited
    }))
    expect(codes).toEqual([0, 0])
  })
})
