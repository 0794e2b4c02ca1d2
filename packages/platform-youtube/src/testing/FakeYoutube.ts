/**
 * A fake YouTube Data API v3 on the kit's `FakeServer`: channels with tokens,
 * the resumable upload protocol exactly as documented, and Google's error
 * bodies (`{ error: { code, message, errors: [{ domain, reason, message }] } }`).
 *
 * - `POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`
 *   checks the token, the metadata limits and `X-Upload-Content-Length` /
 *   `-Type`, and answers 200 with the session URI in `Location`.
 * - `PUT <session URI>` with `Content-Range: bytes a-b/total` appends a chunk:
 *   it must start where the kept bytes end, and every chunk but the last is a
 *   multiple of 256 KiB; 308 with `Range: bytes=0-N` (no `Range` when nothing
 *   is kept), and 201 with the video resource when the last byte arrives.
 *   `Content-Range: bytes *\/total` with no body is the status query.
 * - A session expires `sessionTtlMs` after it started (or at once with
 *   `expireSessions()`): 404 from then on.
 * - `cutNextChunk(afterBytes)` cuts the connection of the next chunk once that
 *   many of its bytes arrived; only whole 256 KiB units of what arrived are
 *   kept, as Google's servers keep data in units (the rest is discarded and
 *   counted in `discardedBytes`).
 * - Every byte of every chunk is counted (`receivedBytes`), bytes that arrive
 *   at an offset already kept are counted again in `resentBytes`, and the kept
 *   bytes are hashed in order, so a test proves what was sent once and whole.
 *
 * Sources: https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol,
 * https://developers.google.com/youtube/v3/docs/videos/insert, https://developers.google.com/youtube/v3/docs/errors.
 */
import { FakeMedia, FakeServer, type FakeRequest, type FakeServerOptions } from "@omnipost/platform-kit/testing"
import { Effect, type Scope } from "effect"
import { nextMidnightPacific } from "../Errors.js"
import { createHash, type Hash, randomBytes } from "node:crypto"
import { GoogleOAuth } from "./internal/GoogleOAuth.js"
import { answerError, checkMetadata, contentRange, errorBody } from "./internal/Wire.js"

const forceSsl = "https://www.googleapis.com/auth/youtube.force-ssl"

export { checkMetadata, errorBody }

export const chunkUnit = 256 * 1024

export interface FakeYoutubeOptions {
  readonly now?: (() => number) | undefined
  /** The project's daily units (default 10,000) and what videos.insert costs (default 1600). */
  readonly dailyUnits?: number | undefined
  readonly insertCost?: number | undefined
  /** The project is unaudited: every upload is locked to private, whatever was asked (as YouTube does). */
  readonly unaudited?: boolean | undefined
  /** How long a session lives. Default a week, as Google says. */
  readonly sessionTtlMs?: number | undefined
}

export interface FakeChannel {
  readonly id: string
  readonly title: string
  readonly uploadsPlaylistId: string
}

export interface FakeVideo {
  readonly id: string
  readonly channelId: string
  readonly snippet: Record<string, unknown>
  readonly status: Record<string, unknown>
  readonly sizeBytes: number
  /** SHA-256 of the bytes kept, hex. */
  readonly sha256: string
  readonly notifySubscribers: boolean
  readonly publishedAt: string
}

export interface FakeSession {
  readonly id: string
  readonly channelId: string
  readonly metadata: { readonly snippet: Record<string, unknown>; readonly status: Record<string, unknown> }
  readonly total: number
  readonly contentType: string
  readonly notifySubscribers: boolean
  readonly startedAt: number
  kept: number
  pending: Array<Buffer>
  pendingBytes: number
  readonly hash: Hash
  videoId?: string | undefined
  expired: boolean
}

