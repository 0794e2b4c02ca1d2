/**
 * `/v1/posts`: a thin layer over `PostStore` (storage, lifecycle) and core
 * (validation). Creating accepts JSON or multipart (a `post` JSON field plus
 * files streamed to media storage and appended to `content.media`).
 */
import type { Post } from "@omnipost/core"
import { Effect, Option, Schema, Stream } from "effect"
import type { HttpServerRequest } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { MediaLibrary } from "../storage/MediaLibrary.js"
import { type AttemptRecord, decodePostRead, PostStore, type StoredPost } from "../storage/PostStore.js"
import { Admission } from "./Admission.js"
import { CreatePostMultipart, OmnipostApi, Principal } from "./Api.js"
import * as Errors from "../Errors.js"
import * as Models from "./Models.js"
import { pageRequest } from "./Paging.js"
import {
  type AccountLookup,
  PublisherRegistry,
  resolveContent,
  resolveDestinations,
  resolveOverrides,
  scheduleFrom,
  validate,
  validationFailed
} from "./PostInput.js"

export const toPostView = (post: StoredPost, attempts?: ReadonlyArray<AttemptRecord>): Models.PostView => ({
  id: post.id,
  status: post.status,
  content: post.content,
  destinations: post.destinations.map((d): Models.DestinationView => ({
    id: d.id,
    platform: d.platform,
    accountId: d.accountId,
    ...(d.placement !== undefined ? { placement: d.placement } : {}),
    ...(Object.keys(d.settings).length > 0 ? { settings: d.settings } : {}),
    ...(d.override !== undefined ? { override: d.override } : {}),
    status: d.status,
    attempts: d.attempts,
    ...(d.platformPostId !== undefined ? { platformPostId: d.platformPostId } : {}),
    ...(d.url !== undefined ? { url: d.url } : {}),
    ...(d.publishedAt !== undefined ? { publishedAt: d.publishedAt } : {}),
    ...(d.parts !== undefined && d.parts.length > 0 ? { parts: d.parts } : {}),
    ...(d.nextRetryAt !== undefined ? { nextRetryAt: d.nextRetryAt } : {}),
    ...(d.dueAt !== undefined ? { dueAt: d.dueAt } : {}),
    ...(d.lastError !== undefined ? { lastError: d.lastError } : {}),
    ...(d.comment !== undefined ? { comment: d.comment } : {}),
    ...(attempts !== undefined
      ? {
        attemptLog: attempts.filter((a) => a.destinationId === d.id).map((a) => ({
          id: a.id,
          number: a.number,
          workerId: a.workerId,
          startedAt: a.startedAt,
          ...(a.finishedAt !== undefined ? { finishedAt: a.finishedAt } : {}),
          ...(a.outcome !== undefined ? { outcome: a.outcome } : {}),
          ...(a.error !== undefined ? { error: a.error } : {}),
          ...(a.platformPostId !== undefined ? { platformPostId: a.platformPostId } : {}),
          ...(a.url !== undefined ? { url: a.url } : {})
        }))
      }
      : {})
  })),
  ...(post.platformOverrides !== undefined ? { platformOverrides: post.platformOverrides } : {}),
  ...(post.schedule !== undefined ? { schedule: post.schedule } : {}),
  ...(post.scheduledAt !== undefined ? { scheduledAt: post.scheduledAt } : {}),
  ...(post.timeZone !== undefined ? { timezone: post.timeZone } : {}),
  createdAt: post.createdAt,
  updatedAt: post.updatedAt,
  ...(post.publishedAt !== undefined ? { publishedAt: post.publishedAt } : {})
})

/** A body that does not match its schema, as `VALIDATION_FAILED` (or `UNKNOWN_FIELD`) with one issue per problem. */
export const schemaFailure = Errors.schemaFailure

// JSON's codec, as the framework decodes the other endpoints' bodies (null for an optional field is "absent", as documented).
const decodeCreatePostJson = Schema.decodeUnknownEffect(Schema.toCodecJson(Models.CreatePost))

const decodeCreatePost = (input: unknown, slot: ReadonlyArray<string>) =>
  decodeCreatePostJson(input, Errors.strictParseOptions).pipe(
    Effect.mapError((error) => schemaFailure(slot, error))
  )

