/**
 * Load (issue 18): `OMNIPOST_LOAD_MINUTES` minutes (`npm run test:reliability`
 * sets 10; unset, the suite is skipped and says how to run it) of mixed
 * traffic at a steady rate (`OMNIPOST_LOAD_RATE` requests a second, default
 * 10) against one `omnipost serve --api-only` process, with four
 * `serve --worker-only` processes publishing to a Bluesky fake: posts created
 * due now, scheduled posts published now (`POST /v1/posts/:id/publish`),
 * image uploads and posts citing them, reads of one post and of a page.
 *
 * Every 5 s the resident memory and open file descriptors of every process
 * (`/proc`) and the database's sessions (`pg_stat_activity`) are sampled.
 * Asserts: no answer 5xx or lost; every post published exactly once in the
 * fake's own records; per process, memory flat (the last quarter's median RSS
 * within 20 % + 16 MB of the second quarter's) and file descriptors back
 * (after the drain, at most the second quarter's median + 8); the database's
 * sessions after the drain no more than during the second quarter. Prints
 * p50/p99/max per endpoint and the samples' medians.
 *
 * Needs `DATABASE_URL` and the built CLI (`dist/bin.js`).
 */
import { FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { Samples } from "@omnipost/platform-kit/testing"
import { Config, Effect, Exit, Redacted, Scope } from "effect"
import { Reactivity } from "effect/reactivity"
import { execFile } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeScratchPostgres } from "../src/storage/Database.js"
import { freePort } from "../test/ports.js"
import { fdsOf, printed, rssOf, type Serve, serveEnv, startApi, startServe, stop, teardown } from "./Processes.js"
import { randomOf, seedOf } from "./Size.js"

const minutes = Number(process.env.OMNIPOST_LOAD_MINUTES ?? "")
const rate = Number(process.env.OMNIPOST_LOAD_RATE ?? "") || 10
const seed = seedOf()
const skipped = !(minutes > 0)
  ? "OMNIPOST_LOAD_MINUTES is not set: run it with `OMNIPOST_LOAD_MINUTES=10 npx vitest run test-reliability/Load.test.ts` (needs DATABASE_URL) or `npm run test:reliability`"
  : process.env.DATABASE_URL
  ? undefined
  : "no DATABASE_URL: the five processes share a real PostgreSQL"
