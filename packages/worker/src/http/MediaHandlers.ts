/**
 * `/v1/media`: uploads stream into media storage (raw body or a multipart
 * `file` part), and the public, signed `GET /media/:id` serves the bytes.
 */
import { Effect, Option, Stream } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { MediaLibrary } from "../MediaLibrary.js"
import { MediaStorage } from "../MediaStorage.js"
import { OmnipostApi, Principal } from "./Api.js"
import * as Errors from "./Errors.js"

const malformed = (message: string) => Errors.make(Errors.ValidationFailed, message)

/** The bytes and declared type of an upload request, without reading it. */
const uploadSource = (request: HttpServerRequest.HttpServerRequest) => {
  const contentType = request.headers["content-type"] ?? ""
  const url = new URL(request.url, "http://local")
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    return Effect.succeed({
      content: request.stream.pipe(Stream.mapError(() => malformed("the upload was interrupted or malformed"))),
      declaredType: contentType,
      fileName: url.searchParams.get("fileName") ?? undefined
    })
  }
  // The first file part is the upload; the parts before it are skipped, the rest never read.
  return request.multipartStream.pipe(
    Stream.mapError((error) =>
      error.reason._tag === "FileTooLarge" || error.reason._tag === "BodyTooLarge"
        ? Errors.make(Errors.PayloadTooLarge, error.message)
        : malformed(`the multipart body is malformed: ${error.message}`)
    ),
    Stream.filter((part) => part._tag === "File"),
    Stream.runHead,
    Effect.flatMap(Option.match({
      onNone: () =>
        Effect.fail(Errors.make(Errors.ValidationFailed, "the multipart body has no file part", {
          issues: [{ path: ["payload", "file"], message: "missing" }]
        })),
      onSome: (file) =>
        Effect.succeed({
          content: file.content.pipe(Stream.mapError((e) => malformed(`the file part is malformed: ${e.message}`))),
          declaredType: file.contentType,
          fileName: file.name
        })
    }))
  )
}

export const MediaHandlers = HttpApiBuilder.group(OmnipostApi, "media", (handlers) =>
  Effect.gen(function*() {
    const library = yield* MediaLibrary
    return handlers
      .handleRaw("upload", ({ request }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const source = yield* uploadSource(request)
          const record = yield* library.upload({ organizationId, ...source }).pipe(
            Effect.catchTags({ SqlError: Effect.die, StorageError: Effect.die })
          )
          return yield* library.view(record)
        }))
      .handle("get", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const record = yield* library.get(organizationId, params.id).pipe(Effect.orDie)
          if (Option.isNone(record)) return yield* Errors.make(Errors.MediaNotFound, `no media ${params.id}`)
          return yield* library.view(record.value)
        }))
      .handle("delete", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const removed = yield* library.remove(organizationId, params.id).pipe(Effect.orDie)
          if (!removed) return yield* Errors.make(Errors.MediaNotFound, `no media ${params.id}`)
        }))
  }))

/**
 * `GET /media/:id?expires=…&signature=…`: the file, for platforms that fetch
 * media by URL. No API key: the signature is the authorization.
 */
export const SignedMediaRoute = HttpRouter.add(
  "GET",
  "/media/:id",
  Effect.gen(function*() {
    const params = yield* HttpRouter.params
    const request = yield* HttpServerRequest.HttpServerRequest
    const url = new URL(request.url, "http://local")
    const library = yield* MediaLibrary
    const storage = yield* MediaStorage
    const record = yield* library.resolveSigned(
      params.id ?? "",
      url.searchParams.get("expires") ?? undefined,
      url.searchParams.get("signature") ?? undefined
    ).pipe(Effect.orDie)
    if (Option.isNone(record)) {
      return HttpServerResponse.jsonUnsafe(
        Errors.errorJson("FORBIDDEN", "this media URL is invalid or has expired; ask the API for a fresh one"),
        { status: 403 }
      )
    }
    return HttpServerResponse.stream(storage.read(record.value.storageKey), {
      contentType: record.value.mimeType,
      contentLength: record.value.sizeBytes,
      headers: { "cache-control": "private, max-age=300" }
    })
  })
)

