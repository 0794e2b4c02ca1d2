/**
 * Instagram, Facebook Pages and Threads through the worker's HTTP API against
 * the Meta fake: each account connected with OAuth (start → the fake's
 * authorize page → the callback), one post to the three, each destination's
 * result read back; stored media reach Meta at their signed public URLs under
 * OMNIPOST_PUBLIC_URL, and without it such a post fails validation before
 * anything is sent.
 */
import { assert, describe, layer } from "@effect/vitest"
import { FakeMeta, type FakeMetaServer } from "@omnipost/platform-meta/testing"
import { Samples } from "@omnipost/platform-kit/testing"
import { Context, Effect, Layer } from "effect"
import { metaAppEnv, testKinds } from "./fixtures.js"
import { type ApiServer, apiLayer, errorCode, type MediaStoreKind, request, TestApi, waitFor } from "./apiHarness.js"

class Meta extends Context.Service<Meta, FakeMetaServer>()("test/Meta") {}

const env = metaAppEnv

/** The fake (containers ready at the first poll: the publishers' default poll interval is 10 s) and a server pointed at it. */
const metaLayer = (kind: Parameters<typeof apiLayer>[0], publicUrlConfigured: boolean, mediaStore: MediaStoreKind = "local") =>
  Layer.unwrap(Effect.gen(function*() {
    const fake = yield* FakeMeta.make({ imagePolls: 0, videoPolls: 0 })
    fake.registerApp({ platform: "instagram", clientId: "ig-app", clientSecret: "ig-secret" })
    fake.registerApp({ platform: "facebook", clientId: "fb-app", clientSecret: "fb-secret" })
    fake.registerApp({ platform: "threads", clientId: "th-app", clientSecret: "th-secret" })
    const server = apiLayer(kind, {
      publicUrlConfigured,
      platformBaseUrls: { instagram: fake.graphUrl, facebook: fake.graphUrl, threads: fake.graphUrl }
    }, { env, mediaStore })
    return Layer.merge(server, Layer.succeed(Meta, fake))
  }))

/** The user's browser: start, the fake's authorize page redirects back to the callback, which connects the account. */
const connect = (api: ApiServer, platform: string) =>
  Effect.gen(function*() {
    const started = yield* request(api, "POST", `/v1/accounts/oauth/${platform}/start`, { body: {} })
    assert.strictEqual(started.status, 200, JSON.stringify(started.body))
    const redirect = yield* Effect.promise(() => fetch(started.body.authorizationUrl, { redirect: "manual" }))
    const location = new URL(redirect.headers.get("location")!)
    assert.strictEqual(`${location.origin}${location.pathname}`, `${api.url}/v1/accounts/oauth/${platform}/callback`)
    const callback = yield* request(api, "GET", `${location.pathname}${location.search}`, { key: null })
    assert.strictEqual(callback.status, 200, JSON.stringify(callback.body))
    return callback.body as { id: string; platform: string; username: string }
  })

const signIn = (fake: FakeMetaServer) => {
  const instagram = fake.addProfile({ kind: "instagram", username: "kites.ig" })
  const threads = fake.addProfile({ kind: "threads", username: "kites.th" })
  const page = fake.addFacebookPage({ name: "Kite Club" })
  const user = fake.addFacebookUser({ name: "Alice", pages: [page.profile.id] })
  fake.approver.instagram = instagram.id
  fake.approver.threads = threads.id
  fake.approver.facebook = user.id
  return { instagram, threads, page }
}

const published = (api: ApiServer, id: string) =>
  waitFor(
    Effect.map(request(api, "GET", `/v1/posts/${id}`), (answer) =>
      ["published", "failed", "partially_failed"].includes(answer.body?.status) ? answer.body : undefined),
    30_000,
    `post ${id} to finish`
  )

