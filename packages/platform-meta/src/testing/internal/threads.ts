/**
 * The fake's Threads API routes: containers (`POST /{threads-user-id}/threads`),
 * `threads_publish`, `threads_publishing_limit`, and the profile's posts and
 * replies. Limits are Meta's documented ones (platform-specs §2.3), kept here
 * on their own so the table test can compare them with core's rows.
 */
import type { Answer } from "@omnipost/platform-kit/testing"
import type { Call, FakeMetaServer } from "../FakeMeta.js"
import { poll } from "./nodes.js"
import { type Container, fetchMedia, graphError, newId, pageOf, shortcode } from "./state.js"

const MB = 1_000_000

/** Threads' documented limits (platform-specs §2.3). */
export const threadsLimits = {
  textCharacters: 500,
  links: 5,
  carouselMin: 2,
  carouselMax: 20,
  imageTypes: ["image/jpeg", "image/png"],
  imageMaxBytes: 8 * MB,
  imageMaxAspect: 10,
  videoTypes: ["video/mp4", "video/quicktime"],
  videoMaxBytes: 1_000 * MB
} as const

const segmenter = new Intl.Segmenter("en", { granularity: "grapheme" })
const encoder = new TextEncoder()

/** Graphemes, an emoji counting its UTF-8 bytes ("Emojis are counted as the number of UTF-8 bytes"). */
export const threadsLength = (text: string): number => {
  let length = 0
  for (const { segment } of segmenter.segment(text)) {
    length += /\p{Extended_Pictographic}/u.test(segment) ? encoder.encode(segment).byteLength : 1
  }
  return length
}

/** Distinct links: the URLs in the text, plus a `link_attachment` that is none of them. */
export const linkCount = (text: string, attachment: string | undefined): number => {
  const links = new Set(text.match(/https?:\/\/[^\s]+/g) ?? [])
  if (attachment !== undefined) links.add(attachment)
  return links.size
}

const createContainer = async (fake: FakeMetaServer, call: Call, userId: string): Promise<Answer> => {
  const params = call.params
  const mediaType = (params.media_type ?? "").toUpperCase()
  const text = params.text ?? ""
  if (!["TEXT", "IMAGE", "VIDEO", "CAROUSEL"].includes(mediaType)) {
    return graphError(400, 100, "Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}")
  }
  if (threadsLength(text) > threadsLimits.textCharacters) {
    return graphError(400, 100, `Param text must be at most ${threadsLimits.textCharacters} characters long.`)
  }
  if (mediaType === "TEXT" && text === "" && params.link_attachment === undefined) {
    return graphError(400, 100, "Param text is required for TEXT posts.")
  }
  if (params.link_attachment !== undefined && mediaType !== "TEXT") {
    return graphError(400, 100, "Param link_attachment is only supported for TEXT posts.")
  }
  if (linkCount(text, params.link_attachment) > threadsLimits.links) {
    return graphError(400, 100, "THREADS_API__LINK_LIMIT_EXCEEDED: a post may contain at most 5 links.")
  }
  if (params.reply_to_id !== undefined) {
    const parent = fake.media.get(params.reply_to_id)
    if (parent === undefined || parent.platform !== "threads") return graphError(400, 100, "Invalid parameter: reply_to_id")
  }
  const base = {
    id: newId(),
    ownerId: userId,
    platform: "threads" as const,
    mediaType,
    params,
    createdAtMs: fake.now,
    isCarouselItem: params.is_carousel_item === "true",
    status: "IN_PROGRESS" as const,
    awaitingUpload: false,
    children: [] as ReadonlyArray<string>
  }
  let container: Container
  if (mediaType === "TEXT") {
    container = { ...base, pollsLeft: 0, outcome: { status: "FINISHED" } }
  } else if (mediaType === "CAROUSEL") {
    const children = (params.children ?? "").split(",").filter((id) => id !== "")
    if (children.length < threadsLimits.carouselMin || children.length > threadsLimits.carouselMax) {
      return graphError(400, 100, `A carousel takes ${threadsLimits.carouselMin} to ${threadsLimits.carouselMax} children; got ${children.length}.`)
    }
    for (const child of children) {
      const found = fake.containers.get(child)
      if (found === undefined || found.ownerId !== userId || !found.isCarouselItem) return graphError(400, 100, `Invalid parameter: child ${child}`)
      poll(fake, found)
      if (found.status !== "FINISHED") return graphError(400, 24, "The carousel item is not ready.", { subcode: 4279009 })
    }
    container = { ...base, children, pollsLeft: fake.imagePolls, outcome: { status: "FINISHED" } }
  } else {
    const isVideo = mediaType === "VIDEO"
    const url = isVideo ? params.video_url : params.image_url
    if (url === undefined) return graphError(400, 100, `Param ${isVideo ? "video_url" : "image_url"} is required.`)
    const fetched = await fetchMedia(url, isVideo
      ? { accept: threadsLimits.videoTypes, maxBytes: threadsLimits.videoMaxBytes }
      : { accept: threadsLimits.imageTypes, maxBytes: threadsLimits.imageMaxBytes })
    const aspect = fetched._tag === "ok" && fetched.width !== undefined && fetched.height !== undefined ? fetched.width / fetched.height : 1
    const reason = fake.takeProcessingError() ??
      (fetched._tag === "unreachable"
        ? (isVideo ? "FAILED_DOWNLOADING_VIDEO" : "UNKNOWN")
        : fetched._tag === "refused"
        ? (isVideo ? "FAILED_PROCESSING_VIDEO" : "UNKNOWN")
        : !isVideo && (aspect > threadsLimits.imageMaxAspect || aspect < 1 / threadsLimits.imageMaxAspect)
        ? "INVALID_ASPEC_RATIO"
        : undefined)
    container = {
      ...base,
      pollsLeft: isVideo ? fake.videoPolls : fake.imagePolls,
      outcome: reason === undefined ? { status: "FINISHED" } : { status: "ERROR", reason },
      sha256: fetched._tag === "ok" ? fetched.received.sha256 : undefined
    }
  }
  fake.containers.set(container.id, container)
  return { status: 200, body: { id: container.id } }
}

