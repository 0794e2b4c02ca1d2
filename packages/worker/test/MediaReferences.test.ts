/**
 * Every media source in a post body is checked where it appears: a medium's
 * own source and its thumbnail's, in the content, thread parts, platform
 * overrides and destination overrides, on create, validate and update. A
 * `stored` source must be a medium of the caller's organization (else
 * `400 INVALID_MEDIA`, exactly as for an unknown id), a `file` path is refused
 * over HTTP, and a stored medium's type and size are its record's.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { ApiKeys } from "../src/storage/ApiKeys.js"
import { testKinds } from "./fixtures.js"
import { type ApiServer, apiLayer, errorCode, png1x1, request, TestApi } from "./apiHarness.js"

const upload = (api: ApiServer, bytes: typeof png1x1, type: string) =>
  Effect.gen(function*() {
    const answer = yield* request(api, "POST", "/v1/media", { raw: bytes, headers: { "content-type": type } })
    assert.strictEqual(answer.status, 201, JSON.stringify(answer.body))
    return answer.body.id as string
  })

const pdf = Buffer.from("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

/** A video given by URL whose thumbnail has `source`. */
const videoWithThumbnail = (source: unknown, mimeType = "image/png") => ({
  kind: "video",
  mimeType: "video/mp4",
  sizeBytes: 1_000_000,
  durationSeconds: 10,
  source: { _tag: "url", url: "https://cdn.example.com/clip.mp4" },
  thumbnail: { source, mimeType, sizeBytes: 10 }
})

/** The places a medium can be given in a post body, each with the body around it and the path to it. */
const placements = (accountId: string, medium: unknown) => [
  { where: "content.media[0]", body: { content: { text: "a", media: [medium] }, destinations: [{ accountId }] } },
  {
    where: "content.thread[1].media[0]",
    body: { content: { thread: [{ text: "one" }, { text: "two", media: [medium] }] }, destinations: [{ accountId }] }
  },
  {
    where: "platformOverrides.bluesky.media[0]",
    body: { content: { text: "a" }, platformOverrides: { bluesky: { media: [medium] } }, destinations: [{ accountId }] }
  },
  {
    where: "destinations[0].override.media[0]",
    body: { content: { text: "a" }, destinations: [{ accountId, override: { media: [medium] } }] }
  }
]

const later = "2031-07-01T09:30:00Z"

