import { assert, describe, it } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { LinkedinSettings } from "@omnipost/platform-linkedin"
import { Effect, Schema } from "effect"
import { bytesMedia, part, request, withFake } from "./fixtures.js"

const page = "urn:li:organization:2414183"
const withOrgScope = ["openid", "profile", "w_member_social", "w_organization_social"]

describe("organization posts and settings", () => {
  it.live("a Page the member administers is the author (and owns the media) when connected with w_organization_social", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const image = bytesMedia("image", "image/png", Samples.png(8_000))
        yield* publisher.publish(request(credentials, [part("From the page", [image])], { author: page }))
        const post = fake.posts[0]!
        assert.strictEqual(post.author, page)
        assert.strictEqual(fake.assets.get((post.content as { media: { id: string } }).media.id)!.owner, page)
        const found = yield* publisher.findPublished!({ ...request(credentials, [part("From the page", [image])], { author: page }), sentAt: new Date().toISOString() })
        assert.strictEqual(found?.platformPostId, post.id)
      }), { scopes: withOrgScope, administers: [page] }))

  it.live("without the organization scope, the error names the missing scope and nothing is sent", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(publisher.publish(request(credentials, [part("x")], { author: page })))
        assert.strictEqual(error._tag === "AuthFailed" ? error.reason : error._tag, "missing_permission")
        assert.include(error.message, "w_organization_social")
        assert.include(error.message, "reconnect")
        assert.strictEqual(fake.server.requests.length, 0)
      }), { administers: [page] }))

  it.live("with the scope but without a role on the Page, LinkedIn's 403 is missing_permission", () =>
    withFake(({ credentials, fake, publisher }) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(publisher.publish(request(credentials, [part("x")], { author: page })))
        assert.strictEqual(error._tag === "AuthFailed" ? error.reason : error._tag, "missing_permission")
        assert.strictEqual(error.httpStatus, 403)
        assert.strictEqual(error.platformCode, "ACCESS_DENIED")
        assert.strictEqual(fake.posts.length, 0)
      }), { scopes: withOrgScope }))

  it("settings: an author that is not an organization URN, or an unknown visibility, is refused by the schema", () => {
    const decode = Schema.decodeUnknownExit(LinkedinSettings)
    assert.isTrue(decode({ author: page, visibility: "LOGGED_IN", disableReshare: true })._tag === "Success")
    assert.isTrue(decode({ author: "urn:li:person:abc" })._tag === "Failure")
    assert.isTrue(decode({ visibility: "EVERYONE" })._tag === "Failure")
    assert.isTrue(decode({ articleTitle: "" })._tag === "Failure")
  })

  it.live("validate: article settings need a link without media, documentTitle a document", () =>
    withFake(({ publisher }) =>
      Effect.gen(function*() {
        const destination = (settings: LinkedinSettings, link?: string) => ({
          destination: { platform: "linkedin", accountId: "a", settings, parts: [part("x", [], link)] as const },
          destinationIndex: 0
        })
        assert.deepStrictEqual(publisher.validate!(destination({ articleTitle: "T" }, "https://example.com")), [])
        assert.deepStrictEqual(publisher.validate!(destination({ articleTitle: "T" })).map((i) => i.path), [["settings", "articleTitle"]])
        assert.deepStrictEqual(publisher.validate!(destination({ documentTitle: "D" })).map((i) => i.code), ["INVALID_SETTINGS"])
      })
    ))
})
