/**
 * Media records (the `media` table) and the upload flow: bytes stream from
 * the request into `MediaStorage` while their size is counted, their SHA-256
 * computed and their first bytes inspected. An unsupported type is refused
 * after the first bytes and an oversized file the moment it passes the limit,
 * so neither is read to the end; memory use is one chunk plus the header.
 */
import { Media as CoreMedia } from "@omnipost/core"
import { Sniff } from "../internal/platformKit.js"
import { Clock, Context, Effect, Layer, Option, Schema, Stream } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { createHash } from "node:crypto"
import { ServerConfig } from "../Config.js"
import * as Errors from "../Errors.js"
import * as Ids from "./Ids.js"
import { MediaStorage, type StorageError, type UrlSigner } from "./MediaStorage.js"

/** A stored medium as the API shows it (no storage key; a signed, expiring URL). */
export const MediaView = Schema.Struct({
  id: Schema.String,
  kind: CoreMedia.MediaKind,
  mimeType: Schema.String,
  sizeBytes: Schema.Number,
  sha256: Schema.String,
  width: Schema.optional(Schema.Number),
  height: Schema.optional(Schema.Number),
  fileName: Schema.optional(Schema.String),
  /** A signed URL that expires; platforms that fetch by URL (Instagram, Threads) use it. */
  url: Schema.String,
  urlExpiresAt: Schema.String,
  createdAt: Schema.String
})
export type MediaView = typeof MediaView.Type

export interface MediaRecord {
  readonly id: string
  readonly organizationId: string
  readonly kind: CoreMedia.MediaKind
  readonly mimeType: string
  readonly sizeBytes: number
  readonly sha256: string
  readonly width?: number | undefined
  readonly height?: number | undefined
  readonly fileName?: string | undefined
  readonly storageKey: string
  readonly createdAt: string
}

export interface MediaLibraryShape {
  readonly upload: <E>(options: {
    readonly organizationId: string
    readonly content: Stream.Stream<Uint8Array, E>
    readonly declaredType?: string | undefined
    readonly fileName?: string | undefined
    /** Called as bytes arrive (the CLI's progress bar reads it on its side; tests read it here). */
    readonly onProgress?: ((bytes: number) => void) | undefined
  }) => Effect.Effect<MediaRecord, E | Errors.UnsupportedMediaType | Errors.PayloadTooLarge | StorageError | SqlError.SqlError>
  readonly get: (organizationId: string, id: string) => Effect.Effect<Option.Option<MediaRecord>, SqlError.SqlError>
  /** Any organization's record: for publishers resolving the `stored` media of a post they were handed. */
  readonly getById: (id: string) => Effect.Effect<Option.Option<MediaRecord>, SqlError.SqlError>
  readonly remove: (organizationId: string, id: string) => Effect.Effect<boolean, SqlError.SqlError | StorageError>
  /**
   * The posts that may still publish (any status but published and
   * cancelled: a failed post can be retried) and refer to the medium
   * anywhere: content, thread parts, thumbnails, platform and destination
   * overrides. Newest first, at most `limit` (default 20).
   */
  readonly usedBy: (organizationId: string, id: string, limit?: number) => Effect.Effect<ReadonlyArray<string>, SqlError.SqlError>
  /** The record as the API shows it, with a fresh signed (or presigned) URL. */
  readonly view: (record: MediaRecord) => Effect.Effect<MediaView, StorageError>
  /** Core's media description of a record (source: `stored`). */
  readonly toCoreMedia: (record: MediaRecord, altText?: string | undefined) => CoreMedia.Media
  /** Checks a signed URL; the record when valid and unexpired. */
  readonly resolveSigned: (
    id: string,
    expires: string | undefined,
    signature: string | undefined
  ) => Effect.Effect<Option.Option<MediaRecord>, SqlError.SqlError>
}

interface Row {
  readonly id: string
  readonly organization_id: string
  readonly kind: string
  readonly mime_type: string
  readonly size_bytes: string | number
  readonly sha256: string
  readonly width: number | null
  readonly height: number | null
  readonly file_name: string | null
  readonly storage_key: string
  readonly created_at: Date | string
}

