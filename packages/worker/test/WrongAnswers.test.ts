/**
 * Answers that were wrong (issue "The HTTP API says no clearly", item 8):
 * deleting a published post, deleting media a post may still publish, and
 * the webhook secret's bounds (one definition for the server and the
 * OpenAPI document).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { testKinds } from "./fixtures.js"
import { webhookSecretLength } from "../src/api/Models.js"
import { apiLayer, errorCode, png1x1, request, TestApi, waitFor, connectBluesky } from "./apiHarness.js"

const later = () => new Date(Date.now() + 7 * 24 * 3600_000).toISOString()

for (const kind of testKinds) {
  describe(`wrong answers made right (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("DELETE of a published post is 409 INVALID_STATUS_TRANSITION and the record stays", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "live on Bluesky" }, destinations: [{ accountId }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) => r.body.status === "published" ? r.body : undefined),
            30_000,
            "the post to publish"
          )
          const deleted = yield* request(api, "DELETE", `/v1/posts/${created.body.id}`)
          assert.strictEqual(deleted.status, 409, JSON.stringify(deleted.body))
          assert.strictEqual(errorCode(deleted), "INVALID_STATUS_TRANSITION")
          assert.include(deleted.body.error.message, "does not delete posts from platforms")
          const still = yield* request(api, "GET", `/v1/posts/${created.body.id}`)
          assert.strictEqual(still.status, 200)

          // A draft is still deleted.
          const draft = yield* request(api, "POST", "/v1/posts", {
            body: { status: "draft", content: { text: "never mind" }, destinations: [{ accountId }] }
          })
          assert.strictEqual((yield* request(api, "DELETE", `/v1/posts/${draft.body.id}`)).status, 204)
        }))

      it.effect("DELETE of media a post may still publish is 409 MEDIA_IN_USE naming the posts; once they are cancelled it is deleted", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const upload = () =>
            Effect.map(
              request(api, "POST", "/v1/media?fileName=dot.png", { raw: png1x1, headers: { "content-type": "application/octet-stream" } }),
              (answer) => answer.body.id as string
            )
          const inContent = yield* upload()
          const inThread = yield* upload()
          const unused = yield* upload()
          const scheduled = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "soon", media: [{ mediaId: inContent, altText: "a dot" }] },
              destinations: [{ accountId }],
              scheduledAt: later()
            }
          })
          assert.strictEqual(scheduled.status, 201, JSON.stringify(scheduled.body))
          const draft = yield* request(api, "POST", "/v1/posts", {
            body: {
              status: "draft",
              content: { text: "a thread", thread: [{ text: "one" }, { text: "two", media: [{ mediaId: inThread }] }] },
              destinations: [{ accountId }]
            }
          })
          assert.strictEqual(draft.status, 201, JSON.stringify(draft.body))

          const refused = yield* request(api, "DELETE", `/v1/media/${inContent}`)
          assert.strictEqual(refused.status, 409, JSON.stringify(refused.body))
          assert.strictEqual(errorCode(refused), "MEDIA_IN_USE")
          assert.deepStrictEqual(refused.body.error.details, { mediaId: inContent, postIds: [scheduled.body.id] })
          const inDraft = yield* request(api, "DELETE", `/v1/media/${inThread}`)
          assert.strictEqual(errorCode(inDraft), "MEDIA_IN_USE")
          assert.deepStrictEqual(inDraft.body.error.details.postIds, [draft.body.id])
          assert.strictEqual((yield* request(api, "GET", `/v1/media/${inContent}`)).status, 200)

          assert.strictEqual((yield* request(api, "DELETE", `/v1/media/${unused}`)).status, 204)
          assert.strictEqual((yield* request(api, "POST", `/v1/posts/${scheduled.body.id}/cancel`)).status, 200)
          assert.strictEqual((yield* request(api, "DELETE", `/v1/media/${inContent}`)).status, 204)
          assert.strictEqual((yield* request(api, "GET", `/v1/media/${inContent}`)).status, 404)
        }))

      it.effect("the webhook secret's bounds are the same in the OpenAPI document and the server", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const openapi = yield* request(api, "GET", "/openapi.json", { key: null })
          const resolve = (schema: any): any =>
            typeof schema?.$ref === "string"
              ? resolve(schema.$ref.split("/").slice(1).reduce((node: any, key: string) => node[key], openapi.body))
              : schema
          const create = resolve(openapi.body.paths["/v1/webhooks"].post.requestBody.content["application/json"].schema)
          assert.isDefined(create?.properties?.secret, JSON.stringify(create))
          const secret = resolve(create.properties.secret)
          // Constraints may be flat or split into `allOf` parts: all of them hold.
          create.properties.secret = Object.assign({}, secret, ...(secret.allOf ?? []).map(resolve))
          assert.strictEqual(create.properties.secret.minLength, webhookSecretLength.min)
          assert.strictEqual(create.properties.secret.maxLength, webhookSecretLength.max)
          const body = (secret: string) => ({ url: "http://127.0.0.1:9/hook", secret, events: ["post.published"] })
          const short = yield* request(api, "POST", "/v1/webhooks", { body: body("x".repeat(webhookSecretLength.min - 1)) })
          assert.strictEqual(short.status, 400)
          assert.strictEqual(errorCode(short), "VALIDATION_FAILED")
          const long = yield* request(api, "POST", "/v1/webhooks", { body: body("x".repeat(webhookSecretLength.max + 1)) })
          assert.strictEqual(errorCode(long), "VALIDATION_FAILED")
          // 16 characters outside the BMP (32 UTF-16 units) and 15 of them: characters are counted as the document says.
          const astral = yield* request(api, "POST", "/v1/webhooks", { body: body("🔑".repeat(webhookSecretLength.min - 1)) })
          assert.strictEqual(errorCode(astral), "VALIDATION_FAILED")
          const ok = yield* request(api, "POST", "/v1/webhooks", { body: body("🔑".repeat(webhookSecretLength.min)) })
          assert.strictEqual(ok.status, 201, JSON.stringify(ok.body))
        }))
    })
  })
}
