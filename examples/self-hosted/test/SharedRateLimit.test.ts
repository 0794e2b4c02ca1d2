/**
 * A key's rate limit is shared by every API process (issue 17; runs when
 * `DATABASE_URL` is set, skipped otherwise): two `omnipost serve --api-only`
 * processes on one fresh PostgreSQL database. A key of 4 requests a minute
 * makes 4 requests alternating between them, the `RateLimit-Remaining` header
 * counting down across both, and the 5th is 429 on either.
 */
import { Effect, Exit, Scope } from "effect"
import { rmSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { printedApiUrl, type Serving, sharedEnvironment, spawnServe } from "./processes.js"


describe.runIf(Boolean(process.env.DATABASE_URL))("a rate limit shared by two API processes (PostgreSQL)", () => {
  const scope = Effect.runSync(Scope.make())
  const children: Array<Serving> = []
  const urls: Array<string> = []
  let dataDir: string
  let key: string

  // Port 0: each process binds a port the system chooses and prints where it listens.
  const start = (env: NodeJS.ProcessEnv) => children.push(spawnServe(["--api-only", "--port", "0"], env))

  beforeAll(async () => {
    const shared = await sharedEnvironment(scope, "omnipost-ratelimit-")
    dataDir = shared.dataDir
    const env = shared.env
    start(env)
    start(env)
    const first = await new Promise<string>((done, fail) => {
      const outputs = () => children.map(({ output }) => output()).join("\n")
      const timer = setTimeout(() => fail(new Error(`not ready within 120 s:\n${outputs()}`)), 120_000)
      const poll = setInterval(() => {
        // Whichever process starts first creates the organization and prints its first key.
        const match = /API key \(shown once[^:]*:\s+(omp_[0-9a-z]+)/.exec(outputs())
        if (match && children.every(({ output }) => output().includes("Omnipost API:"))) {
          clearTimeout(timer)
          clearInterval(poll)
          done(match[1]!)
        }
      }, 100)
    })
    for (const { output } of children) urls.push(printedApiUrl(output())!)
    const created = await fetch(`${urls[0]}/v1/keys`, {
      method: "POST",
      headers: { authorization: `Bearer ${first}`, "content-type": "application/json" },
      body: JSON.stringify({ name: "shared", rateLimitPerMinute: 4 })
    }).then((r) => r.json() as Promise<{ key: string }>)
    key = created.key
  })

  afterAll(async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill("SIGKILL")
    if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  it("4 requests split across both processes pass, counting down; the 5th is 429 on either", async () => {
    const get = (url: string) => fetch(`${url}/v1/posts`, { headers: { authorization: `Bearer ${key}` } })
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await get(urls[i % 2]!))
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200])
    expect(answers.map((a) => a.headers.get("ratelimit-remaining"))).toEqual(["3", "2", "1", "0"])
    expect(answers.map((a) => a.headers.get("ratelimit-limit"))).toEqual(["4", "4", "4", "4"])
    for (const url of urls) {
      const refused = await get(url)
      expect(refused.status).toBe(429)
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1)
      const body = await refused.json() as { error: { code: string; message: string; details: { retryAfterSeconds: number } } }
      expect(body.error.code).toBe("RATE_LIMITED")
      expect(body.error.details.retryAfterSeconds).toBe(Number(refused.headers.get("retry-after")))
    }
  })
})
