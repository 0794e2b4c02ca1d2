import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Logger, Result, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Credentials, FanOut, Lifecycle, PublishError, Registry } from "@omnipost/core"
import type { Publisher } from "@omnipost/core"
import { credentialsFor, makePost, scripted } from "./fixtures/TestPublishers.js"

const transient = (platform: string) => new PublishError.Transient({ platform, message: "502 Bad Gateway", httpStatus: 502 })

const environment = (
  publishers: ReadonlyArray<Publisher.PlatformPublisher>,
  credentials: Credentials.CredentialsProviderShape = Credentials.fromRecord(credentialsFor(["a1", "a2", "a3", "a4", "a5", "a6"]))
) => Layer.mergeAll(Registry.PublisherRegistry.layer(publishers), Credentials.CredentialsProvider.layer(credentials))

/** Runs a publish in a fiber, moves the test clock far enough for every backoff, and joins. */
const publishAndWait = (post: Parameters<typeof FanOut.publish>[0], options: FanOut.PublishOptions = {}) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkChild(FanOut.publish(post, options))
    yield* TestClock.adjust("1 hour")
    return yield* Fiber.join(fiber)
  })

describe("FanOut.publish", () => {
  it.effect("retries a Transient failure with backoff and publishes on the third attempt", () => {
    const flaky = scripted("flaky", [transient("flaky"), transient("flaky"), "ok"])
    const post = makePost([{ platform: "flaky", accountId: "a1" }])
    const events: Array<FanOut.PublishEvent> = []
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post, {
        retry: { jitter: 0, initialDelayMs: 1000, factor: 2 },
        onEvent: (event) => Effect.sync(() => void events.push(event))
      })
      assert.strictEqual(outcome.status, "published")
      assert.strictEqual(flaky.calls.length, 3)
      const [destination] = outcome.destinations
      assert.strictEqual(destination!.status, "published")
      assert.deepStrictEqual(destination!.attempts.map((a) => a.outcome), ["failed", "failed", "published"])
      assert.strictEqual(destination!.attempts[0]!.error!.code, "PLATFORM_UNAVAILABLE")
      assert.strictEqual(destination!.platformPostId, `flaky-${post.destinations[0]!.id}-3`)
      assert.strictEqual(destination!.url, `https://flaky.example/flaky-${post.destinations[0]!.id}-3`)
      assert.strictEqual(destination!.lastError, undefined)
      // Exponential backoff without jitter: 1 s, then 2 s.
      const starts = destination!.attempts.map((a) => Date.parse(a.startedAt))
      assert.deepStrictEqual([starts[1]! - starts[0]!, starts[2]! - starts[1]!], [1000, 2000])
      assert.strictEqual(destination!.attempts[0]!.retryAt, destination!.attempts[1]!.startedAt)
      assert.deepStrictEqual(events.map((e) => e._tag), [
        "AttemptStarted",
        "AttemptFailed",
        "AttemptStarted",
        "AttemptFailed",
        "AttemptStarted",
        "Published"
      ])
      const firstFailure = events[1]!
      assert.strictEqual(firstFailure._tag === "AttemptFailed" && firstFailure.retryAt, destination!.attempts[1]!.startedAt)
      // The post model follows: attempts counted, status published.
      assert.strictEqual(outcome.post.status, "published")
      assert.strictEqual(outcome.post.destinations[0]!.attempts, 3)
      assert.strictEqual(outcome.post.destinations[0]!.platformPostId, destination!.platformPostId)
      // Attempt ids are unique per attempt, for idempotency keys.
      assert.strictEqual(new Set(flaky.calls.map((c) => c.attemptId)).size, 3)
    }).pipe(Effect.provide(environment([flaky.publisher])))
  })

  it.effect("a thread that failed part way keeps its live parts; the retry gets them and the outcome lists every part once", () => {
    const live = [{ platformPostId: "t1", url: "https://threads.example/t1", replyRef: "c1" }]
    const partial = PublishError.withPostedParts(transient("threads"), live, "part 2 of 2 failed")
    const threads = scripted("threads", [partial, "ok"])
    const post = makePost([{ platform: "threads", accountId: "a1" }])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post, { retry: { jitter: 0, initialDelayMs: 1000 } })
      assert.strictEqual(outcome.status, "published")
      assert.deepStrictEqual(threads.calls.map((call) => call.postedParts), [undefined, live])
      const failedAttempt = outcome.destinations[0]!.attempts[0]!
      assert.include(failedAttempt.error!.message, "part 2 of 2 failed")
      assert.deepStrictEqual(outcome.post.destinations[0]!.parts, outcome.destinations[0]!.parts)
    }).pipe(Effect.provide(environment([threads.publisher])))
  })

  it.effect("a thread that failed part way for good keeps its live parts on the destination, and a later publish resumes", () => {
    const live = [{ platformPostId: "t1", url: "https://threads.example/t1" }]
    const refused = PublishError.withPostedParts(new PublishError.Rejected({ platform: "threads", message: "part 2 refused" }), live)
    const threads = scripted("threads", [refused, "ok"])
    const post = makePost([{ platform: "threads", accountId: "a1" }])
    return Effect.gen(function*() {
      const first = yield* publishAndWait(post)
      assert.strictEqual(first.status, "failed")
      assert.deepStrictEqual(first.destinations[0]!.parts, live)
      assert.deepStrictEqual(first.post.destinations[0]!.parts, live)
      // Retried later (the caller requeues it): the request resumes after the live part.
      const requeued = { ...first.post, status: "scheduled" as const, destinations: first.post.destinations.map((d) => ({ ...d, status: "queued" as const })) }
      const second = yield* publishAndWait(requeued)
      assert.strictEqual(second.status, "published")
      assert.deepStrictEqual(threads.calls[1]!.postedParts, live)
    }).pipe(Effect.provide(environment([threads.publisher])))
  })

  it.effect("honours RateLimited.retryAfterSeconds: no retry before the time, a retry right at it", () => {
    const limited = scripted("limited", [
      new PublishError.RateLimited({ platform: "limited", message: "Too Many Requests", retryAfterSeconds: 30, httpStatus: 429 }),
      "ok"
    ])
    const post = makePost([{ platform: "limited", accountId: "a1" }])
    return Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(FanOut.publish(post))
      yield* TestClock.adjust("29999 millis")
      assert.strictEqual(limited.calls.length, 1, "retried before Retry-After elapsed")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(limited.calls.length, 2)
      const outcome = yield* Fiber.join(fiber)
      assert.strictEqual(outcome.status, "published")
      const attempts = outcome.destinations[0]!.attempts
      assert.strictEqual(Date.parse(attempts[1]!.startedAt) - Date.parse(attempts[0]!.startedAt), 30_000)
      assert.strictEqual(attempts[0]!.error!.code, "RATE_LIMITED")
    }).pipe(Effect.provide(environment([limited.publisher])))
  })

  it.effect("honours RateLimited.resetAt when no retry-after is given", () => {
    const limited = scripted("limited", [
      new PublishError.RateLimited({ platform: "limited", message: "limit", resetAt: "1970-01-01T00:02:00.000Z" }),
      "ok"
    ])
    const post = makePost([{ platform: "limited", accountId: "a1" }])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post)
      const attempts = outcome.destinations[0]!.attempts
      assert.strictEqual(attempts[1]!.startedAt, "1970-01-01T00:02:00.000Z")
      assert.strictEqual(outcome.status, "published")
    }).pipe(Effect.provide(environment([limited.publisher])))
  })

  it.effect("a rate-limit wait longer than maxWaitMs fails the destination with nextRetryAt", () => {
    const limited = scripted("limited", [
      new PublishError.RateLimited({ platform: "limited", message: "daily quota", retryAfterSeconds: 86_400, scope: "quota" }),
      "ok"
    ])
    const post = makePost([{ platform: "limited", accountId: "a1" }])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post, { retry: { maxWaitMs: 60_000 } })
      assert.strictEqual(limited.calls.length, 1)
      assert.strictEqual(outcome.status, "failed")
      const destination = outcome.destinations[0]!
      assert.strictEqual(destination.nextRetryAt, "1970-01-02T00:00:00.000Z")
      assert.strictEqual(destination.lastError!.code, "RATE_LIMITED")
      assert.isTrue(destination.lastError!.retryable)
      assert.strictEqual(outcome.post.destinations[0]!.nextRetryAt, "1970-01-02T00:00:00.000Z")
    }).pipe(Effect.provide(environment([limited.publisher])))
  })

  for (
    const [name, error] of [
      ["OutcomeUnknown", new PublishError.OutcomeUnknown({ platform: "p", message: "connection reset after the request was sent" })],
      ["AuthFailed", new PublishError.AuthFailed({ platform: "p", message: "token revoked", reason: "revoked" })],
      ["Rejected", new PublishError.Rejected({ platform: "p", message: "duplicate", code: "DUPLICATE_CONTENT", platformCode: "187" })]
    ] as const
  ) {
    it.effect(`never retries ${name}`, () => {
      const failing = scripted("p", [error, "ok"])
      const post = makePost([{ platform: "p", accountId: "a1" }])
      return Effect.gen(function*() {
        const outcome = yield* publishAndWait(post, { retry: { maxAttempts: 5 } })
        assert.strictEqual(failing.calls.length, 1)
        assert.strictEqual(outcome.status, "failed")
        const destination = outcome.destinations[0]!
        assert.strictEqual(destination.attempts.length, 1)
        assert.deepStrictEqual(destination.lastError, PublishError.toDestinationError(error))
        assert.isFalse(destination.lastError!.retryable)
      }).pipe(Effect.provide(environment([failing.publisher])))
    })
  }

  it.effect("stops after maxAttempts of retryable failures", () => {
    const down = scripted("down", [transient("down")])
    const post = makePost([{ platform: "down", accountId: "a1" }])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post, { retry: { maxAttempts: 3 } })
      assert.strictEqual(down.calls.length, 3)
      assert.strictEqual(outcome.status, "failed")
      assert.strictEqual(outcome.destinations[0]!.lastError!.code, "PLATFORM_UNAVAILABLE")
      assert.isTrue(outcome.destinations[0]!.lastError!.retryable)
      assert.strictEqual(outcome.destinations[0]!.attempts.at(-1)!.retryAt, undefined)
    }).pipe(Effect.provide(environment([down.publisher])))
  })

  it.effect("a publisher that throws is an unknown outcome, not retried, and does not stop the others", () => {
    const buggy = scripted("buggy", ["throw"])
    const fine = scripted("fine", ["ok"])
    const post = makePost([{ platform: "buggy", accountId: "a1" }, { platform: "fine", accountId: "a2" }])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post)
      assert.strictEqual(buggy.calls.length, 1)
      assert.strictEqual(outcome.destinations[0]!.lastError!.code, "OUTCOME_UNKNOWN")
      assert.include(outcome.destinations[0]!.lastError!.message, "publisher bug")
      assert.strictEqual(outcome.destinations[1]!.status, "published")
      assert.strictEqual(outcome.status, "partially_failed")
    }).pipe(Effect.provide(environment([buggy.publisher, fine.publisher])))
  })

  it.effect("one destination failing while the others publish gives partially_failed", () => {
    const x = scripted("x", ["ok"])
    const bluesky = scripted("bluesky", [new PublishError.Rejected({ platform: "bluesky", message: "text too long" })])
    const mastodon = scripted("mastodon", [transient("mastodon"), "ok"], { latencyMs: 500 })
    const post = makePost([
      { platform: "x", accountId: "a1" },
      { platform: "bluesky", accountId: "a2" },
      { platform: "mastodon", accountId: "a3" }
    ])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post)
      assert.strictEqual(outcome.status, "partially_failed")
      assert.deepStrictEqual(outcome.destinations.map((d) => d.status), ["published", "failed", "published"])
      assert.deepStrictEqual(outcome.post.destinations.map((d) => d.status), ["published", "failed", "published"])
      assert.strictEqual(outcome.post.status, "partially_failed")
      assert.strictEqual(outcome.destinations[1]!.lastError!.code, "REJECTED_BY_PLATFORM")
      assert.strictEqual(mastodon.calls.length, 2)
    }).pipe(Effect.provide(environment([x.publisher, bluesky.publisher, mastodon.publisher])))
  })

  it.effect("every destination failing gives failed", () => {
    const a = scripted("a", [new PublishError.Rejected({ platform: "a", message: "no" })])
    const post = makePost([{ platform: "a", accountId: "a1" }, { platform: "a", accountId: "a2" }])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post)
      assert.strictEqual(outcome.status, "failed")
      assert.strictEqual(a.calls.length, 2)
    }).pipe(Effect.provide(environment([a.publisher])))
  })

  it.effect("bounds the platform calls in flight to the configured concurrency", () => {
    const slow = scripted("slow", ["ok"], { latencyMs: 100 })
    const post = makePost(["a1", "a2", "a3", "a4", "a5", "a6"].map((accountId) => ({ platform: "slow", accountId })))
    return Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(FanOut.publish(post, { concurrency: 2 }))
      yield* TestClock.adjust("100 millis")
      assert.strictEqual(slow.calls.length, 4, "after one latency period, two batches of two have started")
      yield* TestClock.adjust("1 second")
      const outcome = yield* Fiber.join(fiber)
      assert.strictEqual(outcome.status, "published")
      assert.strictEqual(slow.calls.length, 6)
      assert.strictEqual(slow.inFlight.max, 2)
    }).pipe(Effect.provide(environment([slow.publisher])))
  })

  it.effect("runs destinations concurrently up to the bound", () => {
    const slow = scripted("slow", ["ok"], { latencyMs: 100 })
    const post = makePost(["a1", "a2", "a3", "a4", "a5", "a6"].map((accountId) => ({ platform: "slow", accountId })))
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post, { concurrency: 10 })
      assert.strictEqual(outcome.status, "published")
      assert.strictEqual(slow.inFlight.max, 6)
    }).pipe(Effect.provide(environment([slow.publisher])))
  })

  it.effect("a destination waiting for its retry does not hold a concurrency slot", () => {
    const limited = scripted("limited", [
      new PublishError.RateLimited({ platform: "limited", message: "slow down", retryAfterSeconds: 60 }),
      "ok"
    ])
    const fast = scripted("fast", ["ok"])
    const post = makePost([{ platform: "limited", accountId: "a1" }, { platform: "fast", accountId: "a2" }])
    return Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(FanOut.publish(post, { concurrency: 1 }))
      yield* TestClock.adjust("1 second")
      assert.strictEqual(fast.calls.length, 1)
      yield* TestClock.adjust("1 minute")
      const outcome = yield* Fiber.join(fiber)
      assert.strictEqual(outcome.status, "published")
    }).pipe(Effect.provide(environment([limited.publisher, fast.publisher])))
  })

  it.effect("fails destinations it cannot start (unknown platform, bad settings, no credentials) and publishes the rest", () => {
    const ok = scripted("ok", ["ok"])
    const post = makePost([
      { platform: "nowhere", accountId: "a1" },
      { platform: "ok", accountId: "a2", settings: { visibility: "everyone" } },
      { platform: "ok", accountId: "not-connected" },
      { platform: "ok", accountId: "a3", settings: { visibility: "private" } }
    ])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post)
      assert.deepStrictEqual(
        outcome.destinations.map((d) => d.lastError?.code ?? d.status),
        ["UNKNOWN_PLATFORM", "INVALID_SETTINGS", "ACCOUNT_NOT_CONNECTED", "published"]
      )
      assert.deepStrictEqual(outcome.destinations.map((d) => d.attempts.length), [0, 0, 0, 1])
      assert.strictEqual(ok.calls.length, 1)
      assert.deepStrictEqual(ok.calls[0]!.destination.settings, { visibility: "private" })
      assert.strictEqual(outcome.status, "partially_failed")
    }).pipe(Effect.provide(environment([ok.publisher])))
  })

  it.effect("reports stored credentials the schema rejects, and an unreadable store as retryable", () => {
    const ok = scripted("ok", ["ok"])
    const post = makePost([{ platform: "ok", accountId: "bad" }, { platform: "ok", accountId: "down" }])
    const provider = Credentials.fromFunction((ref) =>
      ref.accountId === "bad"
        ? Effect.succeed({ token: 1 })
        : Effect.fail(new Credentials.CredentialsUnavailable({ ...ref, message: "vault timed out" }))
    )
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post)
      assert.deepStrictEqual(outcome.destinations.map((d) => d.lastError?.code), ["INVALID_CREDENTIALS", "CREDENTIALS_UNAVAILABLE"])
      assert.deepStrictEqual(outcome.destinations.map((d) => d.lastError?.retryable), [false, true])
      assert.strictEqual(ok.calls.length, 0)
    }).pipe(Effect.provide(environment([ok.publisher], provider)))
  })

  it.effect("publishes each destination's resolved content and decoded credentials", () => {
    const ok = scripted("ok", ["ok"])
    const post = makePost(
      [
        { platform: "ok", accountId: "a1", override: { text: "destination text" } },
        { platform: "ok", accountId: "a2" }
      ],
      { text: "content text", thread: [{ text: "reply" }] },
      { platformOverrides: { ok: { text: "platform text", settings: { visibility: "public" } } } }
    )
    return Effect.gen(function*() {
      yield* publishAndWait(post)
      const byAccount = Object.fromEntries(ok.calls.map((c) => [c.credentials.accessToken, c]))
      assert.strictEqual(byAccount["token-a1"]!.destination.parts[0].text, "destination text")
      assert.strictEqual(byAccount["token-a2"]!.destination.parts[0].text, "platform text")
      assert.strictEqual(byAccount["token-a2"]!.destination.parts[1]!.text, "reply")
      assert.deepStrictEqual(byAccount["token-a2"]!.destination.settings, { visibility: "public" })
      assert.strictEqual(byAccount["token-a2"]!.postId, post.id)
    }).pipe(Effect.provide(environment([ok.publisher])))
  })

  it.effect("refreshes expired credentials once, saves them keeping the refresh token, and retries", () => {
    const expired = new PublishError.AuthFailed({ platform: "oauth", message: "token expired", reason: "expired" })
    let refreshes = 0
    const oauth = scripted("oauth", [expired, "ok"], {
      // This platform does not rotate refresh tokens: the answer has none.
      refresh: () => Effect.sync(() => ({ accessToken: `fresh-${++refreshes}` }))
    })
    const store = Credentials.fromRecord({ a1: { accessToken: "stale", refreshToken: "keep-me" } })
    const post = makePost([{ platform: "oauth", accountId: "a1" }])
    const events: Array<string> = []
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post, { onEvent: (e) => Effect.sync(() => void events.push(e._tag)) })
      assert.strictEqual(outcome.status, "published")
      assert.strictEqual(refreshes, 1)
      assert.deepStrictEqual(oauth.calls.map((c) => c.credentials.accessToken), ["stale", "fresh-1"])
      assert.strictEqual(oauth.calls[1]!.credentials.refreshToken, "keep-me")
      assert.deepStrictEqual(yield* store.get({ platform: "oauth", accountId: "a1" }), {
        accessToken: "fresh-1",
        refreshToken: "keep-me"
      })
      assert.deepStrictEqual(events, ["AttemptStarted", "AttemptFailed", "CredentialsRefreshed", "AttemptStarted", "Published"])
    }).pipe(Effect.provide(environment([oauth.publisher], store)))
  })

  it.effect("a save of refreshed credentials that fails is tried again until it holds; one that keeps failing is logged, and the post still publishes", () => {
    const expired = new PublishError.AuthFailed({ platform: "oauth", message: "token expired", reason: "expired" })
    const oauth = scripted("oauth", [expired, "ok", expired, "ok"], {
      refresh: () => Effect.succeed({ accessToken: "fresh", refreshToken: "rotated" })
    })
    const memory = Credentials.fromRecord({ a1: { accessToken: "stale", refreshToken: "r1" } })
    let failuresLeft = 2
    let saves = 0
    let down = false
    const flaky: Credentials.CredentialsProviderShape = {
      get: memory.get,
      save: (ref, credentials) =>
        Effect.suspend(() => {
          saves++
          if (down) return Effect.die(new Error("connection refused"))
          if (failuresLeft-- > 0) return Effect.fail(new Error("deadlock detected"))
          return memory.save(ref, credentials)
        })
    }
    const logged: Array<string> = []
    const logger = Logger.make<unknown, void>(({ logLevel, message }) => {
      if (logLevel === "Error") logged.push(String(Array.isArray(message) ? message[0] : message))
    })
    return Effect.gen(function*() {
      const first = yield* publishAndWait(makePost([{ platform: "oauth", accountId: "a1" }]))
      assert.strictEqual(first.status, "published")
      assert.strictEqual(saves, 3)
      assert.deepStrictEqual(yield* memory.get({ platform: "oauth", accountId: "a1" }), { accessToken: "fresh", refreshToken: "rotated" })
      assert.deepStrictEqual(logged, [])

      down = true
      saves = 0
      const second = yield* publishAndWait(makePost([{ platform: "oauth", accountId: "a1" }]))
      assert.strictEqual(second.status, "published")
      assert.strictEqual(saves, Credentials.saveRetry.times + 1)
      assert.strictEqual(logged.length, 1)
      assert.include(logged[0], "saving the refreshed oauth credentials of account a1 failed 5 times")
      assert.notInclude(logged[0], "rotated")
    }).pipe(
      Effect.provide(environment([oauth.publisher], flaky)),
      Effect.provide(Logger.layer([logger]))
    )
  })

  it.effect("refreshes at most once, and keeps the stored credentials when the refresh fails", () => {
    const expired = new PublishError.AuthFailed({ platform: "oauth", message: "token expired", reason: "expired" })
    const alwaysExpired = scripted("oauth", [expired], {
      refresh: () => Effect.succeed({ accessToken: "fresh", refreshToken: "rotated" })
    })
    const refreshDown = scripted("oauth2", [expired], {
      refresh: () => Effect.fail(transient("oauth2"))
    })
    const stored = { a1: { accessToken: "stale", refreshToken: "r1" }, a2: { accessToken: "stale", refreshToken: "r2" } }
    const store = Credentials.fromRecord(stored)
    const post = makePost([{ platform: "oauth", accountId: "a1" }, { platform: "oauth2", accountId: "a2" }])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post)
      assert.strictEqual(alwaysExpired.calls.length, 2)
      assert.strictEqual(outcome.destinations[0]!.lastError!.code, "AUTH_EXPIRED")
      assert.deepStrictEqual(yield* store.get({ platform: "oauth", accountId: "a1" }), { accessToken: "fresh", refreshToken: "rotated" })
      assert.strictEqual(refreshDown.calls.length, 1)
      assert.strictEqual(outcome.destinations[1]!.lastError!.code, "PLATFORM_UNAVAILABLE")
      assert.deepStrictEqual(yield* store.get({ platform: "oauth2", accountId: "a2" }), { accessToken: "stale", refreshToken: "r2" })
    }).pipe(Effect.provide(environment([alwaysExpired.publisher, refreshDown.publisher], store)))
  })

  it.effect("refuses to publish a published or cancelled post", () => {
    const ok = scripted("ok", ["ok"])
    return Effect.gen(function*() {
      for (const status of ["published", "cancelled"] as const) {
        const post = makePost([{ platform: "ok", accountId: "a1" }], undefined, { status })
        const exit = yield* Effect.exit(FanOut.publish(post))
        assert.isTrue(Exit.isFailure(exit))
        const error = yield* Effect.flip(FanOut.publish(post))
        assert.strictEqual(error._tag, "InvalidStatusTransition")
        assert.strictEqual(error.from, status)
      }
      assert.strictEqual(ok.calls.length, 0)
    }).pipe(Effect.provide(environment([ok.publisher])))
  })

  it.effect("a retry publishes only the failed destinations", () => {
    let xCalls = 0
    const x = scripted("x", ["ok"])
    const bluesky = scripted("bluesky", [new PublishError.Rejected({ platform: "bluesky", message: "temporarily refused" }), "ok"])
    const post = makePost([{ platform: "x", accountId: "a1" }, { platform: "bluesky", accountId: "a2" }])
    return Effect.gen(function*() {
      const first = yield* publishAndWait(post)
      assert.strictEqual(first.status, "partially_failed")
      xCalls = x.calls.length
      const queued = Result.getOrThrow(FanOut.retryFailed(first.post))
      assert.deepStrictEqual(queued.destinations.map((d) => d.status), ["published", "queued"])
      const second = yield* publishAndWait(queued)
      assert.strictEqual(second.status, "published")
      assert.strictEqual(x.calls.length, xCalls, "the published destination was not published again")
      assert.strictEqual(bluesky.calls.length, 2)
      assert.strictEqual(second.post.destinations[1]!.attempts, 2)
      assert.strictEqual(bluesky.calls[1]!.attemptId, `${post.destinations[1]!.id}:2`)
      assert.deepStrictEqual(second.destinations[0]!.attempts, [])
      // Nothing failed any more: another retry is an invalid transition.
      const again = FanOut.retryFailed(second.post)
      assert.isTrue(Result.isFailure(again))
      assert.strictEqual(Result.isFailure(again) && again.failure._tag, "InvalidStatusTransition")
    }).pipe(Effect.provide(environment([x.publisher, bluesky.publisher])))
  })

  it.effect("a retry skips outcome-unknown destinations unless asked", () => {
    const unsure = scripted("unsure", [new PublishError.OutcomeUnknown({ platform: "unsure", message: "timeout" }), "ok"])
    const post = makePost([{ platform: "unsure", accountId: "a1" }])
    return Effect.gen(function*() {
      const first = yield* publishAndWait(post)
      assert.strictEqual(first.status, "failed")
      const refused = FanOut.retryFailed(first.post)
      assert.isTrue(Result.isFailure(refused))
      const queued = Result.getOrThrow(FanOut.retryFailed(first.post, { includeOutcomeUnknown: true }))
      const second = yield* publishAndWait(queued)
      assert.strictEqual(second.status, "published")
      assert.strictEqual(unsure.calls.length, 2)
    }).pipe(Effect.provide(environment([unsure.publisher])))
  })

  it.effect("FanOut.stream emits every event and ends with the outcome", () => {
    const flaky = scripted("flaky", [transient("flaky"), "ok"])
    const ok = scripted("ok", ["ok"])
    const post = makePost([{ platform: "flaky", accountId: "a1" }, { platform: "ok", accountId: "a2" }])
    return Effect.gen(function*() {
      const fiber = yield* Effect.forkChild(Stream.runCollect(FanOut.stream(post)))
      yield* TestClock.adjust("1 minute")
      const events = yield* Fiber.join(fiber)
      const last = events.at(-1)!
      assert.strictEqual(last._tag, "Completed")
      assert.strictEqual(last._tag === "Completed" && last.outcome.status, "published")
      const forFlaky = events.filter((e) => e._tag !== "Completed" && e.destinationId === post.destinations[0]!.id)
      assert.deepStrictEqual(forFlaky.map((e) => e._tag), ["AttemptStarted", "AttemptFailed", "AttemptStarted", "Published"])
      assert.strictEqual(events.filter((e) => e._tag === "Published").length, 2)
    }).pipe(Effect.provide(environment([flaky.publisher, ok.publisher])))
  })

  it.effect("a failing event callback does not disturb publishing", () => {
    const ok = scripted("ok", ["ok"])
    const post = makePost([{ platform: "ok", accountId: "a1" }])
    return Effect.gen(function*() {
      const outcome = yield* publishAndWait(post, { onEvent: () => Effect.die(new Error("listener bug")) })
      assert.strictEqual(outcome.status, "published")
    }).pipe(Effect.provide(environment([ok.publisher])))
  })
})

