/**
 * API figures: requests per second and p50/p99 latency of `POST /v1/posts`
 * (validated and stored, one Bluesky destination, scheduled ahead),
 * `GET /v1/posts/:id` and `GET /v1/posts?limit=50` at 32 connections, each
 * beside a baseline measured in the same run (a plain `node:http` server
 * doing the minimum SQL, `support/baseline.ts`) with the ratio to it; then
 * the server's peak memory while 100 MB and 1 GB files are uploaded
 * (generated as a stream: nothing is written to disk on this side).
 *
 * What is measured is the server alone: it (the built `omnipost serve
 * --api-only`; run `npm run build` first), the baseline and the load
 * generator (autocannon, `support/load.ts`) are separate processes; the
 * platform fake answers only while the account is connected and is closed
 * before any load. Server and baseline take turns, endpoint by endpoint, for
 * `BENCH_ROUNDS` rounds, so a machine's changing load falls on both.
 *
 * The database is fresh each run: a new database on the PostgreSQL server of
 * `DATABASE_URL` when set (dropped afterwards), else embedded PGlite in
 * temporary directories (the baseline on its own PGlite, migrated by a first
 * `serve`). After `BENCH_TIMEOUT_SECONDS` (default 900) the bench says what
 * it was waiting for and which processes were running, stops every process
 * group it started, and exits 2.
 *
 *   npm run api -w @omnipost/bench     (BENCH_SECONDS=10, BENCH_ROUNDS=2, BENCH_UPLOADS=true)
 *   BENCH_CPU_PROF=/tmp/prof …         (the server writes a --cpu-prof profile there when it stops)
 *   BENCH_ENDPOINTS=create …           (only these: create, get, list)
 *   BENCH_WARMUP_SECONDS=5 …           (each server's uncounted warm-up on each measured endpoint)
 *   BENCH_FLOOR=true …                 (then the server alone on what lies under them: /healthz, no auth
 *                                       and no SQL; GET /v1/accounts, the key gate and one read; a draft
 *                                       POST, no due time: the server's CPU per request on each)
 *   BENCH_RATE=1000 …                  (every measured run at this many requests per second in all,
 *                                       not as fast as the server answers: CPU per request at the same
 *                                       pace for both, the steadier figure to compare two builds by)
 *   BENCH_COMPARE_BIN=/other/checkout/packages/worker/dist/bin.js …
 *   BENCH_COMPARE_ENV='{"OMNIPOST_DB_MULTIPLEX":"32"}' …
 *                                      (a second server, "candidate": another build and/or other settings,
 *                                       on a fresh database of its own, measured in turn with the other two
 *                                       in every round: two builds compared in the same minutes, each
 *                                       against the same baseline runs)
 */
import { FakeBluesky } from "@omnipost/platform-bluesky/testing"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import pg from "pg"
import type { LoadOptions, LoadResult } from "./support/load.ts"
import { cpuMs, firstKey, freePort, memoryMb, outputOf, printed, Started, stopGroup } from "./support/process.ts"

const seconds = Number(process.env.BENCH_SECONDS ?? 10)
const rounds = Number(process.env.BENCH_ROUNDS ?? 2)
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 5)
const timeoutSeconds = Number(process.env.BENCH_TIMEOUT_SECONDS ?? 900)
const uploads = process.env.BENCH_UPLOADS !== "false"
const cpuProfileDir = process.env.BENCH_CPU_PROF
/** Only these endpoints (`create`, `get`, `list`, comma-separated), e.g. to profile one. */
const endpoints = process.env.BENCH_ENDPOINTS?.split(",").map((kind) => kind.trim())
const floor = process.env.BENCH_FLOOR === "true"
/** Requests per second in all, for every measured run (unset: as fast as each server answers). */
const rate = process.env.BENCH_RATE === undefined ? undefined : Number(process.env.BENCH_RATE)
const connections = 32
const bin = resolve(import.meta.dirname, "../packages/worker/dist/bin.js")
const compareBin = process.env.BENCH_COMPARE_BIN === undefined ? undefined : resolve(process.env.BENCH_COMPARE_BIN)
const compareEnv = process.env.BENCH_COMPARE_ENV === undefined ? undefined : JSON.parse(process.env.BENCH_COMPARE_ENV) as Record<string, string>
const comparing = compareBin !== undefined || compareEnv !== undefined
const support = resolve(import.meta.dirname, "support")
const nodeFlags = ["--experimental-strip-types", "--no-warnings=ExperimentalWarning"]

const started = new Started()
const cleanups: Array<() => Promise<void> | void> = []
let waitingFor = "starting"

const step = async <A>(what: string, run: () => Promise<A>): Promise<A> => {
  waitingFor = what
  return run()
}

const stopEverything = async () => {
  await started.stopAll()
  for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch((error) => console.error(error))
}

