/**
 * The fake's Facebook Pages routes: `feed` (text, link, `attached_media`,
 * scheduling), `photos` (published or not), `videos`, the Reel and video
 * story phases (`start`, rupload with bytes or `file_url`, `finish`, status
 * polled), `photo_stories`, and the Page's post lists. Limits are the Pages
 * API's (platform-specs §2.2), kept here on their own.
 */
import type { Answer, FakeRequest } from "@omnipost/platform-kit/testing"
import { FakeMedia } from "@omnipost/platform-kit/testing"
import type { Call, FakeMetaServer } from "../FakeMeta.js"
import { type Fetched, fetchMedia, graphError, judge, newId } from "./state.js"

const MB = 1_000_000

/** The Pages API's limits (platform-specs §2.2). */
export const facebookLimits = {
  messageCharacters: 63_206,
  attachedPhotosMax: 10,
  photoTypes: ["image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp", "image/tiff"],
  photoMaxBytes: 10 * MB,
  storyPhotoMaxBytes: 4 * MB,
  videoTypes: ["video/mp4", "video/quicktime"],
  videoMaxBytes: 4_000 * MB,
  scheduleMinSeconds: 10 * 60,
  scheduleMaxSeconds: 30 * 86_400
} as const

export interface FakePhoto {
  readonly id: string
  readonly pageId: string
  readonly published: boolean
  used: boolean
  readonly sha256: string
}

export interface FakeVideo {
  readonly id: string
  readonly pageId: string
  readonly kind: "reel" | "story" | "video"
  readonly createdMs: number
  uploaded: boolean
  sha256?: string | undefined
  failure?: string | undefined
  pollsLeft: number
  state: "none" | "PUBLISHED" | "SCHEDULED" | "DRAFT"
  description: string
}

/** A post of the Page (published, scheduled, a story). */
export interface FakePagePost {
  readonly id: string
  readonly pageId: string
  readonly message: string
  readonly link?: string | undefined
  readonly photos: ReadonlyArray<string>
  readonly videoId?: string | undefined
  readonly kind: "feed" | "photo" | "video" | "reel" | "story"
  readonly createdMs: number
  readonly scheduledAt?: number | undefined
}

const forbidden = () => graphError(403, 200, "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts")

const mediaRefusal = (fetched: Exclude<Fetched, { _tag: "ok" }>): Answer =>
  fetched._tag === "unreachable"
    ? graphError(400, 324, "Missing or invalid image file", { userMessage: fetched.message })
    : graphError(400, fetched.reason === "size" ? 36000 : 36001, fetched.message)

/** `scheduled_publish_time` checked against the window; `undefined` when absent. */
const scheduleOf = (fake: FakeMetaServer, params: Record<string, string>): number | Answer | undefined => {
  if (params.scheduled_publish_time === undefined) return undefined
  const at = Number(params.scheduled_publish_time)
  const lead = at - fake.now / 1000
  if (!Number.isFinite(at) || lead < facebookLimits.scheduleMinSeconds || lead > facebookLimits.scheduleMaxSeconds) {
    return graphError(400, 100, "(#100) The specified scheduled publish time is invalid.", { subcode: 1363168 })
  }
  if (params.published !== "false") return graphError(400, 100, "(#100) Scheduled posts must be unpublished (published=false).")
  return at
}

/**
 * `GET /{page-id}/stories`, the Page Stories API's list (a Page token): stories
 * have no text, so a story is known by its time and media type. Served by the
 * `/{id}/stories` route Instagram's stories share (one path on one host).
 */
export const pageStories = (fake: FakeMetaServer, call: Call): Answer => {
  const pageId = call.request.params.id!
  if (call.token.ownerId !== pageId) return forbidden()
  const stories = [...fake.pagePosts.values()].filter((item) => item.pageId === pageId && item.kind === "story")
  return {
    status: 200,
    body: {
      data: stories.sort((a, b) => b.createdMs - a.createdMs).map((item) => ({
        post_id: item.id,
        status: "PUBLISHED",
        creation_time: String(Math.floor(item.createdMs / 1000)),
        media_type: item.videoId !== undefined ? "video" : "photo",
        media_id: item.videoId ?? item.photos[0],
        url: `https://www.facebook.com/stories/${item.id}`
      }))
    }
  }
}