const parseJson = (text: string, slot: ReadonlyArray<string>) =>
  Effect.try({
    try: () => JSON.parse(text) as unknown,
    catch: () =>
      Errors.make(Errors.ValidationFailed, `the ${slot.join(".")} is not valid JSON`, {
        issues: [{ path: slot, message: "not JSON" }]
      })
  })

/** The parts a multipart post may have, from its schema. */
const multipartParts = Object.keys(CreatePostMultipart.fields)

/** Reads a create-post request: JSON, or multipart with a `post` field and `files`. */
const readCreateRequest = Effect.fnUntraced(function*(request: HttpServerRequest.HttpServerRequest, organizationId: string) {
  const contentType = (request.headers["content-type"] ?? "").toLowerCase()
  if (!contentType.startsWith("multipart/form-data")) {
    const text = yield* request.text.pipe(
      Effect.mapError(() => Errors.make(Errors.ValidationFailed, "the body could not be read"))
    )
    const body = yield* decodeCreatePost(yield* parseJson(text, ["payload"]), ["payload"])
    return { body, uploaded: [] as ReadonlyArray<string> }
  }
  const library = yield* MediaLibrary
  let postJson: string | undefined
  const uploaded: Array<string> = []
  const wrongPart = (key: string, message: string) =>
    Errors.make(Errors.ValidationFailed, message, { issues: [{ path: ["payload", key], message }] })
  const read = request.multipartStream.pipe(
    Stream.mapError((error) =>
      error.reason._tag === "FileTooLarge" || error.reason._tag === "BodyTooLarge"
        ? Errors.make(Errors.PayloadTooLarge, error.message)
        : Errors.make(Errors.ValidationFailed, `the multipart body is malformed: ${error.message}`)
    ),
    Stream.runForEach((part) =>
      Effect.gen(function*() {
        // Checked as each part arrives: an unknown part is refused before any later file is stored.
        if (!multipartParts.includes(part.key)) return yield* Errors.unknownFields(["payload"], [part.key], multipartParts)
        if (part._tag === "Field") {
          if (part.key !== "post") return yield* wrongPart(part.key, `\`${part.key}\` parts are files`)
          if (postJson !== undefined) return yield* wrongPart("post", "a multipart post has one `post` field")
          postJson = part.value
          return
        }
        if (part.key !== "files") return yield* wrongPart(part.key, `\`${part.key}\` is a text field, not a file`)
        const record = yield* library.upload({
          organizationId,
          content: part.content.pipe(
            Stream.mapError((error) => Errors.make(Errors.ValidationFailed, `a file part is malformed: ${error.message}`))
          ),
          declaredType: part.contentType,
          fileName: part.name
        }).pipe(Effect.catchTags({ SqlError: Effect.die, StorageError: Effect.die }))
        uploaded.push(record.id)
      })
    )
  )
  const body = yield* Effect.gen(function*() {
    yield* read
    if (postJson === undefined) {
      return yield* Errors.make(Errors.ValidationFailed, "a multipart post needs a `post` field with the post as JSON", {
        issues: [{ path: ["payload", "post"], message: "missing" }]
      })
    }
    return yield* decodeCreatePost(yield* parseJson(postJson, ["payload", "post"]), ["payload", "post"])
  }).pipe(
    // A refused request keeps none of the files it carried.
    Effect.onError(() => Effect.forEach(uploaded, (id) => library.remove(organizationId, id).pipe(Effect.ignore), { discard: true }))
  )
  if (uploaded.length === 0) return { body, uploaded }
  return {
    body: {
      ...body,
      content: { ...body.content, media: [...(body.content.media ?? []), ...uploaded.map((mediaId) => ({ mediaId }))] }
    },
    uploaded
  }
})

/** A create body as core's `PostInput`, validated (accounts looked up by `lookup`). */
const toPostInput = Effect.fnUntraced(function*(organizationId: string, body: Models.CreatePost, lookup: AccountLookup = "get") {
  const content = yield* resolveContent(organizationId, body.content)
  const destinations = yield* resolveDestinations(organizationId, body.destinations, lookup)
  const platformOverrides = yield* resolveOverrides(organizationId, body.platformOverrides)
  const schedule = yield* scheduleFrom(body)
  const input: Post.PostInput = {
    content,
    destinations,
    ...(platformOverrides !== undefined ? { platformOverrides } : {}),
    ...(schedule !== undefined && schedule !== null ? { schedule } : {}),
    ...(body.status !== undefined ? { status: body.status } : {})
  }
  const registry = yield* PublisherRegistry
  return { input, result: yield* validate(registry, input) }
})

