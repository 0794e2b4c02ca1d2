/**
 * The plugins this server runs, loaded: each plugin's config read (from the
 * environment, or the config file's `env`), its publisher and OAuth provider
 * built with the options every platform gets:
 *
 * - `baseUrl`: `ServerConfig.platformBaseUrls[id]` (code, tests), else the
 *   `OMNIPOST_<ID>_BASE_URL` variable (`Plugin.baseUrlVariable`), else the
 *   platform's default: accounts then reach a fake or a proxy;
 * - `resolveStoredMedia`: the one stored-media hook, streaming a media
 *   record's file from `MediaStorage`;
 * - `publicMediaUrl`, when `OMNIPOST_PUBLIC_URL` is configured: a stored
 *   medium's signed, expiring URL under it (or, when the store presigns its
 *   own URLs, `OMNIPOST_MEDIA_URLS=presigned`, the object's presigned URL), for platforms that have the
 *   platform fetch media by URL (Meta's, TikTok's pull); core's
 *   `PluginOptions.publicMediaUrl`. Plugins that do not fetch by URL ignore it.
 */
import { Plugin, PublishError } from "@omnipost/core"
import { Config, Context, Effect, Layer, Option, Stream } from "effect"
import type { HttpClient } from "effect/http"
import { ServerConfig } from "../Config.js"
import { MediaLibrary } from "../storage/MediaLibrary.js"
import { MediaStorage } from "../storage/MediaStorage.js"

/** The loaded plugins, in order (built-ins first). */
export class Plugins extends Context.Service<Plugins, ReadonlyArray<Plugin.LoadedPlugin>>()("@omnipost/worker/Plugins") {
  /** Loads these plugins; fails with the first plugin whose config or publisher is wrong. */
  static readonly layer = (
    plugins: ReadonlyArray<Plugin.Plugin>
  ): Layer.Layer<
    Plugins,
    Plugin.InvalidPlugin | Plugin.PluginConfigError,
    HttpClient.HttpClient | ServerConfig | MediaLibrary | MediaStorage
  > =>
    Layer.effect(
      Plugins,
      Effect.gen(function*() {
        const config = yield* ServerConfig
        const library = yield* MediaLibrary
        const storage = yield* MediaStorage
        const resolveStoredMedia: Plugin.ResolveStoredMedia = (mediaId) =>
          openStoredMedia(mediaId).pipe(
            Effect.provideService(MediaLibrary, library),
            Effect.provideService(MediaStorage, storage)
          )
        // The store's presigned URLs need no public address of ours.
        const publicMediaUrl: Plugin.PublicMediaUrl | undefined = config.publicUrlConfigured || storage.presignedUrl !== undefined
          ? (mediaId) => signedUrlOf(mediaId).pipe(Effect.provideService(MediaLibrary, library))
          : undefined
        const loaded: Array<Plugin.LoadedPlugin> = []
        for (const plugin of plugins) {
          const variable = Plugin.baseUrlVariable(plugin.id)
          const baseUrl = config.platformBaseUrls[plugin.id] ??
            Option.getOrUndefined(
              yield* Config.option(Config.String(variable)).pipe(
                Effect.mapError((error) => new Plugin.PluginConfigError({ plugin: plugin.id, message: `${variable}: ${error.message}` }))
              )
            )
          const options: Plugin.PluginOptions = {
            baseUrl: baseUrl?.replace(/\/+$/, ""),
            resolveStoredMedia,
            publicMediaUrl
          }
          loaded.push(yield* Plugin.load(plugin, options))
        }
        return loaded
      })
    )
}

/** A stored medium's signed, expiring public URL (`<publicUrl>/media/<id>?expires=…&signature=…`). */
export const signedUrlOf = Effect.fnUntraced(function*(mediaId: string) {
  const library = yield* MediaLibrary
  const record = yield* library.getById(mediaId).pipe(
    Effect.mapError((error) =>
      new PublishError.Transient({ platform: "omnipost", message: `looking up media ${mediaId}: ${error.message}` })
    )
  )
  if (Option.isNone(record)) {
    return yield* new PublishError.Rejected({ platform: "omnipost", code: "MEDIA_NOT_FOUND", message: `media ${mediaId} no longer exists` })
  }
  const view = yield* library.view(record.value).pipe(
    Effect.mapError((error) =>
      new PublishError.Transient({ platform: "omnipost", message: `signing the URL of media ${mediaId}: ${error.message}` })
    )
  )
  return view.url
})

/**
 * A `stored` media id as a byte stream: the one stored-media hook every
 * platform opens stored media through.
 */
export const openStoredMedia = Effect.fnUntraced(function*(mediaId: string) {
  const library = yield* MediaLibrary
  const storage = yield* MediaStorage
  const record = yield* library.getById(mediaId).pipe(
    Effect.mapError((error) =>
      new PublishError.Transient({ platform: "omnipost", message: `looking up media ${mediaId}: ${error.message}` })
    )
  )
  if (Option.isNone(record)) {
    return yield* new PublishError.Rejected({
      platform: "omnipost",
      code: "MEDIA_NOT_FOUND",
      message: `media ${mediaId} no longer exists`
    })
  }
  return {
    sizeBytes: record.value.sizeBytes,
    mimeType: record.value.mimeType,
    stream: storage.read(record.value.storageKey).pipe(
      Stream.mapError((error) =>
        new PublishError.Transient({ platform: "omnipost", message: `reading media ${mediaId}: ${error.message}` })
      )
    )
  } satisfies Plugin.StoredMedia
})