const toRecord = (row: Row): MediaRecord => ({
  id: row.id,
  organizationId: row.organization_id,
  kind: row.kind as CoreMedia.MediaKind,
  mimeType: row.mime_type,
  sizeBytes: Number(row.size_bytes),
  sha256: row.sha256,
  width: row.width ?? undefined,
  height: row.height ?? undefined,
  fileName: row.file_name ?? undefined,
  storageKey: row.storage_key,
  createdAt: new Date(row.created_at).toISOString()
})

export class MediaSigner extends Context.Service<MediaSigner, UrlSigner>()("@omnipost/worker/MediaSigner") {}

export class MediaLibrary extends Context.Service<MediaLibrary, MediaLibraryShape>()("@omnipost/worker/MediaLibrary") {
  static readonly layer: Layer.Layer<
    MediaLibrary,
    never,
    SqlClient.SqlClient | MediaStorage | MediaSigner | ServerConfig
  > = Layer.effect(
    MediaLibrary,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const storage = yield* MediaStorage
      const signer = yield* MediaSigner
      const config = yield* ServerConfig

      const upload: MediaLibraryShape["upload"] = (options) =>
        Effect.gen(function*() {
          const id = Ids.make("med")
          const writer = yield* storage.open(id)
          const hash = createHash("sha256")
          let size = 0
          let header = new Uint8Array(0)
          let detected: Sniff.Sniffed | undefined
          const consume = Stream.runForEach(options.content, (chunk) =>
            Effect.gen(function*() {
              size += chunk.length
              if (size > config.maxUploadBytes) {
                return yield* Errors.make(
                  Errors.PayloadTooLarge,
                  `the file is larger than the limit of ${config.maxUploadBytes} bytes`,
                  { limitBytes: config.maxUploadBytes }
                )
              }
              if (header.length < Sniff.sniffBytes) {
                const take = chunk.subarray(0, Sniff.sniffBytes - header.length)
                const next = new Uint8Array(header.length + take.length)
                next.set(header)
                next.set(take, header.length)
                header = next
                if (detected === undefined && header.length >= Sniff.typeBytes) {
                  detected = yield* judge(header, options.declaredType)
                }
              }
              hash.update(chunk)
              options.onProgress?.(size)
              yield* writer.write(chunk)
            }))
          yield* consume.pipe(Effect.onError(() => writer.abort))
          const finalType = yield* judge(header, options.declaredType).pipe(Effect.onError(() => writer.abort))
          const createdAt = new Date(yield* Clock.currentTimeMillis).toISOString()
          const record: MediaRecord = {
            id,
            organizationId: options.organizationId,
            kind: finalType.kind,
            mimeType: finalType.mimeType,
            sizeBytes: size,
            sha256: hash.digest("hex"),
            width: finalType.width,
            height: finalType.height,
            fileName: options.fileName,
            storageKey: id,
            createdAt
          }
          yield* writer.commit
          yield* sql`INSERT INTO media (id, organization_id, kind, mime_type, size_bytes, sha256, width, height, file_name, storage_key, created_at)
            VALUES (${record.id}, ${record.organizationId}, ${record.kind}, ${record.mimeType}, ${record.sizeBytes},
                    ${record.sha256}, ${record.width ?? null}, ${record.height ?? null}, ${record.fileName ?? null},
                    ${record.storageKey}, ${createdAt})`.pipe(Effect.onError(() => storage.remove(id).pipe(Effect.ignore)))
          return record
        }).pipe(Effect.withSpan("MediaLibrary.upload"))

      const get = (organizationId: string, id: string) =>
        sql<Row>`SELECT * FROM media WHERE id = ${id} AND organization_id = ${organizationId}`.pipe(
          Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toRecord))
        )

      const getById = (id: string) =>
        sql<Row>`SELECT * FROM media WHERE id = ${id}`.pipe(
          Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toRecord))
        )

      const remove = (organizationId: string, id: string) =>
        Effect.gen(function*() {
          const rows = yield* sql<{ storage_key: string }>`
            DELETE FROM media WHERE id = ${id} AND organization_id = ${organizationId} RETURNING storage_key`
          if (rows.length === 0) return false
          yield* storage.remove(rows[0]!.storage_key)
          return true
        })

      const usedBy = (organizationId: string, id: string, limit = 20) =>
        Effect.gen(function*() {
          // `$.**.mediaId`: every mediaId at any depth (sources of media and of thumbnails).
          const vars = JSON.stringify({ id })
          const rows = yield* sql<{ id: string }>`
            SELECT p.id FROM posts p
            WHERE p.organization_id = ${organizationId}
              AND p.status NOT IN ('published', 'cancelled')
              AND (
                jsonb_path_exists(p.content, '$.**.mediaId ? (@ == $id)', ${vars}::jsonb)
                OR jsonb_path_exists(coalesce(p.platform_overrides, '{}'::jsonb), '$.**.mediaId ? (@ == $id)', ${vars}::jsonb)
                OR EXISTS (
                  SELECT 1 FROM destinations d
                  WHERE d.post_id = p.id AND d.override IS NOT NULL
                    AND jsonb_path_exists(d.override, '$.**.mediaId ? (@ == $id)', ${vars}::jsonb)
                )
              )
            ORDER BY p.created_at DESC, p.id DESC
            LIMIT ${limit}`
          return rows.map((row) => row.id)
        })

      // The store's presigned URL when it offers one (S3 with OMNIPOST_MEDIA_URLS=presigned), else the worker's signed route.
      const urlFor = (record: MediaRecord, nowMs: number) => {
        const expires = Math.floor(nowMs / 1000) + config.mediaUrlTtlSeconds
        const expiresAt = new Date(expires * 1000).toISOString()
        if (storage.presignedUrl !== undefined) {
          return Effect.map(
            storage.presignedUrl(record.storageKey, { expiresInSeconds: config.mediaUrlTtlSeconds, contentType: record.mimeType }),
            (url) => ({ url, expiresAt })
          )
        }
        return Effect.succeed({
          url: `${config.publicUrl}/media/${record.id}?expires=${expires}&signature=${signer.sign(record.id, expires)}`,
          expiresAt
        })
      }

      const view = (record: MediaRecord) =>
        Effect.gen(function*() {
          const signed = yield* urlFor(record, yield* Clock.currentTimeMillis)
          return {
            id: record.id,
            kind: record.kind,
            mimeType: record.mimeType,
            sizeBytes: record.sizeBytes,
            sha256: record.sha256,
            ...(record.width !== undefined ? { width: record.width } : {}),
            ...(record.height !== undefined ? { height: record.height } : {}),
            ...(record.fileName !== undefined ? { fileName: record.fileName } : {}),
            url: signed.url,
            urlExpiresAt: signed.expiresAt,
            createdAt: record.createdAt
          } satisfies MediaView
        })

      const toCoreMedia = (record: MediaRecord, altText?: string): CoreMedia.Media => ({
        kind: record.kind,
        mimeType: record.mimeType,
        sizeBytes: record.sizeBytes,
        ...(record.width !== undefined ? { width: record.width } : {}),
        ...(record.height !== undefined ? { height: record.height } : {}),
        ...(altText !== undefined ? { altText } : {}),
        source: { _tag: "stored", mediaId: record.id }
      })

      const resolveSigned: MediaLibraryShape["resolveSigned"] = (id, expires, signature) =>
        Effect.gen(function*() {
          if (expires === undefined || signature === undefined || !/^\d{1,12}$/.test(expires)) return Option.none()
          const expiresAt = Number(expires)
          const now = yield* Clock.currentTimeMillis
          if (expiresAt * 1000 < now || !signer.verify(id, expiresAt, signature)) return Option.none()
          const rows = yield* sql<Row>`SELECT * FROM media WHERE id = ${id}`
          return Option.map(Option.fromNullishOr(rows[0]), toRecord)
        })

      return MediaLibrary.of({ upload, get, getById, remove, usedBy, view, toCoreMedia, resolveSigned })
    })
  )
}

const judge = (
  header: Uint8Array,
  declared: string | undefined
): Effect.Effect<Sniff.Sniffed, Errors.UnsupportedMediaType> => {
  const verdict = Sniff.judge(header, declared)
  switch (verdict._tag) {
    case "Match":
      return Effect.succeed({ ...verdict.sniffed, mimeType: verdict.mimeType })
    case "Mismatch":
      return Effect.fail(Errors.make(
        Errors.UnsupportedMediaType,
        `the file was declared as ${verdict.declared} but its content is ${verdict.actual ?? "none of the supported types"}`,
        { declaredType: verdict.declared, detectedType: verdict.actual ?? null }
      ))
    case "Unknown":
      return Effect.fail(Errors.make(
        Errors.UnsupportedMediaType,
        `the file is not a supported type (${Sniff.supportedNames.join(", ")}), judging by its content`,
        { declaredType: declared ?? null }
      ))
  }
}