export const threadsRoutes = (fake: FakeMetaServer): void => {
  const kinds = ["threads"] as const
  const forbidden = () => graphError(400, 10, "Application does not have permission for this action")

  fake.graphRoute("POST", "/:version/:id/threads", "POST /{threads-user-id}/threads", kinds, (call) => {
    const userId = call.request.params.id!
    return call.token.ownerId === userId ? createContainer(fake, call, userId) : forbidden()
  })

  fake.graphRoute("POST", "/:version/:id/threads_publish", "POST /{threads-user-id}/threads_publish", kinds, (call) => {
    const userId = call.request.params.id!
    const profile = fake.profiles.get(userId)
    if (profile === undefined || call.token.ownerId !== userId) return forbidden()
    const container = fake.containers.get(call.params.creation_id ?? "")
    if (container === undefined || container.ownerId !== userId || container.isCarouselItem) {
      return graphError(400, 24, "Media Not Found", { subcode: 4279009 })
    }
    if (container.status === "EXPIRED") return graphError(400, 100, "The media container has expired.")
    if (container.status === "PUBLISHED") return graphError(400, 100, "The media container has already been published.")
    if (container.status !== "FINISHED") return graphError(400, 24, "The media is not ready to be published.", { subcode: 4279009 })
    const isReply = container.params.reply_to_id !== undefined
    if (!isReply && fake.usage(profile) >= profile.quotaTotal) {
      return graphError(400, 4, "Application request limit reached", { userMessage: "The profile has reached its publishing limit." })
    }
    container.status = "PUBLISHED"
    const id = newId()
    fake.media.set(id, {
      id,
      ownerId: userId,
      platform: "threads",
      productType: container.mediaType === "CAROUSEL" ? "CAROUSEL_ALBUM" : `${container.mediaType}${container.mediaType === "TEXT" ? "_POST" : ""}`,
      text: container.params.text ?? "",
      permalink: `https://www.threads.net/@${profile.username}/post/${shortcode()}`,
      timestampMs: fake.now,
      containerId: container.id,
      replyToId: container.params.reply_to_id,
      children: container.children,
      params: container.params
    })
    return { status: 200, body: { id } }
  })

  fake.graphRoute("GET", "/:version/:id/threads_publishing_limit", "GET /{threads-user-id}/threads_publishing_limit", kinds, (call) => {
    const profile = fake.profiles.get(call.request.params.id!)
    if (profile === undefined || call.token.ownerId !== profile.id) return forbidden()
    return {
      status: 200,
      body: { data: [{ quota_usage: fake.usage(profile), config: { quota_total: profile.quotaTotal, quota_duration: profile.quotaDurationSeconds } }] }
    }
  })

  for (const edge of ["threads", "replies"] as const) {
    fake.graphRoute("GET", `/:version/:id/${edge}`, `GET /{threads-user-id}/${edge}`, kinds, (call) => {
      const userId = call.request.params.id!
      if (call.token.ownerId !== userId) return forbidden()
      const items = fake.publishedBy(userId).filter((item) => (edge === "replies") === (item.replyToId !== undefined))
      return pageOf(items, call.params, (item) => ({
        id: item.id,
        text: item.text,
        permalink: item.permalink,
        timestamp: new Date(item.timestampMs).toISOString().replace(/\.\d{3}Z$/, "+0000"),
        ...(item.replyToId !== undefined ? { replied_to: { id: item.replyToId } } : {})
      }))
    })
  }
}