/** Stored media reach Meta at a URL it fetches: Meta's fake reads the bytes there and judges them. */
const storedMediaReachMeta = Effect.gen(function*() {
  const api = yield* TestApi
  const fake = yield* Meta
  const account = fake.addProfile({ kind: "instagram", username: "stored.ig" })
  fake.approver.instagram = account.id
  const instagram = yield* connect(api, "instagram")
  const uploaded = yield* request(api, "POST", "/v1/media", {
    raw: Buffer.from(Samples.of("image/jpeg", 40_000, 5, { width: 1080, height: 1350 })),
    headers: { "content-type": "image/jpeg" }
  })
  assert.strictEqual(uploaded.status, 201, JSON.stringify(uploaded.body))
  const created = yield* request(api, "POST", "/v1/posts", {
    body: { content: { text: "from storage", media: [{ mediaId: uploaded.body.id }] }, destinations: [{ accountId: instagram.id }] }
  })
  assert.strictEqual(created.status, 201, JSON.stringify(created.body))
  const post = yield* published(api, created.body.id)
  assert.strictEqual(post.status, "published", JSON.stringify(post))
  const container = fake.containers.get(fake.publishedBy(account.id)[0]!.containerId!)!
  // The worker's signed route, or the store's presigned URL of the object.
  const url = container.params.image_url!
  if (api.mediaStore === "s3-presigned") assert.isTrue(url.startsWith(`${api.s3!.endpoint}/${api.s3!.bucket}/`) && url.includes("X-Amz-Signature="), url)
  else assert.match(url, new RegExp(`^${api.url}/media/${uploaded.body.id}\\?expires=\\d+&signature=`))
})

for (const kind of testKinds) {
  describe(`Meta platforms through the API (${kind})`, () => {
    layer(metaLayer(kind, true), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("connects Instagram, Facebook and Threads with OAuth, posts to the three, reads each result", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* Meta
          const profiles = signIn(fake)
          const instagram = yield* connect(api, "instagram")
          const facebook = yield* connect(api, "facebook")
          const threads = yield* connect(api, "threads")
          assert.deepStrictEqual([instagram.username, facebook.username, threads.username], ["kites.ig", "kiteclub", "kites.th"])

          const image = fake.hostMedia(Samples.of("image/jpeg", 60_000, 3, { width: 1080, height: 1080 }), "image/jpeg")
          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: {
                text: "Kites over the bay",
                media: [{ kind: "image", mimeType: "image/jpeg", sizeBytes: 60_000, width: 1080, height: 1080, source: { _tag: "url", url: image } }]
              },
              destinations: [{ accountId: instagram.id }, { accountId: facebook.id }, { accountId: threads.id }]
            }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const post = yield* published(api, created.body.id)
          assert.strictEqual(post.status, "published", JSON.stringify(post))
          const byPlatform = Object.fromEntries(post.destinations.map((d: any) => [d.platform, d]))
          const [igPost] = fake.publishedBy(profiles.instagram.id)
          assert.strictEqual(byPlatform.instagram.platformPostId, igPost!.id)
          assert.strictEqual(byPlatform.instagram.url, igPost!.permalink)
          const [thPost] = fake.publishedBy(profiles.threads.id)
          assert.strictEqual(byPlatform.threads.platformPostId, thPost!.id)
          assert.strictEqual(thPost!.text, "Kites over the bay")
          const fbPost = fake.pagePosts.get(byPlatform.facebook.platformPostId)!
          assert.strictEqual(fbPost.message, "Kites over the bay")
          assert.strictEqual(fbPost.pageId, profiles.page.profile.id)
        }))

      it.effect("stored media reach Meta at a signed URL under OMNIPOST_PUBLIC_URL", () => storedMediaReachMeta)
    })

    layer(metaLayer(kind, false), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("without OMNIPOST_PUBLIC_URL a post with stored media for Meta fails validation, nothing sent", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const fake = yield* Meta
          const account = fake.addProfile({ kind: "threads", username: "nopublic" })
          fake.approver.threads = account.id
          const threads = yield* connect(api, "threads")
          const uploaded = yield* request(api, "POST", "/v1/media", {
            raw: Buffer.from(Samples.of("image/jpeg", 40_000, 6, { width: 800, height: 800 })),
            headers: { "content-type": "image/jpeg" }
          })
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "x", media: [{ mediaId: uploaded.body.id }] }, destinations: [{ accountId: threads.id }] }
          })
          assert.strictEqual(created.status, 400, JSON.stringify(created.body))
          assert.strictEqual(errorCode(created), "VALIDATION_FAILED")
          const issue = created.body.error.details.issues[0]
          assert.strictEqual(issue.code, "PUBLIC_URL_REQUIRED")
          assert.match(issue.message, /OMNIPOST_PUBLIC_URL/)
          assert.strictEqual(fake.server.requestsOf("POST /{threads-user-id}/threads").length, 0)
        }))
    })
  })
}

// The same, with media in an S3-compatible store: through the worker's signed route, or presigned by the
// store (which needs no OMNIPOST_PUBLIC_URL: the platform fetches from the store).
for (const store of ["s3", "s3-presigned"] as const) {
  describe(`stored media reach Meta by URL (pglite, ${store} store)`, () => {
    layer(metaLayer("pglite", store === "s3", store), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("stored media reach Meta at the store's URL", () => storedMediaReachMeta)
    })
  })
}
