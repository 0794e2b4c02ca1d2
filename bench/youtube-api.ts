/**
 * YouTube through the worker's HTTP API, 1 GB end to end: the built
 * `omnipost serve` (API and scheduler in one process, run `npm run build`
 * first) connects a channel on FakeYoutube with the OAuth flow, takes a
 * video of BENCH_UPLOAD_MB (default 1024 MB) on `POST /v1/media` (generated
 * as a stream on this side), and publishes it with `POST /v1/posts` through
 * the scheduler and the resumable protocol. Prints the time of each step, the
 * bytes the fake received, and the server's peak resident memory while it
 * stored and while it published.
 *
 *   npm run youtube:api -w @omnipost/bench
 */
import { Samples } from "@omnipost/platform-kit/testing"
import { FakeYoutube } from "@omnipost/platform-youtube/testing"
import { Effect, Exit, Scope } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { firstKey, freePort, memoryMb } from "./support/process.ts"

const megabytes = Number(process.env.BENCH_UPLOAD_MB ?? 1024)
const size = megabytes * 1024 * 1024
const limitSeconds = Number(process.env.BENCH_LIMIT_SECONDS ?? 600)
const bin = resolve(import.meta.dirname, "../packages/worker/dist/bin.js")

const rssMb = (pid: number) => memoryMb(pid).rss

/** Samples the peak RSS of `pid` every 50 ms while `work` runs. */
const peakWhile = async <A>(pid: number, work: () => Promise<A>) => {
  let peak = rssMb(pid)
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50)
  const started = performance.now()
  try {
    const value = await work()
    return { value, peak, seconds: (performance.now() - started) / 1000 }
  } finally {
    clearInterval(sampler)
  }
}

/** An MP4 head, then zeros, one MiB at a time, `size` bytes in all. */
const generated = () => {
  const piece = 1024 * 1024
  const head = Samples.mp4(piece, 1)
  const zeros = new Uint8Array(piece)
  let sent = 0
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= size) return controller.close()
      const length = Math.min(piece, size - sent)
      controller.enqueue((sent === 0 ? head : zeros).subarray(0, length))
      sent += length
    }
  })
}

const main = async () => {
  const scope = Effect.runSync(Scope.make())
  const fake = await Effect.runPromise(Scope.provide(FakeYoutube.make(), scope))
  fake.addChannel({ title: "bench" })
  const dataDir = mkdtempSync(join(tmpdir(), "omnipost-bench-youtube-"))
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [bin, "serve", "--port", String(port), "--data-dir", dataDir], {
    env: {
      ...process.env,
      DATABASE_URL: "",
      OMNIPOST_LOG_REQUESTS: "false",
      OMNIPOST_YOUTUBE_BASE_URL: fake.url,
      OMNIPOST_YOUTUBE_CLIENT_ID: fake.client.clientId,
      OMNIPOST_YOUTUBE_CLIENT_SECRET: fake.client.clientSecret,
      OMNIPOST_PUBLIC_URL: url
    },
    stdio: ["ignore", "pipe", "inherit"]
  })
  const deadline = setTimeout(() => {
    console.error(`youtube:api: not done after ${limitSeconds} s (BENCH_LIMIT_SECONDS); stopping the server`)
    child.kill("SIGKILL")
    process.exit(1)
  }, limitSeconds * 1000)
  try {
    const key = await firstKey(child)
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const answer = await response.json() as any
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`)
      return answer
    }

    // The channel owner consents at Google (the fake), then the callback connects the account.
    const started = await call("POST", "/v1/accounts/oauth/youtube/start", {})
    const consent = await fetch(started.authorizationUrl, { redirect: "manual" })
    const callback = new URL(consent.headers.get("location")!)
    const account = await (await fetch(`${url}${callback.pathname}${callback.search}`)).json() as { id: string }

    const before = rssMb(child.pid!)
    const stored = await peakWhile(child.pid!, async () => {
      const response = await fetch(`${url}/v1/media?fileName=bench.mp4`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream" },
        body: generated(),
        duplex: "half"
      } as RequestInit)
      const answer = await response.json() as { id?: string; sizeBytes?: number }
      if (response.status !== 201) throw new Error(`POST /v1/media: ${response.status} ${JSON.stringify(answer)}`)
      return answer as { id: string; sizeBytes: number }
    })
    const published = await peakWhile(child.pid!, async () => {
      const post = await call("POST", "/v1/posts", {
        content: { text: "bench", media: [{ mediaId: stored.value.id }] },
        destinations: [{ accountId: account.id, settings: { privacyStatus: "private", madeForKids: false } }]
      })
      for (;;) {
        const current = await call("GET", `/v1/posts/${post.id}`)
        if (["published", "failed", "partially_failed"].includes(current.status)) return current
        await new Promise((done) => setTimeout(done, 250))
      }
    })
    const video = [...fake.videos.values()][0]
    console.log(`youtube through the worker API: ${megabytes} MB, embedded PGlite, node ${process.version}`)
    console.log(`  server rss before: ${before.toFixed(0)} MB`)
    console.log(`  POST /v1/media   ${stored.seconds.toFixed(1)} s (${(megabytes / stored.seconds).toFixed(0)} MB/s), stored ${stored.value.sizeBytes} bytes, peak server rss ${stored.peak.toFixed(0)} MB`)
    console.log(`  publish          ${published.seconds.toFixed(1)} s (${(megabytes / published.seconds).toFixed(0)} MB/s) to ${published.value.status}, the fake received ${fake.receivedBytes} bytes (video ${video?.sizeBytes ?? "missing"} bytes), peak server rss ${published.peak.toFixed(0)} MB`)
    if (published.value.status !== "published" || video?.sizeBytes !== size) {
      throw new Error(`not published whole: ${JSON.stringify(published.value.destinations)}`)
    }
  } finally {
    clearTimeout(deadline)
    child.kill("SIGTERM")
    await new Promise((done) => child.exitCode === null ? child.once("exit", done) : done(undefined))
    await Effect.runPromise(Scope.close(scope, Exit.void))
    rmSync(dataDir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
