import { assert, describe, it } from "@effect/vitest"
import { Errors, Media } from "@omnipost/platform-twitter"
import { Json } from "@omnipost/platform-kit"
import { Effect, Stream } from "effect"
import { TestClock } from "effect/testing"
import * as fc from "fast-check"

describe("Errors.readErrorDetails", () => {
  it("reads problem JSON", () => {
    assert.deepStrictEqual(
      Errors.readErrorDetails({
        title: "Forbidden",
        type: "about:blank",
        status: 403,
        detail: "You are not allowed to create a Tweet with duplicate content."
      }),
      {
        platformCode: "Forbidden",
        platformMessage: "You are not allowed to create a Tweet with duplicate content.",
        problemType: "about:blank"
      }
    )
  })

  it("reads {errors: [{code, message}]}", () => {
    const details = Errors.readErrorDetails({ errors: [{ code: 88, message: "Rate limit exceeded" }] })
    assert.strictEqual(details.platformCode, "88")
    assert.strictEqual(details.platformMessage, "Rate limit exceeded")
  })

  it("prefers the specific message of an invalid-request body over its generic detail", () => {
    const details = Errors.readErrorDetails({
      errors: [{ parameters: { text: [] }, message: "The text of your Post is too long." }],
      title: "Invalid Request",
      detail: "One or more parameters to your request was invalid.",
      type: "https://api.twitter.com/2/problems/invalid-request"
    })
    assert.strictEqual(details.platformMessage, "The text of your Post is too long.")
    assert.strictEqual(details.platformCode, "https://api.twitter.com/2/problems/invalid-request")
  })

  it("never throws on arbitrary bodies", () => {
    fc.assert(fc.property(fc.jsonValue(), (body) => {
      const details = Errors.readErrorDetails(body)
      return typeof details === "object"
    }))
    fc.assert(fc.property(fc.string(), (text) => {
      Errors.readErrorDetails(Json.parse(text))
      return true
    }))
  })
})

describe("Errors.fromResponse", () => {
  const cases: ReadonlyArray<readonly [number, unknown, string, string | undefined]> = [
    [500, { title: "Internal Server Error" }, "Transient", undefined],
    [503, undefined, "Transient", undefined],
    [401, { title: "Unauthorized" }, "AuthFailed", undefined],
    [403, { title: "Forbidden", detail: "You are not allowed to create a Tweet with duplicate content." }, "Rejected", "DUPLICATE_CONTENT"],
    [403, { title: "Forbidden", detail: "This user is not allowed to post a video longer than 2 minutes and 20 seconds." }, "Rejected", "VIDEO_DURATION_OUT_OF_RANGE"],
    [403, { title: "Forbidden", detail: "You are not permitted to perform this action." }, "Rejected", undefined],
    [403, { title: "Unsupported Authentication", type: "https://api.twitter.com/2/problems/unsupported-authentication", detail: "…" }, "AuthFailed", undefined],
    [400, { errors: [{ message: "Your media IDs are invalid." }] }, "Rejected", "MEDIA_INVALID"]
  ]
  for (const [status, body, tag, code] of cases) {
    it.effect(`${status} ${JSON.stringify(body)?.slice(0, 60)} → ${tag}${code !== undefined ? ` ${code}` : ""}`, () =>
      Effect.gen(function*() {
        const error = yield* Errors.fromResponse(status, {}, body, "POST /2/tweets")
        assert.strictEqual(error._tag, tag)
        assert.strictEqual(error.httpStatus, status)
        if (error._tag === "Rejected") assert.strictEqual(error.code, code)
      }))
  }

  it.effect("429 reads x-rate-limit-reset against the Clock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const error = yield* Errors.fromResponse(429, { "x-rate-limit-reset": "1700000900" }, undefined, "POST /2/tweets")
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag !== "RateLimited") return
      assert.strictEqual(error.retryAfterSeconds, 900)
      assert.strictEqual(error.resetAt, new Date(1_700_000_900_000).toISOString())
      assert.strictEqual(error.scope, "account")
    }))

  it.effect("429 with the app's 24-hour cap used up is app-scoped and resets with it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const error = yield* Errors.fromResponse(429, {
        "x-rate-limit-reset": "1700000100",
        "x-app-limit-24hour-remaining": "0",
        "x-app-limit-24hour-reset": "1700050000"
      }, undefined, "POST /2/tweets")
      assert.strictEqual(error._tag, "RateLimited")
      if (error._tag !== "RateLimited") return
      assert.strictEqual(error.scope, "app")
      assert.strictEqual(error.retryAfterSeconds, 50_000)
    }))
})

describe("Media.segments", () => {
  it.effect("cuts any chunking into full segments plus a shorter last one, bytes unchanged", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }),
          fc.integer({ min: 1, max: 128 }),
          async (chunks, size) => {
            const out = await Effect.runPromise(
              Stream.fromIterable(chunks).pipe(Media.segments(size), Stream.runCollect)
            )
            const input = Buffer.concat(chunks)
            const output = Buffer.concat(out)
            if (!input.equals(output)) return false
            if (out.slice(0, -1).some((segment) => segment.length !== size)) return false
            const last = out.at(-1)
            return input.length === 0 ? out.length === 0 : last !== undefined && last.length > 0 && last.length <= size
          }
        ),
        { numRuns: 200 }
      )
    ))
})
