/**
 * A photo post (platform-specs §5.4): `POST /v2/post/publish/content/init/`
 * with `media_type: "PHOTO"`, 1–35 JPEG or WebP images that TikTok pulls
 * from URLs on a verified domain (`PULL_FROM_URL` only: photos cannot be
 * uploaded), then `status/fetch` polled like a video.
 *
 * - `post_mode: "DIRECT_POST"` (scope `video.publish`) posts it, after the
 *   creator's options were checked (`creator_info/query`);
 * - `post_mode: "MEDIA_UPLOAD"` (scope `video.upload`) sends it to the
 *   creator's inbox, `post_info` without a privacy level.
 *
 * Title ≤ 90 and description ≤ 4000 UTF-16 units are rows of core's rules
 * table (`photo` placement), checked by validation before anything is sent.
 *
 * Source: https://developers.tiktok.com/doc/content-posting-api-reference-photo-post
 */
import { PublishError } from "@omnipost/core"
import { Effect } from "effect"
import * as Errors from "./Errors.js"
import * as Api from "./internal/Api.js"
import * as Video from "./Video.js"

export const maxPhotos = 35

export interface PhotoInfo {
  readonly title?: string | undefined
  readonly description: string
  /** Direct posts only. */
  readonly privacyLevel?: string | undefined
  readonly disableComment?: boolean | undefined
  readonly autoAddMusic?: boolean | undefined
  readonly photoCoverIndex?: number | undefined
  /** More `post_info` fields as TikTok names them (`brand_content_toggle`…). */
  readonly extra?: Readonly<Record<string, unknown>> | undefined
}

const asRecord = (u: unknown): Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u) ? (u as Record<string, unknown>) : {}

/** Inits the photo post and polls it; the creator must have been checked by the caller for a direct post. */
export const postPhotos = (
  connection: Api.Connection,
  info: PhotoInfo,
  urls: ReadonlyArray<string>,
  mode: "direct" | "inbox",
  options: Video.Options = {}
): Effect.Effect<Video.Published, PublishError.PublishError> =>
  Effect.gen(function*() {
    // More than `maxPhotos` is validation's (the rules row) and TikTok's to refuse.
    if (urls.length < 1) {
      return yield* new PublishError.Rejected({ platform: Errors.platform, code: "MEDIA_REQUIRED", message: "a TikTok photo post has at least one photo" })
    }
    const plain = urls.find((url) => !url.startsWith("https://"))
    if (plain !== undefined) {
      return yield* new PublishError.Rejected({
        platform: Errors.platform,
        code: "URL_NOT_VERIFIED",
        message: `TikTok pulls photos only over HTTPS from a verified domain; ${plain} is not HTTPS`
      })
    }
    const init = yield* Api.post(connection, "/v2/post/publish/content/init/", {
      media_type: "PHOTO",
      post_mode: mode === "inbox" ? "MEDIA_UPLOAD" : "DIRECT_POST",
      post_info: {
        ...(info.title !== undefined ? { title: info.title } : {}),
        description: info.description,
        ...(mode === "direct" ? { privacy_level: info.privacyLevel, disable_comment: info.disableComment ?? false } : {}),
        ...(info.autoAddMusic !== undefined ? { auto_add_music: info.autoAddMusic } : {}),
        ...info.extra
      },
      source_info: { source: "PULL_FROM_URL", photo_cover_index: info.photoCoverIndex ?? 0, photo_images: urls }
    }, true)
    const publishId = asRecord(asRecord(init.body).data).publish_id
    if (typeof publishId !== "string") {
      return yield* new PublishError.OutcomeUnknown({ platform: Errors.platform, message: "TikTok: content/init answered without publish_id" })
    }
    return yield* Video.pollAfterInit(connection, publishId, options)
  })