if (skipped !== undefined) console.log(`load: SKIPPED (${skipped})`)

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor((sorted.length - 1) / 2)]!
}
const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`

interface Sample {
  readonly at: number
  readonly rss: ReadonlyArray<number | undefined>
  readonly fds: ReadonlyArray<number | undefined>
  readonly sessions: number
}

describe.skipIf(skipped !== undefined)(
  `load: ${minutes > 0 ? minutes : "(unset)"} minutes at ${rate} requests/s, one API and four scheduler processes${skipped ? ` (skipped: ${skipped})` : ""}`,
  () => {
    const scope = Effect.runSync(Scope.make())
    const dataDir = mkdtempSync(join(tmpdir(), "omnipost-load-"))
    const processes: Array<Serve> = []
    let databaseUrl: string
    let bluesky: FakeBlueskyServer
    let base: string
    let key: string

    const sessions = async () => {
      const { stdout } = await promisify(execFile)("psql", [databaseUrl, "-A", "-t", "-c",
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"])
      return Number(stdout.trim())
    }

    beforeAll(async () => {
      databaseUrl = Redacted.value(
        await Effect.runPromise(
          Effect.gen(function*() {
            return yield* makeScratchPostgres(yield* Config.Redacted("DATABASE_URL"))
          }).pipe(Effect.provide(Reactivity.layer), Scope.provide(scope))
        )
      )
      bluesky = await FakeBlueskyServer.start()
      const port = await freePort()
      const env = serveEnv(databaseUrl, dataDir, {
        OMNIPOST_RATE_LIMIT_PER_MINUTE: "1000000",
        OMNIPOST_BLUESKY_BASE_URL: bluesky.url
      })
      const api = await startApi(port, env, 120_000)
      processes.push(api.serve)
      key = api.key
      base = `http://127.0.0.1:${port}/v1`
      const workers = [1, 2, 3, 4].map((n) => startServe(`worker${n}`, ["--worker-only"], { ...env, OMNIPOST_WORKER_ID: `wrk_load_${n}` }))
      processes.push(...workers)
      await Promise.all(workers.map((worker) => printed(worker, "Scheduler:     running", 120_000)))
    }, 300_000)

    afterAll(async () => {
      await teardown([
        ["stopping the processes", () => Promise.all(processes.map((serve) => stop(serve, "SIGTERM")))],
        ["closing the fake", async () => bluesky?.close()],
        ["removing the data directory", async () => rmSync(dataDir, { recursive: true, force: true })],
        ["dropping the database", () => Effect.runPromise(Scope.close(scope, Exit.void))]
      ])
    }, 180_000)

    it("memory flat, no leaked connections or file handles, p99 per endpoint", async () => {
      const random = randomOf(seed)
      const latencies = new Map<string, Array<number>>()
      const failures = new Map<string, number>()
      const call = async (endpoint: string, method: string, path: string, body?: unknown) => {
        const started = performance.now()
        const binary = body instanceof Uint8Array
        const response = await fetch(`${base}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${key}`,
            ...(body === undefined ? {} : { "content-type": binary ? "application/octet-stream" : "application/json" })
          },
          ...(body === undefined ? {} : { body: binary ? (body as unknown as BodyInit) : JSON.stringify(body) })
        }).catch((error) => ({ status: 0, text: async () => String(error) }))
        const text = await response.text()
        const ms = performance.now() - started
        if (!latencies.has(endpoint)) latencies.set(endpoint, [])
        latencies.get(endpoint)!.push(ms)
        if (response.status === 0 || response.status >= 500) {
          failures.set(endpoint, (failures.get(endpoint) ?? 0) + 1)
          console.log(`load: ${endpoint} answered ${response.status}: ${text.slice(0, 300)}`)
        }
        return { status: response.status, body: response.status < 300 && text !== "" ? JSON.parse(text) : undefined }
      }

      // Four accounts: the fake's 3,000 points per account per 5 minutes stay far off.
      const accounts: Array<string> = []
      for (let i = 0; i < 4; i++) {
        bluesky.createAccount({ handle: `load${i}.test`, password: `app-password-${i}` })
        const answer = await call("POST /v1/accounts", "POST", "/accounts", { platform: "bluesky", credentials: bluesky.credentials(`load${i}.test`) })
        expect(answer.status).toBe(201)
        accounts.push(answer.body.id)
      }
      const image = Samples.png(100_000, 3)
      const media: Array<string> = []
      const posts: Array<string> = []
      const postIds: Array<string> = []
      let n = 0
      const createPost = async (endpoint: string, extra: Record<string, unknown>, top: Record<string, unknown> = {}) => {
        const text = `load ${seed} #${n++}`
        const answer = await call(endpoint, "POST", "/posts", {
          content: { text, ...extra },
          destinations: [{ accountId: accounts[n % accounts.length]! }],
          ...top
        })
        if (answer.status === 201) {
          postIds.push(answer.body.id)
          return { text, id: answer.body.id as string }
        }
        return undefined
      }
      const kinds: ReadonlyArray<readonly [number, () => Promise<unknown>]> = [
        [0.2, async () => {
          const created = await createPost("POST /v1/posts", {})
          if (created) posts.push(created.text)
        }],
        [0.1, async () => {
          const answer = await call("POST /v1/media", "POST", "/media?fileName=image.png", image)
          if (answer.status === 201) media.push(answer.body.id)
        }],
        [0.1, async () => {
          if (media.length === 0) return
          const created = await createPost("POST /v1/posts (image)", { media: [{ mediaId: media[Math.floor(random() * media.length)]!, altText: "load" }] })
          if (created) posts.push(created.text)
        }],
        [0.1, async () => {
          // Scheduled a day ahead, then published now.
          const created = await createPost("POST /v1/posts (scheduled)", {}, { scheduledAt: new Date(Date.now() + 86_400_000).toISOString() })
          if (created === undefined) return
          const published = await call("POST /v1/posts/:id/publish", "POST", `/posts/${created.id}/publish`)
          if (published.status === 200) posts.push(created.text)
        }],
        [0.35, async () => {
          if (postIds.length === 0) return
          await call("GET /v1/posts/:id", "GET", `/posts/${postIds[Math.floor(random() * postIds.length)]!}`)
        }],
        [0.15, async () => call("GET /v1/posts", "GET", "/posts?limit=50")]
      ]
      const pickKind = () => {
        let draw = random()
        for (const [weight, run] of kinds) {
          if (draw < weight) return run
          draw -= weight
        }
        return kinds[kinds.length - 1]![1]
      }

      const pids = processes.map((serve) => serve.child.pid!)
      const samples: Array<Sample> = []
      const sample = async () => samples.push({ at: Date.now(), rss: pids.map(rssOf), fds: pids.map(fdsOf), sessions: await sessions() })
      const baselineSessions = await sessions()
      // This process's own event-loop delay, part of every latency measured here (printed beside them).
      const loopDelay = monitorEventLoopDelay({ resolution: 20 })
      loopDelay.enable()
      const started = Date.now()
      const durationMs = minutes * 60_000
      let inFlight = 0
      let sent = 0
      let shed = 0
      const pending = new Set<Promise<unknown>>()
      // The traffic: one request every 1/rate s, whatever the answers' pace (open loop, at most 256 in flight).
      await new Promise<void>((resolve) => {
        const sampler = setInterval(() => void sample(), 5_000)
        const ticker = setInterval(() => {
          if (Date.now() - started >= durationMs) {
            clearInterval(ticker)
            clearInterval(sampler)
            return resolve()
          }
          if (inFlight >= 256) return void shed++
          inFlight++
          sent++
          const request: Promise<unknown> = pickKind()().finally(() => {
            inFlight--
            pending.delete(request)
          })
          pending.add(request)
        }, 1000 / rate)
      })
      await Promise.all([...pending])
      loopDelay.disable()
      // Drained: every post on the platform (the scheduled one too), then the final sample.
      const drainStarted = Date.now()
      const expected = new Set(posts)
      await new Promise<void>((resolve, reject) => {
        const check = setInterval(() => {
          const live = bluesky.posts().filter((record) => expected.has((record.value as { text: string }).text)).length
          if (live >= expected.size) {
            clearInterval(check)
            resolve()
          } else if (Date.now() - drainStarted > 180_000) {
            clearInterval(check)
            reject(new Error(`${live} of ${expected.size} posts published after the drain`))
          }
        }, 200)
      })
      await sample()
      const final = samples[samples.length - 1]!

      const counts = new Map<string, number>()
      for (const record of bluesky.posts()) {
        const text = (record.value as { text: string }).text
        counts.set(text, (counts.get(text) ?? 0) + 1)
      }
      for (const text of expected) expect(counts.get(text), `${text} published exactly once`).toBe(1)

      const during = samples.slice(0, -1)
      const quarter = (q: number) => during.slice(Math.floor((during.length * (q - 1)) / 4), Math.floor((during.length * q) / 4))
      const lines = [
        `load: ${minutes} min at ${rate}/s (seed ${seed}): ${sent} requests sent of ${Math.round(minutes * 60 * rate)} planned (${shed} shed at 256 in flight), ${expected.size} posts published once each, drained in ${
          ((Date.now() - drainStarted) / 1000).toFixed(1)
        } s; ${samples.length} samples; this process's event-loop delay p50 ${(loopDelay.percentile(50) / 1e6).toFixed(0)} ms, p99 ${
          (loopDelay.percentile(99) / 1e6).toFixed(0)
        } ms (part of every latency below); load average ${loadavg().map((l) => l.toFixed(1)).join(" ")}`
      ]
      for (const [endpoint, values] of [...latencies.entries()].sort()) {
        const sorted = [...values].sort((a, b) => a - b)
        lines.push(
          `  ${endpoint}: ${sorted.length} requests, p50 ${percentile(sorted, 50).toFixed(0)} ms, p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${
            sorted[sorted.length - 1]!.toFixed(0)
          } ms, 5xx or lost ${failures.get(endpoint) ?? 0}`
        )
      }
      for (const [i, serve] of processes.entries()) {
        const rss2 = median(quarter(2).map((s) => s.rss[i]!))
        const rss4 = median(quarter(4).map((s) => s.rss[i]!))
        const fd2 = median(quarter(2).map((s) => s.fds[i]!))
        lines.push(
          `  ${serve.name}: RSS median ${mb(rss2)} (2nd quarter) → ${mb(rss4)} (4th quarter), peak ${mb(Math.max(...during.map((s) => s.rss[i]!)))}; fds ${fd2} (2nd quarter median) → ${
            final.fds[i]
          } (after the drain)`
        )
        expect(rss4, `${serve.name}: memory flat`).toBeLessThanOrEqual(rss2 * 1.2 + 16 * 2 ** 20)
        expect(final.fds[i]!, `${serve.name}: file descriptors back`).toBeLessThanOrEqual(fd2 + 8)
      }
      const sessions2 = Math.max(...quarter(2).map((s) => s.sessions))
      lines.push(`  PostgreSQL sessions: ${baselineSessions} before the traffic, at most ${sessions2} in the 2nd quarter, ${final.sessions} after the drain`)
      console.log(lines.join("\n"))
      expect(final.sessions, "no leaked PostgreSQL sessions").toBeLessThanOrEqual(sessions2)
      expect([...failures.values()].reduce((a, b) => a + b, 0), "no answer 5xx or lost").toBe(0)
    }, 300_000 + minutes * 60_000 * 1.5)
  }
)
