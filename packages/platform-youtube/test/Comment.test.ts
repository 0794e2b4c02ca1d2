import { assert, describe, it } from "@effect/vitest"
import type { Publisher } from "@omnipost/core"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { bytesVideo, request, withFake } from "./fixtures.js"

const unit = 256 * 1024

describe("first comment (commentThreads.insert)", () => {
  it.live("a top-level comment on the uploaded video: snippet.videoId and topLevelComment.snippet.textOriginal, 50 units", () =>
    withFake(({ channel, credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const post = request(credentials, "Launch day", [bytesVideo(Samples.mp4(unit, 1))])
        const published = yield* publisher.publish(post)
        const commentRequest = (text: string, on = published.platformPostId): Publisher.CommentRequest<any, any> => ({
          ...post,
          attemptId: "comment-1",
          published: { platformPostId: on, url: published.url, parts: published.parts },
          text
        })
        const comment = yield* publisher.comment!(commentRequest("Chapters in the description"))
        const [stored] = fake.comments
        assert.deepStrictEqual([stored!.videoId, stored!.channelId, stored!.text], [published.platformPostId, channel.id, "Chapters in the description"])
        assert.strictEqual(comment.platformCommentId, stored!.id)
        assert.strictEqual(comment.url, `https://www.youtube.com/watch?v=${published.platformPostId}&lc=${stored!.id}`)
        // A video that does not exist: videoNotFound, refused.
        const missing = yield* Effect.flip(publisher.comment!(commentRequest("where?", "nope")))
        assert.strictEqual(missing._tag, "Rejected")
        assert.strictEqual(fake.comments.length, 1)
      })
    ))

  it.live("a token granted without youtube.force-ssl is refused (insufficientPermissions: a missing permission)", () =>
    withFake(({ channel, credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const post = request(credentials, "Launch day", [bytesVideo(Samples.mp4(unit, 2))])
        const published = yield* publisher.publish(post)
        const token = fake.issueToken(channel)
        fake.tokenScopes.set(token, "https://www.googleapis.com/auth/youtube.upload https://www.googleapis.com/auth/youtube.readonly")
        const refused = yield* Effect.flip(publisher.comment!({
          ...post,
          credentials: { accessToken: token },
          published: { platformPostId: published.platformPostId, url: published.url, parts: published.parts },
          text: "no scope"
        }))
        assert.strictEqual(refused._tag, "AuthFailed")
        assert.strictEqual(refused._tag === "AuthFailed" && refused.reason, "missing_permission")
        assert.strictEqual(fake.comments.length, 0)
      })
    ))
})
