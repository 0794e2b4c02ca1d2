/**
 * The fake's uploaded assets (images, documents, videos) and the checks
 * LinkedIn makes on them: the bytes' type (sniffed, never the declared
 * Content-Type), the image pixel cap, the document size cap, the video
 * size range, part sizes, ETags and the finalize order.
 */
import { FakeMedia } from "@omnipost/platform-kit/testing"
import { createHash } from "node:crypto"

export type AssetStatus = "WAITING_UPLOAD" | "PROCESSING" | "AVAILABLE" | "PROCESSING_FAILED"

export interface Asset {
  readonly urn: string
  readonly kind: "image" | "document" | "video"
  readonly owner: string
  status: AssetStatus
  /** Status checks left before a processed asset is AVAILABLE. */
  pollsLeft: number
  mimeType?: string | undefined
  sizeBytes: number
  sha256?: string | undefined
  failure?: string | undefined
  // videos
  readonly fileSizeBytes?: number | undefined
  readonly uploadToken?: string | undefined
  readonly parts?: ReadonlyArray<{ readonly firstByte: number; readonly lastByte: number }> | undefined
  readonly etags?: Array<string> | undefined
  finalized?: boolean | undefined
  head?: Uint8Array | undefined
}

/** Documented limits (Images API, Documents API, Videos API). */
export const limits = {
  /** Images must have fewer than 36,152,320 pixels. */
  imageMaxPixels: 36_152_320,
  imageTypes: ["image/jpeg", "image/png", "image/gif"],
  /** Documents: PDF, PPT/PPTX, DOC/DOCX, at most 100 MB (and 300 pages). */
  documentMaxBytes: 100 * 1_000_000,
  documentTypes: ["application/pdf", "application/zip", "application/x-cfb"],
  /** Videos: MP4, 75 KB – 500 MB. */
  videoMinBytes: 75 * 1_000,
  videoMaxBytes: 500 * 1_000_000,
  videoTypes: ["video/mp4"]
} as const

export const etagOf = (bytes: Uint8Array): string => createHash("md5").update(bytes).digest("hex")

/** Judges a finished image or document upload; the asset becomes PROCESSING (or PROCESSING_FAILED). */
export const receiveFile = async (asset: Asset, stream: AsyncIterable<Uint8Array>): Promise<void> => {
  const received = await FakeMedia.receive(stream)
  asset.sizeBytes = received.size
  asset.sha256 = received.sha256
  const accept = asset.kind === "image" ? limits.imageTypes : limits.documentTypes
  const verdict = FakeMedia.check(received, {
    accept,
    ...(asset.kind === "document" ? { maxBytes: limits.documentMaxBytes } : {})
  })
  if (verdict._tag === "Refused") {
    asset.status = "PROCESSING_FAILED"
    asset.failure = verdict.message
    return
  }
  asset.mimeType = verdict.mimeType
  const { height, width } = verdict.sniffed
  if (asset.kind === "image" && width !== undefined && height !== undefined && width * height >= limits.imageMaxPixels) {
    asset.status = "PROCESSING_FAILED"
    asset.failure = `the image has ${width * height} pixels; fewer than ${limits.imageMaxPixels} are allowed`
    return
  }
  asset.status = "PROCESSING"
}

/** The byte ranges of a video's parts. */
export const partsOf = (size: number, partSize: number) => {
  const parts: Array<{ firstByte: number; lastByte: number }> = []
  for (let first = 0; first < size; first += partSize) parts.push({ firstByte: first, lastByte: Math.min(size, first + partSize) - 1 })
  return parts
}

/** A status check: PROCESSING turns AVAILABLE after the configured number of checks. */
export const poll = (asset: Asset): AssetStatus => {
  if (asset.status === "PROCESSING") {
    if (asset.pollsLeft <= 0) asset.status = "AVAILABLE"
    else asset.pollsLeft -= 1
  }
  return asset.status
}

/** What the bytes are (by their first bytes), never what was declared. */
export const sniffType = (head: Uint8Array | undefined): string | undefined => {
  if (head === undefined) return undefined
  const verdict = FakeMedia.check(head, { accept: ["*/*"] })
  return verdict._tag === "Accepted" ? verdict.mimeType : verdict.mimeType
}
