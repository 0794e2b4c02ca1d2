/**
 * Media attached to a post or a thread part. Validation needs the facts a
 * platform checks (kind, MIME type, size, dimensions, duration), so they are
 * part of the model rather than discovered at upload time.
 */
import { Schema } from "effect"
import { BoundedString } from "./Limits.js"

export const MediaKind = Schema.Literals(["image", "video", "gif", "document"])
export type MediaKind = typeof MediaKind.Type

/**
 * Where the bytes come from. Instagram and Threads fetch media by public URL;
 * the other platforms upload bytes, which a publisher streams from a URL, a
 * local file or in-memory bytes. `stored` refers to a media record of the worker.
 */
export const MediaSource = Schema.Union([
  Schema.TaggedStruct("url", { url: BoundedString }),
  Schema.TaggedStruct("file", { path: BoundedString }),
  Schema.TaggedStruct("bytes", { data: Schema.Uint8Array }),
  Schema.TaggedStruct("stored", { mediaId: BoundedString })
])
export type MediaSource = typeof MediaSource.Type

export const Thumbnail = Schema.Struct({
  source: MediaSource,
  mimeType: BoundedString,
  sizeBytes: Schema.optional(Schema.Number),
  /** For video covers taken from the video itself (TikTok, Instagram `thumb_offset`). */
  offsetMs: Schema.optional(Schema.Number)
})
export type Thumbnail = typeof Thumbnail.Type

export const Media = Schema.Struct({
  kind: MediaKind,
  mimeType: BoundedString,
  sizeBytes: Schema.Number,
  width: Schema.optional(Schema.Number),
  height: Schema.optional(Schema.Number),
  durationSeconds: Schema.optional(Schema.Number),
  /** Animated GIF frame count (X caps GIFs at 350 frames). */
  frames: Schema.optional(Schema.Number),
  altText: Schema.optional(BoundedString),
  thumbnail: Schema.optional(Thumbnail),
  source: MediaSource
})
export type Media = typeof Media.Type
