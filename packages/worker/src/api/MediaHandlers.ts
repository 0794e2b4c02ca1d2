/**
 * `/v1/media`: uploads stream into media storage (raw body, a multipart
 * `file` part, or the file at a URL fetched through the URL guard), and the
 * public, signed `GET /media/:id` serves the bytes.
 */
import { MediaSource, UrlGuard } from "../internal/platformKit.js"
import { Effect, Option, Stream } from "effect"
import { HttpClient, HttpRouter, HttpServerRequest, HttpServerResponse, type Multipart } from "effect/http"
import { HttpApiBuilder } from "effect/http-api"
import { MediaLibrary } from "../storage/MediaLibrary.js"
import { MediaStorage } from "../storage/MediaStorage.js"
import { ServerConfig } from "../Config.js"
import { OmnipostApi, Principal } from "./Api.js"
import * as Errors from "../Errors.js"
import * as Models from "./Models.js"

const malformed = (message: string) => Errors.make(Errors.ValidationFailed, message)

/** The parts a multipart upload may have, from its schema. */
const uploadParts = Object.keys(Models.MediaUpload.fields)

/** What an upload hands to the media library: the bytes as they arrive, the declared type and the file's name. */
interface UploadSource {
  readonly content: Stream.Stream<Uint8Array, Errors.ValidationFailed | Errors.PayloadTooLarge>
  readonly declaredType: string
  readonly fileName: string | undefined
}

const multipartFailure = (error: Multipart.MultipartError) =>
  error.reason._tag === "FileTooLarge" || error.reason._tag === "BodyTooLarge"
    ? Errors.make(Errors.PayloadTooLarge, error.message)
    : malformed(`the multipart body is malformed: ${error.message}`)

/** The first part of a multipart upload, if it is the `file` part. */
const filePart = (part: Multipart.Part): Effect.Effect<Multipart.File, Errors.ValidationFailed | Errors.UnknownField> =>
  !uploadParts.includes(part.key)
    ? Effect.fail(Errors.unknownFields(["payload"], [part.key], uploadParts))
    : part._tag === "File"
    ? Effect.succeed(part)
    : Effect.fail(Errors.make(Errors.ValidationFailed, "the `file` part is a file, not a text field", {
      issues: [{ path: ["payload", part.key], message: "not a file" }]
    }))

/**
 * Runs `use` over the bytes of an upload request: the raw body, or the
 * multipart body's `file` part.
 *
 * A file part's bytes come through the multipart parser, which lives only as
 * long as the stream of parts is consumed: `use` runs inside that stream.
 * Taking the part out first and reading it after the stream of parts had
 * ended left the parser closed with the request unread past its first
 * buffers (about 100 KB): such uploads waited for more bytes forever.
 */
const withUpload = <A, E, R>(
  request: HttpServerRequest.HttpServerRequest,
  fileName: string | undefined,
  use: (source: UploadSource) => Effect.Effect<A, E, R>
): Effect.Effect<A, E | Errors.ValidationFailed | Errors.UnknownField | Errors.PayloadTooLarge, R> => {
  const contentType = request.headers["content-type"] ?? ""
  if (!contentType.toLowerCase().startsWith("multipart/form-data")) {
    return use({
      content: request.stream.pipe(Stream.mapError(() => malformed("the upload was interrupted or malformed"))),
      declaredType: contentType,
      fileName
    })
  }
  // The first part must be the `file` part: any other part before it is refused, the rest are never read.
  return request.multipartStream.pipe(
    Stream.mapError(multipartFailure),
    Stream.take(1),
    Stream.mapEffect((part) =>
      Effect.flatMap(filePart(part), (file) =>
        use({
          content: file.content.pipe(Stream.mapError(multipartFailure)),
          declaredType: file.contentType,
          fileName: file.name
        }))
    ),
    Stream.runHead,
    Effect.flatMap(Option.match({
      onNone: () =>
        Effect.fail(Errors.make(Errors.ValidationFailed, "the multipart body has no file part", {
          issues: [{ path: ["payload", "file"], message: "missing" }]
        })),
      onSome: Effect.succeed
    }))
  )
}

