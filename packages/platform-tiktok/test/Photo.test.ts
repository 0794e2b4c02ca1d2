import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { request, urlPhoto, withFake } from "./fixtures.js"

const prefix = "https://media.example.com/"
const photos = (n: number) => Array.from({ length: n }, (_, i) => urlPhoto(`${prefix}p/${i}.jpg`))
const code = (error: { readonly _tag: string; readonly code?: string | undefined }) => error._tag === "Rejected" ? error.code : error._tag

describe("photo posts", () => {
  it.live("35 photos by PULL_FROM_URL: creator info, content/init DIRECT_POST with title, description, cover, music; the photo URL", () =>
    withFake(({ credentials, fake, make }) =>
      Effect.gen(function*() {
        const publisher = yield* make({ verifiedUrlPrefixes: [prefix] })
        const result = yield* publisher.publish(request(credentials, "The description #trip", photos(35), {
          privacyLevel: "PUBLIC_TO_EVERYONE",
          title: "Trip",
          photoCoverIndex: 34,
          autoAddMusic: true,
          brandContentToggle: true
        }))
        const post = [...fake.uploads.values()][0]!
        assert.strictEqual(post.photoImages?.length, 35)
        assert.strictEqual(post.postInfo.title, "Trip")
        assert.strictEqual(post.postInfo.description, "The description #trip")
        assert.strictEqual(post.postInfo.auto_add_music, true)
        assert.strictEqual(post.postInfo.brand_content_toggle, true)
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, 1)
        assert.strictEqual(result.url, `https://www.tiktok.com/@ana/photo/${result.platformPostId}`)
      })))

  it.live("inbox: MEDIA_UPLOAD without privacy, no creator_info, ends in the inbox", () =>
    withFake(({ credentials, fake, make }) =>
      Effect.gen(function*() {
        const publisher = yield* make({ verifiedUrlPrefixes: [prefix] })
        const result = yield* publisher.publish(request(credentials, "draft", photos(2), { privacyLevel: "SELF_ONLY", postMode: "inbox" }))
        const post = fake.uploads.get(result.platformPostId)!
        assert.isTrue(post.inbox)
        assert.isUndefined(post.postInfo.privacy_level)
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/creator_info/query/").length, 0)
      })))

  it.live("the fake's limits: 36 photos, a 91-unit title, a 4001-unit description, an unverified URL are refused", () =>
    withFake(({ fake }) =>
      Effect.promise(async () => {
        // Seven inits in a minute: past TikTok's 6 per token (see the limits test).
        fake.limits.perMinute.init = 100
        const headers = { authorization: "Bearer tok-1", "content-type": "application/json; charset=UTF-8" }
        const post = async (postInfo: Record<string, unknown>, images: Array<string>) => {
          await fetch(`${fake.url}/v2/post/publish/creator_info/query/`, { method: "POST", headers })
          const response = await fetch(`${fake.url}/v2/post/publish/content/init/`, {
            method: "POST",
            headers,
            body: JSON.stringify({
              media_type: "PHOTO",
              post_mode: "DIRECT_POST",
              post_info: { privacy_level: "SELF_ONLY", description: "", ...postInfo },
              source_info: { source: "PULL_FROM_URL", photo_cover_index: 0, photo_images: images }
            })
          })
          return [response.status, ((await response.json()) as { error: { code: string } }).error.code] as const
        }
        const urls = (n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}.jpg`)
        assert.deepStrictEqual(await post({}, urls(35)), [200, "ok"])
        assert.deepStrictEqual(await post({}, urls(36)), [400, "invalid_param"])
        assert.deepStrictEqual(await post({ title: "t".repeat(90) }, urls(1)), [200, "ok"])
        assert.deepStrictEqual(await post({ title: "t".repeat(91) }, urls(1)), [400, "invalid_param"])
        assert.deepStrictEqual(await post({ description: "d".repeat(4000) }, urls(1)), [200, "ok"])
        assert.deepStrictEqual(await post({ description: "d".repeat(4001) }, urls(1)), [400, "invalid_param"])
        assert.deepStrictEqual(await post({}, ["https://elsewhere.example.org/a.jpg"]), [403, "url_ownership_unverified"])
      })))

  it.live("without verified prefixes photos fail validation and publishing says what to set; bytes photos have no URL", () =>
    withFake(({ credentials, fake, make, publisher }) =>
      Effect.gen(function*() {
        const req = request(credentials, "x", photos(1), { privacyLevel: "SELF_ONLY" })
        const issues = publisher.validate!({ destination: req.destination, destinationIndex: 0 })
        assert.deepStrictEqual(issues.map((i) => i.code), ["UNSUPPORTED_MEDIA_CONFIG"])
        assert.include(issues[0]!.message, "OMNIPOST_TIKTOK_VERIFIED_URL_PREFIXES")
        const error = yield* Effect.flip(publisher.publish(req))
        assert.strictEqual(code(error), "URL_NOT_VERIFIED")
        const verified = yield* make({ verifiedUrlPrefixes: [prefix] })
        const bytes = request(credentials, "x", [{ kind: "image", mimeType: "image/jpeg", sizeBytes: 3, source: { _tag: "bytes", data: new Uint8Array([255, 216, 255]) } }])
        assert.deepStrictEqual(verified.validate!({ destination: bytes.destination, destinationIndex: 0 }).map((i) => i.code), ["UNSUPPORTED_MEDIA_CONFIG"])
        const storedWithoutUrl = request(credentials, "x", [{ kind: "image", mimeType: "image/jpeg", sizeBytes: 3, source: { _tag: "stored", mediaId: "med_1" } }])
        assert.include(verified.validate!({ destination: storedWithoutUrl.destination, destinationIndex: 0 })[0]!.message, "OMNIPOST_PUBLIC_URL")
        assert.strictEqual(fake.server.requestsOf("POST /v2/post/publish/content/init/").length, 0)
      })))
})