/** A fake YouTube. */
export class FakeYoutube {
  static async start(options: FakeYoutubeOptions = {}): Promise<FakeYoutube> {
    const server = await FakeServer.start({
      ...(options.now !== undefined ? { now: options.now } : {}),
      errorAnswer: (status) => answerError(status, status === 404 ? "notFound" : "backendError", `HTTP ${status}`, "global")
    } satisfies FakeServerOptions)
    return new FakeYoutube(server, options)
  }

  static make(options: FakeYoutubeOptions = {}): Effect.Effect<FakeYoutube, never, Scope.Scope> {
    return Effect.acquireRelease(Effect.promise(() => FakeYoutube.start(options)), (fake) => Effect.promise(() => fake.close()))
  }

  readonly channels = new Map<string, FakeChannel>()
  readonly tokens = new Map<string, string>()
  readonly sessions = new Map<string, FakeSession>()
  readonly videos = new Map<string, FakeVideo>()
  /** Top-level comments made (`commentThreads.insert`), in order. */
  readonly comments: Array<{ readonly id: string; readonly videoId: string; readonly channelId: string; readonly text: string }> = []
  /** Scopes granted to tokens issued through the OAuth flow (tokens from `issueToken` have every scope). */
  readonly tokenScopes = new Map<string, string>()
  /** Custom thumbnails set (`thumbnails.set`), by video id. */
  readonly thumbnails = new Map<string, { readonly mimeType: string; readonly sizeBytes: number }>()
  /** Playlists and the videos inserted (`playlistItems.insert`). */
  readonly playlists = new Map<string, { readonly channelId: string; readonly videoIds: Array<string> }>()
  /** Who consents on the authorize page (the first channel when unset). */
  consenting: FakeChannel | undefined
  /** Google's OAuth endpoints (consent and token), over this fake's channels and tokens. */
  readonly oauth = new GoogleOAuth(this)
  /** The OAuth client the token endpoint accepts. */
  get client() {
    return this.oauth.client
  }
  get codes() {
    return this.oauth.codes
  }
  get refreshTokens() {
    return this.oauth.refreshTokens
  }
  /** Every chunk byte that arrived, kept or not. */
  receivedBytes = 0
  /** Bytes that arrived at offsets already kept (sent again). */
  resentBytes = 0
  /** Bytes that arrived at a cut and were not kept (less than a unit). */
  discardedBytes = 0
  /** Units spent today (the fake's clock, reset at midnight America/Los_Angeles). */
  unitsSpent = 0
  private quotaResetAt = 0
  private cuts: Array<number> = []
  private counter = 0

  private constructor(readonly server: FakeServer, private readonly options: FakeYoutubeOptions) {
    server.route("POST", "/upload/youtube/v3/videos", (request) => this.startSession(request), { operation: "videos.insert" })
    server.route("PUT", "/upload/youtube/v3/videos", (request) => this.putChunk(request), {
      operation: (request) => request.headers["content-range"]?.startsWith("bytes */") === true ? "upload status" : "upload chunk"
    })
    server.route("GET", "/youtube/v3/videos", (request) => this.listVideos(request), { operation: "videos.list" })
    server.route("GET", "/youtube/v3/channels", (request) => this.listChannels(request), { operation: "channels.list" })
    server.route("GET", "/youtube/v3/playlistItems", (request) => this.listPlaylistItems(request), { operation: "playlistItems.list" })
    server.route("GET", "/o/oauth2/v2/auth", (request) => this.oauth.authorize(request), { operation: "oauth authorize" })
    server.route("POST", "/token", (request) => this.oauth.token(request), { operation: "oauth token" })
    server.route("POST", "/upload/youtube/v3/thumbnails/set", (request) => this.setThumbnail(request), { operation: "thumbnails.set" })
    server.route("POST", "/youtube/v3/playlistItems", (request) => this.insertPlaylistItem(request), { operation: "playlistItems.insert" })
    server.route("POST", "/youtube/v3/commentThreads", (request) => this.insertCommentThread(request), { operation: "commentThreads.insert" })
  }