describe("Credentials.keepRefreshToken", () => {
  it("keeps a refresh token the fresh credentials left empty, and takes a rotated one", () => {
    assert.deepStrictEqual(
      Credentials.keepRefreshToken({ accessToken: "a", refreshToken: "r" }, { accessToken: "b", refreshToken: "" }),
      { accessToken: "b", refreshToken: "r" }
    )
    assert.deepStrictEqual(
      Credentials.keepRefreshToken({ accessToken: "a", refresh_token: "r" }, { accessToken: "b" }),
      { accessToken: "b", refresh_token: "r" }
    )
    assert.deepStrictEqual(
      Credentials.keepRefreshToken({ accessToken: "a", refreshToken: "r" }, { accessToken: "b", refreshToken: "r2" }),
      { accessToken: "b", refreshToken: "r2" }
    )
    assert.strictEqual(Credentials.keepRefreshToken({ refreshToken: "r" }, "opaque"), "opaque")
    // null is empty too; other fields the fresh set omits are dropped: the fresh set is the truth.
    assert.deepStrictEqual(Credentials.keepRefreshToken({ refresh_token: "r", a: 1 }, { a: 2, refresh_token: null }), { a: 2, refresh_token: "r" })
    assert.deepStrictEqual(Credentials.keepRefreshToken({ other: "o" }, { a: 1 }), { a: 1 })
    assert.deepStrictEqual(Credentials.keepRefreshToken({ refreshJwt: "r" }, ["array"]), ["array"])
  })
})

describe("Lifecycle with FanOut", () => {
  it("retryFailed refuses a published post", () => {
    const post = makePost([{ platform: "x", accountId: "a1" }], undefined, { status: "published" })
    const result = FanOut.retryFailed({ ...post, destinations: post.destinations.map((d) => ({ ...d, status: "published" })) })
    assert.isTrue(Result.isFailure(result))
    assert.instanceOf(Result.isFailure(result) ? result.failure : undefined, Lifecycle.InvalidStatusTransition)
  })
})
