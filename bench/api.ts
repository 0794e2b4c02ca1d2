/**
 * API figures: requests per second and p99 latency of `POST /v1/posts`
 * (validated and stored) and `GET /v1/posts/:id` at 32 concurrent
 * connections, and the server's peak memory while 100 MB and 1 GB files are
 * uploaded (generated as a stream: nothing is written to disk on this side).
 *
 * The server is the built `omnipost serve` (run `npm run build` first) in its
 * own process, on embedded PGlite in a temporary directory, or on the
 * PostgreSQL of `DATABASE_URL` when set. The Bluesky account lives on the
 * platform fake; posts are scheduled far ahead, so nothing is published.
 *
 *   npm run api -w @omnipost/bench            (BENCH_SECONDS=10 by default)
 */
import { FakeBluesky } from "@omnipost/platform-bluesky/testing"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { firstKey, freePort, memoryMb } from "./support/process.ts"

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const concurrency = 32
const bin = resolve(import.meta.dirname, "../packages/worker/dist/bin.js")

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!

/** Runs `task` from `concurrency` loops for `seconds`; requests per second and latency percentiles. */
const load = async (name: string, task: (i: number) => Promise<void>) => {
  const latencies: Array<number> = []
  let errors = 0
  let counter = 0
  const end = performance.now() + seconds * 1000
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      const start = performance.now()
      try {
        await task(counter++)
        latencies.push(performance.now() - start)
      } catch {
        errors++
      }
    }
  }))
  latencies.sort((a, b) => a - b)
  const result = {
    name,
    requests: latencies.length,
    errors,
    perSecond: Math.round(latencies.length / seconds),
    p50: percentile(latencies, 0.5).toFixed(1),
    p99: percentile(latencies, 0.99).toFixed(1)
  }
  console.log(`${name.padEnd(22)} ${String(result.perSecond).padStart(6)} req/s   p50 ${result.p50} ms   p99 ${result.p99} ms   (${result.requests} requests, ${errors} errors, ${concurrency} connections)`)
  return result
}

/** A PNG signature followed by `total` bytes in 1 MiB chunks, generated as they are read. */
const generated = (total: number) => {
  const header = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex")
  const chunk = new Uint8Array(1024 * 1024)
  let sent = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent === 0) {
        controller.enqueue(header)
        sent += header.length
        return
      }
      if (sent >= total) return controller.close()
      const size = Math.min(chunk.length, total - sent)
      controller.enqueue(size === chunk.length ? chunk : chunk.subarray(0, size))
      sent += size
    }
  })
}

const main = async () => {
  const fake = await FakeBluesky.start()
  const dataDir = mkdtempSync(join(tmpdir(), "omnipost-bench-"))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [bin, "serve", "--port", String(port), "--data-dir", dataDir, "--api-only"], {
    env: {
      ...process.env,
      OMNIPOST_LOG_REQUESTS: "false",
      OMNIPOST_RATE_LIMIT_PER_MINUTE: "100000000",
      ...(process.env.DATABASE_URL ? { OMNIPOST_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64") } : {})
    },
    stdio: ["ignore", "pipe", "inherit"]
  })
  const key = await Promise.race([
    firstKey(child),
    new Promise<never>((_, fail) =>
      setTimeout(() => fail(new Error("no key printed within 180 s (a database that already has keys? use a fresh one)")), 180_000).unref()
    )
  ])
  const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" }
  try {
    const account = await (await fetch(`${url}/v1/accounts`, {
      method: "POST",
      headers,
      body: JSON.stringify({ platform: "bluesky", credentials: fake.credentials() })
    })).json() as { id: string }
    const body = (i: number) =>
      JSON.stringify({
        content: { text: `Benchmark post ${i}: validated for Bluesky's 300 graphemes and stored #bench https://example.com` },
        destinations: [{ accountId: account.id }],
        scheduledAt: "2099-01-01T00:00:00Z"
      })
    console.log(`database: ${process.env.DATABASE_URL ? "PostgreSQL (DATABASE_URL)" : "embedded PGlite"}; ${seconds} s per run; node ${process.version}`)
    const ids: Array<string> = []
    const create = await load("POST /v1/posts", async (i) => {
      const response = await fetch(`${url}/v1/posts`, { method: "POST", headers, body: body(i) })
      if (response.status !== 201) throw new Error(String(response.status))
      ids.push(((await response.json()) as { id: string }).id)
    })
    const read = await load("GET /v1/posts/:id", async (i) => {
      const response = await fetch(`${url}/v1/posts/${ids[i % ids.length]}`, { headers })
      if (response.status !== 200) throw new Error(String(response.status))
      await response.arrayBuffer()
    })

    const before = memoryMb(child.pid!)
    console.log(`server memory before uploads: rss ${before.rss.toFixed(0)} MB, peak so far ${before.peak.toFixed(0)} MB`)
    const uploads: Array<{ size: string; peak: number; seconds: number }> = []
    for (const [label, size] of [["100 MB", 100_000_000], ["1 GB", 1_000_000_000]] as const) {
      let peak = memoryMb(child.pid!).rss
      const sampler = setInterval(() => (peak = Math.max(peak, memoryMb(child.pid!).rss)), 50)
      const start = performance.now()
      const response = await fetch(`${url}/v1/media?fileName=bench.png`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream" },
        body: generated(size),
        duplex: "half"
      } as RequestInit)
      const answer = await response.json() as { sizeBytes?: number }
      clearInterval(sampler)
      const took = (performance.now() - start) / 1000
      if (response.status !== 201) throw new Error(`upload ${label}: ${response.status} ${JSON.stringify(answer)}`)
      uploads.push({ size: label, peak, seconds: took })
      console.log(`upload ${label.padEnd(7)} peak server rss ${peak.toFixed(0)} MB   ${took.toFixed(1)} s (${(size / 1e6 / took).toFixed(0)} MB/s), stored ${answer.sizeBytes} bytes`)
    }
    console.log(JSON.stringify({ create, read, memoryBeforeMb: Math.round(before.rss), uploads }))
  } finally {
    child.kill("SIGTERM")
    await new Promise((done) => child.once("exit", done))
    await fake.close()
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
