import { assert, describe, it } from "@effect/vitest"
import type { Publisher } from "@omnipost/core"
import { Effect } from "effect"
import { part, request, withFake } from "./fixtures.js"

describe("first comment (Comments API)", () => {
  it.live("POST /rest/socialActions/{urn}/comments as the post's author, on the post, with message.text", () =>
    withFake(({ account, credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const post = request(credentials, [part("Launch day")])
        const published = yield* publisher.publish(post)
        const commentRequest = (text: string): Publisher.CommentRequest<any, any> => ({
          ...post,
          attemptId: "comment-1",
          published: { platformPostId: published.platformPostId, url: published.url, parts: published.parts },
          text
        })
        const comment = yield* publisher.comment!(commentRequest("Details (and more) in the changelog"))
        const [stored] = fake.comments
        assert.deepStrictEqual([stored!.object, stored!.actor, stored!.text], [published.platformPostId, account.personUrn, "Details (and more) in the changelog"])
        assert.strictEqual(comment.platformCommentId, stored!.urn)
        assert.match(comment.platformCommentId, /^urn:li:comment:\(urn:li:share:\d+,\d+\)$/)
        assert.include(comment.url, published.url)
        // Past the comment limit: refused by LinkedIn's 422, nothing stored.
        const tooLong = yield* Effect.flip(publisher.comment!(commentRequest("x".repeat(1251))))
        assert.strictEqual(tooLong._tag, "Rejected")
        // On a post that does not exist (deleted): 404, refused.
        yield* publisher.delete!({ platformPostId: published.platformPostId, credentials })
        const gone = yield* Effect.flip(publisher.comment!(commentRequest("too late")))
        assert.strictEqual(gone._tag, "Rejected")
        assert.strictEqual(fake.comments.length, 1)
      })
    ))

  it.live("a token without w_member_social may not comment as the member", () =>
    withFake(({ account, fake, publisher }) =>
      Effect.gen(function*() {
        const poster = { accessToken: fake.issueToken(account, ["openid", "profile", "w_member_social"]), scopes: ["w_member_social"], personUrn: account.personUrn }
        const post = request(poster, [part("Mine")])
        const published = yield* publisher.publish(post)
        const readOnly = { accessToken: fake.issueToken(account, ["openid", "profile"]), scopes: ["openid", "profile"], personUrn: account.personUrn }
        const refused = yield* Effect.flip(publisher.comment!({
          ...request(readOnly, [part("Mine")]),
          published: { platformPostId: published.platformPostId, url: published.url, parts: published.parts },
          text: "no"
        }))
        assert.isTrue(refused._tag === "AuthFailed" || refused._tag === "Rejected", refused._tag)
        assert.strictEqual(fake.comments.length, 0)
      })
    ))
})
