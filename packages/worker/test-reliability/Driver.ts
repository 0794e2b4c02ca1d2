/**
 * The one driver of the faults suites (issue 18): posts through the real
 * worker (HTTP API and scheduler) while each platform's fake meets random
 * faults, waits until every destination settled, then checks each against
 * the fake's own records and prints the counts per platform.
 *
 * A suite gives its platforms as `Target`s (the accounts it connected, how it
 * injects one random fault, and what is live on the platform by post text);
 * the driver draws the faults from the run's seed, one post at a time.
 * `DEBUG_FAULTS=1` prints each failed destination's attempt errors.
 */
import { assert } from "@effect/vitest"
import { Faults, type Fault } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { type ApiServer, request, waitFor } from "../test/apiHarness.js"
import { randomOf } from "./Size.js"

/** One kind of fault, drawn at random. */
export interface FaultKind {
  readonly name: string
  readonly fault: () => Fault
}

/** The kit's vocabulary every fake meets: drops before and after apply, 5xx, 429 with a reset, slow answers. */
export const commonFaults = (rateLimitHeaders: () => Record<string, string>): ReadonlyArray<FaultKind> => [
  { name: "drop before apply", fault: () => Faults.dropBeforeApply() },
  { name: "drop after apply", fault: () => Faults.dropAfterApply() },
  { name: "503", fault: () => Faults.status(503) },
  { name: "500", fault: () => Faults.status(500) },
  { name: "429", fault: () => Faults.status(429, { headers: rateLimitHeaders() }) },
  { name: "slow", fault: () => Faults.slow({ delayMs: 300 }) }
]

/** `Retry-After` one second ahead (the platforms without a reset header of their own). */
export const retryAfterOneSecond = () => ({ "retry-after": "1" })

/** A platform of a run. */
export interface Target {
  readonly platform: string
  /** Account ids, used in turn. */
  readonly accounts: ReadonlyArray<string>
  /** Destination settings for this platform. */
  readonly settings?: Readonly<Record<string, unknown>> | undefined
  /**
   * Injects one fault into the fake (called for one post in three); returns
   * its name for the counts. `pick` draws from a list with the run's seed.
   */
  readonly inject: (pick: <A>(items: ReadonlyArray<A>) => A, random: () => number) => string
  /** How many times each text is live on the platform (the fake's own records). */
  readonly live: () => ReadonlyMap<string, number>
}

export interface Run {
  readonly api: ApiServer
  readonly seed: number
  readonly posts: number
  readonly targets: ReadonlyArray<Target>
  /** The post's content besides its text (media, a thread whose parts' texts are unique in the run). */
  readonly content?: ((index: number) => Readonly<Record<string, unknown>>) | undefined
  /** The label printed (the database kind). */
  readonly label: string
}

const settledStatuses = new Set(["published", "failed", "cancelled"])

/** Runs the posts, waits until they settled, asserts the invariants, prints the counts. */
export const runFaults = (run: Run) =>
  Effect.gen(function*() {
    const { api, seed, posts, targets } = run
    const random = randomOf(seed)
    const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!
    const injected: Record<string, Record<string, number>> = Object.fromEntries(targets.map((t) => [t.platform, {}]))
    const ids: Array<string> = []
    const started = Date.now()
    for (let i = 0; i < posts; i++) {
      for (const target of targets) {
        if (random() >= 1 / 3) continue
        const name = target.inject(pick, random)
        injected[target.platform]![name] = (injected[target.platform]![name] ?? 0) + 1
      }
      const created = yield* request(api, "POST", "/v1/posts", {
        body: {
          content: { text: `reliability ${seed} #${i}`, ...run.content?.(i) },
          destinations: targets.map((t) => ({
            accountId: t.accounts[i % t.accounts.length]!,
            ...(t.settings !== undefined ? { settings: t.settings } : {})
          }))
        }
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

    const { counts, threadParts } = checkOutcomes(settled, targets)
    console.log(
      [
        `faults: ${posts} posts × ${targets.length} platforms in ${(elapsedMs / 1000).toFixed(1)} s (seed ${seed}, ${run.label}); thread parts live after the first: ${threadParts}`,
        ...targets.map((t) =>
          `  ${t.platform}: ${JSON.stringify(counts[t.platform])}; faults injected ${JSON.stringify(injected[t.platform])}; posted twice: 0; stuck: 0`
        )
      ].join("\n")
    )
    return counts
  })

/** What a platform holds, by text (the fake's own records). */
export interface Live {
  readonly platform: string
  readonly live: () => ReadonlyMap<string, number>
}

/**
 * Checks settled posts (as the API reads them) against the fakes' own
 * records: every destination published exactly once on its platform, or
 * failed with a reason and nothing posted, or an unknown outcome (at most
 * once); no live thread part posted twice or lost. Returns the outcomes per
 * platform and how many thread parts after the first are live.
 */
export const checkOutcomes = (settled: ReadonlyArray<any>, targets: ReadonlyArray<Live>) => {
  const onPlatform = Object.fromEntries(targets.map((t) => [t.platform, t.live()]))
  const counts: Record<string, Record<string, number>> = Object.fromEntries(targets.map((t) => [t.platform, {}]))
  let threadParts = 0
  for (const post of settled) {
    // The post's parts: its text, then each thread part's.
    const texts: Array<string> = [post.content.text, ...(post.content.thread ?? []).map((part: { text: string }) => part.text)]
    for (const d of post.destinations) {
      const platform = d.platform as string
      const outcome = d.status === "published"
        ? "published"
        : d.lastError?.code === "OUTCOME_UNKNOWN"
        ? "unknown outcome"
        : `failed ${d.lastError?.code}`
      counts[platform]![outcome] = (counts[platform]![outcome] ?? 0) + 1
      if (process.env.DEBUG_FAULTS && outcome.startsWith("failed")) console.log(JSON.stringify(d.attemptLog.map((a: any) => a.error?.message)))
      const what = `${platform} ${post.content.text} (${JSON.stringify(d)})`
      // The parts of a thread the destination reports live (one that failed part way keeps its first parts).
      // A single post's part may be a checkpoint rather than a live post (TikTok keeps its publish id to poll).
      const reported = texts.length === 1
        ? 0
        : (d.parts ?? []).filter((part: { platformPostId?: string }) => typeof part.platformPostId === "string").length
      if (d.status !== "published") {
        assert.strictEqual(d.status, "failed", what)
        assert.isString(d.lastError?.code, `${what}: a failure has a reason`)
        assert.isString(d.lastError?.message)
      }
      for (const [index, text] of texts.entries()) {
        const live = onPlatform[platform]!.get(text) ?? 0
        const part = `${what}, part ${index + 1}`
        if (index > 0) threadParts += live
        assert.isAtMost(live, 1, `${part}: never posted twice`)
        if (d.status === "published") assert.strictEqual(live, 1, `${part}: published means on the platform, once`)
        else if (index < reported) assert.strictEqual(live, 1, `${part}: a part reported live is on the platform (not lost)`)
        else if (d.lastError.code !== "OUTCOME_UNKNOWN") assert.strictEqual(live, 0, `${part}: failed means not posted`)
      }
    }
  }
  return { counts, threadParts }
}

/** How many times each value occurs. */
export const countBy = (values: Iterable<string>): ReadonlyMap<string, number> => {
  const counts = new Map<string, number>()
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1)
  return counts
}

/** Asserts a 201 and returns the created resource's id. */
export const created = (what: string) => (answer: { readonly status: number; readonly body: any }): string => {
  assert.strictEqual(answer.status, 201, `${what}: ${JSON.stringify(answer.body)}`)
  return answer.body.id as string
}
