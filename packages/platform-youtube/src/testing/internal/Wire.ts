/**
 * What the fake YouTube says and reads on the wire, as pure functions:
 * Google's error bodies, videos.insert's metadata checks (its error table) and
 * the resumable protocol's `Content-Range`.
 */
import { TextCount } from "@omnipost/core"

/** Google's error body. */
export const errorBody = (code: number, reason: string, message: string, domain = "youtube.video") => ({
  error: { code, message, errors: [{ domain, reason, message }] }
})

export const answerError = (code: number, reason: string, message: string, domain?: string) => ({
  status: code,
  body: errorBody(code, reason, message, domain)
})

/** Checks of the metadata, as videos.insert's error table names them; `undefined` when valid. */
export const checkMetadata = (metadata: unknown) => {
  const record = typeof metadata === "object" && metadata !== null ? metadata as Record<string, any> : {}
  const snippet = record.snippet ?? {}
  const status = record.status ?? {}
  const title = snippet.title
  if (typeof title !== "string" || title.trim().length === 0) return answerError(400, "invalidTitle", "The request metadata specifies an invalid or empty video title.")
  if (title.length > 100 || /[<>]/.test(title)) return answerError(400, "invalidTitle", "The request metadata specifies an invalid video title.")
  const description = snippet.description ?? ""
  if (typeof description !== "string" || TextCount.utf8Bytes(description) > 5000 || /[<>]/.test(description)) {
    return answerError(400, "invalidDescription", "The request metadata specifies an invalid video description.")
  }
  const tags = snippet.tags ?? []
  if (!Array.isArray(tags) || !tags.every((tag) => typeof tag === "string") || TextCount.joinYoutubeTags(tags).length > 500) {
    return answerError(400, "invalidTags", "The request metadata specifies invalid video keywords.")
  }
  if (snippet.categoryId !== undefined && !/^\d+$/.test(String(snippet.categoryId))) {
    return answerError(400, "invalidCategoryId", "The snippet.categoryId property specifies an invalid category ID.")
  }
  if (!["public", "private", "unlisted", undefined].includes(status.privacyStatus)) {
    return answerError(400, "invalidVideoMetadata", "The request metadata is invalid.")
  }
  if (status.publishAt !== undefined && (status.privacyStatus !== "private" || Number.isNaN(Date.parse(String(status.publishAt))))) {
    return answerError(400, "invalidPublishAt", "The request metadata specifies an invalid scheduled publishing time.")
  }
  if (status.license !== undefined && !["youtube", "creativeCommon"].includes(status.license)) {
    return answerError(400, "invalidVideoMetadata", "The request metadata is invalid.")
  }
  return undefined
}

/** `Content-Range: bytes a-b/total` (or `bytes *\/total`, the status query). */
export const contentRange = (header: string | undefined) => {
  const match = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec((header ?? "").trim())
  if (match === null) return undefined
  return {
    first: match[1] === undefined ? undefined : Number(match[1]),
    last: match[2] === undefined ? undefined : Number(match[2]),
    total: match[3] === "*" ? undefined : Number(match[3])
  }
}
