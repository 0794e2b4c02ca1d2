/**
 * Opening a media source (core's `MediaSource`: `file`, `bytes`, `stored`,
 * `url`) as a byte stream with its size, with ONE policy for every platform:
 *
 * - `url`: fetched with the `HttpClient` of the context (give it
 *   `UrlGuard.layerHttpClient`), at most 5 redirects, every hop checked by
 *   the URL guard; a refused URL is `Rejected` (`URL_NOT_ALLOWED`); the media
 *   host answering 429 or 5xx (or not at all) is `Transient`, any other 4xx
 *   `Rejected` (`MEDIA_UNAVAILABLE`);
 * - `stored`: through the one stored-media hook the caller provides
 *   (`resolveStoredMedia`, the worker's media library);
 * - every source: a size cap (a larger `Content-Length` is refused before
 *   reading, and reading stops the moment the cap is passed), and the type
 *   sniffed from the first bytes: bytes that contradict the declared type
 *   are `Rejected` (`MEDIA_TYPE_MISMATCH`) before anything is posted.
 *
 * Only the head (`headBytes`, 256 KiB) is held to sniff; the rest streams,
 * so memory stays flat whatever the size. The stream is valid within the
 * scope `open` ran in, and is read once: to send the bytes again (a retry),
 * open the source again.
 *
 * @example
 * const opened = yield* MediaSource.open(media.source, {
 *   platform: "bluesky",
 *   declaredMimeType: media.mimeType,
 *   maxBytes: 2_000_000,
 *   resolveStoredMedia
 * })
 * // opened.mimeType, opened.sizeBytes, opened.stream → the upload request
 */
import { NodeStream } from "@effect/platform-node"
import type { Media as CoreMedia, Plugin } from "@omnipost/core"
import { PublishError } from "@omnipost/core"
import { Duration, Effect, Sink, Stream, type Scope } from "effect"
import { HttpClient, HttpClientRequest, type HttpClientResponse } from "effect/http"
import { createReadStream } from "node:fs"
import { stat } from "node:fs/promises"
import * as Sniff from "./Sniff.js"
import * as UrlGuard from "./UrlGuard.js"

/** A medium the host application stores (core's `Plugin.StoredMedia`). */
export type StoredMedia = Plugin.StoredMedia

/**
 * The ONE hook through which `stored` sources are opened (core's
 * `Plugin.ResolveStoredMedia`, given to every plugin by the host).
 */
export type ResolveStoredMedia = Plugin.ResolveStoredMedia

/** The default size cap: 5 GiB, the worker's upload limit. Platforms pass their own, from the rules table. */
export const defaultMaxBytes = 5 * 1024 ** 3

/** Redirects followed for a `url` source. */
export const maxRedirects = 5

export interface OpenOptions {
  /** The platform the errors are reported for. */
  readonly platform: string
  /** The declared MIME type (the post's `Media.mimeType`), checked against the bytes. */
  readonly declaredMimeType?: string | undefined
  /** Largest size accepted; default `defaultMaxBytes`. */
  readonly maxBytes?: number | undefined
  /** Opens `stored` sources; without it a `stored` source is `Rejected`. */
  readonly resolveStoredMedia?: ResolveStoredMedia | undefined
  /** How long a media host may take to answer (redirects included). Default 30 s. */
  readonly timeout?: Duration.Input | undefined
  /** Longest wait for the next bytes of a download before it counts as stalled. Default 60 s. */
  readonly idleTimeout?: Duration.Input | undefined
  /**
   * The client and guard for `url` sources (`UrlGuard.fetcher`, taken when
   * the publisher was built); default: `UrlGuard.fetcher` of the context.
   */
  readonly fetcher?: UrlGuard.Fetcher | undefined
  /** How many leading bytes are held to sniff the type and dimensions. Default `Sniff.sniffBytes`. */
  readonly headBytes?: number | undefined
}

/** An opened source. */
export interface Opened {
  /** Every byte, head included, valid within the scope `open` ran in; read it once. */
  readonly stream: Stream.Stream<Uint8Array, PublishError.PublishError>
  /** The exact size when known up front (files, bytes, stored media, a `Content-Length`). */
  readonly sizeBytes: number | undefined
  /** The type to send: the sniffed one (or the declared one when sniffing cannot tell). */
  readonly mimeType: string
  /** What the bytes are, with image dimensions when the head tells them; undefined for types `Sniff` does not know. */
  readonly sniffed: Sniff.Sniffed | undefined
}

const rejected = (platform: string, code: string, message: string, httpStatus?: number) =>
  new PublishError.Rejected({ platform, code, message, ...(httpStatus !== undefined ? { httpStatus } : {}) })

const transient = (platform: string, message: string, httpStatus?: number) =>
  new PublishError.Transient({ platform, message, ...(httpStatus !== undefined ? { httpStatus } : {}) })

