/**
 * Images for Mastodon: each one is opened through the platform kit's
 * `MediaSource` (files, bytes, the host's stored media, guarded URLs; the
 * type judged from the bytes, so a mislabelled file is refused before
 * anything is posted; the size capped by the rules table's row), then sent
 * to `POST /api/v2/media` as multipart with its alt text as `description`.
 * Mastodon processes images while answering (200 with the attachment);
 * the status then names the attachments in `media_ids`.
 *
 * Source: https://docs.joinmastodon.org/methods/media/#v2
 */
import type { Media as CoreMedia, Plugin } from "@omnipost/core"
import type { PublishError } from "@omnipost/core"
import { MediaSource, type UrlGuard } from "@omnipost/platform-kit"
import { Effect, Schema, Stream } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import { platform } from "./Errors.js"
import { rules } from "./Rules.js"

/** The part of Mastodon's MediaAttachment entity this publisher reads. */
export const MediaAttachment = Schema.Struct({ id: Schema.String })

export interface MediaContext {
  readonly resolveStoredMedia?: Plugin.ResolveStoredMedia | undefined
  /** The guarded client for users' URLs (`UrlGuard.fetcher`, taken when the publisher was built). */
  readonly fetcher: UrlGuard.Fetcher
}

/** The image row's size cap: the one place the limit lives. */
const maxImageBytes = rules.placements[0]!.media.image?.maxSizeBytes

/**
 * Opens an image and reads it whole (images are small: the rules cap them),
 * judged by its bytes against its declared type.
 */
export const readImage = (
  media: CoreMedia.Media,
  context: MediaContext
): Effect.Effect<{ readonly bytes: Uint8Array<ArrayBuffer>; readonly mimeType: string }, PublishError.PublishError> =>
  Effect.scoped(Effect.gen(function*() {
    const opened = yield* MediaSource.openMedia(media, {
      platform,
      maxBytes: maxImageBytes,
      resolveStoredMedia: context.resolveStoredMedia,
      fetcher: context.fetcher
    }).pipe(Effect.provideService(HttpClient.HttpClient, context.fetcher.client))
    const chunks = yield* Stream.runCollect(opened.stream)
    return { bytes: new Uint8Array(Buffer.concat(chunks)), mimeType: opened.mimeType }
  }))

/** The upload request for an image read by `readImage`. */
export const uploadRequest = (
  image: { readonly bytes: Uint8Array<ArrayBuffer>; readonly mimeType: string },
  altText: string | undefined
): HttpClientRequest.HttpClientRequest => {
  const form = new FormData()
  form.append("file", new Blob([image.bytes], { type: image.mimeType }), "image")
  if (altText !== undefined && altText !== "") form.append("description", altText)
  return HttpClientRequest.post("/api/v2/media").pipe(HttpClientRequest.bodyFormData(form))
}