  get url(): string {
    return this.server.url
  }

  close(): Promise<void> {
    return this.server.close()
  }

  /** What a publisher needs to talk to this fake. */
  publisherOptions(): { readonly apiBaseUrl: string } {
    return { apiBaseUrl: this.url }
  }

  private nextId(prefix: string): string {
    this.counter += 1
    return `${prefix}${this.counter.toString().padStart(6, "0")}${randomBytes(3).toString("hex")}`
  }

  addChannel(options: { readonly title?: string } = {}): FakeChannel {
    const id = `UC${this.nextId("c")}`
    const channel: FakeChannel = { id, title: options.title ?? "Channel", uploadsPlaylistId: `UU${id.slice(2)}` }
    this.channels.set(id, channel)
    return channel
  }

  addPlaylist(channel: FakeChannel): string {
    const id = `PL${this.nextId("p")}`
    this.playlists.set(id, { channelId: channel.id, videoIds: [] })
    return id
  }

  issueToken(channel: FakeChannel): string {
    const token = `ya29.${randomBytes(12).toString("hex")}`
    this.tokens.set(token, channel.id)
    return token
  }

  /** Cuts the connection of the next chunk after `afterBytes` of its body arrived. */
  cutNextChunk(afterBytes: number): void {
    this.cuts.push(afterBytes)
  }

  /** Every session expires now. */
  expireSessions(): void {
    for (const session of this.sessions.values()) session.expired = true
  }

  /** Charges a call; the quotaExceeded answer when today's units do not cover it. */
  private charge(units: number) {
    const now = this.server.now()
    if (now >= this.quotaResetAt) {
      this.unitsSpent = 0
      this.quotaResetAt = nextMidnightPacific(now)
    }
    if (this.unitsSpent + units > (this.options.dailyUnits ?? 10_000)) {
      this.unitsSpent += 1
      return answerError(403, "quotaExceeded", "The request cannot be completed because you have exceeded your quota.", "youtube.quota")
    }
    this.unitsSpent += units
    return undefined
  }

  private channelOf(request: FakeRequest): FakeChannel | undefined {
    const header = request.headers.authorization ?? ""
    const token = header.startsWith("Bearer ") ? header.slice(7) : ""
    const id = this.tokens.get(token)
    return id === undefined ? undefined : this.channels.get(id)
  }

  private unauthorized() {
    return answerError(401, "authError", "Invalid Credentials", "global")
  }

  private async startSession(request: FakeRequest) {
    const channel = this.channelOf(request)
    if (channel === undefined) return this.unauthorized()
    const over = this.charge(this.options.insertCost ?? 1600)
    if (over !== undefined) return over
    if (request.query.get("uploadType") !== "resumable") {
      return answerError(400, "invalidParameter", "This fake speaks the resumable protocol only (uploadType=resumable).", "global")
    }
    const parts = (request.query.get("part") ?? "").split(",")
    if (!parts.includes("snippet")) return answerError(400, "invalidPart", "part must include snippet", "global")
    let metadata: unknown
    try {
      metadata = await request.json()
    } catch {
      return answerError(400, "parseError", "Parse Error", "global")
    }
    const invalid = checkMetadata(metadata)
    if (invalid !== undefined) return invalid
    const length = request.headers["x-upload-content-length"]
    const total = Number(length)
    if (length === undefined || !/^\d+$/.test(String(length)) || total === 0) {
      return answerError(400, "mediaBodyRequired", "The request does not include the video content (X-Upload-Content-Length).")
    }
    if (total > 256 * 1024 ** 3) return answerError(400, "uploadLimitExceeded", "The video is larger than 256 GB.")
    const contentType = String(request.headers["x-upload-content-type"] ?? "")
    if (!/^video\/[\w.+-]+$/.test(contentType) && contentType !== "application/octet-stream") {
      return answerError(400, "invalidContentType", "The uploaded content has an invalid MIME type (X-Upload-Content-Type).", "global")
    }
    const id = this.nextId("s")
    const record = metadata as { snippet: Record<string, unknown>; status?: Record<string, unknown> }
    this.sessions.set(id, {
      id,
      channelId: channel.id,
      metadata: { snippet: record.snippet, status: record.status ?? {} },
      total,
      contentType,
      notifySubscribers: request.query.get("notifySubscribers") !== "false",
      startedAt: this.server.now(),
      kept: 0,
      pending: [],
      pendingBytes: 0,
      hash: createHash("sha256"),
      expired: false
    })
    return { status: 200, headers: { location: `${this.url}/upload/youtube/v3/videos?uploadType=resumable&upload_id=${id}` } }
  }

