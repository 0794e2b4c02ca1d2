/**
 * The publishers this server knows: X and Bluesky from their packages, with
 * base URLs from the configuration (so accounts can point at the platform
 * fakes or a proxy), plus any user-written ones. Media stored by the worker
 * (`stored` sources) resolve to their local files.
 */
import { Publisher as CorePublisher, PublishError, Registry } from "@omnipost/core"
import { makeBlueskyPublisher } from "@omnipost/platform-bluesky"
import { makeXPublisher } from "@omnipost/platform-twitter"
import { Effect, Layer, Option, Stream } from "effect"
import type { HttpClient } from "effect/http"
import { ServerConfig } from "./Config.js"
import { MediaLibrary } from "./MediaLibrary.js"
import { MediaStorage } from "./MediaStorage.js"

/** A `stored` media id as a local file source. */
export const resolveStoredMedia = Effect.fnUntraced(function*(mediaId: string) {
  const library = yield* MediaLibrary
  const storage = yield* MediaStorage
  const record = yield* library.getById(mediaId).pipe(Effect.orDie)
  if (Option.isNone(record)) {
    return yield* new PublishError.Rejected({
      platform: "omnipost",
      code: "MEDIA_NOT_FOUND",
      message: `media ${mediaId} no longer exists`
    })
  }
  const path = storage.localPath(record.value.storageKey)
  return path === undefined
    ? yield* new PublishError.Rejected({ platform: "omnipost", code: "MEDIA_NOT_FOUND", message: `media ${mediaId} has no local file` })
    : { _tag: "file" as const, path }
})

/**
 * The registry of the built-in publishers plus `extra` (user plugins).
 * Requires an `HttpClient` (the platform calls) and the media services.
 */
export const layer = (
  extra: ReadonlyArray<CorePublisher.PlatformPublisher> = []
): Layer.Layer<
  Registry.PublisherRegistry,
  Registry.RegistryError,
  HttpClient.HttpClient | ServerConfig | MediaLibrary | MediaStorage
> =>
  Layer.effect(
    Registry.PublisherRegistry,
    Effect.gen(function*() {
      const config = yield* ServerConfig
      const library = yield* MediaLibrary
      const storage = yield* MediaStorage
      const resolve = (mediaId: string) =>
        resolveStoredMedia(mediaId).pipe(
          Effect.provideService(MediaLibrary, library),
          Effect.provideService(MediaStorage, storage)
        )
      const bluesky = yield* makeBlueskyPublisher({
        ...(config.platformBaseUrls.bluesky !== undefined ? { serviceUrl: config.platformBaseUrls.bluesky } : {}),
        resolveStoredMedia: resolve
      })
      const x = yield* makeXPublisher({
        ...(config.platformBaseUrls.x !== undefined ? { apiBaseUrl: config.platformBaseUrls.x } : {}),
        upload: {
          // X uploads bytes in segments: stream the stored file.
          openStored: (mediaId) =>
            Effect.gen(function*() {
              const record = yield* library.getById(mediaId).pipe(Effect.orDie)
              if (Option.isNone(record)) {
                return yield* new PublishError.Rejected({
                  platform: "x",
                  code: "MEDIA_NOT_FOUND",
                  message: `media ${mediaId} no longer exists`
                })
              }
              return {
                totalBytes: record.value.sizeBytes,
                stream: storage.read(record.value.storageKey).pipe(
                  Stream.mapError((error) =>
                    new PublishError.Transient({ platform: "x", message: `reading media ${mediaId}: ${error.message}` })
                  )
                )
              }
            })
        }
      })
      return yield* Registry.make([x, bluesky, ...extra])
    })
  )