/** The file name a URL suggests: its last path segment, when it has one. */
const urlFileName = (url: string): string | undefined => {
  try {
    const segment = decodeURIComponent(new URL(url).pathname.split("/").pop() ?? "")
    return segment === "" || segment.length > 255 ? undefined : segment
  } catch {
    return undefined
  }
}

/** Why a URL could not be read into the library, in the API's terms. */
const fetchFailure = (error: unknown) => {
  const refused = UrlGuard.refusalOf(error)
  if (refused !== undefined) return Errors.urlNotAllowed(refused, "url")
  const { code, message, httpStatus } = error as { code?: string; message: string; httpStatus?: number }
  if (code === "MEDIA_TOO_LARGE") return Errors.make(Errors.PayloadTooLarge, message)
  // A redirect hop the guard refused (the URL given was checked up front).
  if (code === "URL_NOT_ALLOWED") return Errors.make(Errors.UrlNotAllowed, `url: ${message}`, { path: "url" })
  return Errors.make(Errors.MediaUnavailable, `the URL could not be read: ${message}`, {
    ...(code !== undefined ? { reason: code } : {}),
    ...(httpStatus !== undefined ? { status: httpStatus } : {})
  })
}

export const MediaHandlers = HttpApiBuilder.group(OmnipostApi, "media", (handlers) =>
  Effect.gen(function*() {
    const library = yield* MediaLibrary
    const config = yield* ServerConfig
    const fetcher = yield* UrlGuard.fetcher
    return handlers
      .handle("fromUrl", ({ payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          yield* fetcher.guard.check(payload.url).pipe(Effect.mapError((refused) => Errors.urlNotAllowed(refused, "url")))
          const record = yield* Effect.scoped(Effect.gen(function*() {
            const opened = yield* MediaSource.open({ _tag: "url", url: payload.url }, {
              platform: "media",
              fetcher,
              maxBytes: config.maxUploadBytes
            }).pipe(Effect.provideService(HttpClient.HttpClient, fetcher.client), Effect.mapError(fetchFailure))
            return yield* library.upload({
              organizationId,
              content: opened.stream.pipe(Stream.mapError(fetchFailure)),
              declaredType: opened.mimeType,
              fileName: payload.fileName ?? urlFileName(payload.url)
            })
          })).pipe(Effect.catchTags({ SqlError: Effect.die, StorageError: Effect.die }))
          return yield* library.view(record).pipe(Effect.orDie)
        }))
      .handleRaw("upload", ({ query, request }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const record = yield* withUpload(request, query.fileName, (source) =>
            library.upload({ organizationId, ...source }).pipe(
              Effect.catchTags({ SqlError: Effect.die, StorageError: Effect.die })
            ))
          return yield* library.view(record).pipe(Effect.orDie)
        }))
      .handle("get", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const record = yield* library.get(organizationId, params.id).pipe(Effect.orDie)
          if (Option.isNone(record)) return yield* Errors.make(Errors.MediaNotFound, `no media ${params.id}`)
          return yield* library.view(record.value).pipe(Effect.orDie)
        }))
      .handle("delete", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          // Deleting a medium a post may still publish would fail that post later (MEDIA_NOT_FOUND): say which posts.
          const users = yield* library.usedBy(organizationId, params.id).pipe(Effect.orDie)
          if (users.length > 0) {
            return yield* Errors.make(
              Errors.MediaInUse,
              `media ${params.id} is used by ${users.length === 1 ? "a post" : "posts"} that may still publish (${users.join(", ")}); ` +
                "remove it from them, or cancel or delete them, first",
              { mediaId: params.id, postIds: users }
            )
          }
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