for (const kind of testKinds) {
  describe(`media references in post bodies (${kind})`, () => {
    layer(apiLayer(kind, {}, { scheduler: false }), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("a thumbnail's stored source: another organization's or unknown is INVALID_MEDIA, everywhere", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const keys = yield* ApiKeys
          const otherOrganization = yield* keys.createOrganization("other").pipe(Effect.orDie)
          const otherKey = yield* keys.create({ organizationId: otherOrganization, name: "other" }).pipe(Effect.orDie)
          const foreign = yield* upload({ ...api, key: otherKey.key }, png1x1, "image/png")
          const accounts = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          const accountId = accounts.body.id as string

          for (const mediaId of [foreign, "med_unknown"]) {
            for (const { where, body } of placements(accountId, videoWithThumbnail({ _tag: "stored", mediaId }))) {
              for (const [method, path] of [["POST", "/v1/posts"], ["POST", "/v1/posts/validate"]] as const) {
                const answer = yield* request(api, method, path, { body: { ...body, scheduledAt: later } })
                assert.strictEqual(answer.status, 400, `${path} ${where}: ${JSON.stringify(answer.body)}`)
                assert.strictEqual(errorCode(answer), "INVALID_MEDIA")
                assert.deepStrictEqual(answer.body.error.details, { mediaId, path: `${where}.thumbnail.source` })
              }
            }
          }
          // A medium's own stored source, and a reference by id, answer the same.
          for (const medium of [{ mediaId: foreign }, { ...videoWithThumbnail(undefined), source: { _tag: "stored", mediaId: foreign }, thumbnail: undefined }]) {
            const answer = yield* request(api, "POST", "/v1/posts", {
              body: { content: { text: "a", media: [medium] }, destinations: [{ accountId }], scheduledAt: later }
            })
            assert.strictEqual(answer.status, 400, JSON.stringify(answer.body))
            assert.strictEqual(errorCode(answer), "INVALID_MEDIA")
          }
          // Nothing was stored by the refused requests.
          const listed = yield* request(api, "GET", "/v1/posts")
          assert.strictEqual(listed.body.data.length, 0)

          // An update is checked the same way.
          const draft = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "draft" }, destinations: [{ accountId }], status: "draft" }
          })
          assert.strictEqual(draft.status, 201, JSON.stringify(draft.body))
          const patched = yield* request(api, "PATCH", `/v1/posts/${draft.body.id}`, {
            body: { content: { text: "a", media: [videoWithThumbnail({ _tag: "stored", mediaId: foreign })] } }
          })
          assert.strictEqual(patched.status, 400, JSON.stringify(patched.body))
          assert.strictEqual(errorCode(patched), "INVALID_MEDIA")
          assert.strictEqual(patched.body.error.details.path, "content.media[0].thumbnail.source")
        }))

      it.effect("a file path is refused in a thumbnail as in a medium, everywhere", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accounts = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          const accountId = accounts.body.id as string
          const file = { _tag: "file", path: "/etc/passwd" }
          for (const { where, body } of placements(accountId, videoWithThumbnail(file))) {
            const answer = yield* request(api, "POST", "/v1/posts", { body: { ...body, scheduledAt: later } })
            assert.strictEqual(answer.status, 400, `${where}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(errorCode(answer), "VALIDATION_FAILED")
            const issue = answer.body.error.details.issues[0]
            assert.strictEqual(issue.code, "FILE_SOURCE_NOT_ALLOWED")
            assert.strictEqual(issue.path.join("."), `${where}.thumbnail.source`.replace(/\[(\d+)\]/g, ".$1"))
          }
          const medium = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "a", media: [{ ...videoWithThumbnail(undefined), source: file, thumbnail: undefined }] },
              destinations: [{ accountId }],
              scheduledAt: later
            }
          })
          assert.strictEqual(medium.status, 400)
          assert.strictEqual(medium.body.error.details.issues[0].code, "FILE_SOURCE_NOT_ALLOWED")
        }))

      it.effect("the caller's own stored thumbnail is accepted, with the stored file's type and size; a non-image is refused", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accounts = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          const accountId = accounts.body.id as string
          const image = yield* upload(api, png1x1, "image/png")
          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              // Declared as a large JPEG: the stored file (a 1×1 PNG) is what counts.
              content: { text: "a", media: [videoWithThumbnail({ _tag: "stored", mediaId: image }, "image/jpeg")] },
              destinations: [{ accountId }],
              scheduledAt: later
            }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const thumbnail = created.body.content.media[0].thumbnail
          assert.deepStrictEqual(thumbnail.source, { _tag: "stored", mediaId: image })
          assert.strictEqual(thumbnail.mimeType, "image/png")
          assert.strictEqual(thumbnail.sizeBytes, png1x1.length)

          const document = yield* upload(api, pdf, "application/pdf")
          const refused = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "a", media: [videoWithThumbnail({ _tag: "stored", mediaId: document })] },
              destinations: [{ accountId }],
              scheduledAt: later
            }
          })
          assert.strictEqual(refused.status, 400, JSON.stringify(refused.body))
          assert.strictEqual(errorCode(refused), "VALIDATION_FAILED")
          assert.strictEqual(refused.body.error.details.issues[0].code, "THUMBNAIL_NOT_IMAGE")

          // A medium given with its own stored source takes the record's type and size too.
          const declared = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: {
                text: "a",
                media: [{ kind: "image", mimeType: "image/jpeg", sizeBytes: 1, source: { _tag: "stored", mediaId: image }, altText: "dot" }]
              },
              destinations: [{ accountId }],
              scheduledAt: later
            }
          })
          assert.strictEqual(declared.status, 201, JSON.stringify(declared.body))
          const medium = declared.body.content.media[0]
          assert.strictEqual(medium.mimeType, "image/png")
          assert.strictEqual(medium.sizeBytes, png1x1.length)
          assert.strictEqual(medium.altText, "dot")
        }))
    })
  })
}
