/**
 * Scheduler throughput and lag on a real PostgreSQL, beside graphile-worker
 * (default and batched `localQueue`) and pg-boss (LISTEN/NOTIFY on), with the
 * same number of processes, the same concurrency and the same no-op work.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node --import tsx packages/worker/bench/scheduler.ts
 *
 * Env: BENCH_N (jobs per run, default 2000), BENCH_CONCURRENCY (per process,
 * default 8), BENCH_PROCESSES (default "1,4"), BENCH_SYSTEMS, BENCH_REPEATS
 * (runs per system, taking turns; the table shows each figure's median;
 * default 1), BENCH_DETAIL (each process's share and lags).
 *
 * Through a pooler: BENCH_POOLER_URL is a PgBouncer in transaction mode in
 * front of DATABASE_URL's server, with a wildcard database entry (`* =
 * host=… port=…`), e.g. postgres://postgres@127.0.0.1:6432. The system
 * `omnipost-pooled` (in BENCH_SYSTEMS) runs our workers with each fresh
 * database reached through it (`OMNIPOST_DATABASE_POOLER=transaction`, LISTEN
 * on the direct URL, `OMNIPOST_DATABASE_LISTEN_URL`); the bench's own inserts
 * and checks stay direct.
 *
 * Every run gets a fresh database. All N items are created before they are
 * due, due at one instant T0 (2 s after creation), so the lag (call − due) and
 * the throughput (N / (last completion − T0)) measure the scheduler, not the
 * insert. Our items go through the whole publish path: a lease, the
 * publish-once mark, an attempt-log row, the outcome and the post's aggregate.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import pg from "pg"
import { makeWorkerUtils } from "graphile-worker"
import { PgBoss } from "pg-boss"
import { parseKeyring, seal, type Keyring } from "../src/storage/Crypto.js"

const baseUrl = process.env.DATABASE_URL
if (!baseUrl) {
  console.error("DATABASE_URL must point at a PostgreSQL server")
  process.exit(1)
}
const N = Number(process.env.BENCH_N ?? 2000)
const C = Number(process.env.BENCH_CONCURRENCY ?? 8)
const PROCESSES = (process.env.BENCH_PROCESSES ?? "1,4").split(",").map(Number)
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 1))
const SYSTEMS = (process.env.BENCH_SYSTEMS ?? "omnipost,graphile-worker,graphile-worker-batched,pg-boss").split(",")
const poolerUrl = process.env.BENCH_POOLER_URL
if (SYSTEMS.includes("omnipost-pooled") && !poolerUrl) {
  console.error("the system omnipost-pooled needs BENCH_POOLER_URL (a PgBouncer in transaction mode in front of DATABASE_URL's server)")
  process.exit(1)
}
/** `url`'s database through the pooler: its host, port and credentials, the same database name. */
const throughPooler = (url: string) => {
  const pooled = new URL(poolerUrl!)
  pooled.pathname = new URL(url).pathname
  return pooled.toString()
}
const packageRoot = fileURLToPath(new URL("..", import.meta.url))
const workerEntry = "dist/testing/WorkerMain.js"
if (!existsSync(`${packageRoot}/${workerEntry}`)) {
  console.error(`${workerEntry} is missing: build the worker first (npm run build -w @omnipost/worker)`)
  process.exit(1)
}
const encryptionKey = randomBytes(32).toString("base64")

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const withDatabase = async <A>(f: (url: string) => Promise<A>): Promise<A> => {
  const admin = new pg.Client({ connectionString: baseUrl })
  await admin.connect()
  const name = `omnipost_bench_${randomBytes(4).toString("hex")}`
  await admin.query(`CREATE DATABASE ${name}`)
  const url = new URL(baseUrl)
  url.pathname = `/${name}`
  try {
    return await f(url.toString())
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

interface Child {
  readonly process: ChildProcess
  readonly output: () => string
}

const startChild = (args: ReadonlyArray<string>, env: Record<string, string>, readyText: string) =>
  new Promise<Child>((resolve, reject) => {
    // Our worker runs from its build, as operators run it; the competitors' child is a TypeScript script
    // loading their built packages.
    const loader = args[0]!.endsWith(".ts") ? ["--import", "tsx"] : []
    const child = spawn(process.execPath, [...loader, ...args], {
      cwd: packageRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout!.on("data", (chunk) => {
      output += chunk
      if (output.includes(readyText)) resolve({ process: child, output: () => output })
    })
    child.stderr!.on("data", (chunk) => (output += chunk))
    child.on("exit", (code) => reject(new Error(`child exited (${code}) before ready:\n${output}`)))
  })

const stopChild = (child: Child) =>
  new Promise<string>((resolve) => {
    if (child.process.exitCode !== null) return resolve(child.output())
    const timer = setTimeout(() => child.process.kill("SIGKILL"), 20_000)
    child.process.on("exit", () => {
      clearTimeout(timer)
      resolve(child.output())
    })
    child.process.kill("SIGTERM")
  })

const waitFor = async (url: string, query: string, target: number, timeoutMs = 600_000) => {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const deadline = Date.now() + timeoutMs
  try {
    while (Date.now() < deadline) {
      const result = await client.query(query)
      if (Number(result.rows[0].n) >= target) return
      await sleep(50)
    }
    throw new Error(`timed out: ${query}`)
  } finally {
    await client.end()
  }
}

interface RunResult {
  readonly lags: ReadonlyArray<number>
  readonly lastDone: number
  readonly dueAt: number
}

const omnipost = async (url: string, processes: number, pooled: boolean): Promise<RunResult> => {
  const env = {
    DATABASE_URL: pooled ? throughPooler(url) : url,
    ...(pooled ? { OMNIPOST_DATABASE_POOLER: "transaction", OMNIPOST_DATABASE_LISTEN_URL: url } : {}),
    OMNIPOST_ENCRYPTION_KEY: encryptionKey,
    OMNIPOST_WORKER_PUBLISHER: "noop",
    OMNIPOST_WORKER_CONCURRENCY: String(C),
    // Every item goes to one account: its bound is the process's.
    OMNIPOST_WORKER_PER_ACCOUNT: String(C),
    // The same local queue as graphile-worker's batched mode below (localQueue.size = 4 × concurrency).
    OMNIPOST_WORKER_BATCH_SIZE: String(4 * C),
    OMNIPOST_DB_POOL_SIZE: String(C + 2)
  }
  // The first process migrates; the rest start on a migrated database.
  const children = [await startChild([workerEntry], { ...env, OMNIPOST_WORKER_ID: "wrk_bench_1" }, "ready")]
  for (let i = 2; i <= processes; i++) children.push(await startChild([workerEntry], { ...env, OMNIPOST_WORKER_ID: `wrk_bench_${i}` }, "ready"))
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const keyring = parseKeyring(encryptionKey) as Keyring
  await client.query(`INSERT INTO organizations (id, name) VALUES ('org_bench', 'bench')`)
  const sealed = seal(keyring, JSON.stringify({}), "account:acc_bench")
  await client.query(
    `INSERT INTO accounts (id, organization_id, platform, platform_account_id, username, credentials_ciphertext, credentials_key_id)
     VALUES ('acc_bench', 'org_bench', 'noop', 'bench', 'bench', $1, $2)`,
    [sealed.ciphertext, sealed.keyId]
  )
  const dueAt = Date.now() + 2_000
  const due = new Date(dueAt)
  await client.query("BEGIN")
  await client.query(
    `INSERT INTO posts (id, organization_id, status, content, scheduled_at)
     SELECT 'post_' || i, 'org_bench', 'scheduled', '{"text":"bench"}'::jsonb, $1 FROM generate_series(1, $2) i`,
    [due, N]
  )
  await client.query(
    `INSERT INTO destinations (id, post_id, organization_id, position, platform, account_id, status, due_at)
     SELECT 'dst_' || i, 'post_' || i, 'org_bench', 0, 'noop', 'acc_bench', 'queued', $1 FROM generate_series(1, $2) i`,
    [due, N]
  )
  await client.query("COMMIT")
  await client.query(`SELECT pg_notify('omnipost_due', $1)`, [due.toISOString()])
  await waitFor(url, `SELECT count(*) AS n FROM destinations WHERE status = 'published'`, N)
  // The lag ends when the publisher is called: the no-op publisher stamps \`publishedAt\` at its call.
  const lags = await client.query(
    `SELECT extract(epoch FROM (d.published_at - p.scheduled_at)) * 1000 AS lag FROM destinations d JOIN posts p ON p.id = d.post_id`
  )
  const last = await client.query(`SELECT max(finished_at) AS last FROM attempts`)
  if (processes > 1) {
    const split = await client.query(`SELECT worker_id, count(*) AS n FROM attempts GROUP BY worker_id ORDER BY worker_id`)
    console.log(`  ${pooled ? "omnipost-pooled" : "omnipost"} split across processes: ${split.rows.map((r) => r.n).join(" / ")}`)
    if (process.env.BENCH_DETAIL) {
      const detail = await client.query(
        `SELECT a.worker_id, count(*) AS n,
                round(min(extract(epoch FROM (d.published_at - p.scheduled_at)) * 1000)) AS first,
                round(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM (d.published_at - p.scheduled_at)) * 1000)) AS p50,
                round(max(extract(epoch FROM (d.published_at - p.scheduled_at)) * 1000)) AS last
           FROM attempts a JOIN destinations d ON d.id = a.destination_id JOIN posts p ON p.id = d.post_id
          GROUP BY a.worker_id ORDER BY a.worker_id`
      )
      for (const r of detail.rows) console.log(`    ${r.worker_id}: ${r.n} destinations, lag first ${r.first} ms, p50 ${r.p50} ms, last ${r.last} ms`)
    }
  }
  const duplicates = await client.query(`SELECT count(*) AS n FROM (SELECT destination_id FROM attempts GROUP BY destination_id HAVING count(*) > 1) d`)
  if (Number(duplicates.rows[0].n) > 0) throw new Error("a destination was dispatched twice")
  await client.end()
  const outputs = await Promise.all(children.map(stopChild))
  if (process.env.BENCH_CHILD_LOG) (await import("node:fs")).writeFileSync(process.env.BENCH_CHILD_LOG, outputs.join("\n"))
  return { lags: lags.rows.map((r) => Number(r.lag)), lastDone: new Date(last.rows[0].last).getTime(), dueAt }
}

const competitor = async (kind: "graphile" | "graphile-batched" | "pgboss", url: string, processes: number): Promise<RunResult> => {
  const children = [await startChild(["bench/child.ts", kind, url, String(C)], {}, "ready")]
  for (let i = 2; i <= processes; i++) children.push(await startChild(["bench/child.ts", kind, url, String(C)], {}, "ready"))
  const dueAt = Date.now() + 2_000
  const payload = { dueAt: new Date(dueAt).toISOString() }
  if (kind === "pgboss") {
    const boss = new PgBoss({ connectionString: url } as any)
    await boss.start()
    for (let i = 0; i < N; i += 500) {
      await boss.insert("bench", Array.from({ length: Math.min(500, N - i) }, () => ({ data: payload, startAfter: new Date(dueAt) })) as any)
    }
    await waitFor(url, `SELECT count(*) AS n FROM pgboss.job WHERE name = 'bench' AND state = 'completed'`, N)
    await boss.stop({ graceful: false } as any)
  } else {
    const utils = await makeWorkerUtils({ connectionString: url })
    await utils.addJobs(Array.from({ length: N }, () => ({ identifier: "noop", payload, runAt: new Date(dueAt) })))
    await utils.release()
    await waitFor(url, `SELECT ${N} - count(*) AS n FROM graphile_worker._private_jobs`, N)
  }
  const outputs = await Promise.all(children.map(stopChild))
  const reports = outputs.map((o) => JSON.parse(o.trim().split("\n").filter((l) => l.startsWith("{")).pop()!))
  return { lags: reports.flatMap((r) => r.lags), lastDone: Math.max(...reports.map((r) => r.lastDone)), dueAt }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!

interface Row {
  readonly system: string
  readonly processes: number
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  readonly max: number
}
const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}
const rows: Array<Row> = []
for (const processes of PROCESSES) {
  const runs = new Map<string, Array<Row>>()
  // Systems take turns within each repeat, so that a slow spell of the machine hits all of them.
  for (let repeat = 1; repeat <= REPEATS; repeat++) {
    for (const system of SYSTEMS) {
      const result = await withDatabase((url) =>
        system === "omnipost" || system === "omnipost-pooled"
          ? omnipost(url, processes, system === "omnipost-pooled")
          : competitor(system === "pg-boss" ? "pgboss" : system === "graphile-worker" ? "graphile" : "graphile-batched", url, processes)
      )
      if (result.lags.length !== N) throw new Error(`${system}: ${result.lags.length} of ${N} jobs reported`)
      const sorted = [...result.lags].sort((a, b) => a - b)
      const row = {
        system,
        processes,
        perSecond: Math.round(N / ((result.lastDone - result.dueAt) / 1000)),
        p50: Math.round(percentile(sorted, 50)),
        p99: Math.round(percentile(sorted, 99)),
        max: Math.round(sorted[sorted.length - 1]!)
      }
      runs.set(system, [...(runs.get(system) ?? []), row])
      const label = REPEATS > 1 ? ` (run ${repeat}/${REPEATS})` : ""
      console.log(`${system.padEnd(24)} ${processes} proc × ${C}: ${String(row.perSecond).padStart(6)}/s  lag p50 ${row.p50} ms  p99 ${row.p99} ms  max ${row.max} ms${label}`)
    }
  }
  // With repeats, each figure is the median over the runs.
  for (const system of SYSTEMS) {
    const all = runs.get(system)!
    rows.push({
      system,
      processes,
      perSecond: median(all.map((r) => r.perSecond)),
      p50: median(all.map((r) => r.p50)),
      p99: median(all.map((r) => r.p99)),
      max: median(all.map((r) => r.max))
    })
  }
}

console.log(`\n| system | processes × concurrency | items/s | lag p50 | lag p99 | lag max | ours ÷ theirs (items/s) | theirs ÷ ours (p99) |`)
console.log(`|---|---|---|---|---|---|---|---|`)
for (const row of rows) {
  const ours = rows.find((r) => r.system === "omnipost" && r.processes === row.processes)
  const ratio = ours === undefined || row.system === "omnipost" ? "" : (ours.perSecond / row.perSecond).toFixed(2)
  const lagRatio = ours === undefined || row.system === "omnipost" ? "" : (row.p99 / Math.max(1, ours.p99)).toFixed(2)
  console.log(`| ${row.system} | ${row.processes} × ${C} | ${row.perSecond} | ${row.p50} ms | ${row.p99} ms | ${row.max} ms | ${ratio} | ${lagRatio} |`)
}
