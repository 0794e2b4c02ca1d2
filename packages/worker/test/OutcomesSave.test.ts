/** The scheduler's save of refreshed credentials: core's retrySave over the account row, retried, then logged, never failing the call. */
import { assert, describe, it } from "@effect/vitest"
import { Credentials, type Publisher } from "@omnipost/core"
import { Effect, Logger, Schema } from "effect"
import * as Outcomes from "../src/scheduler/Outcomes.js"
import type { AccountStore } from "../src/storage/AccountStore.js"

const publisher = {
  platform: "oauth",
  settingsSchema: Schema.Unknown,
  credentialsSchema: Schema.Struct({ accessToken: Schema.String, refreshToken: Schema.String })
} as unknown as Publisher.PlatformPublisher

const world = (failures: number) => {
  const saved: Array<unknown> = []
  let calls = 0
  const accounts = {
    updateCredentials: (_accountId: string, credentials: unknown) =>
      Effect.suspend(() => {
        calls++
        if (calls <= failures) return calls % 2 === 0 ? Effect.die(new Error("connection reset")) : Effect.fail(new Error("deadlock detected"))
        saved.push(credentials)
        return Effect.void
      })
  } as unknown as AccountStore["Service"]
  const outcomes = Outcomes.make({
    accounts,
    pause: () => Effect.void,
    keepParts: () => Effect.void,
    backoff: { baseMs: 1000, maxMs: 60_000 },
    maxAutoRetries: 3
  })
  const request = outcomes.requestFor(publisher, { id: "dst_1", postId: "post_1", accountId: "acc_1" }, "att_1", { platform: "oauth", accountId: "acc_1", parts: [] } as never, {}, undefined)
  const logged: Array<string> = []
  const logger = Logger.make<unknown, void>(({ logLevel, message }) => {
    if (logLevel === "Error") logged.push(String(Array.isArray(message) ? message[0] : message))
  })
  return { request, saved, logged, logger, calls: () => calls }
}

describe("the scheduler saves refreshed credentials reliably", () => {
  it.live("a save that fails (an error, then a defect) is tried again until it holds", () => {
    const w = world(2)
    return w.request.saveCredentials!({ accessToken: "fresh", refreshToken: "rotated" }).pipe(
      Effect.provide(Logger.layer([w.logger])),
      Effect.map(() => {
        assert.strictEqual(w.calls(), 3)
        assert.deepStrictEqual(w.saved, [{ accessToken: "fresh", refreshToken: "rotated" }])
        assert.deepStrictEqual(w.logged, [])
      })
    )
  })

  it.live("one that keeps failing is logged at error level with the account, without the token, and does not fail the call", () => {
    const w = world(Number.POSITIVE_INFINITY)
    return w.request.saveCredentials!({ accessToken: "fresh", refreshToken: "rotated-secret" }).pipe(
      Effect.provide(Logger.layer([w.logger])),
      Effect.map(() => {
        assert.strictEqual(w.calls(), Credentials.saveRetry.times + 1)
        assert.deepStrictEqual(w.saved, [])
        assert.strictEqual(w.logged.length, 1)
        assert.include(w.logged[0], "saving the refreshed oauth credentials of account acc_1 failed 5 times")
        assert.notInclude(w.logged[0], "rotated-secret")
      })
    )
  })
})
