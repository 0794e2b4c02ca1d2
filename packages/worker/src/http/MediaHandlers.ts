/**
 * `/v1/media`: uploads stream into media storage (raw body or a multipart
 * `file` part), and the public, signed `GET /media/:id` serves the bytes.
 */
import { Effect, Option, Stream } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse, type Multipart } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { MediaLibrary } from "../MediaLibrary.js"
import { MediaStorage } from "../MediaStorage.js"
import { OmnipostApi, Principal } from "./Api.js"
import * as Errors from "./Errors.js"
import * as Models from "./Models.js"

const malformed = (message: string) => Errors.make(Errors.ValidationFailed, message)

/** The parts a multipart upload may have, from its schema. */
const uploadParts = Object.keys(Models.MediaUpload.fields)

/** The bytes and declared type of an upload request, without reading it. */
const uploadSource = (request: HttpServerRequest.HttpServerRequest, fileName: string | undefined) => {
  const contentType = request.headers["content-type"] ?? ""
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    return Effect.succeed({
      content: request.stream.pipe(Stream.mapError(() => malformed("the upload was interrupted or malformed"))),
      declaredType: contentType,
      fileName
    })
  }
  // The first part must be the `file` part: any other part before it is refused, the rest are never read.
  return request.multipartStream.pipe(
    Stream.mapError((error) =>
      error.reason._tag === "FileTooLarge" || error.reason._tag === "BodyTooLarge"
        ? Errors.make(Errors.PayloadTooLarge, error.message)
        : malformed(`the multipart body is malformed: ${error.message}`)
    ),
    Stream.mapEffect((part): Effect.Effect<Multipart.File, Errors.ValidationFailed | Errors.UnknownField> =>
      !uploadParts.includes(part.key)
        ? Effect.fail(Errors.unknownFields(["payload"], [part.key], uploadParts))
        : part._tag === "File"
        ? Effect.succeed(part)
        : Effect.fail(Errors.make(Errors.ValidationFailed, "the `file` part is a file, not a text field", {
          issues: [{ path: ["payload", part.key], message: "not a file" }]
        }))
    ),
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
      .handleRaw("upload", ({ query, request }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const source = yield* uploadSource(request, query.fileName)
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

