/**
 * Many machines (issue 20): two `omnipost serve --api-only` processes and
 * three `omnipost serve --worker-only` processes, each with its own data
 * directory, sharing only one fresh PostgreSQL database — reached through
 * PgBouncer in transaction mode (`OMNIPOST_DATABASE_POOLER=transaction`,
 * LISTEN on `OMNIPOST_DATABASE_LISTEN_URL`, the direct URL) — and one
 * S3-compatible store (s3rver, `OMNIPOST_MEDIA_STORE=s3://…`). All five start
 * at once on the empty database (migrations and the first key through the
 * pooler). Images are uploaded through API process 1, posts citing them
 * created through API process 2, and the schedulers, which never saw the
 * files, publish them to the Bluesky fake: every post exactly once in the
 * fake's own records, each with the bytes that were uploaded, every attempt
 * made by a scheduler process, no image bytes in any data directory.
 *
 * Runs the built CLI (`dist/bin.js`: build first, as for every test here that
 * spawns processes). Needs `DATABASE_URL` (a real PostgreSQL) and the
 * `pgbouncer` binary: without either the suite is reported as skipped, its
 * title saying which is missing.
 */
import { FakeBluesky, type FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { Samples } from "@omnipost/platform-kit/testing"
import { Config, Context, Effect, Exit, Layer, Redacted, Scope } from "effect"
import { Reactivity } from "effect/reactivity"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { randomBytes } from "node:crypto"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeScratchPostgres } from "../src/storage/Database.js"
import { PgBouncer, pgbouncer, pgbouncerMissing as missing } from "./pgbouncerHarness.js"
import { makeS3Fake, type S3Fake } from "./s3Harness.js"

const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url))
const POSTS = 12
const schedulerIds = ["wrk_host3", "wrk_host4", "wrk_host5"]

interface Host {
  readonly name: string
  readonly child: ChildProcess
  readonly dataDir: string
  readonly output: () => string
}

/** `omnipost serve ...args` as a process of its own, in a data directory of its own. */
const startHost = (name: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Host => {
  const dataDir = mkdtempSync(join(tmpdir(), `omnipost-${name}-`))
  const child = spawn(process.execPath, [bin, "serve", ...args], {
    env: { ...env, OMNIPOST_DATA_DIR: dataDir, OMNIPOST_WORKER_ID: `wrk_${name}` },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  child.stdout!.on("data", (chunk) => (output += chunk))
  child.stderr!.on("data", (chunk) => (output += chunk))
  return { name, child, dataDir, output: () => output }
}

/** Resolves with what `check` returns (or resolves to) once it is defined, checked every 100 ms; fails when it throws or after `timeoutMs`. */
const until = async <A>(check: () => A | undefined | Promise<A | undefined>, timeoutMs: number, what: () => string): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Every file under `dir`. */
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir, { withFileTypes: true, recursive: true }).filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name))

