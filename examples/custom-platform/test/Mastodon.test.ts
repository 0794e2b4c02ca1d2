import { assert, describe, it, layer } from "@effect/vitest"
import { NodeHttpClient } from "@effect/platform-node"
import { Effect, Layer, Redacted } from "effect"
import { Credentials, FanOut, Registry } from "@omnipost/core"
import type { Media, Post } from "@omnipost/core"
import { FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { makeMastodonPublisher, MastodonCredentials, Validation } from "../src/index.js"
import { makeRegistry } from "./registry.js"
import { FakeMastodon, Faults } from "../src/testing/index.js"
import { Samples } from "@omnipost/platform-kit/testing"

let sequence = 0

/** A draft post with queued destinations, as the worker or the facade would make it. */
const makePost = (content: Post.Content, destinations: ReadonlyArray<Post.DestinationInput>): Post.Post => {
  const id = `post-${++sequence}`
  return {
    id,
    content,
    destinations: destinations.map((d, i) => ({ ...d, id: `${id}-${i + 1}`, status: "queued", attempts: 0 })),
    status: "draft",
    createdAt: "2026-11-24T12:00:00.000Z",
    updatedAt: "2026-11-24T12:00:00.000Z"
  }
}

const fastRetry = { initialDelayMs: 10, maxDelayMs: 50, jitter: 0 }

/** Publishes through the fan-out with a registry holding only the Mastodon publisher. */
const publishToMastodon = (post: Post.Post, credentials: Record<string, unknown>, options: FanOut.PublishOptions = {}) =>
  Effect.gen(function*() {
    const mastodon = yield* makeMastodonPublisher()
    return yield* FanOut.publish(post, { retry: fastRetry, ...options }).pipe(
      Effect.provide(Registry.PublisherRegistry.layer([mastodon])),
      Effect.provide(Credentials.CredentialsProvider.layer(Credentials.fromRecord(credentials)))
    )
  })

describe("Validation.countCharacters", () => {
  it("counts URLs as 23, remote mentions by their local part, emoji as one", () => {
    assert.strictEqual(Validation.countCharacters("hello"), 5)
    assert.strictEqual(Validation.countCharacters(`see https://example.com/${"a".repeat(200)}`), 4 + 23)
    assert.strictEqual(Validation.countCharacters("hi @alice@mastodon.social"), "hi @alice".length)
    assert.strictEqual(Validation.countCharacters("👩‍👩‍👧‍👦🇫🇷e\u0301"), 3)
  })
})

layer(Layer.mergeAll(FakeMastodon.layer, NodeHttpClient.layerUndici), { excludeTestServices: true })("Mastodon publisher", (it) => {
  it.effect("posts a status with its settings and an idempotency key per attempt", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const post = makePost({ text: "Hello, fediverse", link: "https://omnipost.example" }, [{
        platform: "mastodon",
        accountId: "alice",
        settings: { visibility: "unlisted", spoilerText: "launch", language: "en" }
      }])
      const outcome = yield* publishToMastodon(post, { alice: fake.credentials() })
      assert.strictEqual(outcome.status, "published")
      const status = fake.statuses.at(-1)!
      assert.strictEqual(status.text, "Hello, fediverse\n\nhttps://omnipost.example")
      assert.strictEqual(status.visibility, "unlisted")
      assert.strictEqual(status.spoilerText, "launch")
      assert.strictEqual(status.language, "en")
      assert.strictEqual(status.idempotencyKey, `${post.destinations[0]!.id}:1:0`)
      const destination = outcome.destinations[0]!
      assert.strictEqual(destination.platformPostId, status.id)
      assert.strictEqual(destination.url, `${fake.url}/@alice/${status.id}`)
    }))

  it.effect("posts a thread in order, each part replying to the one before", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const before = fake.statuses.length
      const post = makePost({ text: "1/3", thread: [{ text: "2/3" }, { text: "3/3" }] }, [{ platform: "mastodon", accountId: "alice" }])
      const outcome = yield* publishToMastodon(post, { alice: fake.credentials() })
      const thread = fake.statuses.slice(before)
      assert.deepStrictEqual(thread.map((s) => s.text), ["1/3", "2/3", "3/3"])
      assert.deepStrictEqual(thread.map((s) => s.inReplyToId), [null, thread[0]!.id, thread[1]!.id])
      assert.deepStrictEqual(outcome.destinations[0]!.parts!.map((p) => p.platformPostId), thread.map((s) => s.id))
    }))

  it.effect("waits for X-RateLimit-Reset after a 429, then publishes", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      // The account used its quota: 429 with X-RateLimit-Reset one second ahead, then the window opens again.
      fake.inject("POST /api/v1/statuses", Faults.rateLimitWindow({ limit: 300, windowMs: 1_000, remaining: 0 }))
      yield* Effect.addFinalizer(() => Effect.sync(() => fake.clearFaults()))
      const outcome = yield* publishToMastodon(makePost({ text: "patience" }, [{ platform: "mastodon", accountId: "alice" }]), {
        alice: fake.credentials()
      })
      assert.strictEqual(outcome.status, "published")
      const [limited, ok] = outcome.destinations[0]!.attempts
      assert.strictEqual(limited!.error!.code, "RATE_LIMITED")
      assert.strictEqual(limited!.error!.httpStatus, 429)
      assert.isAtLeast(Date.parse(ok!.startedAt) - Date.parse(limited!.finishedAt), 900)
      assert.strictEqual(ok!.outcome, "published")
    }))

  it.effect("retries a 5xx, and never retries a revoked token", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      fake.inject("POST /api/v1/statuses", Faults.status(503))
      const post = makePost({ text: "again" }, [
        { platform: "mastodon", accountId: "alice" },
        { platform: "mastodon", accountId: "mallory" }
      ])
      const posts = fake.requests.length
      const outcome = yield* publishToMastodon(post, {
        alice: fake.credentials(),
        mallory: fake.credentials("token-revoked")
      }, { concurrency: 1 })
      assert.strictEqual(outcome.status, "partially_failed")
      assert.deepStrictEqual(outcome.destinations[0]!.attempts.map((a) => a.error?.code ?? a.outcome), ["PLATFORM_UNAVAILABLE", "published"])
      const revoked = outcome.destinations[1]!
      assert.strictEqual(revoked.attempts.length, 1)
      assert.deepStrictEqual(revoked.lastError, {
        code: "AUTH_EXPIRED",
        message: "Mastodon refused the access token: The access token was revoked; reconnect the account",
        retryable: false,
        platformMessage: "The access token was revoked",
        httpStatus: 401
      })
      assert.strictEqual(fake.requests.length - posts, 3)
    }))

  it.effect("keeps Mastodon's message when it refuses the text", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const mastodon = yield* makeMastodonPublisher()
      // Straight to publish, past validation: what the platform says must survive.
      const error = yield* Effect.flip(mastodon.publish({
        postId: "p",
        destinationId: "d",
        attemptId: "a",
        credentials: { instanceUrl: fake.url, accessToken: Redacted.make("token-alice") },
        destination: { platform: "mastodon", accountId: "alice", settings: {}, parts: [{ text: "x".repeat(501), media: [] }] }
      }))
      assert.strictEqual(error._tag, "Rejected")
      assert.strictEqual(error._tag === "Rejected" && error.code, "CONTENT_TOO_LONG")
      assert.strictEqual(error.platformMessage, "Validation failed: Text character limit of 500 exceeded")
      assert.strictEqual(error.httpStatus, 422)
    }))

  it.effect("a connection dropped after the request arrived is an unknown outcome, never re-posted", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const before = fake.statuses.length
      fake.inject("POST /api/v1/statuses", Faults.dropAfterApply())
      const outcome = yield* publishToMastodon(makePost({ text: "did it post?" }, [{ platform: "mastodon", accountId: "alice" }]), {
        alice: fake.credentials()
      })
      assert.strictEqual(outcome.status, "failed")
      assert.strictEqual(outcome.destinations[0]!.lastError!.code, "OUTCOME_UNKNOWN")
      assert.strictEqual(outcome.destinations[0]!.attempts.length, 1)
      assert.strictEqual(fake.statuses.length - before, 1, "posted once, and not again")
    }))

  it.effect("a thread failing half-way keeps the posted part, and the retry posts only the rest, as a reply to it", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const before = fake.statuses.length
      fake.inject("POST /api/v1/statuses", Faults.status(500), { after: 1 })
      const post = makePost({ text: "part one", thread: [{ text: "part two" }] }, [{ platform: "mastodon", accountId: "alice" }])
      const outcome = yield* publishToMastodon(post, { alice: fake.credentials() })
      assert.strictEqual(outcome.status, "published")
      const destination = outcome.destinations[0]!
      assert.deepStrictEqual(destination.attempts.map((a) => a.outcome), ["failed", "published"])
      assert.include(destination.attempts[0]!.error!.message, "part 2 of 2 failed")
      const posted = fake.statuses.slice(before)
      assert.deepStrictEqual(posted.map((s) => s.text), ["part one", "part two"])
      assert.strictEqual(posted[1]!.inReplyToId, posted[0]!.id)
      assert.deepStrictEqual(destination.parts?.map((p) => p.platformPostId), posted.map((s) => s.id))
    }))

  it.effect("a refusal of a later part carries the parts already up; a 5xx on the first part stays retryable", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const mastodon = yield* makeMastodonPublisher()
      const request = (attemptId: string, [first, ...rest]: readonly [string, ...Array<string>]) => ({
        postId: "p",
        destinationId: "d",
        attemptId,
        credentials: { instanceUrl: fake.url, accessToken: Redacted.make("token-alice") },
        destination: {
          platform: "mastodon",
          accountId: "alice",
          settings: {},
          parts: [{ text: first, media: [] }, ...rest.map((text) => ({ text, media: [] }))] as const
        }
      })
      const refused = yield* Effect.flip(mastodon.publish(request("a1", ["first", ""])))
      assert.strictEqual(refused._tag, "Rejected")
      assert.strictEqual(refused.platformMessage, "Validation failed: Text can't be blank")
      assert.include(refused.message, "part 2 of 2 failed; parts 1-1 are live")
      assert.strictEqual(refused.postedParts?.length, 1)

      fake.inject("POST /api/v1/statuses", Faults.status(500))
      const before = fake.statuses.length
      const firstPart = yield* Effect.flip(mastodon.publish(request("a2", ["one", "two"])))
      assert.strictEqual(firstPart._tag, "Transient", "nothing was posted: a retry is safe")
      assert.strictEqual(fake.statuses.length, before)
    }))

  it.effect("verifies credentials and deletes a status", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const mastodon = yield* makeMastodonPublisher()
      const credentials = { instanceUrl: fake.url, accessToken: Redacted.make("token-bob") }
      const profile = yield* mastodon.verifyCredentials!(credentials)
      assert.deepStrictEqual(profile, {
        accountId: "110",
        username: "bob",
        displayName: "Bob",
        avatarUrl: "https://files.example/bob.png"
      })
      const outcome = yield* publishToMastodon(makePost({ text: "short-lived" }, [{ platform: "mastodon", accountId: "bob" }]), {
        bob: fake.credentials("token-bob")
      })
      const id = outcome.destinations[0]!.platformPostId!
      assert.isTrue(fake.statuses.some((s) => s.id === id))
      yield* mastodon.delete!({ platformPostId: id, credentials })
      assert.isFalse(fake.statuses.some((s) => s.id === id))
      const again = yield* Effect.flip(mastodon.delete!({ platformPostId: id, credentials }))
      assert.strictEqual(again._tag, "Rejected")
      assert.strictEqual(again.httpStatus, 404)
    }))

  it.effect("an unreachable instance is a transient failure", () =>
    Effect.gen(function*() {
      const mastodon = yield* makeMastodonPublisher()
      const error = yield* Effect.flip(mastodon.verifyCredentials!({ instanceUrl: "http://127.0.0.1:9", accessToken: Redacted.make("t") }))
      assert.strictEqual(error._tag, "Transient")
    }))

  it.effect("stored credentials are decoded: the token is held Redacted", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const mastodon = yield* makeMastodonPublisher()
      let seen: unknown
      const spying = { ...mastodon, publish: (request: Parameters<typeof mastodon.publish>[0]) => {
        seen = request.credentials
        return mastodon.publish(request)
      } }
      yield* FanOut.publish(makePost({ text: "redacted" }, [{ platform: "mastodon", accountId: "alice" }])).pipe(
        Effect.provide(Registry.PublisherRegistry.layer([spying])),
        Effect.provide(Credentials.CredentialsProvider.layer(Credentials.fromRecord({ alice: fake.credentials() })))
      )
      assert.isTrue(Redacted.isRedacted((seen as MastodonCredentials).accessToken))
      assert.notInclude(String((seen as MastodonCredentials).accessToken), "token-alice")
    }))

  it.effect("is registered next to the built-in Bluesky publisher: one post goes to both", () =>
    Effect.gen(function*() {
      const mastodonFake = yield* FakeMastodon
      const bluesky = yield* Effect.acquireRelease(
        Effect.promise(() => FakeBlueskyServer.start()),
        (fake) => Effect.promise(() => fake.close())
      )
      const registry = yield* makeRegistry({ bluesky: bluesky.publisherOptions() })
      assert.deepStrictEqual(registry.platforms, ["bluesky", "mastodon"])

      const input = {
        content: { text: "Hello from one post to two networks" },
        destinations: [
          { platform: "bluesky", accountId: "alice.bsky.social" },
          { platform: "mastodon", accountId: "alice", settings: { visibility: "public" } }
        ]
      }
      assert.deepStrictEqual(registry.validate(input), { valid: true, issues: [] })
      // Each platform's own limits: 300 graphemes on Bluesky, 500 characters on Mastodon.
      const tooLong = registry.validate({ ...input, content: { text: "y".repeat(400) } })
      assert.deepStrictEqual(tooLong.issues.map((i) => [i.platform, i.code, i.limit]), [["bluesky", "CONTENT_TOO_LONG", 300]])
      // Mastodon's own counting, in the publisher's hook: a long URL counts 23, so 480 letters and a 200-character URL fit.
      const longUrl = `https://example.com/${"p".repeat(180)}`
      assert.isTrue(registry.validate({
        content: { text: `${"m".repeat(476)} ${longUrl}` },
        destinations: [{ platform: "mastodon", accountId: "alice" }]
      }).valid)
      const withWarning = registry.validate({
        content: { text: "m".repeat(495) },
        destinations: [{ platform: "mastodon", accountId: "alice", settings: { spoilerText: "spoilers" } }]
      })
      assert.deepStrictEqual(withWarning.issues.map((i) => [i.code, i.limit, i.actual]), [["CONTENT_TOO_LONG", 500, 503]])
      // Up to 4 images, from Mastodon's own rows.
      const picture = { kind: "image", mimeType: "image/png", sizeBytes: 10, source: { _tag: "url", url: "https://example.com/a.png" } } as const
      assert.isTrue(registry.validate({ content: { text: "pic", media: [picture] }, destinations: [{ platform: "mastodon", accountId: "alice" }] }).valid)
      const withMedia = registry.validate({
        content: { text: "pics", media: [picture, picture, picture, picture, picture] },
        destinations: [{ platform: "mastodon", accountId: "alice" }]
      })
      assert.include(withMedia.issues.map((i) => i.code), "TOO_MANY_MEDIA")
      const badSettings = registry.validate({
        ...input,
        destinations: [{ platform: "mastodon", accountId: "alice", settings: { visibility: "everyone" } }]
      })
      assert.deepStrictEqual(badSettings.issues.map((i) => i.code), ["INVALID_SETTINGS"])

      const outcome = yield* FanOut.publish(makePost(input.content, input.destinations)).pipe(
        Effect.provideService(Registry.PublisherRegistry, registry),
        Effect.provide(Credentials.CredentialsProvider.layer(Credentials.fromRecord({
          "bluesky:alice.bsky.social": bluesky.credentials(),
          "mastodon:alice": mastodonFake.credentials()
        })))
      )
      assert.strictEqual(outcome.status, "published")
      assert.strictEqual(bluesky.posts().at(-1)!.value.text, input.content.text)
      assert.strictEqual(mastodonFake.statuses.at(-1)!.text, input.content.text)
      assert.match(outcome.destinations[0]!.url!, /^https:\/\/bsky\.app\/profile\//)
    }))
  it.effect("uploads images (judged by their bytes) with their alt text and attaches them", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const before = fake.media.length
      const png: Media.Media = { kind: "image", mimeType: "image/png", sizeBytes: 3_000, altText: "a square", source: { _tag: "bytes", data: Samples.png(3_000) } }
      const outcome = yield* publishToMastodon(makePost({ text: "with a picture", media: [png] }, [{ platform: "mastodon", accountId: "alice" }]), {
        alice: fake.credentials()
      })
      assert.strictEqual(outcome.status, "published")
      const [uploaded] = fake.media.slice(before)
      assert.strictEqual(uploaded!.mimeType, "image/png")
      assert.strictEqual(uploaded!.description, "a square")
      assert.deepStrictEqual(fake.statuses.at(-1)!.mediaIds, [uploaded!.id])
      assert.strictEqual(uploaded!.statusId, fake.statuses.at(-1)!.id)
    }))

  it.effect("a mislabelled image in part 2 is refused before any part is posted", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const before = fake.statuses.length
      const png: Media.Media = { kind: "image", mimeType: "image/png", sizeBytes: 2_000, source: { _tag: "bytes", data: Samples.png(2_000) } }
      // Declared a PNG, the bytes are a GIF: the kit's MediaSource finds out before anything is sent.
      const lying: Media.Media = { kind: "image", mimeType: "image/png", sizeBytes: 2_000, source: { _tag: "bytes", data: Samples.gif(2_000) } }
      const post = makePost({ text: "part one", media: [png], thread: [{ text: "part two", media: [lying] }] }, [{ platform: "mastodon", accountId: "alice" }])
      const outcome = yield* publishToMastodon(post, { alice: fake.credentials() })
      assert.strictEqual(outcome.status, "failed")
      assert.strictEqual(outcome.destinations[0]!.lastError!.code, "MEDIA_TYPE_MISMATCH")
      assert.strictEqual(fake.statuses.length, before, "no part posted")
    }))

  it.effect("the fake judges uploads by their bytes, not the declared Content-Type", () =>
    Effect.gen(function*() {
      const fake = yield* FakeMastodon
      const upload = (data: Uint8Array, type: string) => {
        const form = new FormData()
        form.append("file", new Blob([new Uint8Array(data)], { type }), "file")
        return Effect.promise(() => fetch(`${fake.url}/api/v2/media`, { method: "POST", headers: { authorization: "Bearer token-alice" }, body: form }))
      }
      const text = yield* upload(new TextEncoder().encode("not an image at all"), "image/png")
      assert.strictEqual(text.status, 422)
      assert.deepStrictEqual(yield* Effect.promise(() => text.json()), { error: "Validation failed: File content type is invalid, File is invalid" })
      const gif = yield* upload(Samples.gif(500), "application/octet-stream")
      assert.strictEqual(gif.status, 200)
      assert.strictEqual(fake.media.at(-1)!.mimeType, "image/gif")
    }))
})