interface Raw {
  readonly stream: Stream.Stream<Uint8Array, PublishError.PublishError>
  readonly sizeBytes: number | undefined
  /** The type a server or store said, for messages. */
  readonly statedType?: string | undefined
  readonly label: string
}

const openFile = (platform: string, path: string): Effect.Effect<Raw, PublishError.PublishError> =>
  Effect.tryPromise({
    try: () => stat(path),
    catch: (error) => rejected(platform, "MEDIA_UNAVAILABLE", `cannot read the media file ${path}: ${(error as Error).message}`)
  }).pipe(
    Effect.filterOrFail((info) => info.isFile(), () => rejected(platform, "MEDIA_UNAVAILABLE", `the media path ${path} is not a file`)),
    Effect.map((info) => ({
      sizeBytes: info.size,
      label: `the media file ${path}`,
      stream: NodeStream.fromReadable<Uint8Array, PublishError.PublishError>({
        evaluate: () => createReadStream(path, { highWaterMark: 256 * 1024 }),
        onError: (error) => transient(platform, `reading the media file ${path} failed: ${(error as Error).message}`)
      })
    }))
  )

const isRedirect = (status: number) => status === 301 || status === 302 || status === 303 || status === 307 || status === 308

/** Stops reading a response we do not want (a redirect, an error page). */
const discard = (response: HttpClientResponse.HttpClientResponse) =>
  Stream.runDrain(Stream.take(response.stream, 1)).pipe(Effect.timeout("1 second"), Effect.ignore)

const openUrl = Effect.fnUntraced(function*(source: string, options: OpenOptions) {
  const platform = options.platform
  const { client, guard } = options.fetcher ?? (yield* UrlGuard.fetcher)
  const notAllowed = (refusal: UrlGuard.UrlRefused) => rejected(platform, "URL_NOT_ALLOWED", refusal.message)
  const timeout = options.timeout ?? "30 seconds"
  let url = source
  for (let hop = 0;; hop++) {
    yield* guard.check(url).pipe(Effect.mapError(notAllowed))
    const response = yield* client.execute(
      HttpClientRequest.get(url, { headers: { accept: "image/*,video/*,application/pdf,*/*;q=0.5" } })
    ).pipe(
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () => Effect.fail(transient(platform, `the media URL ${url} did not answer within ${Duration.format(Duration.fromInputUnsafe(timeout))}`))
      }),
      Effect.catchTag("HttpClientError", (error) => {
        const refusal = UrlGuard.refusalOf(error)
        return Effect.fail(
          refusal !== undefined ? notAllowed(refusal) : transient(platform, `cannot fetch the media URL ${url}: ${error.message}`)
        )
      })
    )
    const status = response.status
    if (isRedirect(status)) {
      yield* discard(response)
      const location = response.headers["location"]
      if (location === undefined || location === "") {
        return yield* rejected(platform, "MEDIA_UNAVAILABLE", `the media URL ${url} answered ${status} without a Location`, status)
      }
      if (hop >= maxRedirects) {
        return yield* rejected(platform, "MEDIA_UNAVAILABLE", `the media URL ${source} redirects more than ${maxRedirects} times`, status)
      }
      const next = URL.canParse(location, url) ? new URL(location, url).href : undefined
      if (next === undefined) {
        return yield* rejected(platform, "MEDIA_UNAVAILABLE", `the media URL ${url} redirects to an invalid URL`, status)
      }
      url = next
      continue
    }
    if (status === 429 || status === 408 || status >= 500) {
      yield* discard(response)
      return yield* transient(platform, `the media URL ${url} answered ${status}; it may answer later`, status)
    }
    if (status < 200 || status >= 300) {
      yield* discard(response)
      return yield* rejected(platform, "MEDIA_UNAVAILABLE", `the media URL ${url} answered ${status}`, status)
    }
    const length = Number(response.headers["content-length"])
    const idle = options.idleTimeout ?? "60 seconds"
    return {
      sizeBytes: response.headers["content-length"] !== undefined && Number.isSafeInteger(length) && length >= 0 ? length : undefined,
      statedType: response.headers["content-type"],
      label: `the media URL ${url}`,
      stream: response.stream.pipe(
        Stream.mapError((error) => transient(platform, `the download of ${url} broke off: ${error.message}`)),
        Stream.timeoutOrElse({
          duration: idle,
          orElse: () => Stream.fail(transient(platform, `the download of ${url} stalled for ${Duration.format(Duration.fromInputUnsafe(idle))}`))
        })
      )
    } satisfies Raw
  }
})

const openStored = (mediaId: string, options: OpenOptions): Effect.Effect<Raw, PublishError.PublishError> =>
  options.resolveStoredMedia === undefined
    ? Effect.fail(rejected(options.platform, "MEDIA_UNAVAILABLE", `stored media ${mediaId} cannot be opened: no resolveStoredMedia hook was given`))
    : Effect.map(options.resolveStoredMedia(mediaId), (stored) => ({
      stream: stored.stream,
      sizeBytes: stored.sizeBytes,
      statedType: stored.mimeType,
      label: `stored media ${mediaId}`
    }))