  private range(session: FakeSession): Record<string, string> {
    return session.kept === 0 ? {} : { range: `bytes=0-${session.kept - 1}` }
  }

  /** Moves whole units of the pending bytes into the hash; all of them at the end. */
  private settle(session: FakeSession, final: boolean) {
    const all = Buffer.concat(session.pending)
    const whole = final ? all.byteLength : all.byteLength - (all.byteLength % chunkUnit)
    session.hash.update(all.subarray(0, whole))
    session.kept += whole
    session.pending = whole < all.byteLength ? [all.subarray(whole)] : []
    session.pendingBytes = all.byteLength - whole
  }

  private finish(session: FakeSession) {
    const id = this.nextId("v").slice(0, 11)
    const video: FakeVideo = {
      id,
      channelId: session.channelId,
      snippet: { ...session.metadata.snippet, channelId: session.channelId, publishedAt: new Date(this.server.now()).toISOString() },
      status: {
        uploadStatus: "uploaded",
        privacyStatus: "public",
        ...session.metadata.status,
        ...(this.options.unaudited === true ? { privacyStatus: "private" } : {})
      },
      sizeBytes: session.total,
      sha256: session.hash.digest("hex"),
      notifySubscribers: session.notifySubscribers,
      publishedAt: new Date(this.server.now()).toISOString()
    }
    session.videoId = id
    this.videos.set(id, video)
    return video
  }

  private resource(video: FakeVideo) {
    return { kind: "youtube#video", id: video.id, snippet: video.snippet, status: video.status }
  }

  private async putChunk(request: FakeRequest) {
    const session = this.sessions.get(request.query.get("upload_id") ?? "")
    const live = session !== undefined && !session.expired &&
      this.server.now() - session.startedAt < (this.options.sessionTtlMs ?? 7 * 86_400_000)
    if (!live) return answerError(404, "notFound", "The upload session does not exist or has expired.", "global")
    const range = contentRange(request.headers["content-range"])
    if (range === undefined || (range.total !== undefined && range.total !== session.total)) {
      return answerError(400, "badContent", "Content-Range is missing or does not match the upload.", "global")
    }
    if (session.videoId !== undefined) return { status: 200, body: this.resource(this.videos.get(session.videoId)!) }
    if (range.first === undefined) return { status: 308, headers: this.range(session) }
    const first = range.first
    const last = range.last!
    const length = last - first + 1
    const final = last + 1 === session.total
    if (first > session.kept || last < first || last >= session.total) {
      return answerError(400, "badContent", `Content-Range bytes ${first}-${last} does not continue the ${session.kept} bytes kept.`, "global")
    }
    if (!final && length % chunkUnit !== 0) {
      return answerError(400, "badContent", `A chunk other than the last must be a multiple of ${chunkUnit} bytes; this one is ${length}.`, "global")
    }
    if (Number(request.headers["content-length"]) !== length) {
      return answerError(400, "badContent", "Content-Length does not match Content-Range.", "global")
    }
    // Bytes of a chunk the client itself broke off are not kept.
    this.discardedBytes += session.pendingBytes
    session.pending = []
    session.pendingBytes = 0
    const cut = this.cuts.shift()
    let offset = first
    for await (const piece of request.stream as AsyncIterable<Buffer>) {
      this.receivedBytes += piece.byteLength
      const fresh = offset + piece.byteLength - session.kept - session.pendingBytes
      const skip = Math.min(piece.byteLength, Math.max(0, piece.byteLength - fresh))
      this.resentBytes += skip
      if (skip < piece.byteLength) {
        session.pending.push(piece.subarray(skip))
        session.pendingBytes += piece.byteLength - skip
      }
      offset += piece.byteLength
      if (session.pendingBytes >= 4 * chunkUnit) this.settle(session, false)
      if (cut !== undefined && offset - first >= cut) {
        this.settle(session, false)
        this.discardedBytes += session.pendingBytes
        session.pending = []
        session.pendingBytes = 0
        request.dropConnection()
        return { status: 500 }
      }
    }
    this.settle(session, final)
    if (!final) return { status: 308, headers: this.range(session) }
    return { status: 201, body: this.resource(this.finish(session)) }
  }

