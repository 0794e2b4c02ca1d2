import { assert, describe, it } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import * as fc from "fast-check"
import { Registry, Rules, Settings } from "@omnipost/core"
import type { Publisher } from "@omnipost/core"
import { scripted, testRules } from "./fixtures/TestPublishers.js"

/** A built-in platform's publisher as a platform package builds it: core's rules and settings schema. */
const xPublisher: Publisher.PlatformPublisher = {
  ...scripted("x", ["ok"]).publisher,
  displayName: "X",
  rules: Rules.x,
  settingsSchema: Settings.XSettings
}

/** A user-written platform: its own rules, settings schema and extra check. Nothing in core knows it. */
const MastodonSettings = Schema.Struct({
  visibility: Schema.optional(Schema.Literals(["public", "unlisted", "private", "direct"])),
  spoilerText: Schema.optional(Schema.String)
})
const mastodonPublisher: Publisher.PlatformPublisher<typeof MastodonSettings.Type> = {
  ...(scripted("mastodon", ["ok"]).publisher as Publisher.PlatformPublisher),
  displayName: "Mastodon",
  rules: testRules("mastodon", 500),
  settingsSchema: MastodonSettings,
  validate: ({ destination, destinationIndex }) =>
    destination.settings.visibility === "direct" && !destination.parts[0].text.includes("@")
      ? [{
        code: "INVALID_SETTINGS",
        message: "a direct Mastodon post must mention someone",
        path: ["destinations", destinationIndex, "settings", "visibility"],
        platform: "mastodon",
        destinationIndex
      }]
      : []
}

const registry = Result.getOrThrow(Registry.fromPublishers([xPublisher, mastodonPublisher]))

describe("Registry", () => {
  it("lists built-in and custom publishers side by side", () => {
    assert.deepStrictEqual(registry.platforms, ["x", "mastodon"])
    assert.strictEqual(registry.find("mastodon"), mastodonPublisher)
    assert.strictEqual(registry.find("instagram"), undefined)
  })

  it("validates a custom platform with its own rules, settings schema and validate hook", () => {
    const post = {
      content: { text: "a".repeat(501) },
      destinations: [
        { platform: "mastodon", accountId: "m1" },
        { platform: "mastodon", accountId: "m2", settings: { visibility: "everyone" } },
        { platform: "mastodon", accountId: "m3", settings: { visibility: "direct" }, override: { text: "hi all" } },
        { platform: "mastodon", accountId: "m4", override: { text: "a".repeat(500) } }
      ]
    }
    const result = registry.validate(post)
    assert.isFalse(result.valid)
    const byAccount = (accountId: string) => result.issues.filter((issue) => issue.accountId === accountId).map((i) => i.code)
    assert.deepStrictEqual(byAccount("m1"), ["CONTENT_TOO_LONG"])
    const tooLong = result.issues.find((issue) => issue.accountId === "m1")!
    assert.strictEqual(tooLong.limit, 500)
    assert.strictEqual(tooLong.actual, 501)
    assert.strictEqual(tooLong.platform, "mastodon")
    assert.include(byAccount("m2"), "INVALID_SETTINGS")
    assert.deepStrictEqual(byAccount("m3"), ["INVALID_SETTINGS"])
    assert.deepStrictEqual(result.issues.find((issue) => issue.accountId === "m3")!.path, ["destinations", 2, "settings", "visibility"])
    assert.deepStrictEqual(byAccount("m4"), [])
  })

  it("validates built-in platforms with core's rules next to the custom one", () => {
    const result = registry.validate({
      content: { text: "b".repeat(281) },
      destinations: [{ platform: "x", accountId: "x1" }, { platform: "mastodon", accountId: "m1" }]
    })
    assert.deepStrictEqual(result.issues.map((issue) => [issue.platform, issue.code]), [["x", "CONTENT_TOO_LONG"]])
  })

  it("reports destinations no registered publisher can take", () => {
    const result = registry.validate({
      content: { text: "hello" },
      destinations: [{ platform: "instagram", accountId: "i1" }, { platform: "myspace", accountId: "s1" }]
    })
    const unknown = result.issues.filter((issue) => issue.code === "UNKNOWN_PLATFORM")
    assert.deepStrictEqual(unknown.map((issue) => issue.destinationIndex).sort(), [0, 1])
    assert.deepStrictEqual(unknown.find((i) => i.destinationIndex === 0)!.path, ["destinations", 0, "platform"])
  })

  it("accepts a valid post", () => {
    const result = registry.validate({
      content: { text: "hello" },
      destinations: [{ platform: "x", accountId: "x1" }, { platform: "mastodon", accountId: "m1", settings: { visibility: "unlisted" } }]
    })
    assert.deepStrictEqual(result, { valid: true, issues: [] })
  })

  it("never throws, whatever it is given", () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const result = registry.validate(input)
        return typeof result.valid === "boolean" && Array.isArray(result.issues)
      }),
      { numRuns: 300 }
    )
    const hostile = new Proxy({}, {
      get: () => {
        throw new Error("boom")
      }
    })
    assert.isFalse(registry.validate(hostile).valid)
  })

  it("refuses two publishers for one platform, invalid ids and rules of another platform", () => {
    const duplicate = Registry.fromPublishers([mastodonPublisher, { ...mastodonPublisher, displayName: "Other" }])
    assert.isTrue(Result.isFailure(duplicate))
    assert.strictEqual(Result.isFailure(duplicate) && duplicate.failure._tag, "DuplicatePlatform")
    assert.strictEqual(Result.isFailure(duplicate) && duplicate.failure.platform, "mastodon")

    const badId = Registry.fromPublishers([{ ...mastodonPublisher, platform: "Mastodon!", rules: testRules("Mastodon!") }])
    assert.strictEqual(Result.isFailure(badId) && badId.failure._tag, "InvalidPublisher")

    const wrongRules = Registry.fromPublishers([{ ...mastodonPublisher, platform: "pixelfed" }])
    assert.strictEqual(Result.isFailure(wrongRules) && wrongRules.failure._tag, "InvalidPublisher")
    assert.include(Result.isFailure(wrongRules) ? wrongRules.failure.message : "", "mastodon")
  })

  it.effect("PublisherRegistry.layer provides the registry, and fails on a duplicate id", () =>
    Effect.gen(function*() {
      const platforms = yield* Effect.provide(
        Registry.PublisherRegistry.useSync((r) => r.platforms),
        Registry.PublisherRegistry.layer([xPublisher, mastodonPublisher])
      )
      assert.deepStrictEqual(platforms, ["x", "mastodon"])

      const error = yield* Effect.flip(
        Effect.provide(Registry.PublisherRegistry.useSync((r) => r), Registry.PublisherRegistry.layer([xPublisher, xPublisher]))
      )
      assert.strictEqual(error._tag, "DuplicatePlatform")

      const fromEffect = yield* Effect.provide(
        Registry.PublisherRegistry.useSync((r) => r.platforms),
        Registry.PublisherRegistry.layerEffect(Effect.succeed([mastodonPublisher]))
      )
      assert.deepStrictEqual(fromEffect, ["mastodon"])

      const made = yield* Registry.PublisherRegistry.make([xPublisher])
      assert.deepStrictEqual(made.platforms, ["x"])
    }))

  it.effect("get fails with UnknownPlatform for an unregistered id", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(registry.get("tumblr"))
      assert.strictEqual(error._tag, "UnknownPlatform")
      assert.deepStrictEqual(error.registered, ["x", "mastodon"])
      assert.strictEqual(yield* registry.get("x"), xPublisher)
    }))

})
