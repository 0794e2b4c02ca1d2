/**
 * A competitor's worker process for bench/scheduler.ts: runs no-op jobs with
 * graphile-worker or pg-boss and, on SIGTERM, prints one JSON line with each
 * job's lag (start − due) and the time of its last completion.
 *
 * argv: <graphile|graphile-batched|pgboss> <databaseUrl> <concurrency>
 */
import { run } from "graphile-worker"
import { PgBoss } from "pg-boss"

const [kind, url, concurrencyText] = process.argv.slice(2) as [string, string, string]
const concurrency = Number(concurrencyText)
const lags: Array<number> = []
let lastDone = 0

const report = () => {
  process.stdout.write(`${JSON.stringify({ lags, lastDone })}\n`)
}

if (kind === "pgboss") {
  const boss = new PgBoss({ connectionString: url, useListenNotify: true, max: concurrency + 2 } as any)
  boss.on("error", (e: unknown) => console.error(e))
  await boss.start()
  await boss.createQueue("bench", { notify: true } as any).catch(() => undefined)
  await boss.work("bench", { localConcurrency: concurrency, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 } as any, async (jobs: Array<any>) => {
    for (const job of jobs) lags.push(Date.now() - new Date(job.data.dueAt).getTime())
    lastDone = Date.now()
  })
  process.stdout.write("ready\n")
  process.on("SIGTERM", async () => {
    report()
    await boss.stop({ graceful: false, wait: false } as any).catch(() => undefined)
    process.exit(0)
  })
} else {
  const runner = await run({
    connectionString: url,
    concurrency,
    noHandleSignals: true,
    pollInterval: 500,
    ...(kind === "graphile-batched"
      ? { preset: { worker: { localQueue: { size: concurrency * 4 }, completeJobBatchDelay: 0 } } as any }
      : {}),
    taskList: {
      noop: async (payload: any) => {
        lags.push(Date.now() - new Date(payload.dueAt).getTime())
        lastDone = Date.now()
      }
    }
  })
  process.stdout.write("ready\n")
  process.on("SIGTERM", async () => {
    report()
    await runner.stop().catch(() => undefined)
    process.exit(0)
  })
}
