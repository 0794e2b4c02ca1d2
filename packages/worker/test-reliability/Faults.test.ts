/**
 * Faults (issue 18): posts to X and Bluesky through the real worker (HTTP API
 * and scheduler, one process) while the platform fakes meet random faults of
 * the kit's one vocabulary (connections dropped before and after the
 * platform applied the request, 5xx, 429 with a reset, slow answers).
 * Afterwards every destination is published exactly once (the fakes' own
 * records), or failed with a reason (nothing on the platform), or an unknown
 * outcome reported as such (at most once on the platform); none is left
 * queued or publishing. The counts are printed per platform.
 *
 * Size: `RELIABILITY_POSTS` posts (default 12, the reduced run of `npm test`;
 * `npm run test:reliability` runs 1,000), each to both platforms; the faults
 * come from `RELIABILITY_SEED` (printed, so a failing run can be replayed).
 */
import { assert, describe, layer } from "@effect/vitest"
import { FakeX, Faults } from "@omnipost/platform-twitter/testing"
import { Effect, Layer } from "effect"
import { apiLayer, request, TestApi, waitFor } from "../test/apiHarness.js"
import { postsCount, randomOf, seedOf } from "./Size.js"

const clientId = "omnipost-reliability"
const posts = postsCount()
const seed = seedOf()
const kind = process.env.DATABASE_URL ? "postgres" : "pglite"

const withFakeX = Layer.unwrap(Effect.gen(function*() {
  const fakeX = yield* FakeX.make()
  fakeX.registerClient({ clientId })
  return apiLayer(kind, { platformBaseUrls: { x: fakeX.url } }, { env: { OMNIPOST_X_CLIENT_ID: clientId } }).pipe(
    Layer.merge(Layer.succeed(FakeX, fakeX))
  )
}))

/** The faults drawn from: one in three calls meets one. */
const faultKinds = [
  { name: "drop before apply", fault: () => Faults.dropBeforeApply() },
  { name: "drop after apply", fault: () => Faults.dropAfterApply() },
  { name: "503", fault: () => Faults.status(503) },
  { name: "500", fault: () => Faults.status(500) },
  // Each platform's own reset header, one second ahead.
  {
    name: "429",
    fault: () => {
      const reset = String(Math.ceil(Date.now() / 1000) + 1)
      return Faults.status(429, {
        headers: { "retry-after": "1", "x-rate-limit-reset": reset, "x-rate-limit-remaining": "0", "ratelimit-reset": reset, "ratelimit-remaining": "0" }
      })
    }
  },
  { name: "slow", fault: () => Faults.slow({ delayMs: 300 }) }
] as const

const settledStatuses = new Set(["published", "failed", "cancelled"])

