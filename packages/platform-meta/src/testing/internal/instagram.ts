/**
 * The fake's Instagram Graph API routes: containers (`POST /{ig-user-id}/media`),
 * the resumable upload (`POST /ig-api-upload/{version}/{container-id}`),
 * `media_publish`, `content_publishing_limit`, and the account's media and
 * stories. Limits are Meta's documented ones (platform-specs §2.1), written
 * here on their own so the table test can compare them with core's rows.
 */
import type { Answer } from "@omnipost/platform-kit/testing"
import { FakeMedia } from "@omnipost/platform-kit/testing"
import type { Call, FakeMetaServer } from "../FakeMeta.js"
import { pageStories } from "./facebook.js"
import { poll } from "./nodes.js"
import { type Container, type Fetched, fetchMedia, graphError, judge, newId, pageOf, shortcode } from "./state.js"

const MB = 1_000_000

/** Instagram's documented limits (IG User Media reference; platform-specs §2.1). */
export const instagramLimits = {
  captionCharacters: 2200,
  hashtags: 30,
  mentions: 20,
  carouselMin: 2,
  carouselMax: 10,
  imageTypes: ["image/jpeg"],
  imageMaxBytes: 8 * MB,
  feedMinAspect: 0.8,
  feedMaxAspect: 1.91,
  videoTypes: ["video/mp4", "video/quicktime"],
  reelMaxBytes: 300 * MB,
  /** Reel specifications: 3 s to 15 min. */
  reelSeconds: [3, 15 * 60],
  storyVideoMaxBytes: 100 * MB,
  storyVideoSeconds: [3, 60]
} as const