type StoreError =
  | { readonly _tag: "PostNotFound"; readonly message: string; readonly postId: string }
  | { readonly _tag: "InvalidAccounts"; readonly message: string; readonly accountIds: ReadonlyArray<string> }
  | { readonly _tag: "InvalidSchedule"; readonly message: string; readonly reason: string }
  | { readonly _tag: "InvalidStatusTransition"; readonly message: string; readonly from: string; readonly to: string }
  | { readonly _tag: "SqlError" }

/** The API error for each store error (a database failure is a defect: 500). */
type ApiErrorOf<E> = E extends { readonly _tag: "PostNotFound" } ? Errors.PostNotFound
  : E extends { readonly _tag: "InvalidAccounts" } ? Errors.InvalidAccounts
  : E extends { readonly _tag: "InvalidSchedule" } ? Errors.ValidationFailed
  : E extends { readonly _tag: "InvalidStatusTransition" } ? Errors.InvalidStatusTransition
  : never

const apiErrorOf = (e: StoreError) => {
  switch (e._tag) {
    case "PostNotFound":
      return Effect.fail(Errors.make(Errors.PostNotFound, e.message, { postId: e.postId }))
    case "InvalidAccounts":
      return Effect.fail(Errors.make(Errors.InvalidAccounts, e.message, { accountIds: e.accountIds }))
    case "InvalidSchedule":
      return Effect.fail(Errors.make(Errors.ValidationFailed, e.message, {
        issues: [{ code: "INVALID_SCHEDULE", path: ["schedule"], message: e.message, reason: e.reason }]
      }))
    case "InvalidStatusTransition":
      return Effect.fail(Errors.make(Errors.InvalidStatusTransition, e.message, { from: e.from, to: e.to }))
    case "SqlError":
      return Effect.die(e)
  }
}

/** Runs a store operation with its errors turned into API errors. */
const fromStore = <A, E extends StoreError, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, ApiErrorOf<E>, R> =>
  effect.pipe(Effect.catch((e) => apiErrorOf(e) as Effect.Effect<never, ApiErrorOf<E>>))