let timedOut = false
const deadline = setTimeout(() => {
  timedOut = true
  console.error(
    `bench timed out after ${timeoutSeconds} s while waiting for: ${waitingFor}; running: ${started.running().join(", ") || "nothing"}; stopping them`
  )
  stopEverything().finally(() => process.exit(2))
}, timeoutSeconds * 1000)

/** A fresh database on DATABASE_URL's server, dropped when the bench ends. */
const freshPostgres = async (adminUrl: string) => {
  const name = `omnipost_bench_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  cleanups.push(async () => {
    const client = new pg.Client({ connectionString: adminUrl })
    await client.connect()
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await client.end()
  })
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return url.toString()
}

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "omnipost-bench-"))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** `omnipost serve --api-only` on a free port with a fresh database; its URL, first key and process. */
const startServer = async (name: string, env: Record<string, string>, extraFlags: ReadonlyArray<string> = [], serverBin = bin) => {
  const port = await freePort()
  const dataDir = env.OMNIPOST_DATA_DIR ?? tempDir()
  const child = started.spawn(name, [...extraFlags, serverBin, "serve", "--port", String(port), "--data-dir", dataDir, "--api-only"], {
    env: {
      ...process.env,
      OMNIPOST_LOG_REQUESTS: "false",
      OMNIPOST_RATE_LIMIT_PER_MINUTE: "100000000",
      OMNIPOST_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
      ...env
    },
    stdio: ["ignore", "pipe", "inherit"]
  })
  const key = await step(`${name} to print its first key`, () => firstKey(child))
  return { url: `http://127.0.0.1:${port}`, key, child, dataDir }
}

const connectAccount = async (url: string, key: string, fake: { credentials(): unknown }) => {
  const response = await fetch(`${url}/v1/accounts`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ platform: "bluesky", credentials: fake.credentials() })
  })
  const body = await response.json() as { id: string }
  if (response.status !== 201) throw new Error(`connecting the account: ${response.status} ${JSON.stringify(body)}`)
  return body.id
}

