/**
 * Crashes (issue 18): `omnipost serve --worker-only` processes killed with
 * SIGKILL at random moments while posts flow, each restarted at once under
 * its own worker id (as a supervisor restarts a process), `RELIABILITY_KILLS`
 * times (default 5, the reduced run of `npm test`; `npm run test:reliability`
 * runs 50). One `serve --api-only` process takes the posts; two scheduler
 * processes publish them to the fakes, which run in this process: threads of
 * three parts to X, Bluesky and Threads, and a 2 MB video, sent by the
 * chunked and resumable upload protocols, to YouTube and TikTok.
 *
 * A kill's moment: after a random number (1–16, from the seed) of requests
 * has reached the fakes since the last restart, the kill is sent as the last
 * of them arrives: often while the platform is applying it, so its answer is
 * never read. Afterwards every destination is published exactly once (the
 * fakes' own records), or failed with a reason and nothing on the platform,
 * or an unknown outcome reported as such (at most once); none is left queued
 * or publishing; no live thread part is posted twice or lost
 * (`Driver.checkOutcomes`). The seed is printed (`RELIABILITY_SEED` replays a
 * run's choices; the processes' timing still varies).
 *
 * Needs `DATABASE_URL` (a real PostgreSQL: the processes share it) and the
 * built CLI (`dist/bin.js`); without PostgreSQL the suite is reported as
 * skipped, its title saying why.
 */
import { FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { type FakeServer, Samples } from "@omnipost/platform-kit/testing"
import { FakeMeta, type FakeMetaServer } from "@omnipost/platform-meta/testing"
import { FakeTiktok } from "@omnipost/platform-tiktok/testing"
import { FakeXServer } from "@omnipost/platform-twitter/testing"
import { FakeYoutube } from "@omnipost/platform-youtube/testing"
import { Config, Effect, Exit, Redacted, Scope } from "effect"
import { Reactivity } from "effect/reactivity"
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeScratchPostgres } from "../src/storage/Database.js"
import { type ApiServer, connectOAuth, request } from "../test/apiHarness.js"
import { metaAppEnv } from "../test/fixtures.js"
import { freePort } from "../test/ports.js"
import { checkOutcomes, countBy, type Live } from "./Driver.js"
import { printed, type Serve, serveEnv, startApi, startServe, stop, teardown } from "./Processes.js"
import { killsCount, randomOf, seedOf } from "./Size.js"

const kills = killsCount()
const seed = seedOf()
const videoBytes = 2_000_000
const missing = process.env.DATABASE_URL ? undefined : "no DATABASE_URL: the processes share a real PostgreSQL"
const settledStatuses = new Set(["published", "failed", "cancelled"])

