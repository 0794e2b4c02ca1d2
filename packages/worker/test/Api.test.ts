/**
 * The HTTP API end to end: a real server on an ephemeral port, real HTTP,
 * the scheduler publishing to a FakeBluesky, for every endpoint its success
 * and each of its errors, tenant isolation, idempotency, rate limits.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import * as fc from "fast-check"
import { ApiKeys } from "../src/storage/ApiKeys.js"
import { testKinds } from "./fixtures.js"
import { type ApiServer, apiLayer, errorCode, png1x1, request, TestApi, waitFor, connectBluesky } from "./apiHarness.js"

/** A second organization with its own key. */
const otherTenant = (api: ApiServer) =>
  Effect.gen(function*() {
    const keys = yield* ApiKeys
    const organizationId = yield* keys.createOrganization("other").pipe(Effect.orDie)
    const created = yield* keys.create({ organizationId, name: "other" }).pipe(Effect.orDie)
    return { ...api, key: created.key, organizationId } satisfies ApiServer
  })

for (const kind of testKinds) {
  describe(`HTTP API (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("health, readiness and the OpenAPI 3.1 document", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const health = yield* request(api, "GET", "/healthz", { key: null })
          assert.strictEqual(health.status, 200)
          assert.deepStrictEqual(health.body, { status: "ok" })
          let last: unknown
          const ready = yield* waitFor(
            Effect.map(request(api, "GET", "/readyz", { key: null }), (r) => {
              last = r.body
              return r.status === 200 ? r : undefined
            }),
            20_000,
            "a scheduler heartbeat"
          ).pipe(Effect.tapDefect(() => Effect.sync(() => console.error("last readiness", JSON.stringify(last)))))
          assert.strictEqual(ready.body.database, "ok")
          assert.isTrue(ready.body.scheduler.alive)
          assert.strictEqual(ready.body.overdue.count, 0)
          const openapi = yield* request(api, "GET", "/openapi.json", { key: null })
          assert.strictEqual(openapi.status, 200)
          assert.match(openapi.body.openapi, /^3\.1/)
          for (const path of ["/v1/posts", "/v1/posts/{id}", "/v1/accounts", "/v1/media", "/v1/keys", "/v1/webhooks"]) {
            assert.property(openapi.body.paths, path)
          }
          const docs = yield* request(api, "GET", "/docs", { key: null })
          assert.strictEqual(docs.status, 200)
        }))

      it.effect("authentication: Bearer and x-api-key; missing, unknown and revoked keys are INVALID_API_KEY", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          assert.strictEqual((yield* request(api, "GET", "/v1/posts")).status, 200)
          const viaHeader = yield* request(api, "GET", "/v1/posts", { key: null, headers: { "x-api-key": api.key } })
          assert.strictEqual(viaHeader.status, 200)
          const missing = yield* request(api, "GET", "/v1/posts", { key: null })
          assert.strictEqual(missing.status, 401)
          assert.strictEqual(errorCode(missing), "INVALID_API_KEY")
          assert.include(missing.body.error.message, "missing API key")
          const unknown = yield* request(api, "GET", "/v1/posts", { key: "omp_unknownunknownunknown" })
          assert.strictEqual(unknown.status, 401)
          assert.strictEqual(errorCode(unknown), "INVALID_API_KEY")
          assert.strictEqual(unknown.body.error.details.reason, "invalid")
          assert.include(unknown.body.error.message, "invalid API key")
          assert.notInclude(unknown.body.error.message, "missing")
          const created = yield* request(api, "POST", "/v1/keys", { body: { name: "temporary" } })
          assert.strictEqual((yield* request(api, "GET", "/v1/posts", { key: created.body.key })).status, 200)
          const revoked = yield* request(api, "DELETE", `/v1/keys/${created.body.id}`)
          assert.strictEqual(revoked.status, 204)
          const after = yield* request(api, "GET", "/v1/posts", { key: created.body.key })
          assert.strictEqual(after.status, 401)
          assert.strictEqual(errorCode(after), "INVALID_API_KEY")
          assert.strictEqual(after.body.error.details.reason, "revoked")
          assert.strictEqual(after.body.error.details.keyId, created.body.id)
          assert.include(after.body.error.message, "was revoked")
        }))

      it.effect("keys: create shows the raw key once, list never does, revoke of an unknown key is 404", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const created = yield* request(api, "POST", "/v1/keys", { body: { name: "ci", rateLimitPerMinute: 50 } })
          assert.strictEqual(created.status, 201)
          assert.match(created.body.key, /^omp_[0-9a-z]{40}$/)
          assert.strictEqual(created.body.prefix, created.body.key.slice(0, 12))
          assert.strictEqual(created.body.rateLimitPerMinute, 50)
          const list = yield* request(api, "GET", "/v1/keys")
          assert.strictEqual(list.status, 200)
          const listed = list.body.find((k: any) => k.id === created.body.id)
          assert.isDefined(listed)
          assert.notProperty(listed, "key")
          assert.notInclude(JSON.stringify(list.body), created.body.key)
          const bad = yield* request(api, "POST", "/v1/keys", { body: { name: "" } })
          assert.strictEqual(bad.status, 400)
          assert.strictEqual(errorCode(bad), "VALIDATION_FAILED")
          assert.isArray(bad.body.error.details.issues)
          const unknown = yield* request(api, "DELETE", "/v1/keys/key_nope")
          assert.strictEqual(unknown.status, 404)
          assert.strictEqual(errorCode(unknown), "API_KEY_NOT_FOUND")
        }))

      it.effect("accounts: connect verifies with the platform, never returns secrets; list, get, refresh, disconnect", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const connected = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          assert.strictEqual(connected.status, 201)
          assert.strictEqual(connected.body.username, "alice.bsky.social")
          assert.strictEqual(connected.body.status, "active")
          const secret = api.bluesky.credentials().appPassword
          assert.notInclude(JSON.stringify(connected.body), secret)

          const wrong = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: { ...api.bluesky.credentials(), appPassword: "wron-gapp-pass-word" } }
          })
          assert.strictEqual(wrong.status, 400, JSON.stringify(wrong.body))
          assert.strictEqual(errorCode(wrong), "INVALID_CREDENTIALS")
          const unknownPlatform = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "mastodon", credentials: {} }
          })
          assert.strictEqual(unknownPlatform.status, 400)
          assert.strictEqual(errorCode(unknownPlatform), "UNKNOWN_PLATFORM")
          const badShape = yield* request(api, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: { identifier: 5 } }
          })
          assert.strictEqual(badShape.status, 400)
          assert.strictEqual(errorCode(badShape), "VALIDATION_FAILED")

          const list = yield* request(api, "GET", "/v1/accounts?platform=bluesky")
          assert.strictEqual(list.status, 200)
          assert.isTrue(list.body.some((a: any) => a.id === connected.body.id))
          assert.notInclude(JSON.stringify(list.body), secret)
          const none = yield* request(api, "GET", "/v1/accounts?platform=x")
          assert.deepStrictEqual(none.body, [])
          const got = yield* request(api, "GET", `/v1/accounts/${connected.body.id}`)
          assert.strictEqual(got.status, 200)
          assert.strictEqual(got.body.platformAccountId, connected.body.platformAccountId)
          const refreshed = yield* request(api, "POST", `/v1/accounts/${connected.body.id}/refresh`)
          assert.strictEqual(refreshed.status, 200, JSON.stringify(refreshed.body))
          const oauth = yield* request(api, "POST", "/v1/accounts/oauth/bluesky/start", { body: {} })
          assert.strictEqual(oauth.status, 400)
          assert.strictEqual(errorCode(oauth), "UNKNOWN_PLATFORM")
          const callback = yield* request(api, "GET", "/v1/accounts/oauth/x/callback?code=c&state=nope", { key: null })
          assert.strictEqual(callback.status, 400)
          assert.strictEqual(errorCode(callback), "VALIDATION_FAILED")

          const missing = yield* request(api, "GET", "/v1/accounts/acc_missing")
          assert.strictEqual(missing.status, 404)
          assert.strictEqual(errorCode(missing), "ACCOUNT_NOT_FOUND")
          const removed = yield* request(api, "DELETE", `/v1/accounts/${connected.body.id}`)
          assert.strictEqual(removed.status, 204)
          const gone = yield* request(api, "DELETE", `/v1/accounts/${connected.body.id}`)
          assert.strictEqual(gone.status, 404)
          assert.strictEqual(errorCode(gone), "ACCOUNT_NOT_FOUND")
        }))

      it.effect("posts: draft, get, list with filters and cursor pages, update, cancel, delete and their errors", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const ids: Array<string> = []
          for (const text of ["one", "two", "three"]) {
            const created = yield* request(api, "POST", "/v1/posts", {
              body: { content: { text }, destinations: [{ accountId }], status: "draft" }
            })
            assert.strictEqual(created.status, 201, JSON.stringify(created.body))
            assert.strictEqual(created.body.status, "draft")
            assert.strictEqual(created.body.destinations[0].platform, "bluesky")
            ids.push(created.body.id)
          }
          const got = yield* request(api, "GET", `/v1/posts/${ids[0]}`)
          assert.strictEqual(got.status, 200)
          assert.strictEqual(got.body.content.text, "one")
          assert.deepStrictEqual(got.body.destinations[0].attemptLog, [])

          // Cursor pages of one, newest first, covering all three drafts.
          const seen: Array<string> = []
          let cursor: string | undefined
          for (let page = 0; page < 10; page++) {
            const answer = yield* request(
              api,
              "GET",
              `/v1/posts?status=draft&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`
            )
            assert.strictEqual(answer.status, 200)
            assert.isAtMost(answer.body.data.length, 1)
            seen.push(...answer.body.data.map((p: any) => p.id))
            cursor = answer.body.nextCursor
            if (cursor === undefined) break
          }
          for (const id of ids) assert.include(seen, id)
          const tooMany = yield* request(api, "GET", "/v1/posts?limit=101")
          assert.strictEqual(tooMany.status, 400)
          assert.strictEqual(errorCode(tooMany), "VALIDATION_FAILED")
          const badStatus = yield* request(api, "GET", "/v1/posts?status=nonsense")
          assert.strictEqual(badStatus.status, 400)
          const byPlatform = yield* request(api, "GET", "/v1/posts?platform=x")
          assert.isFalse(byPlatform.body.data.some((p: any) => ids.includes(p.id)))
          const bluesky = yield* request(api, "GET", "/v1/posts?platform=bluesky&status=draft&limit=100")
          for (const id of ids) assert.isTrue(bluesky.body.data.some((p: any) => p.id === id))
          // Date range: drafts have no schedule, so their creation time counts.
          const hourAhead = new Date(Date.now() + 3_600_000).toISOString()
          const hourAgo = new Date(Date.now() - 3_600_000).toISOString()
          const future = yield* request(api, "GET", `/v1/posts?status=draft&from=${encodeURIComponent(hourAhead)}`)
          assert.isFalse(future.body.data.some((p: any) => ids.includes(p.id)))
          const recent = yield* request(
            api,
            "GET",
            `/v1/posts?status=draft&limit=100&from=${encodeURIComponent(hourAgo)}&to=${encodeURIComponent(hourAhead)}`
          )
          for (const id of ids) assert.isTrue(recent.body.data.some((p: any) => p.id === id))

          const updated = yield* request(api, "PATCH", `/v1/posts/${ids[0]}`, { body: { content: { text: "one, edited" } } })
          assert.strictEqual(updated.status, 200, JSON.stringify(updated.body))
          assert.strictEqual(updated.body.content.text, "one, edited")
          const tooLongEdit = yield* request(api, "PATCH", `/v1/posts/${ids[0]}`, {
            body: { content: { text: "x".repeat(301) } }
          })
          assert.strictEqual(tooLongEdit.status, 400)
          assert.strictEqual(errorCode(tooLongEdit), "VALIDATION_FAILED")

          const cancelled = yield* request(api, "POST", `/v1/posts/${ids[1]}/cancel`)
          assert.strictEqual(cancelled.status, 200)
          assert.strictEqual(cancelled.body.status, "cancelled")
          const editCancelled = yield* request(api, "PATCH", `/v1/posts/${ids[1]}`, { body: { content: { text: "no" } } })
          assert.strictEqual(editCancelled.status, 409)
          assert.strictEqual(errorCode(editCancelled), "INVALID_STATUS_TRANSITION")
          const cancelAgain = yield* request(api, "POST", `/v1/posts/${ids[1]}/cancel`)
          assert.strictEqual(cancelAgain.status, 409)
          assert.strictEqual(errorCode(cancelAgain), "INVALID_STATUS_TRANSITION")

          const deleted = yield* request(api, "DELETE", `/v1/posts/${ids[2]}`)
          assert.strictEqual(deleted.status, 204)
          for (const [method, path] of [
            ["GET", `/v1/posts/${ids[2]}`],
            ["PATCH", `/v1/posts/${ids[2]}`],
            ["POST", `/v1/posts/${ids[2]}/cancel`],
            ["POST", `/v1/posts/${ids[2]}/publish`],
            ["POST", `/v1/posts/${ids[2]}/retry`],
            ["DELETE", `/v1/posts/${ids[2]}`]
          ] as const) {
            const answer = yield* request(api, method, path, method === "GET" || method === "DELETE" ? {} : { body: {} })
            assert.strictEqual(answer.status, 404, `${method} ${path}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(errorCode(answer), "POST_NOT_FOUND")
          }
        }))

      it.effect("posts: validation (core's issues in details), unknown accounts, schedules with a time zone", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const tooLong = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "x".repeat(301) }, destinations: [{ accountId }] }
          })
          assert.strictEqual(tooLong.status, 400)
          assert.strictEqual(errorCode(tooLong), "VALIDATION_FAILED")
          assert.strictEqual(tooLong.body.error.details.issues[0].code, "CONTENT_TOO_LONG")
          assert.strictEqual(tooLong.body.error.details.issues[0].platform, "bluesky")

          const dryRun = yield* request(api, "POST", "/v1/posts/validate", {
            body: { content: { text: "x".repeat(301) }, destinations: [{ accountId }] }
          })
          assert.strictEqual(dryRun.status, 200)
          assert.isFalse(dryRun.body.valid)
          assert.strictEqual(dryRun.body.issues[0].code, "CONTENT_TOO_LONG")
          const fine = yield* request(api, "POST", "/v1/posts/validate", {
            body: { content: { text: "fine" }, destinations: [{ accountId }] }
          })
          assert.deepStrictEqual(fine.body, { valid: true, issues: [] })

          const unknownAccount = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "hi" }, destinations: [{ accountId: "acc_nobody" }] }
          })
          assert.strictEqual(unknownAccount.status, 400)
          assert.strictEqual(errorCode(unknownAccount), "INVALID_ACCOUNTS")
          const wrongPlatform = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "hi" }, destinations: [{ accountId, platform: "x" }] }
          })
          assert.strictEqual(wrongPlatform.status, 400)
          assert.strictEqual(errorCode(wrongPlatform), "INVALID_ACCOUNTS")
          const unknownMedia = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "hi", media: [{ mediaId: "med_nope" }] }, destinations: [{ accountId }] }
          })
          assert.strictEqual(unknownMedia.status, 400)
          assert.strictEqual(errorCode(unknownMedia), "INVALID_MEDIA")

          const scheduled = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "later" },
              destinations: [{ accountId }],
              scheduledAt: "2031-07-01T09:30",
              timezone: "Europe/London"
            }
          })
          assert.strictEqual(scheduled.status, 201, JSON.stringify(scheduled.body))
          assert.strictEqual(scheduled.body.status, "scheduled")
          // 09:30 in London in July is 08:30 UTC (BST).
          assert.strictEqual(scheduled.body.scheduledAt, "2031-07-01T08:30:00.000Z")
          assert.strictEqual(scheduled.body.timezone, "Europe/London")
          const naive = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "later" }, destinations: [{ accountId }], scheduledAt: "2031-07-01T09:30" }
          })
          assert.strictEqual(naive.status, 400)
          assert.strictEqual(errorCode(naive), "VALIDATION_FAILED")
          const badZone = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "x" }, destinations: [{ accountId }], scheduledAt: "2031-07-01T09:30", timezone: "Mars/Olympus" }
          })
          assert.strictEqual(badZone.status, 400)
          assert.strictEqual(errorCode(badZone), "VALIDATION_FAILED")
          const moved = yield* request(api, "PATCH", `/v1/posts/${scheduled.body.id}`, {
            body: { scheduledAt: "2031-01-15T09:30", timezone: "Europe/London" }
          })
          assert.strictEqual(moved.status, 200, JSON.stringify(moved.body))
          assert.strictEqual(moved.body.scheduledAt, "2031-01-15T09:30:00.000Z")
        }))

      it.effect("publishes now through the scheduler to the platform, then refuses edits; retry covers failures only", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const before = api.bluesky.posts().length
          const created = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "published by the API test" }, destinations: [{ accountId }] }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const published = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${created.body.id}`), (r) =>
              r.body.status === "published" ? r.body : undefined),
            30_000,
            "the post to publish"
          )
          assert.strictEqual(api.bluesky.posts().length, before + 1)
          const destination = published.destinations[0]
          assert.strictEqual(destination.status, "published")
          assert.match(destination.url, /^https:\/\/bsky\.app\/profile\//)
          assert.isString(destination.platformPostId)
          assert.strictEqual(destination.attempts, 1)
          assert.strictEqual(destination.attemptLog.length, 1)
          assert.strictEqual(destination.attemptLog[0].outcome, "published")

          const edit = yield* request(api, "PATCH", `/v1/posts/${created.body.id}`, { body: { content: { text: "no" } } })
          assert.strictEqual(edit.status, 409)
          assert.strictEqual(errorCode(edit), "INVALID_STATUS_TRANSITION")
          const cancel = yield* request(api, "POST", `/v1/posts/${created.body.id}/cancel`)
          assert.strictEqual(cancel.status, 409)
          const retry = yield* request(api, "POST", `/v1/posts/${created.body.id}/retry`, { body: {} })
          assert.strictEqual(retry.status, 409)
          assert.strictEqual(errorCode(retry), "INVALID_STATUS_TRANSITION")

          // A final platform refusal fails the destination; a retry publishes it.
          api.bluesky.inject("com.atproto.repo.createRecord", api.bluesky.xrpcError(400, "InvalidRequest", "refused by the test"))
          const failing = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "fails once" }, destinations: [{ accountId }] }
          })
          const failed = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${failing.body.id}`), (r) =>
              r.body.status === "failed" ? r.body : undefined),
            30_000,
            "the post to fail"
          )
          assert.strictEqual(failed.destinations[0].lastError.platformMessage, "refused by the test")
          const retried = yield* request(api, "POST", `/v1/posts/${failing.body.id}/retry`, { body: { platforms: ["bluesky"] } })
          assert.strictEqual(retried.status, 200, JSON.stringify(retried.body))
          const recovered = yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${failing.body.id}`), (r) =>
              r.body.status === "published" ? r.body : undefined),
            30_000,
            "the retried post to publish"
          )
          assert.strictEqual(recovered.destinations[0].attempts, 2)

          const draft = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "draft, then now" }, destinations: [{ accountId }], status: "draft" }
          })
          const now = yield* request(api, "POST", `/v1/posts/${draft.body.id}/publish`)
          assert.strictEqual(now.status, 200, JSON.stringify(now.body))
          yield* waitFor(
            Effect.map(request(api, "GET", `/v1/posts/${draft.body.id}`), (r) =>
              r.body.status === "published" ? true : undefined),
            30_000,
            "the draft to publish"
          )
        }))

      it.effect("tenant isolation: another organization's ids answer 404 like unknown ones", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const other = yield* otherTenant(api)
          const accountId = yield* connectBluesky(api)
          const post = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "mine" }, destinations: [{ accountId }], status: "draft" }
          })
          const media = yield* request(api, "POST", "/v1/media", { raw: png1x1 })
          const hook = yield* request(api, "POST", "/v1/webhooks", {
            body: { url: "http://127.0.0.1:9/hook", secret: "0123456789abcdef", events: ["post.published"] }
          })
          const checks: Array<readonly [string, string, string]> = [
            ["GET", `/v1/posts/${post.body.id}`, "POST_NOT_FOUND"],
            ["PATCH", `/v1/posts/${post.body.id}`, "POST_NOT_FOUND"],
            ["POST", `/v1/posts/${post.body.id}/cancel`, "POST_NOT_FOUND"],
            ["DELETE", `/v1/posts/${post.body.id}`, "POST_NOT_FOUND"],
            ["GET", `/v1/accounts/${accountId}`, "ACCOUNT_NOT_FOUND"],
            ["DELETE", `/v1/accounts/${accountId}`, "ACCOUNT_NOT_FOUND"],
            ["GET", `/v1/media/${media.body.id}`, "MEDIA_NOT_FOUND"],
            ["DELETE", `/v1/webhooks/${hook.body.id}`, "WEBHOOK_NOT_FOUND"],
            ["GET", `/v1/webhooks/${hook.body.id}/deliveries`, "WEBHOOK_NOT_FOUND"]
          ]
          for (const [method, path, code] of checks) {
            const foreign = yield* request(other, method, path, method === "PATCH" ? { body: {} } : {})
            assert.strictEqual(foreign.status, 404, `${method} ${path}`)
            assert.strictEqual(errorCode(foreign), code)
          }
          const posts = yield* request(other, "GET", "/v1/posts")
          assert.deepStrictEqual(posts.body.data, [])
          const accounts = yield* request(other, "GET", "/v1/accounts")
          assert.deepStrictEqual(accounts.body, [])
          const borrowed = yield* request(other, "POST", "/v1/posts", {
            body: { content: { text: "yours" }, destinations: [{ accountId }] }
          })
          assert.strictEqual(borrowed.status, 400)
          assert.strictEqual(errorCode(borrowed), "INVALID_ACCOUNTS")
          const borrowedMedia = yield* request(other, "POST", "/v1/posts/validate", {
            body: { content: { text: "x", media: [{ mediaId: media.body.id }] }, destinations: [] }
          })
          assert.strictEqual(borrowedMedia.status, 400)
          assert.strictEqual(errorCode(borrowedMedia), "INVALID_MEDIA")
          // A stored thumbnail is another way to name a medium: refused the same way.
          const borrowedThumbnail = yield* request(other, "POST", "/v1/posts/validate", {
            body: {
              content: {
                media: [{
                  kind: "video",
                  mimeType: "video/mp4",
                  sizeBytes: 1000,
                  source: { _tag: "url", url: "https://cdn.example.com/v.mp4" },
                  thumbnail: { source: { _tag: "stored", mediaId: media.body.id }, mimeType: "image/png" }
                }]
              },
              destinations: []
            }
          })
          assert.strictEqual(borrowedThumbnail.status, 400)
          assert.strictEqual(errorCode(borrowedThumbnail), "INVALID_MEDIA")
          // The owner still sees everything.
          assert.strictEqual((yield* request(api, "GET", `/v1/posts/${post.body.id}`)).status, 200)
        }))

      it.effect("idempotency: a repeat returns the first response; a different body is IDEMPOTENCY_CONFLICT", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const body = { content: { text: "once" }, destinations: [{ accountId }], status: "draft" }
          const headers = { "idempotency-key": `idem-${Math.random()}` }
          const first = yield* request(api, "POST", "/v1/posts", { body, headers })
          assert.strictEqual(first.status, 201)
          const second = yield* request(api, "POST", "/v1/posts", { body, headers })
          assert.strictEqual(second.status, 201)
          assert.strictEqual(second.body.id, first.body.id)
          assert.strictEqual(second.headers.get("idempotent-replayed"), "true")
          const list = yield* request(api, "GET", "/v1/posts?status=draft&limit=100")
          assert.strictEqual(list.body.data.filter((p: any) => p.content.text === "once").length, 1)
          const conflict = yield* request(api, "POST", "/v1/posts", {
            body: { ...body, content: { text: "twice" } },
            headers
          })
          assert.strictEqual(conflict.status, 409)
          assert.strictEqual(errorCode(conflict), "IDEMPOTENCY_CONFLICT")
          // A failed request is not stored: the same key can carry the corrected request.
          const retryKey = { "idempotency-key": `idem-${Math.random()}` }
          const invalid = yield* request(api, "POST", "/v1/posts", { body: { content: 1 }, headers: retryKey })
          assert.strictEqual(invalid.status, 400)
          const corrected = yield* request(api, "POST", "/v1/posts", { body, headers: retryKey })
          assert.strictEqual(corrected.status, 201)
          // Uploads too: the repeat is answered from the first, without storing the file twice.
          const uploadKey = { "idempotency-key": `idem-upload-${Math.random()}`, "content-type": "application/octet-stream" }
          const firstUpload = yield* request(api, "POST", "/v1/media", { raw: png1x1, headers: uploadKey })
          const secondUpload = yield* request(api, "POST", "/v1/media", { raw: png1x1, headers: uploadKey })
          assert.strictEqual(firstUpload.status, 201)
          assert.strictEqual(secondUpload.body.id, firstUpload.body.id)
          assert.strictEqual(secondUpload.headers.get("idempotent-replayed"), "true")
          // Keys are per organization.
          const other = yield* otherTenant(api)
          const elsewhere = yield* request(other, "POST", "/v1/keys", { body: { name: "k" }, headers })
          assert.strictEqual(elsewhere.status, 201)
        }))

      it.effect("rate limits per key: 429 RATE_LIMITED with Retry-After", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const limited = yield* request(api, "POST", "/v1/keys", { body: { name: "slow", rateLimitPerMinute: 2 } })
          const key = limited.body.key as string
          assert.strictEqual((yield* request(api, "GET", "/v1/posts", { key })).status, 200)
          assert.strictEqual((yield* request(api, "GET", "/v1/posts", { key })).status, 200)
          const third = yield* request(api, "GET", "/v1/posts", { key })
          assert.strictEqual(third.status, 429)
          assert.strictEqual(errorCode(third), "RATE_LIMITED")
          const retryAfter = Number(third.headers.get("retry-after"))
          assert.isAtLeast(retryAfter, 1)
          assert.isAtMost(retryAfter, 30)
          assert.strictEqual(third.body.error.details.retryAfterSeconds, retryAfter)
          // Another key is not affected.
          assert.strictEqual((yield* request(api, "GET", "/v1/posts")).status, 200)
        }))

      it.effect("unknown routes and malformed JSON answer in the error shape", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const none = yield* request(api, "GET", "/v1/nope")
          assert.strictEqual(none.status, 404)
          assert.strictEqual(errorCode(none), "NOT_FOUND")
          const malformed = yield* request(api, "POST", "/v1/posts", { body: "{not json" })
          assert.strictEqual(malformed.status, 400)
          assert.strictEqual(errorCode(malformed), "VALIDATION_FAILED")
          const malformedKeys = yield* request(api, "POST", "/v1/keys", { body: "{not json" })
          assert.strictEqual(malformedKeys.status, 400)
          assert.strictEqual(errorCode(malformedKeys), "VALIDATION_FAILED")
        }))
    })
  })
}

describe("HTTP API: arbitrary bodies (pglite)", () => {
  layer(apiLayer("pglite"), { timeout: 180_000, excludeTestServices: true })((it) => {
    it.effect("no JSON body, however odd, gets a 500; every error has the error shape", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const accountId = yield* connectBluesky(api)
        const draft = yield* request(api, "POST", "/v1/posts", {
          body: { content: { text: "target" }, destinations: [{ accountId }], status: "draft" }
        })
        const targets: ReadonlyArray<readonly [string, string]> = [
          ["POST", "/v1/posts"],
          ["POST", "/v1/posts/validate"],
          ["PATCH", `/v1/posts/${draft.body.id}`],
          ["POST", `/v1/posts/${draft.body.id}/retry`],
          ["POST", "/v1/accounts"],
          ["POST", "/v1/keys"],
          ["POST", "/v1/webhooks"],
          ["POST", "/v1/accounts/oauth/x/start"]
        ]
        // Bodies that look like posts reach deeper than random JSON does.
        const postLike = fc.record({
          content: fc.oneof(fc.record({ text: fc.oneof(fc.string(), fc.integer()) }, { requiredKeys: [] }), fc.jsonValue()),
          destinations: fc.oneof(
            fc.array(fc.record({ accountId: fc.oneof(fc.constant(accountId), fc.string()), platform: fc.string() }, {
              requiredKeys: []
            })),
            fc.jsonValue()
          ),
          scheduledAt: fc.oneof(fc.string(), fc.date({ noInvalidDate: true }).map((d) => d.toISOString())),
          timezone: fc.string(),
          status: fc.string()
        }, { requiredKeys: [] })
        const body = fc.oneof(fc.jsonValue(), postLike)
        yield* Effect.promise(() =>
          fc.assert(
            fc.asyncProperty(fc.constantFrom(...targets), body, async ([method, path], value) => {
              const response = await fetch(`${api.url}${path}`, {
                method,
                headers: { authorization: `Bearer ${api.key}`, "content-type": "application/json" },
                body: JSON.stringify(value)
              })
              const text = await response.text()
              if (response.status >= 500) throw new Error(`${method} ${path} answered ${response.status}: ${text}`)
              if (response.status >= 400) {
                const parsed = JSON.parse(text)
                if (typeof parsed?.error?.code !== "string" || typeof parsed?.error?.message !== "string") {
                  throw new Error(`${method} ${path}: not the error shape: ${text}`)
                }
                if (parsed.error.code === "INTERNAL_ERROR") throw new Error(`INTERNAL_ERROR for ${JSON.stringify(value)}`)
              }
            }),
            { numRuns: 300 }
          )
        )
        // Not JSON at all.
        const garbage = yield* request(api, "POST", "/v1/posts", { body: "\u0000\u0001{{{" })
        assert.strictEqual(garbage.status, 400)
        assert.strictEqual(errorCode(garbage), "VALIDATION_FAILED")
      }))
  })
})

describe("readiness without a scheduler (pglite)", () => {
  layer(apiLayer("pglite", { overdueThresholdSeconds: 0 }, { scheduler: false }), {
    timeout: 180_000,
    excludeTestServices: true
  })((it) => {
    it.effect("/readyz is 503: no scheduler alive, and due work shows as overdue instead of silently queued", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const idle = yield* request(api, "GET", "/readyz", { key: null })
        assert.strictEqual(idle.status, 503)
        assert.isFalse(idle.body.scheduler.alive)
        assert.strictEqual(idle.body.overdue.count, 0)
        const accountId = yield* connectBluesky(api)
        const created = yield* request(api, "POST", "/v1/posts", {
          body: { content: { text: "nobody will publish this" }, destinations: [{ accountId }] }
        })
        assert.strictEqual(created.status, 201)
        const stuck = yield* waitFor(
          Effect.map(request(api, "GET", "/readyz", { key: null }), (r) => r.body.overdue.count > 0 ? r : undefined),
          10_000,
          "the post to be overdue"
        )
        assert.strictEqual(stuck.status, 503)
        assert.strictEqual(stuck.body.status, "degraded")
        assert.strictEqual(stuck.body.overdue.count, 1)
        assert.isString(stuck.body.overdue.oldestDueAt)
        const post = yield* request(api, "GET", `/v1/posts/${created.body.id}`)
        assert.strictEqual(post.body.destinations[0].status, "queued")
      }))
  })
})