const load = (name: string, options: LoadOptions) =>
  step(`the load on ${name}`, async () => {
    const paced = rate === undefined ? options : { ...options, rate }
    const child = started.spawn(`load on ${name}`, [...nodeFlags, join(support, "load.ts"), JSON.stringify(paced)], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    const result = JSON.parse(await outputOf(child)) as LoadResult
    console.log(
      `${name.padEnd(36)} ${String(result.perSecond).padStart(6)} req/s   p50 ${String(result.p50).padStart(3)} ms   p99 ${
        String(result.p99).padStart(4)
      } ms   (${result.ok} ok, ${result.non2xx} non-2xx, ${result.errors} errors)`
    )
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`)
    return result
  })

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

const measureUploads = async (url: string, key: string, pid: number) => {
  const before = memoryMb(pid)
  console.log(`server memory before uploads: rss ${before.rss.toFixed(0)} MB, peak so far ${before.peak.toFixed(0)} MB`)
  const figures: Array<{ size: string; peak: number; seconds: number }> = []
  for (const [label, size] of [["100 MB", 100_000_000], ["1 GB", 1_000_000_000]] as const) {
    let peak = memoryMb(pid).rss
    const sampler = setInterval(() => (peak = Math.max(peak, memoryMb(pid).rss)), 50)
    const start = performance.now()
    const response = await step(`the ${label} upload`, () =>
      fetch(`${url}/v1/media?fileName=bench.png`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/octet-stream" },
        body: generated(size),
        duplex: "half"
      } as RequestInit))
    const answer = await response.json() as { sizeBytes?: number }
    clearInterval(sampler)
    const took = (performance.now() - start) / 1000
    if (response.status !== 201) throw new Error(`upload ${label}: ${response.status} ${JSON.stringify(answer)}`)
    figures.push({ size: label, peak, seconds: took })
    console.log(`upload ${label.padEnd(7)} peak server rss ${peak.toFixed(0)} MB   ${took.toFixed(1)} s (${(size / 1e6 / took).toFixed(0)} MB/s), stored ${answer.sizeBytes} bytes`)
  }
  return { memoryBeforeMb: Math.round(before.rss), uploads: figures }
}

const mean = (values: ReadonlyArray<number>) => values.reduce((a, b) => a + b, 0) / values.length

const main = async () => {
  const adminUrl = process.env.DATABASE_URL
  const fake = await step("the platform fake to start", () => FakeBluesky.start())
  let fakeOpen = true
  const closeFake = async () => {
    if (fakeOpen) await fake.close()
    fakeOpen = false
  }
  cleanups.push(closeFake)

  // The server, on its fresh database.
  const serverDatabase = adminUrl !== undefined ? await step("a fresh database", () => freshPostgres(adminUrl)) : undefined
  const server = await startServer("omnipost serve", serverDatabase !== undefined ? { DATABASE_URL: serverDatabase } : {}, [
    ...(cpuProfileDir !== undefined ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : [])
  ])
  const accountId = await step("the account to connect", () => connectAccount(server.url, server.key, fake))
  const candidateDatabase = comparing && adminUrl !== undefined ? await step("a fresh database", () => freshPostgres(adminUrl)) : undefined
  const candidate = comparing
    ? await startServer(
      "candidate serve",
      { ...(candidateDatabase !== undefined ? { DATABASE_URL: candidateDatabase } : {}), ...compareEnv },
      [],
      compareBin
    )
    : undefined
  const candidateAccount = candidate === undefined
    ? undefined
    : await step("the candidate's account to connect", () => connectAccount(candidate.url, candidate.key, fake))

  // The baseline: the same database on PostgreSQL; on PGlite its own, migrated by a first serve that then stops.
  let baselineTarget: Array<string>
  let baselineAccount = accountId
  if (serverDatabase !== undefined) {
    baselineTarget = ["--postgres", serverDatabase]
  } else {
    const prep = await startServer("omnipost serve (migrating the baseline's PGlite)", {})
    baselineAccount = await step("the baseline's account to connect", () => connectAccount(prep.url, prep.key, fake))
    await step("the migrating serve to stop", () => stopGroup(prep.child, 30_000))
    baselineTarget = ["--pglite", join(prep.dataDir, "pgdata")]
  }
  // Out of the measured path: nothing measured calls the platform.
  await closeFake()
  const baselinePort = await freePort()
  const baselineChild = started.spawn("baseline", [
    ...nodeFlags,
    join(support, "baseline.ts"),
    "--port",
    String(baselinePort),
    "--account",
    baselineAccount,
    ...baselineTarget
  ], { stdio: ["ignore", "pipe", "inherit"] })
  await step("the baseline to listen", () => printed(baselineChild, "listening"))

  const targets = [
    { name: "omnipost", url: server.url, headers: { authorization: `Bearer ${server.key}` }, accountId, pid: server.child.pid! },
    {
      name: "baseline",
      url: `http://127.0.0.1:${baselinePort}`,
      headers: {} as Record<string, string>,
      accountId: baselineAccount,
      pid: baselineChild.pid!
    },
    ...(candidate !== undefined
      ? [{
        name: "candidate",
        url: candidate.url,
        headers: { authorization: `Bearer ${candidate.key}` },
        accountId: candidateAccount!,
        pid: candidate.child.pid!
      }]
      : [])
  ]
  const idsOf = async (target: (typeof targets)[number]) => {
    const response = await fetch(`${target.url}/v1/posts?limit=100`, { headers: target.headers })
    const body = await response.json() as { data: ReadonlyArray<{ id: string }> }
    return body.data.map((post) => post.id)
  }

  console.log(
    `${candidate !== undefined ? `candidate: ${compareBin ?? bin}${compareEnv !== undefined ? ` with ${JSON.stringify(compareEnv)}` : ""}\n` : ""}database: ${adminUrl !== undefined ? "PostgreSQL (a fresh database on DATABASE_URL's server)" : "embedded PGlite"}; ${seconds} s per run, ${rounds} rounds, ${connections} connections; node ${process.version}; load average ${
      (await import("node:os")).loadavg().map((n) => n.toFixed(1)).join(" ")
    }`
  )
  const kinds = ([
    { kind: "create", label: "POST /v1/posts" },
    { kind: "get", label: "GET /v1/posts/:id" },
    { kind: "list", label: "GET /v1/posts (50)" }
  ] as const).filter(({ kind }) => endpoints === undefined || endpoints.includes(kind))
  // A warm-up of each server on every endpoint it will be measured on (JIT, pools, caches), not counted: a
  // warm-up on one endpoint left the others' code cold, so the first round measured the JIT as much as the
  // server (ours gained 60-70 % from round 1 to round 2, the baseline 3-30 %).
  for (const target of targets) {
    for (const { kind } of [{ kind: "create" } as const, ...kinds.filter(({ kind }) => kind !== "create")]) {
      const ids = kind === "get" ? await idsOf(target) : undefined
      await load(`warm-up ${target.name} (${kind})`, {
        url: target.url,
        kind,
        seconds: warmupSeconds,
        connections,
        headers: target.headers,
        accountId: target.accountId,
        ...(ids !== undefined ? { ids } : {})
      })
    }
  }
  const results = new Map<string, Array<LoadResult & { readonly cpuUsPerRequest: number }>>()
  for (let round = 1; round <= rounds; round++) {
    for (const { kind, label } of kinds) {
      // Alternate which goes first, so neither always runs on the warmer (or busier) machine.
      const order = round % 2 === 1 ? targets : [...targets].reverse()
      for (const target of order) {
        const ids = kind === "get" ? await idsOf(target) : undefined
        const cpuBefore = cpuMs(target.pid)
        const measured = await load(`${label} ${target.name} (round ${round})`, {
          url: target.url,
          kind,
          seconds,
          connections,
          headers: target.headers,
          accountId: target.accountId,
          ...(ids !== undefined ? { ids } : {})
        })
        // The server process's CPU per answered request, in microseconds (its share of the machine aside).
        const result = { ...measured, cpuUsPerRequest: ((cpuMs(target.pid) - cpuBefore) * 1000) / Math.max(1, measured.ok) }
        const key = `${kind} ${target.name}`
        results.set(key, [...(results.get(key) ?? []), result])
      }
    }
  }
  console.log(
    "\nmeans over the rounds; ratio = omnipost / baseline (throughput), p99 ratio = omnipost p99 / baseline p99; CPU = the server process's CPU time per answered request (user + system, /proc), its ratio baseline ÷ omnipost"
  )
  const measuredServers = candidate === undefined ? ["omnipost"] : ["omnipost", "candidate"]
  const summary = kinds.flatMap(({ kind, label }) => measuredServers.map((server) => {
    const ours = results.get(`${kind} ${server}`)!
    const base = results.get(`${kind} baseline`)!
    const figures = {
      endpoint: label,
      ...(candidate !== undefined ? { server } : {}),
      omnipost: Math.round(mean(ours.map((r) => r.perSecond))),
      baseline: Math.round(mean(base.map((r) => r.perSecond))),
      omnipostP99: mean(ours.map((r) => r.p99)),
      baselineP99: mean(base.map((r) => r.p99)),
      omnipostCpuUs: Math.round(mean(ours.map((r) => r.cpuUsPerRequest))),
      baselineCpuUs: Math.round(mean(base.map((r) => r.cpuUsPerRequest)))
    }
    const ratio = figures.omnipost / figures.baseline
    const p99Ratio = figures.omnipostP99 / Math.max(1, figures.baselineP99)
    // Comparable with the throughput ratio: what share of the baseline's requests per CPU second we answer.
    const cpuRatio = figures.baselineCpuUs / Math.max(1, figures.omnipostCpuUs)
    console.log(
      `${label.padEnd(20)} ${server.padEnd(9)} ${String(figures.omnipost).padStart(6)} req/s  baseline ${String(figures.baseline).padStart(6)} req/s  ratio ${
        ratio.toFixed(2)
      }x   p99 ${figures.omnipostP99.toFixed(0)} ms vs ${figures.baselineP99.toFixed(0)} ms (${p99Ratio.toFixed(2)}x)   CPU ${
        figures.omnipostCpuUs
      } vs ${figures.baselineCpuUs} µs/request (baseline ÷ omnipost ${cpuRatio.toFixed(2)}x)`
    )
    return { ...figures, ratio: Number(ratio.toFixed(2)), p99Ratio: Number(p99Ratio.toFixed(2)), cpuRatio: Number(cpuRatio.toFixed(2)) }
  }))
  const floorFigures: Array<{ endpoint: string; perSecond: number; cpuUs: number }> = []
  if (floor) {
    console.log("\nthe floor: the server alone on endpoints of increasing work (CPU = its CPU time per answered request)")
    const ours = targets[0]!
    for (const { kind, label } of [
      { kind: "health", label: "GET /healthz" },
      { kind: "accounts", label: "GET /v1/accounts" },
      { kind: "draft", label: "POST /v1/posts (draft)" },
      { kind: "create", label: "POST /v1/posts" }
    ] as const) {
      const cpuBefore = cpuMs(ours.pid)
      const measured = await load(`${label} omnipost`, { url: ours.url, kind, seconds, connections, headers: ours.headers, accountId: ours.accountId })
      const cpuUs = Math.round(((cpuMs(ours.pid) - cpuBefore) * 1000) / Math.max(1, measured.ok))
      console.log(`${"".padEnd(36)} CPU ${cpuUs} µs/request`)
      floorFigures.push({ endpoint: label, perSecond: measured.perSecond, cpuUs })
    }
  }
  await step("the baseline to stop", () => stopGroup(baselineChild))
  const memory = uploads ? await measureUploads(server.url, server.key, server.child.pid!) : undefined
  console.log(JSON.stringify({
    database: adminUrl !== undefined ? "postgres" : "pglite",
    seconds,
    rounds,
    connections,
    summary,
    ...(floor ? { floor: floorFigures } : {}),
    ...memory
  }))
}

main()
  .then(async () => {
    waitingFor = "everything to stop"
    await stopEverything()
    clearTimeout(deadline)
  })
  .catch(async (error) => {
    // After the time limit, the failures of what was stopped are not news.
    if (timedOut) return
    console.error(error)
    waitingFor = "everything to stop after an error"
    await stopEverything()
    process.exit(1)
  })