describe.skipIf(missing !== undefined)(
  `two API and three scheduler processes, one PostgreSQL through PgBouncer, one S3 store${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    const scope = Effect.runSync(Scope.make())
    const hosts: Array<Host> = []
    let fake: FakeBlueskyServer
    let s3: S3Fake
    let directUrl: string
    let pooler: PgBouncer["Service"]
    let api1: { url: string; key: string }
    let api2: { url: string; key: string }

    const call = async (api: { url: string; key: string }, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${api.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${api.key}`,
          ...(body instanceof Uint8Array ? { "content-type": "application/octet-stream" } : body !== undefined ? { "content-type": "application/json" } : {})
        },
        ...(body !== undefined ? { body: body instanceof Uint8Array ? (body as unknown as BodyInit) : JSON.stringify(body) } : {})
      })
      const text = await response.text()
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
      return JSON.parse(text) as any
    }

    beforeAll(async () => {
      const resources = await Effect.runPromise(
        Effect.gen(function*() {
          const pooler = Context.get(yield* Layer.build(pgbouncer({ poolSize: 4 })), PgBouncer)
          const url = yield* makeScratchPostgres(yield* Config.Redacted("DATABASE_URL"))
          const s3 = yield* makeS3Fake()
          return { url, pooler, s3 }
        }).pipe(Effect.provide(Reactivity.layer), Scope.provide(scope))
      )
      s3 = resources.s3
      pooler = resources.pooler
      directUrl = Redacted.value(resources.url)
      fake = await FakeBluesky.start()
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        DATABASE_URL: Redacted.value(pooler.through(resources.url)),
        OMNIPOST_DATABASE_POOLER: "transaction",
        OMNIPOST_DATABASE_LISTEN_URL: directUrl,
        OMNIPOST_DB_POOL_SIZE: "4",
        OMNIPOST_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
        OMNIPOST_MEDIA_SIGNING_KEY: randomBytes(32).toString("hex"),
        OMNIPOST_LOG_REQUESTS: "false",
        ...s3.env("media")
      }
      // All five at once on the empty database: whichever migrates and bootstraps first prints the first key.
      hosts.push(
        // Port 0: each API host binds a port the system chooses and prints it.
        startHost("host1", ["--api-only", "--port", "0"], env),
        startHost("host2", ["--api-only", "--port", "0"], env),
        ...schedulerIds.map((id) => startHost(id.slice(4), ["--worker-only"], env))
      )
      const all = () => hosts.map((host) => `--- ${host.name}:\n${host.output()}`).join("\n")
      const key = await until(() => {
        const match = /API key \(shown once[^:]*:\s+(omp_[0-9a-z]+)/.exec(hosts.map((host) => host.output()).join("\n"))
        const up = hosts.slice(0, 2).every((host) => host.output().includes("Omnipost API:")) &&
          hosts.slice(2).every((host) => host.output().includes("Scheduler:     running"))
        const exited = hosts.find((host) => host.child.exitCode !== null)
        if (exited) throw new Error(`${exited.name} exited:\n${all()}`)
        return up ? match?.[1] : undefined
      }, 180_000, () => `five processes running and a first key:\n${all()}`)
      const printedUrl = (host: Host) => /Omnipost API:\s+(http:\/\/\S+)\/v1/.exec(host.output())![1]!
      api1 = { url: printedUrl(hosts[0]!), key }
      api2 = { url: printedUrl(hosts[1]!), key }
    }, 240_000)

    afterAll(async () => {
      for (const { child } of hosts) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL")
      await fake?.close()
      for (const { dataDir } of hosts) rmSync(dataDir, { recursive: true, force: true })
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }, 60_000)

    it("media uploaded through API 1, posts created through API 2, published once each by schedulers that never saw the files", async () => {
      expect(hosts.slice(0, 2).map((host) => host.output().includes("Scheduler:"))).toEqual([false, false])
      expect(hosts.slice(2).map((host) => host.output().includes("Omnipost API:"))).toEqual([false, false, false])

      const images = [Samples.png(150_000, 11), Samples.png(90_000, 12)]
      const media = [] as Array<{ id: string }>
      for (const [n, bytes] of images.entries()) media.push(await call(api1, "POST", `/v1/media?fileName=image${n}.png`, bytes))
      const stored = await s3.objects("media")
      expect(stored.map((object) => object.size).sort()).toEqual(images.map((bytes) => bytes.length).sort())

      const account = await call(api2, "POST", "/v1/accounts", { platform: "bluesky", credentials: fake.credentials() })
      const texts = Array.from({ length: POSTS }, (_, n) => `multi-host post ${n}`)
      const created = await Promise.all(texts.map((text, n) =>
        call(api2, "POST", "/v1/posts", {
          content: { text, media: [{ mediaId: media[n % 2]!.id, altText: `image ${n % 2}` }] },
          destinations: [{ accountId: account.id }]
        })
      ))

      const settled = await until(() => {
        const records = fake.posts()
        return records.length >= POSTS ? records : undefined
      }, 120_000, () => `${POSTS} posts on the fake (${fake.posts().length} so far):\n${hosts.slice(2).map((h) => h.output()).join("\n")}`)
      for (const [n, post] of created.entries()) {
        // Settled as seen through either API process. The fake records a post before its scheduler has saved the
        // outcome (a success waits up to `settleHoldMs` for its group commit), so the read waits for the status to
        // leave `scheduled`/`publishing` rather than reading once.
        const read = await until(async () => {
          const answer = await call(n % 2 === 0 ? api1 : api2, "GET", `/v1/posts/${post.id}`)
          return answer.status === "scheduled" || answer.status === "publishing" ? undefined : answer
        }, 60_000, () => `post ${post.id} to leave scheduled/publishing`)
        expect(read.status).toBe("published")
      }

      // The fake's own records: each text exactly once, with the image that was uploaded for it, byte for byte.
      expect(settled.map((record) => record.value.text).sort()).toEqual([...texts].sort())
      for (const record of settled) {
        const n = texts.indexOf(record.value.text as string)
        const embed = record.value.embed as { images: Array<{ image: { ref: { $link: string } } }> }
        expect(embed.images.length).toBe(1)
        const blob = fake.blobs.get(embed.images[0]!.image.ref.$link)
        expect(blob?.bytes !== undefined && Buffer.from(blob.bytes).equals(Buffer.from(images[n % 2]!))).toBe(true)
      }

      // One attempt per destination, each by a scheduler process.
      const attempts = execFileSync("psql", [directUrl, "-A", "-t", "-F", " ", "-c",
        "SELECT worker_id, count(*), count(DISTINCT destination_id) FROM attempts GROUP BY worker_id ORDER BY worker_id"]).toString()
        .trim().split("\n").map((line) => line.split(" "))
      expect(attempts.every(([worker]) => schedulerIds.includes(worker!))).toBe(true)
      expect(attempts.reduce((sum, [, count]) => sum + Number(count), 0)).toBe(POSTS)
      expect(attempts.reduce((sum, [, , distinct]) => sum + Number(distinct), 0)).toBe(POSTS)
      console.log(`attempts by scheduler: ${attempts.map(([worker, count]) => `${worker} ${count}`).join(", ")}`)

      // Five processes of up to 4 pooled connections each, through at most 4 server connections.
      const serverConnections = pooler.serverConnections(new URL(directUrl).pathname.slice(1))
      expect(serverConnections >= 1 && serverConnections <= 4, `PgBouncer held ${serverConnections} server connections`).toBe(true)

      // No process kept the bytes in its data directory: they live in the object store only.
      for (const host of hosts) {
        for (const file of filesUnder(host.dataDir)) {
          const bytes = readFileSync(file)
          expect(images.some((image) => bytes.equals(Buffer.from(image))), `${file}`).toBe(false)
        }
      }

      const codes = await Promise.all(hosts.map(({ child }) => {
        const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)))
        child.kill("SIGTERM")
        return exited
      }))
      expect(codes).toEqual([0, 0, 0, 0, 0])
    }, 240_000)
  }
)
