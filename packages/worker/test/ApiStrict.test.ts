/**
 * The API refuses what it does not understand: unknown fields in bodies,
 * multipart parts and query strings (each named, with the field probably
 * meant), query values that do not decode, impossible dates, schedules in
 * the past. Every answer is a 4xx in the error shape, never a 500, and a
 * refused request changes nothing.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Limits } from "@omnipost/core"
import { Effect } from "effect"
import { testKinds } from "./fixtures.js"
import { type Answer, type ApiServer, apiLayer, errorCode, png1x1, request, TestApi, connectBluesky } from "./apiHarness.js"

interface Issue {
  readonly path: ReadonlyArray<string | number>
  readonly code?: string
  readonly message: string
  readonly suggestions?: ReadonlyArray<string>
}

const issuesOf = (answer: Answer): ReadonlyArray<Issue> => answer.body?.error?.details?.issues ?? []

/** A 400 naming exactly these unknown fields (path → suggestions). */
const assertUnknownFields = (
  answer: Answer,
  expected: ReadonlyArray<readonly [ReadonlyArray<string | number>, ReadonlyArray<string>]>
) => {
  assert.strictEqual(answer.status, 400, JSON.stringify(answer.body))
  assert.strictEqual(errorCode(answer), "UNKNOWN_FIELD", JSON.stringify(answer.body))
  const unknown = issuesOf(answer).filter((issue) => issue.code === "UNKNOWN_FIELD")
  assert.deepStrictEqual(
    unknown.map((issue) => [issue.path, issue.suggestions ?? []]),
    expected.map(([path, suggestions]) => [path, suggestions]),
    JSON.stringify(answer.body)
  )
  for (const [path] of expected) assert.include(answer.body.error.message, String(path[path.length - 1]))
}

const multipart = (api: ApiServer, path: string, form: FormData) =>
  Effect.promise(async () => {
    const response = await fetch(`${api.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.key}` },
      body: form
    })
    const text = await response.text()
    return { status: response.status, headers: response.headers, body: text === "" ? undefined : JSON.parse(text) } as Answer
  })

