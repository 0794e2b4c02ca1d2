/**
 * Comments on posts, as the Comments API takes them
 * (`POST /rest/socialActions/{post-urn}/comments`, Community Management
 * "Comments API"): `actor` (a member or an organization the token may act
 * as), `object` (the post's URN, the same as in the path) and
 * `message.text` (given, at most 1,250 characters [3rd-party]). The answer is
 * 201 with the comment's URN in `x-restli-id`.
 */
import type { Answer, FakeRequest } from "@omnipost/platform-kit/testing"
import { error } from "./Wire.js"

export const maxCommentCharacters = 1250

export interface FakeComment {
  readonly urn: string
  readonly object: string
  readonly actor: string
  readonly text: string
}

export const create = async (
  request: FakeRequest,
  context: {
    readonly postExists: (urn: string) => boolean
    /** Undefined when the token may act as `actor`, else the refusal. */
    readonly mayActAs: (actor: string) => Answer | undefined
    readonly nextId: () => string
    readonly comments: Array<FakeComment>
  }
): Promise<Answer> => {
  const post = decodeURIComponent(request.params.urn!)
  if (!context.postExists(post)) return error(404, "NOT_FOUND", `Post ${post} does not exist`)
  const body = (await request.json().catch(() => undefined)) as Record<string, any> | undefined
  if (body === undefined || typeof body.actor !== "string") return error(422, "UNPROCESSABLE_ENTITY", "/actor is required")
  const denied = context.mayActAs(body.actor)
  if (denied !== undefined) return denied
  if (body.object !== undefined && body.object !== post) return error(422, "UNPROCESSABLE_ENTITY", `/object ${body.object} is not ${post}`)
  const text = body.message?.text
  if (typeof text !== "string" || text.length === 0) return error(422, "UNPROCESSABLE_ENTITY", "/message/text is required")
  if (text.length > maxCommentCharacters) {
    return error(422, "UNPROCESSABLE_ENTITY", `/message/text length ${text.length} exceeds the maximum of ${maxCommentCharacters}`)
  }
  const urn = `urn:li:comment:(${post},${context.nextId()})`
  context.comments.push({ urn, object: post, actor: body.actor, text })
  return { status: 201, headers: { "x-restli-id": urn }, body: { $URN: urn, actor: body.actor, object: post, message: { text } } }
}
