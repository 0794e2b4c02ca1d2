/**
 * The fake X's chunked media upload (`/2/media/upload`): INIT before APPEND,
 * segment indexes in order, each segment ≤ 8 MB, the byte count equal to
 * `total_bytes` at FINALIZE, the type judged from the bytes (the kit's
 * `FakeMedia`, never the declared `media_type`) and the size per category,
 * STATUS processing states for video and GIF, alt text ≤ 1000 characters.
 */
import { Sniff } from "@omnipost/platform-kit"
import { type Answer, FakeMedia, type FakeRequest } from "@omnipost/platform-kit/testing"
import { createHash } from "node:crypto"
import { invalidRequest } from "./Answers.js"
import { categoryTypes, type FakeXUpload, type FakeXUser, MB, type Store } from "./Model.js"

interface ProcessingError {
  readonly code: number
  readonly name: string
  readonly message: string
}

export class Uploads {
  /** Running SHA-256 of each upload's segments. */
  private readonly hashes = new Map<string, ReturnType<typeof createHash>>()
  /** The first bytes of each upload, to judge its type by its bytes at FINALIZE. */
  private readonly heads = new Map<string, Uint8Array>()
  private readonly failures = new Map<string, ProcessingError>()
  private processingFailures: Array<ProcessingError> = []

  constructor(private readonly store: Store) {}

  failNextProcessing(error?: { readonly code?: number; readonly name?: string; readonly message?: string }): void {
    this.processingFailures.push({
      code: error?.code ?? 1,
      name: error?.name ?? "InvalidMedia",
      message: error?.message ?? "Unsupported video format"
    })
  }

  reset(): void {
    this.processingFailures = []
  }

  initialize(user: FakeXUser, body: unknown): Answer {
    const input = (body ?? {}) as { media_type?: unknown; total_bytes?: unknown; media_category?: unknown }
    if (typeof input.media_type !== "string") return invalidRequest("The `media_type` field is required.", { media_type: [] })
    if (typeof input.total_bytes !== "number" || !Number.isInteger(input.total_bytes) || input.total_bytes <= 0) {
      return invalidRequest("The `total_bytes` field must be a positive integer.", { total_bytes: [String(input.total_bytes)] })
    }
    const category = typeof input.media_category === "string" ? input.media_category : "tweet_image"
    const types = categoryTypes[category]
    if (types === undefined) return invalidRequest(`Unsupported media_category: ${category}`, { media_category: [category] })
    if (!types.includes(input.media_type)) {
      return invalidRequest(`media_type ${input.media_type} is not allowed for ${category}`, { media_type: [input.media_type] })
    }
    const limits = this.store.options.limits
    const maxBytes = category === "tweet_video"
      ? limits?.videoBytes ?? 512 * MB
      : category === "tweet_gif"
      ? limits?.gifBytes ?? 15 * MB
      : limits?.imageBytes ?? 5 * MB
    if (input.total_bytes > maxBytes) {
      return invalidRequest(`File size exceeds ${maxBytes} bytes.`, { total_bytes: [String(input.total_bytes)] })
    }
    const id = this.store.nextId()
    const prefix = category === "tweet_video" ? "7" : category === "tweet_gif" ? "16" : "3"
    const upload: FakeXUpload = {
      id,
      mediaKey: `${prefix}_${id}`,
      ownerId: user.id,
      mediaType: input.media_type,
      mediaCategory: category,
      totalBytes: input.total_bytes,
      segments: [],
      receivedBytes: 0,
      finalized: false,
      state: "pending",
      statusPolls: [],
      expiresAtMs: this.store.now() + 86_400_000
    }
    this.store.uploads.push(upload)
    this.hashes.set(id, createHash("sha256"))
    return { status: 200, body: { data: { id, media_key: upload.mediaKey, expires_after_secs: 86_400 } } }
  }

  append(user: FakeXUser, id: string, request: FakeRequest, body: Buffer): Answer {
    const upload = this.store.findUpload(user, id)
    if (upload === undefined) return invalidRequest("Invalid media_id.", { media_id: [id] })
    if (upload.finalized) return invalidRequest("Media upload already finalized.", { media_id: [id] })
    const contentType = request.headers["content-type"] ?? ""
    if (!contentType.startsWith("multipart/form-data")) return invalidRequest("APPEND expects multipart/form-data.")
    const parts = parseMultipart(body, contentType)
    if (parts === undefined) return invalidRequest("Malformed multipart body.")
    const indexPart = parts.find((p) => p.name === "segment_index")
    const media = parts.find((p) => p.name === "media")
    const index = Number(indexPart?.data.toString("utf8"))
    if (indexPart === undefined || !Number.isInteger(index) || index < 0 || index > 999) {
      return invalidRequest("segment_index must be an integer between 0 and 999.", { segment_index: [] })
    }
    if (media === undefined) return invalidRequest("The `media` field is required.", { media: [] })
    if (index !== upload.segments.length) {
      return invalidRequest(`Segment ${index} is out of order; expected segment ${upload.segments.length}.`, { segment_index: [String(index)] })
    }
    const maxSegment = this.store.options.limits?.segmentBytes ?? 8 * MB
    if (media.data.length > maxSegment) {
      return invalidRequest(`Segment size ${media.data.length} exceeds ${maxSegment} bytes.`, { media: [] })
    }
    if (upload.receivedBytes + media.data.length > upload.totalBytes) {
      return invalidRequest("Segments exceed the total_bytes given at INIT.", { media: [] })
    }
    upload.segments.push({ index, size: media.data.length })
    upload.receivedBytes += media.data.length
    this.hashes.get(id)!.update(media.data)
    const head = this.heads.get(id) ?? new Uint8Array(0)
    if (head.byteLength < Sniff.sniffBytes) {
      this.heads.set(id, new Uint8Array(Buffer.concat([head, media.data.subarray(0, Sniff.sniffBytes - head.byteLength)])))
    }
    return { status: 200, body: { data: { expires_at: Math.floor(upload.expiresAtMs / 1000) } } }
  }

