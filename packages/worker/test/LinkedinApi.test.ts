/**
 * LinkedIn through the API against FakeLinkedin: the OAuth connect flow end
 * to end (start → the member consents on LinkedIn → callback → account), then
 * text, article, image, document and video posts, each destination's result
 * read back.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { FakeLinkedin } from "@omnipost/platform-linkedin/testing"
import { Context, Effect, Layer } from "effect"
import { testKinds } from "./fixtures.js"
import { apiLayer, errorCode, request, TestApi, waitFor } from "./apiHarness.js"

class Fake extends Context.Service<Fake, FakeLinkedin>()("test/FakeLinkedin") {}

const withFake = (kind: "pglite" | "postgres") =>
  Layer.unwrap(Effect.gen(function*() {
    const fake = yield* FakeLinkedin.make({ processingPolls: 1 })
    fake.addAccount({ sub: "ada01", name: "Ada Lovelace", administers: ["urn:li:organization:77"] })
    return apiLayer(kind, { platformBaseUrls: { linkedin: fake.url } }, {
      env: { OMNIPOST_LINKEDIN_CLIENT_ID: fake.clientId, OMNIPOST_LINKEDIN_CLIENT_SECRET: fake.clientSecret }
    }).pipe(Layer.merge(Layer.succeed(Fake, fake)))
  }))

const settle = (api: TestApi["Service"], id: string) =>
  waitFor(
    Effect.map(request(api, "GET", `/v1/posts/${id}`), (r) => ["published", "partially_failed", "failed"].includes(r.body.status) ? r.body : undefined),
    30_000,
    `post ${id}`
  )

const upload = (api: TestApi["Service"], bytes: Uint8Array, fileName: string) =>
  Effect.map(
    request(api, "POST", `/v1/media?fileName=${fileName}`, { raw: Buffer.from(bytes), headers: { "content-type": "application/octet-stream" } }),
    (r) => {
      if (r.status !== 201) throw new Error(`upload ${fileName}: ${r.status} ${JSON.stringify(r.body)}`)
      return r.body.id as string
    }
  )

for (const kind of testKinds) {
  describe(`LinkedIn over the API (${kind})`, () => {
    layer(withFake(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("OAuth connect, then text, article, image, document and video posts publish with their feed URLs", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* Fake
          const started = yield* request(api, "POST", "/v1/accounts/oauth/linkedin/start", { body: {} })
          assert.strictEqual(started.status, 200, JSON.stringify(started.body))
          const authorization = new URL(started.body.authorizationUrl)
          assert.strictEqual(authorization.searchParams.get("scope"), "openid profile w_member_social w_organization_social")
          // The member consents on LinkedIn, which sends the browser back to the callback.
          const consent = yield* Effect.promise(() => fetch(started.body.authorizationUrl, { redirect: "manual" }))
          assert.strictEqual(consent.status, 302)
          const callbackUrl = new URL(consent.headers.get("location")!)
          assert.strictEqual(callbackUrl.origin, api.url)
          const callback = yield* request(api, "GET", `${callbackUrl.pathname}${callbackUrl.search}`, { key: null })
          assert.strictEqual(callback.status, 200, JSON.stringify(callback.body))
          assert.strictEqual(callback.body.platform, "linkedin")
          assert.strictEqual(callback.body.platformAccountId, "ada01")
          assert.strictEqual(callback.body.username, "Ada Lovelace")
          const accountId = callback.body.id as string
          // The account says when its token expires (LinkedIn's 60 days), so a reconnect is seen coming.
          const expiresAt = Date.parse(callback.body.tokenExpiresAt)
          assert.isAbove(expiresAt, Date.now() + 59 * 24 * 3600_000, JSON.stringify(callback.body))
          assert.isBelow(expiresAt, Date.now() + 61 * 24 * 3600_000)
          const read = yield* request(api, "GET", `/v1/accounts/${accountId}`)
          assert.strictEqual(read.body.tokenExpiresAt, callback.body.tokenExpiresAt)

          const image = yield* upload(api, Samples.png(30_000), "chart.png")
          const pdf = yield* upload(api, Samples.pdf(60_000), "deck.pdf")
          const video = yield* upload(api, Samples.mp4(120_000), "clip.mp4")
          const text = "Launch (finally) [v2] {beta} <b> *x* _y_ ~z~ a|b \\ C# #launch"
          const posts = [
            { content: { text }, settings: { visibility: "CONNECTIONS" } },
            { content: { text: "Read", link: "https://example.com/a" }, settings: { articleTitle: "An article" } },
            { content: { text: "Chart", media: [{ mediaId: image, altText: "the chart" }] } },
            { content: { text: "Deck", media: [{ mediaId: pdf }] }, settings: { documentTitle: "Deck" } },
            { content: { text: "Clip", media: [{ mediaId: video }] }, settings: { author: "urn:li:organization:77" } }
          ]
          const results = []
          for (const post of posts) {
            const created = yield* request(api, "POST", "/v1/posts", {
              body: { content: post.content, destinations: [{ accountId, ...(post.settings !== undefined ? { settings: post.settings } : {}) }] }
            })
            assert.strictEqual(created.status, 201, JSON.stringify(created.body))
            results.push(yield* settle(api, created.body.id))
          }
          assert.deepStrictEqual(results.map((r) => r.status), ["published", "published", "published", "published", "published"], JSON.stringify(results.map((r) => r.destinations)))
          for (const [index, result] of results.entries()) {
            const destination = result.destinations[0]
            const stored = fake.posts[index]!
            assert.strictEqual(destination.platformPostId, stored.id)
            assert.strictEqual(destination.url, `https://www.linkedin.com/feed/update/${stored.id}/`)
          }
          assert.strictEqual(fake.posts[0]!.text, text)
          assert.strictEqual(fake.posts[0]!.visibility, "CONNECTIONS")
          assert.deepStrictEqual(Object.keys(fake.posts[1]!.content!), ["article"])
          assert.strictEqual((fake.posts[2]!.content as any).media.altText, "the chart")
          assert.strictEqual((fake.posts[3]!.content as any).media.title, "Deck")
          assert.strictEqual(fake.posts[4]!.author, "urn:li:organization:77")
          assert.match((fake.posts[4]!.content as any).media.id, /^urn:li:video:/)
        }))

      it.effect("validation uses LinkedIn's rules and settings (3,000 characters, a bad visibility); a refused consent connects nothing", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accounts = yield* request(api, "GET", "/v1/accounts?platform=linkedin")
          const accountId = accounts.body[0].id
          const tooLong = yield* request(api, "POST", "/v1/posts/validate", {
            body: { content: { text: "x".repeat(3001) }, destinations: [{ accountId, settings: { visibility: "NOBODY" } }] }
          })
          assert.isFalse(tooLong.body.valid)
          assert.deepStrictEqual(tooLong.body.issues.map((i: any) => i.code).sort(), ["CONTENT_TOO_LONG", "INVALID_SETTINGS"])
          const refused = yield* request(api, "GET", "/v1/accounts/oauth/linkedin/callback?error=user_cancelled_login", { key: null })
          assert.strictEqual(refused.status, 400)
          assert.strictEqual(errorCode(refused), "INVALID_CREDENTIALS")
        }))
    })
  })
}
