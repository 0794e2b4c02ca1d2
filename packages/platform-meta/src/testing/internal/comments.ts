/**
 * Comments on published posts, as the Graph APIs take them: Instagram's
 * `POST /{ig-media-id}/comments` (IG Media Comments reference) and Facebook's
 * `POST /{object-id}/comments` (Object Comments reference), both with
 * `message`. Checked as Meta checks them: the object exists and belongs to
 * the token's account (else error 100, subcode 33), a story takes no
 * comments, `message` is given and within the limit. Threads replies are
 * posts (`reply_to_id`), handled with Threads' containers.
 */
import type { Answer } from "@omnipost/platform-kit/testing"
import type { Call, FakeMetaServer } from "../FakeMeta.js"
import { graphError, newId } from "./state.js"

/** Comment lengths (IG: as captions [3rd-party]; Facebook: 8,000 [3rd-party]), as core's `firstComment` rows. */
export const commentLimits = { instagram: 2200, facebook: 8000 } as const

export interface FakeComment {
  readonly id: string
  readonly objectId: string
  readonly platform: "instagram" | "facebook"
  readonly message: string
  readonly timestampMs: number
}

const missing = (id: string) =>
  graphError(400, 100, `Unsupported post request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, { subcode: 33 })

/** The commented object's platform and owner, when it can take comments. */
const target = (fake: FakeMetaServer, id: string): { readonly platform: "instagram" | "facebook"; readonly ownerId: string; readonly story: boolean } | undefined => {
  const media = fake.media.get(id)
  if (media !== undefined && media.platform === "instagram") return { platform: "instagram", ownerId: media.ownerId, story: media.productType === "STORY" }
  const post = fake.pagePosts.get(id)
  if (post !== undefined) return { platform: "facebook", ownerId: post.pageId, story: post.kind === "story" }
  const video = fake.videos.get(id)
  if (video !== undefined) return { platform: "facebook", ownerId: video.pageId, story: video.kind === "story" }
  const photo = fake.photos.get(id)
  if (photo !== undefined && photo.published) return { platform: "facebook", ownerId: photo.pageId, story: false }
  return undefined
}

export const commentRoutes = (fake: FakeMetaServer): void => {
  fake.graphRoute("POST", "/:version/:id/comments", "POST /{object-id}/comments", ["instagram", "page"], (call: Call): Answer => {
    const id = call.request.params.id!
    const object = target(fake, id)
    if (object === undefined || !fake.actsFor(call.token, object.ownerId)) return missing(id)
    if (object.story) return missing(id)
    const message = call.params.message
    if (message === undefined || message === "") return graphError(400, 100, "(#100) The parameter message is required")
    if (message.length > commentLimits[object.platform]) return graphError(400, 100, "(#100) The comment is too long.")
    const commentId = object.platform === "facebook" ? `${id.split("_").pop()}_${newId()}` : newId()
    fake.comments.push({ id: commentId, objectId: id, platform: object.platform, message, timestampMs: fake.now })
    return { status: 200, body: { id: commentId } }
  })
}
