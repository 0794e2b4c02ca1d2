/**
 * A post record as Bluesky defines it: its limits (lexicon
 * `app.bsky.feed.post`), its `at://` URI and web URL, and the check of a part
 * against them before anything is uploaded.
 */
import { type Post, PublishError } from "@omnipost/core"
import { platform } from "../Errors.js"
import * as Facets from "./Facets.js"

/** Record limits (lexicon `app.bsky.feed.post`; platform-specs §6.4). */
export const maxTextGraphemes = 300
export const maxTextBytes = 3000
export const maxImages = 4

export const defaultAppUrl = "https://bsky.app"

/** The record key: the last segment of an `at://` URI. */
export const rkeyOf = (uri: string): string => uri.slice(uri.lastIndexOf("/") + 1)

/** `https://bsky.app/profile/{handle}/post/{rkey}`. */
export const postUrl = (handle: string, rkey: string, appUrl = defaultAppUrl): string =>
  `${appUrl.replace(/\/+$/, "")}/profile/${handle}/post/${rkey}`

/** Splits `at://did/collection/rkey`. */
export const parseAtUri = (uri: string): { readonly repo: string; readonly collection: string; readonly rkey: string } | undefined => {
  const match = /^at:\/\/([^/]+)\/([^/]+)\/([^/?#]+)$/.exec(uri)
  return match === null ? undefined : { repo: match[1]!, collection: match[2]!, rkey: match[3]! }
}

const rejected = (message: string, code?: string) =>
  new PublishError.Rejected({ platform, message, ...(code !== undefined ? { code } : {}) })

/** Checks a part against the record's limits before anything is uploaded. */
export const checkPart = (part: Post.ResolvedPart, index: number): PublishError.Rejected | undefined => {
  const where = index === 0 ? "the post" : `thread part ${index + 1}`
  const graphemes = Facets.graphemeLength(part.text)
  if (graphemes > maxTextGraphemes) {
    return rejected(`${where}: Bluesky text is at most ${maxTextGraphemes} graphemes; this is ${graphemes}`, "CONTENT_TOO_LONG")
  }
  const bytes = Facets.utf8Length(part.text)
  if (bytes > maxTextBytes) {
    return rejected(`${where}: Bluesky text is at most ${maxTextBytes} UTF-8 bytes; this is ${bytes}`, "CONTENT_TOO_LONG")
  }
  const images = part.media.filter((media) => media.kind === "image" || media.kind === "gif")
  const videos = part.media.filter((media) => media.kind === "video")
  const others = part.media.filter((media) => media.kind === "document")
  if (others.length > 0) return rejected(`${where}: Bluesky posts cannot carry documents`, "UNSUPPORTED_MEDIA_TYPE")
  if (images.length > 0 && videos.length > 0) {
    return rejected(`${where}: a Bluesky post has one embed: images or a video, not both`, "MIXED_MEDIA_NOT_SUPPORTED")
  }
  if (images.length > maxImages) return rejected(`${where}: at most ${maxImages} images; got ${images.length}`, "TOO_MANY_MEDIA")
  if (videos.length > 1) return rejected(`${where}: at most 1 video; got ${videos.length}`, "TOO_MANY_MEDIA")
  if (part.text.trim() === "" && part.media.length === 0 && part.link === undefined) {
    return rejected(`${where} has no text, media or link`, "CONTENT_REQUIRED")
  }
  return undefined
}

/** A strong ref: a record's URI and CID. */
interface StrongRef {
  readonly uri: string
  readonly cid: string
}

/** An `app.bsky.feed.post` record: the text with its facets, the settings' languages, labels and tags, a reply and an embed. */
export const postRecord = (input: {
  readonly text: string
  readonly facets: ReadonlyArray<unknown>
  readonly embed?: unknown
  readonly createdAt: string
  readonly settings: {
    readonly langs?: ReadonlyArray<string> | undefined
    readonly labels?: ReadonlyArray<string> | undefined
    readonly tags?: ReadonlyArray<string> | undefined
  }
  readonly reply?: { readonly root: StrongRef; readonly parent: StrongRef } | undefined
}): Record<string, unknown> => {
  const { settings } = input
  return {
    $type: "app.bsky.feed.post",
    text: input.text,
    createdAt: input.createdAt,
    ...(input.facets.length > 0 ? { facets: input.facets } : {}),
    ...(settings.langs !== undefined && settings.langs.length > 0 ? { langs: settings.langs } : {}),
    ...(settings.labels !== undefined && settings.labels.length > 0
      ? { labels: { $type: "com.atproto.label.defs#selfLabels", values: settings.labels.map((val) => ({ val })) } }
      : {}),
    ...(settings.tags !== undefined && settings.tags.length > 0 ? { tags: settings.tags.map((tag) => tag.replace(/^#/, "")) } : {}),
    ...(input.reply !== undefined ? { reply: input.reply } : {}),
    ...(input.embed !== undefined ? { embed: input.embed } : {})
  }
}