export const PostsHandlers = HttpApiBuilder.group(OmnipostApi, "posts", (handlers) =>
  Effect.gen(function*() {
    const store = yield* PostStore
    const admission = yield* Admission
    /** The post with its attempts, read in the key gate's statement (the endpoints are `AdmitInRead`). */
    const admittedPost = (postId: string) =>
      admission.read(
        (organizationId) => store.getWithAttemptsQuery(organizationId, postId),
        (row) => decodePostRead(row, postId, true)
      )
    return handlers
      .handleRaw("create", ({ request }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const library = yield* MediaLibrary
          const { body, uploaded } = yield* readCreateRequest(request, organizationId)
          const validated = (lookup: AccountLookup) =>
            Effect.gen(function*() {
              const { input, result } = yield* toPostInput(organizationId, body, lookup)
              if (!result.valid) return yield* validationFailed(result.issues)
              return input
            })
          const post = yield* Effect.gen(function*() {
            // Validated with the accounts this process read lately, which the insert checks again: when it refuses
            // one (removed or disconnected by another process since), validation runs again on fresh reads and
            // says which account and why, as it would have.
            const first = yield* fromStore(store.create(organizationId, yield* validated("recall")).pipe(
              Effect.map(Option.some),
              Effect.catchTag("InvalidAccounts", () => Effect.succeedNone)
            ))
            if (Option.isSome(first)) return first.value
            return yield* fromStore(store.create(organizationId, yield* validated("get")))
          }).pipe(
            // The files of a refused multipart post are not kept.
            Effect.onError(() =>
              Effect.forEach(uploaded, (id) => library.remove(organizationId, id).pipe(Effect.ignore), { discard: true })
            )
          )
          return toPostView(post, [])
        }))
      .handle("validate", ({ payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const { result } = yield* toPostInput(organizationId, payload)
          return { valid: result.valid, issues: result.issues }
        }))
      .handle("list", ({ query }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const paging = yield* pageRequest(query, 20)
          const page = yield* store.list(organizationId, {
            status: query.status,
            platform: query.platform,
            from: query.from,
            to: query.to,
            ...paging
          }).pipe(Effect.catchTags({ InvalidCursor: (e) => Effect.fail(Errors.invalidCursor(e)), SqlError: Effect.die }))
          const items = query.type === undefined
            ? page.items
            : page.items.filter((post) => postType(post) === query.type)
          return {
            data: items.map((post) => toPostView(post)),
            ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
            ...(page.total !== undefined ? { total: page.total } : {})
          }
        }))
      .handle("get", ({ params }) =>
        Effect.gen(function*() {
          const { attempts, post } = yield* fromStore(admittedPost(params.id))
          return toPostView(post, attempts)
        }))
      .handle("results", ({ params }) =>
        Effect.gen(function*() {
          const { attempts, post } = yield* fromStore(admittedPost(params.id))
          const view = toPostView(post, attempts)
          return { postId: view.id, status: view.status, destinations: view.destinations, ...(view.publishedAt !== undefined ? { publishedAt: view.publishedAt } : {}) }
        }))
      .handle("update", ({ params, payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const current = yield* fromStore(store.get(organizationId, params.id))
          if (current.status !== "draft" && current.status !== "scheduled") {
            return yield* Errors.make(
              Errors.InvalidStatusTransition,
              `a ${current.status} post cannot be edited; only drafts and scheduled posts can`,
              { from: current.status }
            )
          }
          const content = payload.content === undefined ? undefined : yield* resolveContent(organizationId, payload.content)
          const destinations = payload.destinations === undefined
            ? undefined
            : yield* resolveDestinations(organizationId, payload.destinations)
          const platformOverrides = yield* resolveOverrides(organizationId, payload.platformOverrides)
          const schedule = yield* scheduleFrom(payload)
          // Validate the post as it will be after the update.
          const registry = yield* PublisherRegistry
          const merged: Post.PostInput = {
            content: content ?? current.content,
            destinations: destinations ?? current.destinations.map((d) => ({
              platform: d.platform,
              accountId: d.accountId,
              ...(d.placement !== undefined ? { placement: d.placement } : {}),
              settings: d.settings,
              ...(d.override !== undefined ? { override: d.override } : {})
            })),
            ...((platformOverrides ?? current.platformOverrides) !== undefined
              ? { platformOverrides: platformOverrides ?? current.platformOverrides! }
              : {}),
            ...(schedule === undefined
              ? current.schedule !== undefined ? { schedule: current.schedule } : {}
              : schedule === null
              ? {}
              : { schedule })
          }
          const result = yield* validate(registry, merged)
          // A schedule this request does not set was checked when it was set; only a new one can be in the past.
          const issues = schedule === undefined
            ? result.issues.filter((issue) => issue.code !== "SCHEDULE_IN_PAST")
            : result.issues
          if (issues.length > 0) return yield* validationFailed(issues)
          const post = yield* fromStore(store.update(organizationId, params.id, {
            content,
            destinations,
            platformOverrides,
            schedule,
            status: payload.status
          }))
          return toPostView(post)
        }))
      .handle("cancel", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const post = yield* fromStore(store.cancel(organizationId, params.id))
          return toPostView(post)
        }))
      .handle("publish", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const current = yield* fromStore(store.get(organizationId, params.id))
          const registry = yield* PublisherRegistry
          const result = yield* validate(registry, {
            content: current.content,
            destinations: current.destinations.map((d) => ({
              platform: d.platform,
              accountId: d.accountId,
              ...(d.placement !== undefined ? { placement: d.placement } : {}),
              settings: d.settings,
              ...(d.override !== undefined ? { override: d.override } : {})
            })),
            ...(current.platformOverrides !== undefined ? { platformOverrides: current.platformOverrides } : {})
          })
          if (!result.valid) return yield* validationFailed(result.issues)
          const post = yield* fromStore(store.publishNow(organizationId, params.id))
          return toPostView(post)
        }))
      .handle("retry", ({ params, payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const post = yield* fromStore(store.retry(organizationId, params.id, payload?.platforms))
          return toPostView(post)
        }))
      .handle("delete", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          yield* fromStore(store.remove(organizationId, params.id))
        }))
  }))

const postType = (post: StoredPost): "text" | "media" | "thread" =>
  (post.content.thread?.length ?? 0) > 0 ? "thread" : (post.content.media?.length ?? 0) > 0 ? "media" : "text"