  private listVideos(request: FakeRequest) {
    const channel = this.channelOf(request)
    if (channel === undefined) return this.unauthorized()
    const over = this.charge(1)
    if (over !== undefined) return over
    const ids = (request.query.get("id") ?? "").split(",").filter((id) => id !== "")
    const items = ids.map((id) => this.videos.get(id)).filter((video): video is FakeVideo => video !== undefined)
    return { status: 200, body: { kind: "youtube#videoListResponse", items: items.map((video) => this.resource(video)) } }
  }

  /** JPEG or PNG by their bytes, at most 2 MB, for a video of the token's channel. */
  private async setThumbnail(request: FakeRequest) {
    const channel = this.channelOf(request)
    if (channel === undefined) return this.unauthorized()
    const over = this.charge(50)
    if (over !== undefined) return over
    const video = this.videos.get(request.query.get("videoId") ?? "")
    if (video === undefined || video.channelId !== channel.id) return answerError(404, "videoNotFound", "The video that you are trying to update cannot be found.")
    const bytes = await request.body()
    const verdict = FakeMedia.check(bytes, { accept: ["image/jpeg", "image/png"], maxBytes: 2 * 1024 * 1024 })
    if (verdict._tag === "Refused") {
      return verdict.reason === "size"
        ? answerError(413, "mediaBodyTooLarge", "The thumbnail is larger than 2 MB.", "global")
        : answerError(400, "invalidImage", "The provided image content is invalid.", "youtube.thumbnail")
    }
    this.thumbnails.set(video.id, { mimeType: verdict.mimeType, sizeBytes: bytes.byteLength })
    return { status: 200, body: { kind: "youtube#thumbnailSetResponse", items: [{ default: { url: `https://i.ytimg.com/vi/${video.id}/default.jpg` } }] } }
  }

  /** `commentThreads.insert`: the force-ssl scope, an existing video, a text of 1 to 10,000 characters. */
  private async insertCommentThread(request: FakeRequest) {
    const channel = this.channelOf(request)
    if (channel === undefined) return this.unauthorized()
    const token = (request.headers.authorization ?? "").slice(7)
    if (!(this.tokenScopes.get(token) ?? forceSsl).split(/\s+/).includes(forceSsl)) {
      return answerError(403, "insufficientPermissions", "Request had insufficient authentication scopes.", "global")
    }
    const over = this.charge(50)
    if (over !== undefined) return over
    const body = await request.json().catch(() => undefined) as { snippet?: { videoId?: string; topLevelComment?: { snippet?: { textOriginal?: string } } } } | undefined
    const video = this.videos.get(body?.snippet?.videoId ?? "")
    if (video === undefined) return answerError(404, "videoNotFound", "The video identified by the videoId parameter could not be found.", "youtube.commentThread")
    const text = body?.snippet?.topLevelComment?.snippet?.textOriginal
    if (typeof text !== "string" || text.length === 0 || text.length > 10_000) {
      return answerError(400, "commentTextRequired", "The comment text is missing or longer than 10,000 characters.", "youtube.commentThread")
    }
    const id = `Ug${this.nextId("k")}`
    this.comments.push({ id, videoId: video.id, channelId: channel.id, text })
    return { status: 200, body: { kind: "youtube#commentThread", id, snippet: { videoId: video.id, topLevelComment: { id, snippet: { textOriginal: text } } } } }
  }

