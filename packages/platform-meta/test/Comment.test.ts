/**
 * First comments on Meta's platforms against FakeMeta: Instagram and Facebook
 * comments (`POST /{object-id}/comments` with `message`), Threads replies (a
 * `reply_to_id` container, then `threads_publish`); stories take none.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Publisher } from "@omnipost/core"
import {
  type FacebookCredentials,
  type InstagramCredentials,
  makeFacebookPublisher,
  makeInstagramPublisher,
  makeThreadsPublisher,
  type ThreadsCredentials
} from "@omnipost/platform-meta"
import { hostedImage, part, publisherOptions, request, withFake } from "./fixtures.js"

const commentOn = <S, C>(publishRequest: Publisher.PublishRequest<S, C>, published: Publisher.PublishResult, text: string): Publisher.CommentRequest<S, C> => ({
  ...publishRequest,
  attemptId: "comment-1",
  published: { platformPostId: published.platformPostId, url: published.url, parts: published.parts },
  text
})

describe("first comment on Meta's platforms", () => {
  it.live("Instagram: POST /{ig-media-id}/comments with message under the published media; a story is refused before any call", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const account = fake.addInstagramAccount({ username: "kites" })
        const credentials = account.credentials as InstagramCredentials
        const publisher = yield* makeInstagramPublisher(publisherOptions(fake))
        const feed = request("instagram", credentials, [part("a kite", [hostedImage(fake)])])
        const published = yield* publisher.publish(feed)
        const comment = yield* publisher.comment!(commentOn(feed, published, "first comment #kites"))
        const [stored] = fake.comments
        assert.deepStrictEqual([stored!.id, stored!.objectId, stored!.message, stored!.platform], [comment.platformCommentId, published.platformPostId, "first comment #kites", "instagram"])
        assert.strictEqual(comment.url, published.url)
        // Another account's media is not found, as Meta answers (100/33).
        const other = fake.addInstagramAccount({ username: "other" })
        const refused = yield* Effect.flip(publisher.comment!(commentOn({ ...feed, credentials: other.credentials as InstagramCredentials }, published, "not mine")))
        assert.strictEqual(refused._tag, "Rejected")
        const calls = fake.server.requestsOf("POST /{object-id}/comments").length
        const story = yield* Effect.flip(publisher.comment!(commentOn(request("instagram", credentials, [part("", [hostedImage(fake)])], { placement: "story" }), published, "x")))
        assert.strictEqual(story._tag === "Rejected" && story.code, "COMMENT_NOT_SUPPORTED")
        assert.strictEqual(fake.server.requestsOf("POST /{object-id}/comments").length, calls)
        assert.strictEqual(fake.comments.length, 1)
      })))

  it.live("Facebook: POST /{object-id}/comments with message on the Page's post", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const page = fake.addFacebookPage({ name: "Kite Club" })
        const credentials = page.credentials as FacebookCredentials
        const publisher = yield* makeFacebookPublisher(publisherOptions(fake))
        const feed = request("facebook", credentials, [part("club news")])
        const published = yield* publisher.publish(feed)
        const comment = yield* publisher.comment!(commentOn(feed, published, "details below"))
        const [stored] = fake.comments
        assert.deepStrictEqual([stored!.objectId, stored!.message, stored!.platform], [published.platformPostId, "details below", "facebook"])
        assert.strictEqual(comment.platformCommentId, stored!.id)
        assert.match(comment.url, /^https:\/\/www\.facebook\.com\//)
        const tooLong = yield* Effect.flip(publisher.comment!(commentOn(feed, published, "x".repeat(8001))))
        assert.strictEqual(tooLong._tag, "Rejected")
        assert.strictEqual(fake.comments.length, 1)
      })))

  it.live("Threads: a reply container to the post's first part (under a thread too), then threads_publish", () =>
    withFake((fake) =>
      Effect.gen(function*() {
        const account = fake.addThreadsAccount({ username: "kites" })
        const credentials = account.credentials as ThreadsCredentials
        const publisher = yield* makeThreadsPublisher(publisherOptions(fake))
        const thread = request("threads", credentials, [part("1/2"), part("2/2")])
        const published = yield* publisher.publish(thread)
        const comment = yield* publisher.comment!(commentOn(thread, published, "a first comment"))
        const reply = fake.media.get(comment.platformCommentId)!
        assert.strictEqual(reply.text, "a first comment")
        assert.strictEqual(reply.replyToId, published.parts[0]!.platformPostId)
        assert.strictEqual(reply.params.media_type, "TEXT")
        assert.strictEqual(comment.url, reply.permalink)
      })))
})