for (const kind of testKinds) {
  describe(`HTTP API strict input (${kind})`, () => {
    layer(apiLayer(kind), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("POST /v1/posts: unknown fields are refused with their paths and the field probably meant; nothing is stored", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const before = (yield* request(api, "GET", "/v1/posts?limit=100")).body.data.length
          const answer = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "hello", linkUrl: "https://example.com" },
              destinations: [{ accountId, scheduledFor: "2030-01-01T00:00:00Z" }],
              scheduled_at: "2030-12-15T14:00:00Z"
            }
          })
          assertUnknownFields(answer, [
            [["payload", "scheduled_at"], ["scheduledAt", "schedule"]],
            [["payload", "content", "linkUrl"], ["link"]],
            [["payload", "destinations", 0, "scheduledFor"], []]
          ])
          assert.include(answer.body.error.message, "did you mean")
          const top = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "hello" }, destinations: [{ accountId }], scheduledFor: "2030-12-15T14:00:00Z" }
          })
          assertUnknownFields(top, [[["payload", "scheduledFor"], ["schedule", "scheduledAt"]]])
          // Deep inside a union (media by id or described in full) and a schedule.
          const deep = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "hello", media: [{ mediaId: "med_x", alt_text: "a cat" }] },
              destinations: [{ accountId }],
              schedule: { _tag: "instant", at: "2030-01-01T00:00:00Z", timezone: "UTC" }
            }
          })
          assertUnknownFields(deep, [
            [["payload", "content", "media", 0, "alt_text"], ["altText"]],
            [["payload", "schedule", "timezone"], []]
          ])
          // The validate endpoint too.
          const dry = yield* request(api, "POST", "/v1/posts/validate", {
            body: { content: { text: "hello" }, destinations: [{ accountId }], scheduled_at: "2030-12-15T14:00:00Z" }
          })
          assertUnknownFields(dry, [[["payload", "scheduled_at"], ["scheduledAt", "schedule"]]])
          // Nothing was published or stored.
          assert.strictEqual((yield* request(api, "GET", "/v1/posts?limit=100")).body.data.length, before)
          // Unknown fields beside other problems: every problem is listed, the code is the general one.
          const mixed = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: 5 }, destinations: [{ accountId }], scheduled_at: "x" }
          })
          assert.strictEqual(mixed.status, 400)
          assert.strictEqual(errorCode(mixed), "VALIDATION_FAILED")
          assert.deepStrictEqual(issuesOf(mixed).map((i) => [i.path, i.code ?? null]), [
            [["payload", "scheduled_at"], "UNKNOWN_FIELD"],
            [["payload", "content", "text"], null]
          ])
        }))

      it.effect("PATCH /v1/posts/:id with only an unknown field is a 400 and changes nothing", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const draft = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "draft" }, destinations: [{ accountId }], status: "draft", scheduledAt: "2031-01-01T09:00:00Z" }
          })
          assert.strictEqual(draft.status, 201, JSON.stringify(draft.body))
          const patched = yield* request(api, "PATCH", `/v1/posts/${draft.body.id}`, {
            body: { scheduled_at: "2031-06-01T09:00:00Z" }
          })
          assertUnknownFields(patched, [[["payload", "scheduled_at"], ["scheduledAt", "schedule"]]])
          const nested = yield* request(api, "PATCH", `/v1/posts/${draft.body.id}`, {
            body: { content: { text: "new", linkUrl: "https://example.com" } }
          })
          assertUnknownFields(nested, [[["payload", "content", "linkUrl"], ["link"]]])
          const after = yield* request(api, "GET", `/v1/posts/${draft.body.id}`)
          assert.strictEqual(after.body.scheduledAt, "2031-01-01T09:00:00.000Z")
          assert.strictEqual(after.body.content.text, "draft")
          assert.strictEqual(after.body.updatedAt, draft.body.updatedAt)
        }))

      it.effect("every other body refuses unknown fields: accounts, credentials, OAuth start, keys, webhooks, retry", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          assertUnknownFields(
            yield* request(api, "POST", "/v1/accounts", {
              body: { platform: "bluesky", credentials: api.bluesky.credentials(), userName: "alice" }
            }),
            [[["payload", "userName"], ["username"]]]
          )
          assertUnknownFields(
            yield* request(api, "POST", "/v1/accounts", {
              body: { platform: "bluesky", credentials: { ...api.bluesky.credentials(), app_password: "x" } }
            }),
            [[["payload", "credentials", "app_password"], ["appPassword"]]]
          )
          assertUnknownFields(
            yield* request(api, "POST", "/v1/accounts/oauth/x/start", { body: { redirect_uri: "https://example.com/cb" } }),
            [[["payload", "redirect_uri"], ["redirectUri"]]]
          )
          assertUnknownFields(
            yield* request(api, "POST", "/v1/keys", { body: { name: "k", rateLimit: 10 } }),
            [[["payload", "rateLimit"], ["rateLimitPerMinute"]]]
          )
          assertUnknownFields(
            yield* request(api, "POST", "/v1/webhooks", {
              body: { url: "https://example.com/hook", secret: "s".repeat(32), events: ["post.published"], event: "post.failed" }
            }),
            [[["payload", "event"], ["events"]]]
          )
          const accountId = yield* connectBluesky(api)
          const draft = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "x" }, destinations: [{ accountId }], status: "draft" }
          })
          assertUnknownFields(
            yield* request(api, "POST", `/v1/posts/${draft.body.id}/retry`, { body: { platform: ["bluesky"] } }),
            [[["payload", "platform"], ["platforms"]]]
          )
        }))

      it.effect("query strings: unknown parameters are refused on every endpoint; the OAuth callback takes what platforms add", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          assertUnknownFields(yield* request(api, "GET", "/v1/posts?statuss=draft"), [[["query", "statuss"], ["status"]]])
          assertUnknownFields(yield* request(api, "GET", "/v1/posts?limit=5&page=2"), [[["query", "page"], []]])
          assertUnknownFields(yield* request(api, "GET", "/v1/accounts?platfrom=x"), [[["query", "platfrom"], ["platform"]]])
          assertUnknownFields(yield* request(api, "GET", "/v1/keys?all=true"), [[["query", "all"], []]])
          assertUnknownFields(yield* request(api, "GET", "/v1/webhooks?active=true"), [[["query", "active"], []]])
          assertUnknownFields(yield* request(api, "GET", "/v1/posts/post_x?expand=attempts"), [[["query", "expand"], []]])
          assertUnknownFields(yield* request(api, "DELETE", "/v1/media/med_x?force=true"), [[["query", "force"], []]])
          assertUnknownFields(
            yield* request(api, "POST", "/v1/media?filename=a.png", { raw: png1x1, headers: { "content-type": "image/png" } }),
            [[["query", "filename"], ["fileName"]]]
          )
          const hook = yield* request(api, "POST", "/v1/webhooks", {
            body: { url: "https://example.com/hook", secret: "s".repeat(32), events: ["post.published"] }
          })
          assertUnknownFields(
            yield* request(api, "GET", `/v1/webhooks/${hook.body.id}/deliveries?limt=3`),
            [[["query", "limt"], ["limit"]]]
          )
          // The documented parameters still work.
          assert.strictEqual((yield* request(api, "GET", "/v1/posts?status=draft&limit=5")).status, 200)
          const upload = yield* request(api, "POST", "/v1/media?fileName=a.png", { raw: png1x1, headers: { "content-type": "image/png" } })
          assert.strictEqual(upload.status, 201, JSON.stringify(upload.body))
          assert.strictEqual(upload.body.fileName, "a.png")
          // Platforms add parameters of their own to the redirect (RFC 9207's iss, scope): the state decides.
          const callback = yield* request(api, "GET", "/v1/accounts/oauth/x/callback?code=c&state=unknown&scope=tweet.read&iss=https%3A%2F%2Fx.com", { key: null })
          assert.strictEqual(callback.status, 400)
          assert.strictEqual(errorCode(callback), "VALIDATION_FAILED")
          assert.include(callback.body.error.message, "state")
        }))

      it.effect("multipart parts: an unknown part is refused, naming it, and no file it carried is kept", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const mediaBefore = api.dataDir
          const post = JSON.stringify({ content: { text: "multipart" }, destinations: [{ accountId }], status: "draft" })
          const wrongField = new FormData()
          wrongField.append("postt", post)
          assertUnknownFields(yield* multipart(api, "/v1/posts", wrongField), [[["payload", "postt"], ["post"]]])
          const wrongFile = new FormData()
          wrongFile.append("post", post)
          wrongFile.append("file", new Blob([png1x1], { type: "image/png" }), "a.png")
          assertUnknownFields(yield* multipart(api, "/v1/posts", wrongFile), [[["payload", "file"], ["files"]]])
          const unknownInPost = new FormData()
          unknownInPost.append("post", JSON.stringify({ content: { text: "x" }, destinations: [{ accountId }], scheduled_at: "x" }))
          assertUnknownFields(yield* multipart(api, "/v1/posts", unknownInPost), [[["payload", "post", "scheduled_at"], ["scheduledAt", "schedule"]]])
          const mediaField = new FormData()
          mediaField.append("fileName", "a.png")
          mediaField.append("file", new Blob([png1x1], { type: "image/png" }), "a.png")
          assertUnknownFields(yield* multipart(api, "/v1/media", mediaField), [[["payload", "fileName"], ["file"]]])
          const mediaFiles = new FormData()
          mediaFiles.append("files", new Blob([png1x1], { type: "image/png" }), "a.png")
          assertUnknownFields(yield* multipart(api, "/v1/media", mediaFiles), [[["payload", "files"], ["file"]]])
          // The documented parts work.
          const good = new FormData()
          good.append("post", post)
          good.append("files", new Blob([png1x1], { type: "image/png" }), "a.png")
          const created = yield* multipart(api, "/v1/posts", good)
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          assert.strictEqual(created.body.content.media.length, 1)
          assert.isString(mediaBefore)
        }))

      it.effect("GET /v1/posts: from, to and cursor are decoded; a bad value is a 400 naming the parameter, never a 500", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          for (const query of ["from=yesterday", "to=garbage", "from=2026-13-45", "from=1700000000", "from=2027-02-30T10:00:00Z", "to=2026-01-01"]) {
            const answer = yield* request(api, "GET", `/v1/posts?${query}`)
            assert.strictEqual(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(errorCode(answer), "VALIDATION_FAILED")
            assert.deepStrictEqual(issuesOf(answer).map((i) => i.path), [["query", query.split("=")[0]!]], query)
          }
          for (const query of ["limit=0", "limit=abc", "limit=101", "status=sent", "type=video", "cursor=garbage", "cursor=", "from="]) {
            const answer = yield* request(api, "GET", `/v1/posts?${query}`)
            assert.strictEqual(answer.status, 400, `${query}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(errorCode(answer), "VALIDATION_FAILED", query)
          }
          const ok = yield* request(api, "GET", "/v1/posts?from=2026-01-01T00:00:00Z&to=2099-01-01T00:00:00%2B02:00")
          assert.strictEqual(ok.status, 200, JSON.stringify(ok.body))
          const limit = yield* request(api, "GET", "/v1/webhooks/wh_x/deliveries?limit=many")
          assert.strictEqual(limit.status, 400)
          assert.strictEqual(errorCode(limit), "VALIDATION_FAILED")
        }))

      it.effect("impossible dates are refused, not rolled over; a non-date says it is not ISO 8601", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const bodies: ReadonlyArray<Record<string, unknown>> = [
            { scheduledAt: "2027-02-30T10:00:00Z" },
            { scheduledAt: "2027-04-31T10:00:00+02:00" },
            { scheduledAt: "2027-02-30T10:00", timezone: "Europe/Paris" },
            { schedule: { _tag: "instant", at: "2027-02-30T10:00:00Z" } },
            { schedule: { _tag: "local", localTime: "2027-04-31T10:00", timeZone: "Europe/Paris" } }
          ]
          for (const when of bodies) {
            const answer = yield* request(api, "POST", "/v1/posts", {
              body: { content: { text: "when?" }, destinations: [{ accountId }], ...when }
            })
            assert.strictEqual(answer.status, 400, `${JSON.stringify(when)}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(errorCode(answer), "VALIDATION_FAILED")
            assert.include(answer.body.error.message, "is not a real date-time", JSON.stringify(when))
          }
          const words = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "when?" }, destinations: [{ accountId }], scheduledAt: "next tuesday" }
          })
          assert.strictEqual(words.status, 400)
          assert.include(words.body.error.message, "is not an ISO 8601 date-time")
          assert.notInclude(words.body.error.message, "has no offset")
          assert.deepStrictEqual(issuesOf(words).map((i) => [i.code, i.path]), [["INVALID_SCHEDULE", ["scheduledAt"]]])
          // Both forms at once: which one was meant is not guessed.
          const both = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "when?" },
              destinations: [{ accountId }],
              scheduledAt: "2031-01-01T09:00:00Z",
              schedule: { _tag: "instant", at: "2031-02-01T09:00:00Z" }
            }
          })
          assert.strictEqual(both.status, 400)
          // A PATCH is checked the same way.
          const draft = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "draft" }, destinations: [{ accountId }], status: "draft" }
          })
          const patched = yield* request(api, "PATCH", `/v1/posts/${draft.body.id}`, { body: { scheduledAt: "2027-02-30T10:00:00Z" } })
          assert.strictEqual(patched.status, 400)
          assert.include(patched.body.error.message, "is not a real date-time")
        }))

      it.effect("a schedule more than a minute in the past is SCHEDULE_IN_PAST; none, \"now\" or seconds ago mean now", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const post = (when: Record<string, unknown>) =>
            request(api, "POST", "/v1/posts", { body: { content: { text: `when ${JSON.stringify(when)}` }, destinations: [{ accountId }], ...when } })
          const hourAgo = new Date(Date.now() - 3_600_000)
          for (
            const when of [
              { scheduledAt: hourAgo.toISOString() },
              { schedule: { _tag: "instant", at: hourAgo.toISOString() } },
              { scheduledAt: hourAgo.toISOString().slice(0, 16), timezone: "UTC" },
              { scheduledAt: hourAgo.toISOString(), status: "draft" }
            ]
          ) {
            const answer = yield* post(when)
            assert.strictEqual(answer.status, 400, JSON.stringify(answer.body))
            assert.strictEqual(errorCode(answer), "VALIDATION_FAILED")
            assert.deepStrictEqual(issuesOf(answer).map((i) => i.code), ["SCHEDULE_IN_PAST"], JSON.stringify(when))
          }
          for (const when of [{}, { scheduledAt: "now" }, { scheduledAt: new Date(Date.now() - 20_000).toISOString() }]) {
            const answer = yield* post(when)
            assert.strictEqual(answer.status, 201, `${JSON.stringify(when)}: ${JSON.stringify(answer.body)}`)
            assert.isAtMost(Date.parse(answer.body.scheduledAt), Date.now())
          }
          const draft = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "draft" }, destinations: [{ accountId }], status: "draft" }
          })
          const past = yield* request(api, "PATCH", `/v1/posts/${draft.body.id}`, { body: { scheduledAt: hourAgo.toISOString() } })
          assert.strictEqual(past.status, 400)
          assert.deepStrictEqual(issuesOf(past).map((i) => i.code), ["SCHEDULE_IN_PAST"])
          // The dry run says so too.
          const dry = yield* request(api, "POST", "/v1/posts/validate", {
            body: { content: { text: "x" }, destinations: [{ accountId }], scheduledAt: hourAgo.toISOString() }
          })
          assert.strictEqual(dry.status, 200)
          assert.deepStrictEqual(dry.body.issues.map((i: Issue) => i.code), ["SCHEDULE_IN_PAST"])
        }))

      it.effect("bounded input: a text over 100,000 characters, 101 destinations or 101 thread parts is a 400 naming the field; the bounds are in the OpenAPI document", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const cases: ReadonlyArray<readonly [unknown, ReadonlyArray<string | number>]> = [
            [{ content: { text: "a".repeat(Limits.maxTextLength + 1) }, destinations: [{ accountId }] }, ["payload", "content", "text"]],
            [{ content: { text: "hi" }, destinations: Array.from({ length: Limits.maxDestinations + 1 }, () => ({ accountId })) }, ["payload", "destinations"]],
            [{ content: { text: "hi", thread: Array.from({ length: Limits.maxThreadParts + 1 }, () => ({ text: "more" })) }, destinations: [{ accountId }] }, ["payload", "content", "thread"]]
          ]
          for (const [body, path] of cases) {
            const answer = yield* request(api, "POST", "/v1/posts", { body })
            assert.strictEqual(answer.status, 400, JSON.stringify(answer.body).slice(0, 300))
            assert.strictEqual(errorCode(answer), "VALIDATION_FAILED")
            assert.deepStrictEqual(issuesOf(answer).map((issue) => issue.path), [path])
          }
          // All the post's texts together: each within its own bound, too much in all.
          const total = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "a".repeat(Limits.maxTextLength), thread: [{ text: "b".repeat(Limits.maxTextLength) }, { text: "c" }] },
              destinations: [{ accountId }]
            }
          })
          assert.strictEqual(total.status, 400, JSON.stringify(total.body).slice(0, 300))
          assert.include(JSON.stringify(total.body), "characters of text in all")
          const openapi = yield* request(api, "GET", "/openapi.json", { key: null })
          const schemas = JSON.stringify(openapi.body)
          assert.include(schemas, `"maxLength":${Limits.maxTextLength}`)
          assert.include(schemas, `"maxItems":${Limits.maxDestinations}`)
        }))

      it.effect("the OpenAPI document says what the server does: no additional properties, dates as date-times", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const doc = (yield* request(api, "GET", "/openapi.json", { key: null })).body
          const text = JSON.stringify(doc)
          assert.notInclude(text, "\"additionalProperties\":true")
          const list = doc.paths["/v1/posts"].get.parameters as ReadonlyArray<{ name: string; schema: any }>
          const from = list.find((p) => p.name === "from")!
          assert.strictEqual(from.schema.format, "date-time")
          const responses = doc.paths["/v1/posts"].post.responses["400"]
          assert.include(JSON.stringify(responses), "UNKNOWN_FIELD")
        }))
    })
  })
}