/**
 * Counts the bytes as they pass: fails past `maxBytes` (without reading
 * further), and at the end when a size known up front was not met.
 */
const bounded = (raw: Raw, platform: string, maxBytes: number): Stream.Stream<Uint8Array, PublishError.PublishError> =>
  Stream.suspend(() => {
    let seen = 0
    const tooLarge = () =>
      rejected(platform, "MEDIA_TOO_LARGE", `${raw.label} is larger than the limit of ${maxBytes} bytes`)
    const counted = Stream.mapEffect(raw.stream, (chunk) => {
      seen += chunk.byteLength
      return seen > maxBytes ? Effect.fail(tooLarge()) : Effect.succeed(chunk)
    })
    const end = Stream.suspend(() =>
      raw.sizeBytes !== undefined && seen !== raw.sizeBytes
        ? Stream.fail(transient(platform, `${raw.label} gave ${seen} bytes, ${raw.sizeBytes} were announced`))
        : Stream.empty
    )
    return Stream.concat(counted, end)
  })

const concatBytes = (chunks: ReadonlyArray<Uint8Array>, total: number) => {
  if (chunks.length === 1) return chunks[0]!
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

/** Reads the first `headBytes` (or the whole source if shorter) and gives back the head and the rest. */
const peek = (stream: Stream.Stream<Uint8Array, PublishError.PublishError>, headBytes: number) =>
  Effect.map(
    Stream.peel(
      stream,
      Sink.fold(
        () => ({ chunks: [] as Array<Uint8Array>, size: 0 }),
        (state) => state.size < headBytes,
        (state, chunk: Uint8Array) => {
          state.chunks.push(chunk)
          state.size += chunk.byteLength
          return Effect.succeed(state)
        }
      )
    ),
    ([state, rest]) => ({ head: concatBytes(state.chunks, state.size), rest })
  )

const describeActual = (actual: string | undefined, statedType: string | undefined) =>
  actual !== undefined
    ? actual
    : `none of the known media types (${Sniff.supportedNames.join(", ")})${
      statedType !== undefined && statedType !== "" ? `; the source said ${statedType.split(";")[0]!.trim()}` : ""
    }`

/**
 * Opens a media source: its bytes as a stream (valid in the current scope),
 * its size when known, and its type judged from the first bytes against
 * `declaredMimeType`. Requires an `HttpClient` for `url` sources (give it
 * `UrlGuard.layerHttpClient`); the `UrlGuard` service, when present, sets
 * the options each redirect hop is checked with (strict without it).
 */
export const open = (
  source: CoreMedia.MediaSource,
  options: OpenOptions
): Effect.Effect<Opened, PublishError.PublishError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const platform = options.platform
    const maxBytes = options.maxBytes ?? defaultMaxBytes
    const raw: Raw = source._tag === "bytes"
      ? { stream: Stream.succeed(source.data), sizeBytes: source.data.byteLength, label: "the media bytes" }
      : source._tag === "file"
      ? yield* openFile(platform, source.path)
      : source._tag === "stored"
      ? yield* openStored(source.mediaId, options)
      : yield* openUrl(source.url, options)
    if (raw.sizeBytes !== undefined && raw.sizeBytes > maxBytes) {
      return yield* rejected(platform, "MEDIA_TOO_LARGE", `${raw.label} is ${raw.sizeBytes} bytes, more than the limit of ${maxBytes}`)
    }
    const { head, rest } = yield* peek(bounded(raw, platform, maxBytes), options.headBytes ?? Sniff.sniffBytes)
    const verdict = Sniff.judge(head, options.declaredMimeType)
    if (verdict._tag === "Mismatch") {
      return yield* rejected(
        platform,
        "MEDIA_TYPE_MISMATCH",
        `${raw.label} was declared as ${verdict.declared} but its bytes are ${describeActual(verdict.actual, raw.statedType)}`
      )
    }
    const mimeType = verdict._tag === "Match"
      ? verdict.mimeType
      : verdict.mimeType ?? Sniff.normalizeDeclared(raw.statedType) ?? "application/octet-stream"
    return {
      stream: head.byteLength === 0 ? rest : Stream.concat(Stream.succeed(head), rest),
      sizeBytes: raw.sizeBytes,
      mimeType,
      sniffed: verdict._tag === "Match" ? verdict.sniffed : undefined
    } satisfies Opened
  })

/** `open` for a post's media item: its source, checked against its declared `mimeType`. */
export const openMedia = (
  media: CoreMedia.Media,
  options: Omit<OpenOptions, "declaredMimeType">
): Effect.Effect<Opened, PublishError.PublishError, HttpClient.HttpClient | Scope.Scope> =>
  open(media.source, { ...options, declaredMimeType: media.mimeType })