describe.skipIf(missing !== undefined)(
  `crashes: ${kills} SIGKILLs of scheduler processes while threads and videos publish, seed ${seed}${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    const scope = Effect.runSync(Scope.make())
    const dataDir = mkdtempSync(join(tmpdir(), "omnipost-crashes-"))
    const workers = new Map<string, Serve>()
    let apiProcess: Serve
    let api: ApiServer
    let env: NodeJS.ProcessEnv
    let x: FakeXServer
    let bluesky: FakeBlueskyServer
    let meta: FakeMetaServer
    let youtube: FakeYoutube
    let tiktok: FakeTiktok

    const call = (method: string, path: string, options: Parameters<typeof request>[3] = {}) => Effect.runPromise(request(api, method, path, options))
    const restartMs: Array<number> = []
    const startWorker = async (id: string) => {
      const started = Date.now()
      const worker = startServe(id, ["--worker-only"], { ...env, OMNIPOST_WORKER_ID: id })
      workers.set(id, worker)
      await printed(worker, "Scheduler:     running", 120_000).catch((error) => {
        // What the database sessions were doing when it did not come up.
        const sessions = execFileSync("psql", [env.DATABASE_URL!, "-A", "-t", "-c",
          "SELECT pid, application_name, state, wait_event_type, wait_event, now() - query_start, left(query, 200) FROM pg_stat_activity WHERE datname = current_database()"])
        throw new Error(`${error.message}\nsessions:\n${sessions}`)
      })
      restartMs.push(Date.now() - started)
      return worker
    }

    beforeAll(async () => {
      const url = await Effect.runPromise(
        Effect.gen(function*() {
          return yield* makeScratchPostgres(yield* Config.Redacted("DATABASE_URL"))
        }).pipe(Effect.provide(Reactivity.layer), Scope.provide(scope))
      )
      x = await FakeXServer.start()
      x.registerClient({ clientId: "omnipost-crashes" })
      bluesky = await FakeBlueskyServer.start()
      meta = await FakeMeta.start({ imagePolls: 0, videoPolls: 0 })
      meta.registerApp({ platform: "threads", clientId: "th-app", clientSecret: "th-secret" })
      // The quotas (YouTube's 10,000 units and TikTok's 15 posts a day…) are raised: the run measures crashes.
      youtube = await FakeYoutube.start({ dailyUnits: 1_000_000_000 })
      youtube.addChannel({ title: "Crashes" })
      tiktok = await FakeTiktok.start()
      tiktok.processingPolls = 0
      tiktok.limits.perMinute = { creator_info: 1_000_000, init: 1_000_000, status: 1_000_000 }
      tiktok.limits.dailyPostCap = 1_000_000
      const port = await freePort()
      env = serveEnv(Redacted.value(url), dataDir, {
        OMNIPOST_X_BASE_URL: x.url,
        OMNIPOST_X_CLIENT_ID: "omnipost-crashes",
        OMNIPOST_BLUESKY_BASE_URL: bluesky.url,
        OMNIPOST_THREADS_BASE_URL: meta.graphUrl,
        OMNIPOST_YOUTUBE_BASE_URL: youtube.url,
        OMNIPOST_YOUTUBE_CLIENT_ID: youtube.client.clientId,
        OMNIPOST_YOUTUBE_CLIENT_SECRET: youtube.client.clientSecret,
        OMNIPOST_YOUTUBE_DAILY_QUOTA: "1000000000",
        OMNIPOST_TIKTOK_BASE_URL: tiktok.url,
        OMNIPOST_TIKTOK_CLIENT_KEY: tiktok.client.clientKey,
        OMNIPOST_TIKTOK_CLIENT_SECRET: tiktok.client.clientSecret,
        ...metaAppEnv,
        // A killed process's claims expire after 2 s; retries back off 100 ms – 1 s.
        OMNIPOST_WORKER_LEASE_MS: "2000",
        OMNIPOST_WORKER_HEARTBEAT_MS: "500",
        OMNIPOST_WORKER_POLL_MS: "200",
        OMNIPOST_WORKER_BACKOFF_BASE_MS: "100",
        OMNIPOST_WORKER_BACKOFF_MAX_MS: "1000"
      })
      const started = await startApi(port, env)
      apiProcess = started.serve
      api = { url: `http://127.0.0.1:${port}`, key: started.key } as ApiServer
      await Promise.all(["wrk_crash_1", "wrk_crash_2"].map(startWorker))
    }, 120_000)

    afterAll(async () => {
      await teardown([
        ["stopping the processes", () => Promise.all([...workers.values(), ...(apiProcess ? [apiProcess] : [])].map((serve) => stop(serve)))],
        ["closing the fakes", () => Promise.all([x?.close(), bluesky?.close(), meta?.server.close(), youtube?.close(), tiktok?.close()])],
        ["removing the data directory", async () => rmSync(dataDir, { recursive: true, force: true })],
        ["dropping the database", () => Effect.runPromise(Scope.close(scope, Exit.void))]
      ])
    }, 180_000)

    it("every destination published exactly once, failed with a reason, or reported unknown; none stuck; no thread part twice or lost", async () => {
      const random = randomOf(seed)
      const started = Date.now()
      // Accounts: X allows 100 posts per user per 15 minutes (a thread is 3): one account per 25 threads.
      const xAccounts = await Promise.all(Array.from({ length: Math.ceil(kills / 25) }, async (_, i) => {
        const answer = await call("POST", "/v1/accounts", { body: { platform: "x", credentials: x.issueOAuth2Token({ username: `crash${i}` }) } })
        expect(answer.status, JSON.stringify(answer.body)).toBe(201)
        return answer.body.id as string
      }))
      const blueskyAnswer = await call("POST", "/v1/accounts", { body: { platform: "bluesky", credentials: bluesky.credentials() } })
      expect(blueskyAnswer.status, JSON.stringify(blueskyAnswer.body)).toBe(201)
      const profile = meta.addProfile({ kind: "threads", username: "crash.th", quotaTotal: 1_000_000 })
      meta.approver.threads = profile.id
      const accounts = {
        bluesky: blueskyAnswer.body.id as string,
        threads: (await Effect.runPromise(connectOAuth(api, "threads"))).body.id as string,
        youtube: (await Effect.runPromise(connectOAuth(api, "youtube"))).body.id as string,
        tiktok: (await Effect.runPromise(connectOAuth(api, "tiktok"))).body.id as string
      }
      const video = await call("POST", "/v1/media?fileName=clip.mp4", {
        raw: Buffer.from(Samples.mp4(videoBytes, 7)),
        headers: { "content-type": "application/octet-stream" }
      })
      expect(video.status, JSON.stringify(video.body)).toBe(201)

      const servers: ReadonlyArray<FakeServer> = [x.server, bluesky.pds, bluesky.video, meta.server, youtube.server, tiktok.server]
      const received = () => servers.reduce((sum, server) => sum + server.requests.length, 0)
      /** Resolves as the next request reaches any fake (a signal, not a sleep). */
      const nextRequest = () => Promise.race(servers.map((server) => server.waitForRequest(() => true, server.requests.length + 1)))

      const ids: Array<string> = []
      const moments: Array<number> = []
      let idle = 0
      for (let n = 0; n < kills; n++) {
        // Posts keep flowing: a thread and a video before every kill.
        const thread = await call("POST", "/v1/posts", {
          body: {
            content: { text: `crash ${seed} #${n}`, thread: [{ text: `crash ${seed} #${n} part 2` }, { text: `crash ${seed} #${n} part 3` }] },
            destinations: [{ accountId: xAccounts[n % xAccounts.length]! }, { accountId: accounts.bluesky }, { accountId: accounts.threads }]
          }
        })
        const clip = await call("POST", "/v1/posts", {
          body: {
            content: { text: `crash ${seed} video #${n}`, media: [{ mediaId: video.body.id }] },
            destinations: [
              { accountId: accounts.youtube, settings: { privacyStatus: "private", madeForKids: false } },
              { accountId: accounts.tiktok, settings: { privacyLevel: "SELF_ONLY" } }
            ]
          }
        })
        for (const answer of [thread, clip]) {
          expect(answer.status, JSON.stringify(answer.body)).toBe(201)
          ids.push(answer.body.id)
        }
        const victim = [...workers.keys()][Math.floor(random() * workers.size)]!
        const wanted = 1 + Math.floor(random() * 16)
        const before = received()
        // The kill goes out as the wanted request arrives; when the work runs dry first, it goes out idle.
        const ranDry = new Promise<"dry">((resolve) => setTimeout(() => resolve("dry"), 30_000))
        while (received() < before + wanted) {
          if ((await Promise.race([nextRequest(), ranDry])) === "dry") {
            idle++
            break
          }
        }
        moments.push(received() - before)
        await stop(workers.get(victim)!, "SIGKILL")
        await startWorker(victim)
      }

      // Settled: every destination out of queued and publishing.
      const deadline = Date.now() + 120_000 + kills * 2_000
      const settled: Array<any> = []
      for (const id of ids) {
        for (;;) {
          const answer = await call("GET", `/v1/posts/${id}`)
          if (answer.status === 200 && answer.body.destinations.every((d: any) => settledStatuses.has(d.status))) {
            settled.push(answer.body)
            break
          }
          if (Date.now() > deadline) throw new Error(`post ${id} not settled: ${JSON.stringify(answer.body)}`)
          await new Promise((resolve) => setTimeout(resolve, 100))
        }
      }
      const elapsedMs = Date.now() - started

      const byText = (values: ReadonlyArray<string>) => countBy(values)
      const targets: ReadonlyArray<Live> = [
        { platform: "x", live: () => byText(x.liveTweets.map((t) => t.text)) },
        { platform: "bluesky", live: () => byText(bluesky.posts().map((r) => (r.value as { text: string }).text)) },
        { platform: "threads", live: () => byText([...meta.media.values()].filter((m) => m.platform === "threads").map((m) => m.text ?? "")) },
        { platform: "youtube", live: () => byText([...youtube.videos.values()].map((v) => String(v.snippet.title))) },
        {
          platform: "tiktok",
          // Live: every byte arrived and processing did not end FAILED.
          live: () =>
            byText([...tiktok.uploads.values()].filter((u) => !u.inbox && u.videoSize > 0 && u.received === u.videoSize && u.failReason === undefined)
              .map((u) => String(u.postInfo.title)))
        }
      ]
      const { counts, threadParts } = checkOutcomes(settled, targets)
      const destinations = Object.values(counts).reduce((sum, outcomes) => sum + Object.values(outcomes).reduce((a, b) => a + b, 0), 0)
      expect(destinations).toBe(kills * 5)
      // Every attempt's outcome (a killed process's attempt is taken over when its lease expires).
      const attempts = settled.flatMap((post) => post.destinations.flatMap((d: any) => d.attemptLog ?? []))
      const attemptOutcomes = JSON.stringify(Object.fromEntries(countBy(attempts.map((a: any) => String(a.outcome ?? "none")))))
      console.log(
        [
          `crashes: ${kills} SIGKILLs (${idle} with the work run dry; requests reached between restart and kill: ${
            JSON.stringify(Object.fromEntries(countBy(moments.map(String))))
          }), ${ids.length} posts (${kills} threads of 3, ${kills} videos of ${videoBytes / 1e6} MB), ${destinations} destinations in ${
            (elapsedMs / 1000).toFixed(1)
          } s (seed ${seed}, postgres); thread parts live after the first: ${threadParts}; requests the fakes received: ${received()}; attempts ${attempts.length} ${attemptOutcomes}`,
          `  restarts: ${restartMs.length}, until running ${Math.min(...restartMs)}–${Math.max(...restartMs)} ms`,
          ...targets.map((t) => `  ${t.platform}: ${JSON.stringify(counts[t.platform])}; posted twice: 0; stuck: 0`)
        ].join("\n")
      )
    }, 600_000 + kills * 20_000)
  }
)