  finalize(user: FakeXUser, id: string): Answer {
    const upload = this.store.findUpload(user, id)
    if (upload === undefined) return invalidRequest("Invalid media_id.", { media_id: [id] })
    if (upload.finalized) return invalidRequest("Media upload already finalized.", { media_id: [id] })
    if (upload.receivedBytes !== upload.totalBytes) {
      return invalidRequest(
        `Segments do not add up to provided total file size (${upload.receivedBytes} of ${upload.totalBytes}).`,
        { media_id: [id] }
      )
    }
    // X decides what the file is from its bytes: a "PNG" that is not an image is refused here.
    const verdict = FakeMedia.check(
      { size: upload.totalBytes, sha256: "", head: this.heads.get(id) ?? new Uint8Array(0) },
      { accept: categoryTypes[upload.mediaCategory] ?? [] }
    )
    this.heads.delete(id)
    if (verdict._tag === "Refused") {
      return invalidRequest(`Unsupported media for ${upload.mediaCategory}: ${verdict.message}.`, { media_id: [id] })
    }
    upload.sniffedType = verdict.mimeType
    upload.finalized = true
    upload.sha256 = this.hashes.get(id)!.digest("hex")
    this.hashes.delete(id)
    const processed = upload.mediaCategory === "tweet_video" || upload.mediaCategory === "tweet_gif"
    upload.state = processed ? "pending" : "succeeded"
    const data = {
      id,
      media_key: upload.mediaKey,
      size: upload.totalBytes,
      expires_after_secs: Math.floor((upload.expiresAtMs - this.store.now()) / 1000),
      ...(processed ? { processing_info: { state: "pending", check_after_secs: this.checkAfterSecs() } } : {})
    }
    return { status: 200, body: { data } }
  }

  private checkAfterSecs(): number {
    return this.store.options.processing?.checkAfterSecs ?? 1
  }

  status(user: FakeXUser, query: URLSearchParams): Answer {
    if (query.get("command") !== "STATUS") return invalidRequest("command must be STATUS.", { command: [] })
    const id = query.get("media_id") ?? ""
    const upload = this.store.findUpload(user, id)
    if (upload === undefined) return invalidRequest("Invalid media_id.", { media_id: [id] })
    if (!upload.finalized) return invalidRequest("Media is not finalized.", { media_id: [id] })
    upload.statusPolls.push(this.store.now())
    const pollsUntilDone = this.store.options.processing?.pollsUntilDone ?? 2
    let error: ProcessingError | undefined
    if (upload.state === "pending" || upload.state === "in_progress") {
      if (upload.statusPolls.length >= pollsUntilDone) {
        error = this.processingFailures.shift()
        upload.state = error === undefined ? "succeeded" : "failed"
        if (error !== undefined) this.failures.set(id, error)
      } else {
        upload.state = "in_progress"
      }
    }
    error = error ?? this.failures.get(id)
    const info = upload.state === "succeeded"
      ? { state: "succeeded", progress_percent: 100 }
      : upload.state === "failed"
      ? { state: "failed", progress_percent: 100, error }
      : {
        state: upload.state,
        check_after_secs: this.checkAfterSecs(),
        progress_percent: Math.floor((upload.statusPolls.length / pollsUntilDone) * 100)
      }
    return { status: 200, body: { data: { id, media_key: upload.mediaKey, processing_info: info } } }
  }

  metadata(user: FakeXUser, body: unknown): Answer {
    const input = (body ?? {}) as { id?: unknown; metadata?: { alt_text?: { text?: unknown } } }
    if (typeof input.id !== "string") return invalidRequest("The `id` field is required.", { id: [] })
    const upload = this.store.findUpload(user, input.id)
    if (upload === undefined) return invalidRequest("Invalid media id.", { id: [input.id] })
    const text = input.metadata?.alt_text?.text
    if (typeof text !== "string") return invalidRequest("metadata.alt_text.text is required.", { "metadata.alt_text.text": [] })
    if ([...text].length > 1000) return invalidRequest("Alt text must be at most 1000 characters.", { "metadata.alt_text.text": [] })
    upload.altText = text
    return { status: 200, body: { data: { id: input.id, associated_metadata: true } } }
  }
}

/** A minimal multipart/form-data parser: enough for the fake, strict about the framing. */
export const parseMultipart = (
  body: Buffer,
  contentType: string
): Array<{ readonly name: string; readonly data: Buffer }> | undefined => {
  const boundaryMatch = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
  const boundary = boundaryMatch?.[1] ?? boundaryMatch?.[2]
  if (boundary === undefined) return undefined
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: Array<{ name: string; data: Buffer }> = []
  let position = body.indexOf(delimiter)
  if (position < 0) return undefined
  while (true) {
    position += delimiter.length
    if (body.subarray(position, position + 2).toString() === "--") return parts
    position += 2 // CRLF after the delimiter
    const headerEnd = body.indexOf("\r\n\r\n", position)
    if (headerEnd < 0) return undefined
    const headers = body.subarray(position, headerEnd).toString("utf8")
    const name = /name="([^"]*)"/i.exec(headers)?.[1]
    const next = body.indexOf(delimiter, headerEnd + 4)
    if (next < 0 || name === undefined) return undefined
    parts.push({ name, data: body.subarray(headerEnd + 4, next - 2) })
    position = next
  }
}
