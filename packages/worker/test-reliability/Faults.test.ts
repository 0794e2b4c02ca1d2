/**
 * Faults (issue 18), X and Bluesky: posts through the real worker (HTTP API
 * and scheduler, one process) while FakeX and FakeBluesky meet random faults
 * of the kit's one vocabulary (connections dropped before and after the
 * platform applied the request, 5xx, 429 with each platform's reset headers,
 * slow answers). Afterwards every destination is published exactly once (the
 * fakes' own records), or failed with a reason (nothing on the platform), or
 * an unknown outcome reported as such (at most once on the platform); none is
 * left queued or publishing; no live thread part is posted twice or lost (one
 * post in three is a thread). The counts are printed per platform
 * (`Driver.runFaults`; the other platforms have suites of their own beside it).
 *
 * Size: `RELIABILITY_POSTS` posts (default 12, the reduced run of `npm test`;
 * `npm run test:reliability` runs 1,000), each to both platforms; the faults
 * come from `RELIABILITY_SEED` (printed, so a failing run can be replayed).
 */
import { describe, layer } from "@effect/vitest"
import { FakeX } from "@omnipost/platform-twitter/testing"
import { Effect, Layer } from "effect"
import { apiLayer, request, TestApi } from "../test/apiHarness.js"
import { commonFaults, countBy, created, runFaults } from "./Driver.js"
import { postsCount, runTimeoutMs, seedOf } from "./Size.js"

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

/** X's and Bluesky's own reset headers, one second ahead. */
const faults = commonFaults(() => {
  const reset = String(Math.ceil(Date.now() / 1000) + 1)
  return { "retry-after": "1", "x-rate-limit-reset": reset, "x-rate-limit-remaining": "0", "ratelimit-reset": reset, "ratelimit-remaining": "0" }
})

describe(`faults: ${posts} posts to X and Bluesky, seed ${seed} (${kind})`, () => {
  layer(withFakeX, { timeout: runTimeoutMs(posts), excludeTestServices: true })((it) => {
    it.effect("each destination published exactly once, failed with a reason, or reported unknown; none stuck", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const fakeX = yield* FakeX
        // The fakes keep the platforms' own limits (X: 100 posts per user per 15 minutes; Bluesky: 3,000
        // points per account per 5 minutes, 3 a post): enough accounts that a run stays inside them (a post
        // is 5/3 records on average, one in three being a thread of three).
        const xAccounts = yield* Effect.forEach(Array.from({ length: Math.ceil(posts / 50) }, (_, i) => i), (i) =>
          request(api, "POST", "/v1/accounts", { body: { platform: "x", credentials: fakeX.issueOAuth2Token({ username: `rel${i}` }) } }).pipe(
            Effect.map(created("X account"))
          ))
        const blueskyAccounts = yield* Effect.forEach(Array.from({ length: Math.ceil(posts / 500) }, (_, i) => i), (i) =>
          Effect.suspend(() => {
            api.bluesky.createAccount({ handle: `rel${i}.test`, password: `app-password-${i}` })
            return request(api, "POST", "/v1/accounts", { body: { platform: "bluesky", credentials: api.bluesky.credentials(`rel${i}.test`) } })
          }).pipe(Effect.map(created("Bluesky account"))))
        yield* runFaults({
          api,
          seed,
          posts,
          label: kind,
          // One post in three is a thread of three parts.
          content: (i) => (i % 3 === 2 ? { thread: [{ text: `reliability ${seed} #${i} part 2` }, { text: `reliability ${seed} #${i} part 3` }] } : {}),
          targets: [
            {
              platform: "x",
              accounts: xAccounts,
              inject: (pick, random) => {
                const kind = pick(faults)
                fakeX.inject("POST /2/tweets", kind.fault(), { after: Math.floor(random() * 3) })
                return kind.name
              },
              live: () => countBy(fakeX.liveTweets.map((t) => t.text))
            },
            {
              platform: "bluesky",
              accounts: blueskyAccounts,
              inject: (pick, random) => {
                const kind = pick(faults)
                api.bluesky.inject("com.atproto.repo.createRecord", kind.fault(), { after: Math.floor(random() * 3) })
                return kind.name
              },
              live: () => countBy(api.bluesky.posts().map((r) => (r.value as { text: string }).text))
            }
          ]
        })
      }), { timeout: runTimeoutMs(posts) })
  })
})
