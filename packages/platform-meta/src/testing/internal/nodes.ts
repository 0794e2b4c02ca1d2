/**
 * `GET /{id}`: one route for every object the fake knows (a container's
 * status, a published media's permalink, a profile), as the Graph API
 * resolves any id under one path. Polling a container advances it.
 */
import type { Answer } from "@omnipost/platform-kit/testing"
import type { Call, FakeMetaServer } from "../FakeMeta.js"
import { type Container, graphError } from "./state.js"

const dayMs = 86_400_000

/** One status poll: IN_PROGRESS while polls are left, then the outcome; EXPIRED after 24 h unpublished. */
export const poll = (fake: FakeMetaServer, container: Container): void => {
  if (container.status === "PUBLISHED" || container.status === "ERROR") return
  if (fake.now - container.createdAtMs >= dayMs) {
    container.status = "EXPIRED"
    return
  }
  if (container.awaitingUpload) return
  if (container.pollsLeft > 0) {
    container.pollsLeft -= 1
    return
  }
  container.status = container.outcome.status
}

const pick = (fields: string | undefined, values: Record<string, unknown>): Record<string, unknown> => {
  const wanted = (fields ?? "id").split(",").map((field) => field.trim())
  const out: Record<string, unknown> = {}
  for (const field of ["id", ...wanted]) if (values[field] !== undefined) out[field] = values[field]
  return out
}

export const nodeAnswer = (fake: FakeMetaServer, call: Call, id: string): Answer => {
  const fields = call.params.fields
  const owner = call.token.ownerId
  const container = fake.containers.get(id)
  if (container !== undefined && fake.actsFor(call.token, container.ownerId)) {
    poll(fake, container)
    const reason = container.outcome.status === "ERROR" && container.status === "ERROR" ? container.outcome.reason : undefined
    return {
      status: 200,
      body: pick(fields, {
        id,
        status_code: container.status,
        status: container.platform === "threads"
          ? container.status
          : reason ?? (container.status === "IN_PROGRESS" ? "In Progress" : container.status === "EXPIRED" ? "Expired" : "Finished"),
        ...(container.platform === "threads" && reason !== undefined ? { error_message: reason } : {})
      })
    }
  }
  const video = fake.videos.get(id)
  if (video !== undefined && video.pageId === owner) {
    const finished = video.state !== "none" && video.uploaded
    const done = finished && video.pollsLeft === 0
    if (finished && video.pollsLeft > 0) video.pollsLeft -= 1
    const failed = video.failure !== undefined && finished
    return {
      status: 200,
      body: pick(fields, {
        id,
        status: {
          video_status: failed ? "error" : done ? "ready" : video.uploaded ? "processing" : "upload_pending",
          uploading_phase: { status: video.uploaded ? "complete" : "not_started" },
          processing_phase: failed
            ? { status: "error", errors: [{ code: 1363008, message: video.failure }] }
            : { status: done ? "complete" : video.uploaded ? "in_progress" : "not_started" },
          publishing_phase: { status: done && video.state === "PUBLISHED" ? "complete" : "not_started" }
        }
      })
    }
  }
  const media = fake.media.get(id)
  if (media !== undefined && fake.actsFor(call.token, media.ownerId)) {
    return {
      status: 200,
      body: pick(fields, {
        id,
        permalink: media.permalink,
        shortcode: media.permalink.split("/").filter(Boolean).pop(),
        caption: media.platform === "instagram" ? media.text : undefined,
        text: media.platform === "threads" ? media.text : undefined,
        message: media.platform === "facebook" ? media.text : undefined,
        timestamp: new Date(media.timestampMs).toISOString().replace(/\.\d{3}Z$/, "+0000"),
        media_product_type: media.productType,
        media_type: media.productType
      })
    }
  }
  const profile = id === "me" ? fake.profiles.get(owner) : fake.profiles.get(id)
  if (profile !== undefined && (id === "me" || fake.actsFor(call.token, profile.id))) {
    return {
      status: 200,
      body: pick(fields, {
        id: profile.id,
        user_id: profile.kind === "instagram" ? profile.id : undefined,
        username: profile.username,
        name: profile.name,
        profile_picture_url: profile.kind === "instagram" ? profile.pictureUrl : undefined,
        threads_profile_picture_url: profile.kind === "threads" ? profile.pictureUrl : undefined,
        picture: profile.kind === "page" || profile.kind === "user" ? { data: { url: profile.pictureUrl } } : undefined
      })
    }
  }
  return graphError(400, 100, `Unsupported get request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, {
    subcode: 33,
    type: "GraphMethodException"
  })
}
