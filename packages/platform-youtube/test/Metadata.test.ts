import { assert, describe, it } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { bytesVideo, request, withFake } from "./fixtures.js"

const unit = 256 * 1024

describe("metadata", () => {
  it.live("every setting reaches the video resource; notifySubscribers=false on the session; the title falls back to the text", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const text = "Launch day\n\nEverything about it: https://example.com"
        const result = yield* publisher.publish(request(credentials, text, [bytesVideo(Samples.mp4(unit, 1))], {
          privacyStatus: "unlisted",
          madeForKids: true,
          title: "Launch day (full)",
          tags: ["launch", "new product"],
          categoryId: "28",
          defaultLanguage: "en",
          containsSyntheticMedia: true,
          license: "creativeCommon",
          embeddable: false,
          notifySubscribers: false
        }))
        const video = fake.videos.get(result.platformPostId)!
        assert.deepInclude(video.snippet, { title: "Launch day (full)", description: text, tags: ["launch", "new product"], categoryId: "28", defaultLanguage: "en" })
        assert.deepInclude(video.status, { privacyStatus: "unlisted", selfDeclaredMadeForKids: true, containsSyntheticMedia: true, license: "creativeCommon", embeddable: false })
        assert.isFalse(video.notifySubscribers)
        const fallback = yield* publisher.publish(request(credentials, "Just the text", [bytesVideo(Samples.mp4(unit, 2))]))
        assert.strictEqual(fake.videos.get(fallback.platformPostId)!.snippet.title, "Just the text")
        assert.strictEqual(fake.videos.get(fallback.platformPostId)!.snippet.categoryId, "22")
        assert.isTrue(fake.videos.get(fallback.platformPostId)!.notifySubscribers)
      })))

  it.live("publishAt (YouTube's own scheduling) goes with a private video", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const at = "2027-01-01T10:00:00.000Z"
        const result = yield* publisher.publish({ ...request(credentials, "Later", [bytesVideo(Samples.mp4(unit, 3))]), publishAt: at })
        assert.deepInclude(fake.videos.get(result.platformPostId)!.status, { privacyStatus: "private", publishAt: at })
        const refused = yield* Effect.flip(publisher.publish({
          ...request(credentials, "Later", [bytesVideo(Samples.mp4(unit, 3))], { privacyStatus: "public", madeForKids: false }),
          publishAt: at
        }))
        assert.strictEqual(refused._tag, "Rejected")
        assert.strictEqual(refused.platformCode, "invalidPublishAt")
      })))

  it.live("a custom thumbnail (thumbnails.set, judged by its bytes) and a playlist (playlistItems.insert) after the upload", () =>
    withFake(({ channel, credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const playlistId = fake.addPlaylist(channel)
        const png = Samples.png(1280, 720)
        const result = yield* publisher.publish(request(credentials, "With extras", [bytesVideo(Samples.mp4(unit, 4))], {
          privacyStatus: "private",
          madeForKids: false,
          thumbnail: { mimeType: "image/png", source: { _tag: "bytes", data: png } },
          playlistId
        }))
        assert.deepStrictEqual(fake.thumbnails.get(result.platformPostId), { mimeType: "image/png", sizeBytes: png.byteLength })
        assert.deepStrictEqual(fake.playlists.get(playlistId)!.videoIds, [result.platformPostId])
      })))

  it.live("a thumbnail or playlist refused after the upload leaves the video standing (a retry would upload it again)", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const result = yield* publisher.publish(request(credentials, "Extras refused", [bytesVideo(Samples.mp4(unit, 5))], {
          privacyStatus: "private",
          madeForKids: false,
          playlistId: "PLdoesnotexist"
        }))
        assert.isTrue(fake.videos.has(result.platformPostId))
        assert.strictEqual(fake.server.requestsOf("playlistItems.insert")[0]!.status, 404)
      })))

  it("validate: without a title setting the text is the title: empty, over 100 characters, < or > are refused before scheduling", () =>
    Effect.runPromise(withFake(({ publisher }) =>
      Effect.sync(() => {
        const check = (text: string, title?: string) =>
          publisher.validate!({
            destinationIndex: 0,
            destination: { platform: "youtube", accountId: "a", settings: { privacyStatus: "private", madeForKids: false, ...(title !== undefined ? { title } : {}) }, parts: [{ text, media: [] }] }
          }).map((issue) => issue.message)
        assert.deepStrictEqual(check("x".repeat(100)), [])
        assert.match(check("x".repeat(101))[0]!, /at most 100 characters; this text has 101/)
        assert.match(check("")[0]!, /needs a title/)
        assert.match(check("a <b>")[0]!, /cannot contain < or >/)
        assert.deepStrictEqual(check("x".repeat(500), "A title"), [])
      }))))
})
