/**
 * A fake of TikTok's Content Posting API over real HTTP (the kit's
 * `FakeServer`), enforcing what the publisher must get right:
 *
 * - a Bearer token on every call (`access_token_invalid` otherwise);
 * - `creator_info/query` before every `video/init` (`invalid_param` otherwise);
 * - `privacy_level` among the creator's options (`privacy_level_option_mismatch`),
 *   no interaction the creator disabled;
 * - FILE_UPLOAD plans keeping the media transfer guide's chunk rules (`Chunks.violation`);
 * - chunk PUTs in order, each with its exact `Content-Range` and `Content-Length`,
 *   206 for an intermediate chunk and 201 for the last; a wrong one is 400;
 * - `status/fetch` reporting PROCESSING_UPLOAD until every byte arrived, then
 *   PUBLISH_COMPLETE (or FAILED with `failReason`, when a test sets one).
 *
 * Sources: platform-specs §5.2, §5.3, §5.5.
 */
import { type FakeRequest, FakeServer } from "@omnipost/platform-kit/testing"
import { createHash } from "node:crypto"
import * as Chunks from "../Chunks.js"

export interface FakeCreator {
  username: string
  nickname: string
  privacyLevelOptions: Array<string>
  commentDisabled: boolean
  duetDisabled: boolean
  stitchDisabled: boolean
  maxVideoPostDurationSec: number
}

export interface FakeUpload {
  readonly publishId: string
  readonly token: string
  readonly postInfo: Record<string, unknown>
  /** Sent to the creator's inbox (a draft) rather than posted. */
  readonly inbox: boolean
  readonly videoSize: number
  readonly chunkSize: number
  readonly totalChunkCount: number
  received: number
  chunksReceived: number
  readonly hash: ReturnType<typeof createHash>
  sha256: string | undefined
  /** The URL TikTok pulled, for PULL_FROM_URL. */
  readonly videoUrl?: string | undefined
  /** Largest chunk body seen, bytes. */
  largestChunk: number
}

const answer = (status: number, code: string, message: string, data: unknown = {}) => ({
  status,
  headers: { "content-type": "application/json; charset=UTF-8" },
  body: { data, error: { code, message, log_id: `LOG${code.length}${status}` } }
})

const header = (request: FakeRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return Array.isArray(value) ? value[0] : value
}

export class FakeTiktok {
  static async start(): Promise<FakeTiktok> {
    const server = await FakeServer.start({ errorAnswer: (status) => answer(status, status === 404 ? "not_found" : "internal_error", `HTTP ${status}`) })
    return new FakeTiktok(server)
  }

  readonly tokens = new Set<string>(["tok-1"])
  creator: FakeCreator = {
    username: "ana",
    nickname: "Ana",
    privacyLevelOptions: ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY"],
    commentDisabled: false,
    duetDisabled: false,
    stitchDisabled: false,
    maxVideoPostDurationSec: 600
  }
  readonly uploads = new Map<string, FakeUpload>()
  /** URL prefixes verified for PULL_FROM_URL (anything else is `url_ownership_unverified`). */
  verifiedPrefixes: Array<string> = ["https://media.example.com/"]
  /** When set, a complete upload ends FAILED with this reason. */
  failReason: string | undefined
  /** How many status/fetch answers say PROCESSING_UPLOAD after the last byte before the final one. */
  processingPolls = 1
  private readonly creatorQueried = new Set<string>()
  private readonly polls = new Map<string, number>()
  private next = 1

  private constructor(readonly server: FakeServer) {
    server.route("POST", "/v2/post/publish/creator_info/query/", (r) => this.authed(r, (token) => this.creatorInfo(token)))
    server.route("POST", "/v2/post/publish/video/init/", (r) => this.authed(r, (token) => this.init(r, token)))
    server.route("POST", "/v2/post/publish/inbox/video/init/", (r) => this.authed(r, (token) => this.init(r, token, true)))
    server.route("PUT", "/upload/:id", (r) => this.chunk(r))
    server.route("POST", "/v2/post/publish/status/fetch/", (r) => this.authed(r, (token) => this.status(r, token)))
  }

  get url(): string {
    return this.server.url
  }

  close(): Promise<void> {
    return this.server.close()
  }

  private async authed(request: FakeRequest, f: (token: string) => unknown) {
    const auth = header(request, "authorization") ?? ""
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : ""
    if (!this.tokens.has(token)) return answer(401, "access_token_invalid", "The access token is invalid or not found in the request.")
    return f(token) as ReturnType<typeof answer>
  }

  private creatorInfo(token: string) {
    this.creatorQueried.add(token)
    const c = this.creator
    return answer(200, "ok", "", {
      creator_avatar_url: "https://example.invalid/a.jpg",
      creator_username: c.username,
      creator_nickname: c.nickname,
      privacy_level_options: c.privacyLevelOptions,
      comment_disabled: c.commentDisabled,
      duet_disabled: c.duetDisabled,
      stitch_disabled: c.stitchDisabled,
      max_video_post_duration_sec: c.maxVideoPostDurationSec
    })
  }

