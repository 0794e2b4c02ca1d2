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
 *   PUBLISH_COMPLETE (or FAILED with `failReason`, or `failNext`'s reasons one
 *   post each, when a test sets them);
 * - photo posts (`content/init`): 1–35 HTTPS images under a verified prefix,
 *   title ≤ 90 and description ≤ 4000 UTF-16 units, `DIRECT_POST` or
 *   `MEDIA_UPLOAD`;
 * - an unaudited client (`unaudited`) posts SELF_ONLY only
 *   (`unaudited_client_can_only_post_to_private_accounts`); branded content
 *   cannot be SELF_ONLY;
 * - OAuth: the authorize page (consented at once), the token endpoint
 *   (`client_key`, code once, refresh), `user/info`.
 *
 * Routes are named `METHOD /path` for the kit's faults and request log
 * (`server.inject("POST /v2/post/publish/status/fetch/", …)`).
 *
 * Sources: platform-specs §5.1–§5.6.
 */
import { type FakeRequest, FakeServer } from "@omnipost/platform-kit/testing"
import { createHash, randomBytes } from "node:crypto"
import * as Chunks from "../Chunks.js"
import { answer, logId } from "./FakeAnswer.js"
import * as Limits from "./FakeLimits.js"

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
  /** Photo posts: the pulled image URLs. */
  readonly photoImages?: ReadonlyArray<string> | undefined
  /** The fake's `failReason` when this post was accepted: it ends FAILED with it. */
  failReason?: string | undefined
}



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
  /** The app the OAuth endpoints accept. */
  readonly client = { clientKey: "fake-client-key", clientSecret: "fake-client-secret" }
  readonly user = { openId: "open-ana-1", displayName: "Ana", avatarUrl: "https://p16.example.invalid/ana.jpeg" }
  private readonly codes = new Map<string, { readonly redirectUri: string; readonly scope: string }>()
  readonly refreshTokens = new Set<string>()
  /** The client has not passed the audit: SELF_ONLY only. */
  unaudited = false
  /** Per-token request limits and the creator's daily post cap (see `FakeLimits`). */
  readonly limits = new Limits.Limits()
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
  /** When set, a post accepted from then on ends FAILED with this reason. */
  failReason: string | undefined
  /** Reasons for the next posts accepted, one each, before `failReason`: each of those ends FAILED with its reason. */
  readonly failNext: Array<string> = []
  /** How many status/fetch answers say PROCESSING_UPLOAD after the last byte before the final one. */
  processingPolls = 1
  /** creator_info queries not yet followed by an init, per token: posts made at once on one account each query first. */
  private readonly creatorQueried = new Map<string, number>()
  private readonly polls = new Map<string, number>()
  private next = 1

  private constructor(readonly server: FakeServer) {
    server.route("GET", "/v2/auth/authorize/", (r) => this.authorize(r))
    server.route("POST", "/v2/oauth/token/", (r) => this.token(r))
    server.route("GET", "/v2/user/info/", (r) => this.authed(r, () => this.userInfo(r)))
    server.route("POST", "/v2/post/publish/creator_info/query/", (r) => this.authed(r, (token) => this.limited(token, "creator_info", () => this.creatorInfo(token))))
    server.route("POST", "/v2/post/publish/video/init/", (r) => this.authed(r, (token) => this.limited(token, "init", () => this.init(r, token))))
    server.route("POST", "/v2/post/publish/inbox/video/init/", (r) => this.authed(r, (token) => this.limited(token, "init", () => this.init(r, token, true))))
    server.route("POST", "/v2/post/publish/content/init/", (r) => this.authed(r, (token) => this.limited(token, "init", () => this.photoInit(r, token))))
    server.route("PUT", "/upload/:id", (r) => this.chunk(r))
    server.route("POST", "/v2/post/publish/status/fetch/", (r) => this.authed(r, (token) => this.limited(token, "status", () => this.status(r, token))))
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

  private limited(token: string, endpoint: Limits.Endpoint, f: () => unknown) {
    const refused = this.limits.take(token, endpoint, this.server)
    return refused !== undefined ? refused : (f() as ReturnType<typeof answer>)
  }

  private creatorInfo(token: string) {
    if (this.limits.capped()) return answer(403, "spam_risk_too_many_posts", "The user has reached the daily post cap.")
    this.creatorQueried.set(token, (this.creatorQueried.get(token) ?? 0) + 1)
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
    if (!inbox && !this.takeCreatorQuery(token)) return answer(400, "invalid_param", "creator_info/query must be called before init")
    const body = (await request.json().catch(() => undefined)) as Record<string, any> | undefined
    const postInfo = (inbox ? {} : body?.post_info) as Record<string, unknown> | undefined
    const source = body?.source_info as Record<string, unknown> | undefined
    if (inbox && body?.post_info !== undefined) return answer(400, "invalid_param", "inbox/video/init takes source_info only")
    if (postInfo === undefined || source === undefined) return answer(400, "invalid_param", "post_info and source_info are required")
    if (!inbox && !this.creator.privacyLevelOptions.includes(String(postInfo.privacy_level))) {
      return answer(400, "privacy_level_option_mismatch", "privacy_level is not among the creator's options")
    }
    const refused = inbox ? undefined : this.postInfoRefusal(postInfo, 2200)
    if (refused !== undefined) return refused
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
      this.limits.posted()
      const publishId = `v_pub_url~v2-1.${this.next++}`
      this.uploads.set(publishId, {
      failReason: this.failNext.shift() ?? this.failReason,
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
    if (!inbox) this.limits.posted()
    const publishId = `v_pub_file~v2-1.${this.next++}`
    this.uploads.set(publishId, {
      failReason: this.failNext.shift() ?? this.failReason,
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

  /** What TikTok refuses in any `post_info`: the daily cap, an unaudited client's privacy, private branded content, a long title. */
  private postInfoRefusal(postInfo: Record<string, unknown>, maxTitle: number, field = "title") {
    if (this.limits.capped()) return answer(403, "spam_risk_too_many_posts", "The user has reached the daily post cap.")
    if (this.unaudited && postInfo.privacy_level !== "SELF_ONLY") {
      return answer(403, "unaudited_client_can_only_post_to_private_accounts", "Unaudited clients can only post to a private account.")
    }
    if (postInfo.brand_content_toggle === true && postInfo.privacy_level === "SELF_ONLY") {
      return answer(400, "invalid_param", "Branded content cannot be private (SELF_ONLY).")
    }
    const title = postInfo[field]
    if (title !== undefined && (typeof title !== "string" || title.length > maxTitle)) {
      return answer(400, "invalid_param", `post_info.${field} is longer than ${maxTitle} UTF-16 units`)
    }
    return undefined
  }

  /** A photo post: `content/init`, pulled from verified URLs. */
  private async photoInit(request: FakeRequest, token: string) {
    const body = (await request.json().catch(() => undefined)) as Record<string, any> | undefined
    const postInfo = body?.post_info as Record<string, unknown> | undefined
    const source = body?.source_info as Record<string, unknown> | undefined
    if (body?.media_type !== "PHOTO" || postInfo === undefined || source === undefined) {
      return answer(400, "invalid_param", "media_type PHOTO, post_info and source_info are required")
    }
    const direct = body.post_mode === "DIRECT_POST"
    if (!direct && body.post_mode !== "MEDIA_UPLOAD") return answer(400, "invalid_param", "post_mode must be DIRECT_POST or MEDIA_UPLOAD")
    if (direct) {
      if (!this.takeCreatorQuery(token)) return answer(400, "invalid_param", "creator_info/query must be called before init")
      if (!this.creator.privacyLevelOptions.includes(String(postInfo.privacy_level))) {
        return answer(400, "privacy_level_option_mismatch", "privacy_level is not among the creator's options")
      }
      if (postInfo.disable_comment !== true && this.creator.commentDisabled) return answer(400, "invalid_param", "comments are disabled by the creator")
      const refused = this.postInfoRefusal(postInfo, 90)
      if (refused !== undefined) return refused
    } else if (postInfo.privacy_level !== undefined) return answer(400, "invalid_param", "MEDIA_UPLOAD takes no privacy_level")
    if (typeof postInfo.description === "string" && postInfo.description.length > 4000) {
      return answer(400, "invalid_param", "post_info.description is longer than 4000 UTF-16 units")
    }
    if (!direct && typeof postInfo.title === "string" && postInfo.title.length > 90) return answer(400, "invalid_param", "post_info.title is longer than 90 UTF-16 units")
    const images = source.photo_images
    if (source.source !== "PULL_FROM_URL" || !Array.isArray(images) || images.length < 1 || images.length > 35) {
      return answer(400, "invalid_param", "source_info: PULL_FROM_URL with 1 to 35 photo_images")
    }
    const cover = Number(source.photo_cover_index ?? 0)
    if (!Number.isInteger(cover) || cover < 0 || cover >= images.length) return answer(400, "invalid_param", "photo_cover_index is out of range")
    if (images.some((url) => typeof url !== "string" || !url.startsWith("https://") || !this.verifiedPrefixes.some((p) => url.startsWith(p)))) {
      return answer(403, "url_ownership_unverified", "A photo URL's domain or URL prefix is not verified for this client.")
    }
    if (direct) this.limits.posted()
    const publishId = `p_pub_url~v2-1.${this.next++}`
    this.uploads.set(publishId, {
      failReason: this.failNext.shift() ?? this.failReason,
      publishId, token, postInfo, inbox: !direct, videoSize: 0, chunkSize: 0, totalChunkCount: 0, received: 0, chunksReceived: 0,
      hash: createHash("sha256"), sha256: "pulled", largestChunk: 0, photoImages: images as Array<string>
    })
    return answer(200, "ok", "", { publish_id: publishId })
  }

  /** The authorize page, consented at once: a redirect back with a code. */
  private authorize(request: FakeRequest) {
    const redirectUri = request.query.get("redirect_uri") ?? ""
    if (request.query.get("client_key") !== this.client.clientKey || redirectUri === "" || request.query.get("response_type") !== "code") {
      return { status: 400, body: "invalid_request" }
    }
    const code = `code-${randomBytes(8).toString("hex")}`
    this.codes.set(code, { redirectUri, scope: request.query.get("scope") ?? "" })
    const back = new URL(redirectUri)
    back.searchParams.set("code", code)
    back.searchParams.set("state", request.query.get("state") ?? "")
    back.searchParams.set("scopes", request.query.get("scope") ?? "")
    return { status: 302, headers: { location: back.toString() } }
  }

  /** The token endpoint: `authorization_code` (each code once) and `refresh_token`. */
  private async token(request: FakeRequest) {
    const form = new URLSearchParams(await request.text())
    const oauthError = (status: number, error: string, description: string) => ({
      status,
      body: { error, error_description: description, log_id: logId() }
    })
    if (form.get("client_key") !== this.client.clientKey || form.get("client_secret") !== this.client.clientSecret) {
      return oauthError(401, "invalid_client", "Client key or secret is incorrect.")
    }
    const issue = (scope: string) => {
      const accessToken = `act.${randomBytes(12).toString("hex")}`
      const refreshToken = `rft.${randomBytes(12).toString("hex")}`
      this.tokens.add(accessToken)
      this.refreshTokens.add(refreshToken)
      return {
        status: 200,
        body: { access_token: accessToken, expires_in: 86400, open_id: this.user.openId, refresh_expires_in: 31536000, refresh_token: refreshToken, scope, token_type: "Bearer" }
      }
    }
    if (form.get("grant_type") === "authorization_code") {
      const grant = this.codes.get(form.get("code") ?? "")
      if (grant === undefined || grant.redirectUri !== form.get("redirect_uri")) return oauthError(400, "invalid_grant", "Authorization code is expired or invalid.")
      this.codes.delete(form.get("code")!)
      return issue(grant.scope)
    }
    if (form.get("grant_type") === "refresh_token") {
      if (!this.refreshTokens.has(form.get("refresh_token") ?? "")) return oauthError(400, "invalid_grant", "Refresh token is invalid or expired.")
      return issue("user.info.basic,video.publish,video.upload")
    }
    return oauthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.")
  }

  private userInfo(request: FakeRequest) {
    const fields = (request.query.get("fields") ?? "").split(",")
    const all: Record<string, string> = { open_id: this.user.openId, union_id: `u-${this.user.openId}`, display_name: this.user.displayName, avatar_url: this.user.avatarUrl }
    if (fields.includes("username")) return answer(401, "scope_not_authorized", "username needs the user.info.profile scope")
    return answer(200, "ok", "", { user: Object.fromEntries(fields.filter((f) => f in all).map((f) => [f, all[f]])) })
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

  private takeCreatorQuery(token: string): boolean {
    const queried = this.creatorQueried.get(token) ?? 0
    if (queried === 0) return false
    this.creatorQueried.set(token, queried - 1)
    return true
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
    if (upload.failReason !== undefined) return answer(200, "ok", "", { ...data, status: "FAILED", fail_reason: upload.failReason })
    if (upload.inbox) return answer(200, "ok", "", { ...data, status: "SEND_TO_USER_INBOX" })
    return answer(200, "ok", "", {
      ...data,
      status: "PUBLISH_COMPLETE",
      publicaly_available_post_id: upload.postInfo.privacy_level === "SELF_ONLY" ? [] : [`7${upload.publishId.length}000001`]
    })
  }
}