export const facebookRoutes = (fake: FakeMetaServer): void => {
  const kinds = ["page"] as const
  const page = (call: Call) => {
    const pageId = call.request.params.id!
    if (call.token.ownerId !== pageId) return forbidden()
    if (fake.identityUnconfirmed.has(pageId)) {
      return graphError(400, 368, "The action attempted has been deemed abusive or is otherwise disallowed: the Page's manager must confirm their identity before it can publish.", {
        subcode: 1404078,
        userMessage: "To publish on this Page, confirm your identity in Meta Business Suite."
      })
    }
    return pageId
  }
  const post = (input: Omit<FakePagePost, "id" | "createdMs">, suffix?: string) => {
    const id = `${input.pageId}_${suffix ?? newId()}`
    fake.pagePosts.set(id, { ...input, id, createdMs: fake.now })
    return id
  }

  fake.graphRoute("POST", "/:version/:id/feed", "POST /{page-id}/feed", kinds, (call) => {
    const pageId = page(call)
    if (typeof pageId !== "string") return pageId
    const params = call.params
    const message = params.message ?? ""
    if (message.length > facebookLimits.messageCharacters) return graphError(400, 100, "(#100) The message is too long.")
    const schedule = scheduleOf(fake, params)
    if (typeof schedule === "object") return schedule
    const photos = Object.keys(params).filter((key) => /^attached_media\[\d+\]$/.test(key)).map((key) => {
      try {
        return String((JSON.parse(params[key]!) as { media_fbid?: unknown }).media_fbid)
      } catch {
        return ""
      }
    })
    if (photos.length > facebookLimits.attachedPhotosMax) return graphError(400, 100, `(#100) At most ${facebookLimits.attachedPhotosMax} attached_media.`)
    for (const id of photos) {
      const photo = fake.photos.get(id)
      if (photo === undefined || photo.pageId !== pageId || photo.published || photo.used) {
        return graphError(400, 100, `(#100) attached_media ${id} is not an unpublished photo of this Page.`)
      }
    }
    if (message === "" && params.link === undefined && photos.length === 0) return graphError(400, 100, "(#100) The post is empty.")
    for (const id of photos) fake.photos.get(id)!.used = true
    return { status: 200, body: { id: post({ pageId, message, link: params.link, photos, kind: "feed", scheduledAt: schedule }) } }
  })

  fake.graphRoute("POST", "/:version/:id/photos", "POST /{page-id}/photos", kinds, async (call) => {
    const pageId = page(call)
    if (typeof pageId !== "string") return pageId
    const params = call.params
    if (params.url === undefined) return graphError(400, 324, "(#324) Requires upload file")
    const schedule = scheduleOf(fake, params)
    if (typeof schedule === "object") return schedule
    const fetched = await fetchMedia(params.url, { accept: facebookLimits.photoTypes, maxBytes: facebookLimits.photoMaxBytes })
    if (fetched._tag !== "ok") return mediaRefusal(fetched)
    const id = newId()
    const published = params.published !== "false"
    fake.photos.set(id, { id, pageId, published, used: false, sha256: fetched.received.sha256 })
    if (!published && schedule === undefined) return { status: 200, body: { id } }
    const postId = post({ pageId, message: params.message ?? "", photos: [id], kind: "photo", scheduledAt: schedule })
    return { status: 200, body: { id, post_id: postId } }
  })

  fake.graphRoute("POST", "/:version/:id/videos", "POST /{page-id}/videos", kinds, async (call) => {
    const pageId = page(call)
    if (typeof pageId !== "string") return pageId
    const params = call.params
    if (params.file_url === undefined) return graphError(400, 100, "(#100) file_url or source is required")
    const schedule = scheduleOf(fake, params)
    if (typeof schedule === "object") return schedule
    const fetched = await fetchMedia(params.file_url, { accept: facebookLimits.videoTypes, maxBytes: facebookLimits.videoMaxBytes })
    if (fetched._tag !== "ok") return graphError(400, 352, "(#352) Sorry, the video file you selected is in a format that we don't support.")
    const id = newId()
    fake.videos.set(id, { id, pageId, kind: "video", createdMs: fake.now, uploaded: true, sha256: fetched.received.sha256, pollsLeft: 0, state: "PUBLISHED", description: params.description ?? "" })
    post({ pageId, message: params.description ?? "", photos: [], videoId: id, kind: "video", scheduledAt: schedule }, id)
    return { status: 200, body: { id } }
  })

  for (const edge of ["video_reels", "video_stories"] as const) {
    fake.graphRoute("POST", `/:version/:id/${edge}`, `POST /{page-id}/${edge}`, kinds, (call) => {
      const pageId = page(call)
      if (typeof pageId !== "string") return pageId
      const params = call.params
      if (params.upload_phase === "start") {
        const id = newId()
        fake.videos.set(id, { id, pageId, kind: edge === "video_reels" ? "reel" : "story", createdMs: fake.now, uploaded: false, pollsLeft: fake.videoPolls, state: "none", description: "" })
        return { status: 200, body: { video_id: id, upload_url: `${fake.url}/video-upload/${fake.version}/${id}` } }
      }
      if (params.upload_phase !== "finish") return graphError(400, 100, "(#100) upload_phase must be start or finish")
      const video = fake.videos.get(params.video_id ?? "")
      if (video === undefined || video.pageId !== pageId || video.state !== "none") return graphError(400, 100, "(#100) Invalid video_id")
      if (!video.uploaded) return graphError(400, 6000, "There was a problem uploading your video file: no bytes were uploaded.")
      if (edge === "video_stories") {
        if (video.failure !== undefined) return graphError(400, 6000, video.failure)
        video.state = "PUBLISHED"
        return { status: 200, body: { success: true, post_id: post({ pageId, message: "", photos: [], videoId: video.id, kind: "story" }) } }
      }
      const state = params.video_state ?? "PUBLISHED"
      if (state === "SCHEDULED") {
        const schedule = scheduleOf(fake, { ...params, published: "false" })
        if (schedule === undefined) return graphError(400, 100, "(#100) scheduled_publish_time is required with SCHEDULED")
        if (typeof schedule === "object") return schedule
      }
      video.state = state as FakeVideo["state"]
      video.description = params.description ?? ""
      return { status: 200, body: { success: true } }
    })
  }

  fake.server.route("POST", "/video-upload/:version/:id", async (request: FakeRequest) => {
    const video = fake.videos.get(request.params.id!)
    const token = /^OAuth\s+(.+)$/i.exec(String(request.headers.authorization ?? ""))?.[1]
    const owner = token === undefined ? undefined : fake.tokens.get(token)
    if (video === undefined || owner === undefined || owner.ownerId !== video.pageId) {
      return { status: 401, body: { debug_info: { type: "OAuthException", message: "Invalid OAuth access token or video" } } }
    }
    const check = { accept: facebookLimits.videoTypes, maxBytes: facebookLimits.videoMaxBytes }
    let fetched: Fetched
    const fileUrl = request.headers.file_url
    if (typeof fileUrl === "string") {
      fetched = await fetchMedia(fileUrl, check)
    } else {
      const received = await FakeMedia.receive(request.stream as AsyncIterable<Uint8Array>)
      if (String(request.headers.offset ?? "") !== "0" || Number(request.headers.file_size) !== received.size) {
        return { status: 400, body: { debug_info: { type: "ProcessingFailedError", message: `file_size ${request.headers.file_size} but ${received.size} bytes arrived` } } }
      }
      fetched = judge(received, check)
    }
    video.uploaded = true
    video.sha256 = fetched._tag === "ok" ? fetched.received.sha256 : undefined
    video.failure = fake.takeProcessingError() ?? (fetched._tag === "ok" ? undefined : fetched.message)
    return { status: 200, body: { success: true } }
  }, { operation: "POST /video-upload/{video-id}" })

  fake.graphRoute("POST", "/:version/:id/photo_stories", "POST /{page-id}/photo_stories", kinds, (call) => {
    const pageId = page(call)
    if (typeof pageId !== "string") return pageId
    const photo = fake.photos.get(call.params.photo_id ?? "")
    if (photo === undefined || photo.pageId !== pageId || photo.published || photo.used) {
      return graphError(400, 100, "(#100) photo_id must be an unpublished photo not used in another post")
    }
    photo.used = true
    return { status: 200, body: { success: true, post_id: post({ pageId, message: "", photos: [photo.id], kind: "story" }) } }
  })

  for (const edge of ["published_posts", "scheduled_posts", "video_reels"] as const) {
    fake.graphRoute("GET", `/:version/:id/${edge}`, `GET /{page-id}/${edge}`, kinds, (call) => {
      const pageId = call.request.params.id!
      if (call.token.ownerId !== pageId) return forbidden()
      const nowS = fake.now / 1000
      const items = [...fake.pagePosts.values()].filter((item) =>
        item.pageId === pageId && item.kind !== "story" &&
        (edge === "video_reels"
          ? false
          : edge === "scheduled_posts"
          ? item.scheduledAt !== undefined && item.scheduledAt > nowS
          : item.scheduledAt === undefined || item.scheduledAt <= nowS)
      )
      const reels = edge === "video_reels"
        ? [...fake.videos.values()].filter((video) => video.pageId === pageId && video.kind === "reel" && video.state !== "none")
        : []
      const time = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+0000")
      return {
        status: 200,
        body: {
          data: [
            ...items.sort((a, b) => b.createdMs - a.createdMs).map((item) => ({
              id: item.id,
              message: item.message,
              created_time: time(item.createdMs),
              permalink_url: `https://www.facebook.com/${item.id}`
            })),
            ...reels.map((video) => ({ id: video.id, description: video.description, created_time: time(video.createdMs) }))
          ]
        }
      }
    })
  }
}