  private async init(request: FakeRequest, token: string, inbox = false) {
    if (!inbox && !this.creatorQueried.delete(token)) return answer(400, "invalid_param", "creator_info/query must be called before init")
    const body = (await request.json().catch(() => undefined)) as Record<string, any> | undefined
    const postInfo = (inbox ? {} : body?.post_info) as Record<string, unknown> | undefined
    const source = body?.source_info as Record<string, unknown> | undefined
    if (inbox && body?.post_info !== undefined) return answer(400, "invalid_param", "inbox/video/init takes source_info only")
    if (postInfo === undefined || source === undefined) return answer(400, "invalid_param", "post_info and source_info are required")
    if (!inbox && !this.creator.privacyLevelOptions.includes(String(postInfo.privacy_level))) {
      return answer(400, "privacy_level_option_mismatch", "privacy_level is not among the creator's options")
    }
    if (
      !inbox && (
        (postInfo.disable_comment !== true && this.creator.commentDisabled) ||
        (postInfo.disable_duet !== true && this.creator.duetDisabled) ||
        (postInfo.disable_stitch !== true && this.creator.stitchDisabled)
      )
    ) return answer(400, "invalid_param", "an interaction the creator disabled was requested")
    if (source.source === "PULL_FROM_URL" && !inbox) {
      const url = String(source.video_url ?? "")
      if (!url.startsWith("https://") || !this.verifiedPrefixes.some((prefix) => url.startsWith(prefix))) {
        return answer(403, "url_ownership_unverified", "The video_url domain or URL prefix is not verified for this client.")
      }
      const publishId = `v_pub_url~v2-1.${this.next++}`
      this.uploads.set(publishId, {
        publishId, token, postInfo, inbox, videoSize: 0, chunkSize: 0, totalChunkCount: 0, received: 0, chunksReceived: 0,
        hash: createHash("sha256"), sha256: "pulled", largestChunk: 0, videoUrl: url
      })
      return answer(200, "ok", "", { publish_id: publishId })
    }
    if (source.source !== "FILE_UPLOAD") return answer(400, "invalid_param", "source must be FILE_UPLOAD or PULL_FROM_URL")
    const videoSize = Number(source.video_size)
    const chunkSize = Number(source.chunk_size)
    const totalChunkCount = Number(source.total_chunk_count)
    const why = Chunks.violation(videoSize, chunkSize, totalChunkCount)
    if (why !== undefined) return answer(400, "invalid_param", why)
    const publishId = `v_pub_file~v2-1.${this.next++}`
    this.uploads.set(publishId, {
      publishId,
      token,
      postInfo,
      inbox,
      videoSize,
      chunkSize,
      totalChunkCount,
      received: 0,
      chunksReceived: 0,
      hash: createHash("sha256"),
      sha256: undefined,
      videoUrl: undefined,
      largestChunk: 0
    })
    return answer(200, "ok", "", { publish_id: publishId, upload_url: `${this.url}/upload/${encodeURIComponent(publishId)}` })
  }

  private async chunk(request: FakeRequest) {
    const upload = this.uploads.get(decodeURIComponent(request.params.id ?? ""))
    if (upload === undefined) return answer(404, "not_found", "unknown upload")
    const index = upload.chunksReceived
    if (index >= upload.totalChunkCount) return answer(400, "invalid_param", "every chunk was already received")
    const first = index * upload.chunkSize
    const last = index === upload.totalChunkCount - 1 ? upload.videoSize - 1 : first + upload.chunkSize - 1
    const range = `bytes ${first}-${last}/${upload.videoSize}`
    if (header(request, "content-range") !== range) {
      return answer(400, "invalid_param", `expected Content-Range ${range}, got ${header(request, "content-range")}`)
    }
    if (!/^video\/(mp4|quicktime|webm)$/.test(header(request, "content-type") ?? "")) {
      return answer(400, "invalid_param", "Content-Type must be video/mp4, video/quicktime or video/webm")
    }
    let length = 0
    for await (const piece of request.stream as AsyncIterable<Uint8Array>) {
      length += piece.byteLength
      upload.hash.update(piece)
    }
    if (length !== last - first + 1 || header(request, "content-length") !== String(length)) {
      return answer(400, "invalid_param", `chunk ${index + 1} has ${length} bytes, expected ${last - first + 1}`)
    }
    upload.received += length
    upload.chunksReceived += 1
    upload.largestChunk = Math.max(upload.largestChunk, length)
    if (upload.chunksReceived === upload.totalChunkCount) {
      upload.sha256 = upload.hash.digest("hex")
      return { status: 201 }
    }
    return { status: 206 }
  }

  private async status(request: FakeRequest, token: string) {
    const body = (await request.json().catch(() => undefined)) as Record<string, unknown> | undefined
    const upload = this.uploads.get(String(body?.publish_id))
    if (upload === undefined || upload.token !== token) return answer(400, "invalid_param", "unknown publish_id")
    const data = { uploaded_bytes: upload.received }
    if (upload.sha256 === undefined) return answer(200, "ok", "", { ...data, status: "PROCESSING_UPLOAD" })
    const polls = (this.polls.get(upload.publishId) ?? 0) + 1
    this.polls.set(upload.publishId, polls)
    if (polls <= this.processingPolls) return answer(200, "ok", "", { ...data, status: "PROCESSING_UPLOAD" })
    if (this.failReason !== undefined) return answer(200, "ok", "", { ...data, status: "FAILED", fail_reason: this.failReason })
    if (upload.inbox) return answer(200, "ok", "", { ...data, status: "SEND_TO_USER_INBOX" })
    return answer(200, "ok", "", {
      ...data,
      status: "PUBLISH_COMPLETE",
      publicaly_available_post_id: upload.postInfo.privacy_level === "SELF_ONLY" ? [] : [`7${upload.publishId.length}000001`]
    })
  }
}