const hashtags = (text: string) => text.match(/(^|\s)#[\p{L}\p{N}_]+/gu)?.length ?? 0
const mentions = (text: string) => text.match(/(^|\s)@[\p{L}\p{N}_.]+/gu)?.length ?? 0

const mediaFailure = (fetched: Exclude<Fetched, { _tag: "ok" }>): Answer =>
  fetched._tag === "unreachable"
    ? graphError(400, 9004, "Only photo or video can be accepted as media type.", {
      subcode: 2207052,
      userMessage: `The media could not be fetched from this URI: ${fetched.message}`
    })
    : fetched.reason === "size"
    ? graphError(400, 36000, "The image size is too large.", { subcode: 2207004, userMessage: fetched.message })
    : graphError(400, 36001, "The image format is not supported.", { subcode: 2207005, userMessage: fetched.message })

const captionProblem = (caption: string | undefined): Answer | undefined => {
  if (caption === undefined) return undefined
  if (caption.length > instagramLimits.captionCharacters) {
    return graphError(400, 36004, "The caption is too long.", { subcode: 2207010 })
  }
  if (hashtags(caption) > instagramLimits.hashtags || mentions(caption) > instagramLimits.mentions) {
    return graphError(400, 100, "Too many tags in the caption.", { subcode: 2207040 })
  }
  return undefined
}

/** Fetches and checks an image now (Meta refuses a bad image when the container is created). */
const imageProblem = async (url: string, feed: boolean): Promise<Answer | Fetched> => {
  const fetched = await fetchMedia(url, { accept: instagramLimits.imageTypes, maxBytes: instagramLimits.imageMaxBytes })
  if (fetched._tag !== "ok") return mediaFailure(fetched)
  if (feed && fetched.width !== undefined && fetched.height !== undefined) {
    const ratio = fetched.width / fetched.height
    if (ratio < instagramLimits.feedMinAspect - 0.005 || ratio > instagramLimits.feedMaxAspect + 0.005) {
      return graphError(400, 36003, "The aspect ratio is not supported.", { subcode: 2207009 })
    }
  }
  return fetched
}

/** A video's outcome, decided when it is fetched or uploaded and revealed by polling (`ERROR` with the subcode). */
const videoOutcome = (fake: FakeMetaServer, fetched: Fetched, mediaType: string): Container["outcome"] => {
  const reason = fake.takeProcessingError()
  if (reason !== undefined) return { status: "ERROR", reason }
  if (fetched._tag === "unreachable") return { status: "ERROR", reason: "Error: Media download has failed. 2207052" }
  if (fetched._tag === "refused") return { status: "ERROR", reason: `Error: ${fetched.message}. 2207026` }
  // The duration as Meta reads it, from the file's movie header (when the head has one).
  const seconds = FakeMedia.durationSeconds(fetched.received.head)
  const [min, max] = mediaType === "STORIES" ? instagramLimits.storyVideoSeconds : mediaType === "REELS" ? instagramLimits.reelSeconds : [0, Infinity]
  if (seconds !== undefined && (seconds < min || seconds > max)) {
    return { status: "ERROR", reason: `Error: The video is ${seconds} s long; it must be ${min} s to ${max} s. 2207026` }
  }
  return { status: "FINISHED" }
}

const createContainer = async (fake: FakeMetaServer, call: Call, userId: string): Promise<Answer> => {
  const params = call.params
  const mediaType = (params.media_type ?? "IMAGE").toUpperCase()
  const isCarouselItem = params.is_carousel_item === "true"
  const base = {
    id: newId(),
    ownerId: userId,
    platform: "instagram" as const,
    mediaType,
    params,
    createdAtMs: fake.now,
    isCarouselItem,
    status: "IN_PROGRESS" as const,
    awaitingUpload: false
  }
  if (!isCarouselItem) {
    const problem = captionProblem(params.caption)
    if (problem !== undefined) return problem
  }
  if (mediaType === "CAROUSEL") {
    const children = (params.children ?? "").split(",").filter((id) => id !== "")
    if (children.length < instagramLimits.carouselMin || children.length > instagramLimits.carouselMax) {
      return graphError(400, 100, `The carousel has ${children.length} children; it takes ${instagramLimits.carouselMin} to ${instagramLimits.carouselMax}.`, {
        subcode: 2207028
      })
    }
    for (const child of children) {
      const found = fake.containers.get(child)
      if (found === undefined || found.ownerId !== userId || !found.isCarouselItem) {
        return graphError(400, 100, `Invalid parameter: child ${child} is not a carousel item of this account.`)
      }
      poll(fake, found)
      if (found.status !== "FINISHED") return graphError(400, 9007, "Media ID is not available", { subcode: 2207027 })
    }
    fake.containers.set(base.id, { ...base, children, pollsLeft: fake.imagePolls, outcome: { status: "FINISHED" } })
    return { status: 200, body: { id: base.id } }
  }
  const isVideo = mediaType === "VIDEO" || mediaType === "REELS" || (mediaType === "STORIES" && params.video_url !== undefined)
  if (isVideo) {
    if (mediaType === "VIDEO" && !isCarouselItem) {
      return graphError(400, 100, "The VIDEO media type is not supported for single posts; use REELS.", { subcode: 2207023 })
    }
    if (params.upload_type === "resumable") {
      fake.containers.set(base.id, { ...base, children: [], pollsLeft: fake.videoPolls, outcome: { status: "FINISHED" }, awaitingUpload: true })
      return {
        status: 200,
        body: { id: base.id, uri: `${fake.url}/ig-api-upload/${fake.version}/${base.id}` }
      }
    }
    if (params.video_url === undefined) return graphError(400, 100, "The parameter video_url is required")
    const maxBytes = mediaType === "STORIES" ? instagramLimits.storyVideoMaxBytes : instagramLimits.reelMaxBytes
    const fetched = await fetchMedia(params.video_url, { accept: instagramLimits.videoTypes, maxBytes })
    fake.containers.set(base.id, {
      ...base,
      children: [],
      pollsLeft: fake.videoPolls,
      outcome: videoOutcome(fake, fetched, mediaType),
      sha256: fetched._tag === "ok" ? fetched.received.sha256 : undefined
    })
    return { status: 200, body: { id: base.id } }
  }
  if (params.image_url === undefined) return graphError(400, 100, "The parameter image_url is required")
  const checked = await imageProblem(params.image_url, mediaType !== "STORIES")
  if ("status" in checked && typeof checked.status === "number") return checked as Answer
  const fetched = checked as Fetched
  // Meta fetches and processes an image after answering; a processing failure shows as ERROR when polled.
  const reason = fake.takeProcessingError()
  fake.containers.set(base.id, {
    ...base,
    children: [],
    pollsLeft: fake.imagePolls,
    outcome: reason === undefined ? { status: "FINISHED" } : { status: "ERROR", reason },
    sha256: fetched._tag === "ok" ? fetched.received.sha256 : undefined
  })
  return { status: 200, body: { id: base.id } }
}

const productType = (container: Container) =>
  container.mediaType === "REELS" ? "REELS" : container.mediaType === "STORIES" ? "STORY" : "FEED"

export const instagramRoutes = (fake: FakeMetaServer): void => {
  // Instagram Login tokens, and Facebook users' tokens for the accounts linked to their Pages.
  const kinds = ["instagram", "user"] as const
  const own = (call: Call, id: string) => fake.actsFor(call.token, id)

  fake.graphRoute("POST", "/:version/:id/media", "POST /{ig-user-id}/media", kinds, (call) => {
    const id = call.request.params.id!
    if (!own(call, id)) return graphError(400, 10, "Application does not have permission for this action")
    return createContainer(fake, call, id)
  })

  fake.server.route("POST", "/ig-api-upload/:version/:id", async (request) => {
    const container = fake.containers.get(request.params.id!)
    const token = /^OAuth\s+(.+)$/i.exec(String(request.headers.authorization ?? ""))?.[1]
    const owner = token === undefined ? undefined : fake.tokens.get(token)
    if (container === undefined || owner === undefined || !fake.actsFor(owner, container.ownerId)) {
      return { status: 400, body: { debug_info: { type: "OAuthException", message: "Invalid OAuth access token or container" } } }
    }
    const size = Number(request.headers.file_size)
    const received = await FakeMedia.receive(request.stream as AsyncIterable<Uint8Array>)
    if (!Number.isFinite(size) || received.size !== size || String(request.headers.offset ?? "") !== "0") {
      return { status: 400, body: { debug_info: { type: "ProcessingFailedError", message: `file_size ${request.headers.file_size} but ${received.size} bytes arrived` } } }
    }
    const fetched = judge(received, { accept: instagramLimits.videoTypes, maxBytes: instagramLimits.reelMaxBytes })
    container.awaitingUpload = false
    container.outcome = videoOutcome(fake, fetched, container.mediaType)
    container.sha256 = received.sha256
    return { status: 200, body: { success: true, message: "Upload successful." } }
  }, { operation: "POST /ig-api-upload/{container-id}" })

  fake.graphRoute("POST", "/:version/:id/media_publish", "POST /{ig-user-id}/media_publish", kinds, (call) => {
    const userId = call.request.params.id!
    const profile = fake.profiles.get(userId)
    if (profile === undefined || !own(call, userId)) return graphError(400, 10, "Application does not have permission for this action")
    const container = fake.containers.get(call.params.creation_id ?? "")
    if (container === undefined || container.ownerId !== userId || container.isCarouselItem) {
      return graphError(400, 100, "Invalid parameter: creation_id", { subcode: 2207001 })
    }
    if (container.status === "EXPIRED" || fake.now - container.createdAtMs >= 86_400_000) {
      return graphError(400, 9, "The media container has expired.", { subcode: 2207006 })
    }
    if (container.status === "PUBLISHED") return graphError(400, 9, "The media has already been published.", { subcode: 2207020 })
    if (container.status !== "FINISHED") return graphError(400, 9007, "Media ID is not available", { subcode: 2207027 })
    if (fake.usage(profile) >= profile.quotaTotal) {
      return graphError(400, 9, "Application request limit reached", {
        subcode: 2207042,
        userMessage: "The account has reached its content publishing limit."
      })
    }
    container.status = "PUBLISHED"
    const id = newId()
    const type = productType(container)
    fake.media.set(id, {
      id,
      ownerId: userId,
      platform: "instagram",
      productType: container.mediaType === "CAROUSEL" ? "CAROUSEL_ALBUM" : type,
      text: container.params.caption ?? "",
      permalink: `https://www.instagram.com/${type === "REELS" ? "reel" : type === "STORY" ? "stories/" + profile.username : "p"}/${shortcode()}/`,
      timestampMs: fake.now,
      containerId: container.id,
      children: container.children,
      params: container.params
    })
    return { status: 200, body: { id } }
  })

  fake.graphRoute("GET", "/:version/:id/content_publishing_limit", "GET /{ig-user-id}/content_publishing_limit", kinds, (call) => {
    const profile = fake.profiles.get(call.request.params.id!)
    if (profile === undefined || !own(call, profile.id)) return graphError(400, 10, "Application does not have permission for this action")
    return {
      status: 200,
      body: { data: [{ quota_usage: fake.usage(profile), config: { quota_total: profile.quotaTotal, quota_duration: profile.quotaDurationSeconds } }] }
    }
  })

  for (const edge of ["media", "stories"] as const) {
    fake.graphRoute("GET", `/:version/:id/${edge}`, `GET /{ig-user-id}/${edge}`, edge === "stories" ? [...kinds, "page"] : kinds, (call) => {
      if (call.token.kind === "page") return pageStories(fake, call)
      const userId = call.request.params.id!
      if (!own(call, userId)) return graphError(400, 10, "Application does not have permission for this action")
      const items = fake.publishedBy(userId).filter((item) => (edge === "stories") === (item.productType === "STORY"))
      return pageOf(items, call.params, (item) => ({
        id: item.id,
        caption: item.text,
        permalink: item.permalink,
        media_product_type: item.productType,
        timestamp: new Date(item.timestampMs).toISOString().replace(/\.\d{3}Z$/, "+0000")
      }))
    })
  }
}