describe(`faults: ${posts} posts to X and Bluesky, seed ${seed} (${kind})`, () => {
  layer(withFakeX, { timeout: 600_000, excludeTestServices: true })((it) => {
    it.effect("each destination published exactly once, failed with a reason, or reported unknown; none stuck", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const fakeX = yield* FakeX
        // The fakes keep the platforms' own limits (X: 100 posts per user per 15 minutes; Bluesky: 3,000
        // points per account per 5 minutes, 3 a post): enough accounts that a run stays inside them.
        const xAccounts = yield* Effect.forEach(Array.from({ length: Math.ceil(posts / 80) }, (_, i) => i), (i) =>
          request(api, "POST", "/v1/accounts", { body: { platform: "x", credentials: fakeX.issueOAuth2Token({ username: `rel${i}` }) } }).pipe(
            Effect.map((x) => {
              assert.strictEqual(x.status, 201, JSON.stringify(x.body))
              return x.body.id as string
            })
          ))
        const blueskyAccounts = yield* Effect.forEach(Array.from({ length: Math.ceil(posts / 800) }, (_, i) => i), (i) =>
          Effect.suspend(() => {
            api.bluesky.createAccount({ handle: `rel${i}.test`, password: `app-password-${i}` })
            return request(api, "POST", "/v1/accounts", { body: { platform: "bluesky", credentials: api.bluesky.credentials(`rel${i}.test`) } })
          }).pipe(
            Effect.map((b) => {
              assert.strictEqual(b.status, 201, JSON.stringify(b.body))
              return b.body.id as string
            })
          ))
        const random = randomOf(seed)
        const injected: Record<string, Record<string, number>> = { x: {}, bluesky: {} }
        const inject = (platform: "x" | "bluesky") => {
          if (random() >= 1 / 3) return
          const kind = faultKinds[Math.floor(random() * faultKinds.length)]!
          injected[platform]![kind.name] = (injected[platform]![kind.name] ?? 0) + 1
          if (platform === "x") fakeX.inject("POST /2/tweets", kind.fault(), { after: Math.floor(random() * 3) })
          else api.bluesky.inject("com.atproto.repo.createRecord", kind.fault(), { after: Math.floor(random() * 3) })
        }
        const ids: Array<string> = []
        const started = Date.now()
        for (let i = 0; i < posts; i++) {
          inject("x")
          inject("bluesky")
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: `reliability ${seed} #${i}` }, destinations: [{ accountId: xAccounts[i % xAccounts.length]! }, { accountId: blueskyAccounts[i % blueskyAccounts.length]! }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          ids.push(created.body.id)
        }
        // Settled: every destination out of queued/publishing (the scheduler's retries back off up to 1 s here).
        const settled = yield* Effect.forEach(ids, (id) =>
          waitFor(
            request(api, "GET", `/v1/posts/${id}`).pipe(
              Effect.map((r) => r.status === 200 && r.body.destinations.every((d: any) => settledStatuses.has(d.status)) ? r.body : undefined)
            ),
            120_000 + posts * 200,
            `post ${id} settled`
          ).pipe(Effect.tapDefect(() =>
            request(api, "GET", `/v1/posts/${id}`).pipe(Effect.map((r) => console.log("unsettled", JSON.stringify(r.body.destinations))))
          )), { concurrency: 4 })
        const elapsedMs = Date.now() - started

        const onPlatform = {
          x: countBy(fakeX.liveTweets.map((t) => t.text)),
          bluesky: countBy(api.bluesky.posts().map((r) => (r.value as { text: string }).text))
        }
        const counts: Record<string, Record<string, number>> = { x: {}, bluesky: {} }
        for (const post of settled) {
          for (const d of post.destinations) {
            const platform = d.platform as "x" | "bluesky"
            const live = onPlatform[platform].get(post.content.text) ?? 0
            const outcome = d.status === "published"
              ? "published"
              : d.lastError?.code === "OUTCOME_UNKNOWN"
              ? "unknown outcome"
              : `failed ${d.lastError?.code}`
            counts[platform]![outcome] = (counts[platform]![outcome] ?? 0) + 1
            assert.isAtMost(live, 1, `${platform} ${post.content.text}: never posted twice`)
            if (d.status === "published") assert.strictEqual(live, 1, `${platform} ${post.content.text}: published means on the platform, once`)
            else {
              assert.strictEqual(d.status, "failed")
              assert.isString(d.lastError?.code, "a failure has a reason")
              assert.isString(d.lastError?.message)
              if (d.lastError.code !== "OUTCOME_UNKNOWN") assert.strictEqual(live, 0, `${platform} ${post.content.text}: failed means not posted`)
            }
          }
        }
        console.log(
          [
            `faults: ${posts} posts × 2 platforms in ${(elapsedMs / 1000).toFixed(1)} s (seed ${seed}, ${kind})`,
            ...(["x", "bluesky"] as const).map((p) =>
              `  ${p}: ${JSON.stringify(counts[p])}; faults injected ${JSON.stringify(injected[p])}; posted twice: 0; stuck: 0`
            )
          ].join("\n")
        )
      }), { timeout: 600_000 })
  })
})

const countBy = (values: ReadonlyArray<string>) => {
  const counts = new Map<string, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return counts
}