  private async insertPlaylistItem(request: FakeRequest) {
    const channel = this.channelOf(request)
    if (channel === undefined) return this.unauthorized()
    const over = this.charge(50)
    if (over !== undefined) return over
    const body = await request.json().catch(() => undefined) as { snippet?: { playlistId?: string; resourceId?: { kind?: string; videoId?: string } } } | undefined
    const playlist = this.playlists.get(body?.snippet?.playlistId ?? "")
    if (playlist === undefined) return answerError(404, "playlistNotFound", "The playlist identified with the request's playlistId parameter cannot be found.")
    if (playlist.channelId !== channel.id) return answerError(403, "playlistItemsNotAccessible", "The request is not properly authorized to insert the specified playlist item.")
    const videoId = body?.snippet?.resourceId?.videoId ?? ""
    if (body?.snippet?.resourceId?.kind !== "youtube#video" || !this.videos.has(videoId)) {
      return answerError(404, "videoNotFound", "The video that you are trying to add to the playlist cannot be found.")
    }
    playlist.videoIds.push(videoId)
    return { status: 200, body: { kind: "youtube#playlistItem", id: this.nextId("i"), snippet: body!.snippet } }
  }

  /** Every refresh token stops working (the user revoked the app). */
  revokeRefreshTokens(): void {
    this.oauth.refreshTokens.clear()
  }

  private listChannels(request: FakeRequest) {
    const channel = this.channelOf(request)
    if (channel === undefined) return this.unauthorized()
    const over = this.charge(1)
    if (over !== undefined) return over
    if (request.query.get("mine") !== "true") return answerError(400, "missingRequiredParameter", "This fake answers mine=true only.", "global")
    return {
      status: 200,
      body: {
        kind: "youtube#channelListResponse",
        items: [{ kind: "youtube#channel", id: channel.id, snippet: { title: channel.title, customUrl: `@${channel.title.replace(/\W+/g, "").toLowerCase()}` }, contentDetails: { relatedPlaylists: { uploads: channel.uploadsPlaylistId } } }]
      }
    }
  }

  /** The uploads playlist (newest first), or a playlist of inserted items. */
  private listPlaylistItems(request: FakeRequest) {
    const channel = this.channelOf(request)
    if (channel === undefined) return this.unauthorized()
    const over = this.charge(1)
    if (over !== undefined) return over
    const playlistId = request.query.get("playlistId") ?? ""
    const owner = [...this.channels.values()].find((c) => c.uploadsPlaylistId === playlistId)
    const videos = owner !== undefined
      ? [...this.videos.values()].filter((v) => v.channelId === owner.id).reverse()
      : (this.playlists.get(playlistId)?.videoIds ?? []).map((id) => this.videos.get(id)!)
    if (owner === undefined && !this.playlists.has(playlistId)) return answerError(404, "playlistNotFound", "The playlist cannot be found.")
    const max = Math.min(50, Number(request.query.get("maxResults") ?? 5))
    return {
      status: 200,
      body: {
        kind: "youtube#playlistItemListResponse",
        items: videos.slice(0, max).map((v) => ({
          kind: "youtube#playlistItem",
          snippet: { title: v.snippet.title, description: v.snippet.description, publishedAt: v.publishedAt, resourceId: { kind: "youtube#video", videoId: v.id } },
          contentDetails: { videoId: v.id, videoPublishedAt: v.publishedAt }
        }))
      }
    }
  }
}
