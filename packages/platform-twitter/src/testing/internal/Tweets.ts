/**
 * The fake X's posts: `POST /2/tweets` (text weighted by twitter-text ≤ 280,
 * media that exist, belong to the user and are processed, ≤ 4 images or one
 * video/GIF, reply and quote targets that exist, duplicate content refused
 * with 403), `DELETE /2/tweets/:id` and the user timeline, which shows texts
 * back as X does (escaped, URLs as t.co links, a media link appended).
 */
import type { Answer } from "@omnipost/platform-kit/testing"
import { createHash } from "node:crypto"
import twitterText from "twitter-text"
import { invalidRequest, notFound, problem } from "./Answers.js"
import type { FakeXTweet, FakeXUser, Store } from "./Model.js"

export const createTweet = (store: Store, user: FakeXUser, body: unknown): Answer => {
  if (typeof body !== "object" || body === null) return invalidRequest("The request body must be a JSON object.")
  const input = body as {
    text?: unknown
    media?: { media_ids?: unknown }
    reply?: { in_reply_to_tweet_id?: unknown }
    quote_tweet_id?: unknown
    reply_settings?: unknown
  }
  const text = typeof input.text === "string" ? input.text : ""
  if (input.text !== undefined && typeof input.text !== "string") return invalidRequest("text must be a string.", { text: [] })
  const mediaIds = input.media?.media_ids
  if (mediaIds !== undefined && (!Array.isArray(mediaIds) || !mediaIds.every((m) => typeof m === "string"))) {
    return invalidRequest("media.media_ids must be an array of strings.", { "media.media_ids": [] })
  }
  const ids = (mediaIds ?? []) as Array<string>
  if (text.length === 0 && ids.length === 0) {
    return invalidRequest("Post text or media is required.", { text: [] })
  }
  if (text.length > 0) {
    const parsed = twitterText.parseTweet(text)
    if (!parsed.valid) {
      return parsed.weightedLength > 280
        ? invalidRequest("The text of your Post is too long.", { text: [String(parsed.weightedLength)] })
        : invalidRequest("The text of your Post contains invalid characters.", { text: [] })
    }
  }
  if (ids.length > 4) return invalidRequest("Your media IDs are invalid: at most 4 media per Post.", { "media.media_ids": ids })
  const uploads = ids.map((id) => store.findUpload(user, id))
  if (uploads.some((u) => u === undefined || u.state !== "succeeded")) {
    return invalidRequest("Your media IDs are invalid.", { "media.media_ids": ids })
  }
  const categories = new Set(uploads.map((u) => u!.mediaCategory))
  if (ids.length > 1 && (categories.size > 1 || !categories.has("tweet_image"))) {
    return invalidRequest("Your media IDs are invalid: a Post has up to 4 photos, or 1 GIF, or 1 video.", { "media.media_ids": ids })
  }
  const replyTo = input.reply?.in_reply_to_tweet_id
  if (replyTo !== undefined) {
    const target = store.tweets.find((t) => t.id === replyTo && !t.deleted)
    if (target === undefined) {
      return problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you.")
    }
  }
  const quote = input.quote_tweet_id
  if (quote !== undefined) {
    if (ids.length > 0) return invalidRequest("quote_tweet_id and media are mutually exclusive.", { quote_tweet_id: [] })
    if (!store.tweets.some((t) => t.id === quote && !t.deleted)) {
      return problem(403, "Forbidden", "You attempted to quote a Tweet that is deleted or not visible to you.")
    }
  }
  const replySettings = input.reply_settings
  if (replySettings !== undefined && !["following", "mentionedUsers", "subscribers", "verified"].includes(String(replySettings))) {
    return invalidRequest(`reply_settings must be one of following, mentionedUsers, subscribers, verified.`, { reply_settings: [String(replySettings)] })
  }
  if (text.length > 0 && store.tweets.some((t) => t.authorId === user.id && !t.deleted && t.text === text)) {
    return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
  }
  const id = store.nextId()
  store.tweets.push({
    id,
    authorId: user.id,
    text,
    mediaIds: ids,
    inReplyToTweetId: typeof replyTo === "string" ? replyTo : undefined,
    quoteTweetId: typeof quote === "string" ? quote : undefined,
    replySettings: typeof replySettings === "string" ? replySettings : undefined,
    createdAt: new Date(store.now()).toISOString(),
    deleted: false
  })
  return { status: 201, body: { data: { id, text, edit_history_tweet_ids: [id] } } }
}

/**
 * The text as X shows it back: `&`, `<`, `>` escaped, every URL replaced by
 * a t.co link, and a t.co link to the media appended.
 */
export const displayText = (tweet: FakeXTweet): string => {
  const urls = twitterText.extractUrlsWithIndices(tweet.text, { extractUrlsWithoutProtocol: true })
  let text = ""
  let position = 0
  for (const entity of urls) {
    const [start, end] = entity.indices
    text += tweet.text.slice(position, start) + `https://t.co/${createHash("sha1").update(entity.url).digest("hex").slice(0, 10)}`
    position = end
  }
  text += tweet.text.slice(position)
  text = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
  if (tweet.mediaIds.length > 0) text += `${text.length > 0 ? " " : ""}https://t.co/${tweet.id.slice(-10)}`
  return text
}

export const timeline = (store: Store, userId: string, query: URLSearchParams): Answer => {
  if (!store.users.some((u) => u.id === userId)) return notFound(`Could not find user with id: [${userId}].`)
  const maxResults = Number(query.get("max_results") ?? "10")
  if (!Number.isInteger(maxResults) || maxResults < 5 || maxResults > 100) {
    return invalidRequest("The `max_results` query parameter value is not between 5 and 100", { max_results: [String(maxResults)] })
  }
  const startTime = query.get("start_time")
  const startMs = startTime === null ? -Infinity : Date.parse(startTime)
  if (Number.isNaN(startMs)) return invalidRequest("Invalid start_time.", { start_time: [startTime ?? ""] })
  const fields = new Set((query.get("tweet.fields") ?? "").split(","))
  const all = store.tweets
    .filter((t) => t.authorId === userId && !t.deleted && Date.parse(t.createdAt) >= startMs)
    .reverse()
  const offset = Number(query.get("pagination_token") ?? "0")
  const page = all.slice(offset, offset + maxResults)
  const data = page.map((t) => ({
    id: t.id,
    text: displayText(t),
    edit_history_tweet_ids: [t.id],
    ...(fields.has("created_at") ? { created_at: t.createdAt } : {}),
    ...(fields.has("referenced_tweets") && (t.inReplyToTweetId !== undefined || t.quoteTweetId !== undefined)
      ? {
        referenced_tweets: [
          ...(t.inReplyToTweetId !== undefined ? [{ type: "replied_to", id: t.inReplyToTweetId }] : []),
          ...(t.quoteTweetId !== undefined ? [{ type: "quoted", id: t.quoteTweetId }] : [])
        ]
      }
      : {}),
    ...(fields.has("attachments") && t.mediaIds.length > 0
      ? { attachments: { media_keys: t.mediaIds.map((id) => store.uploads.find((u) => u.id === id)?.mediaKey ?? `3_${id}`) } }
      : {})
  }))
  const next = offset + maxResults < all.length ? String(offset + maxResults) : undefined
  return {
    status: 200,
    body: {
      ...(data.length > 0 ? { data } : {}),
      meta: {
        result_count: data.length,
        ...(data.length > 0 ? { newest_id: data[0]!.id, oldest_id: data.at(-1)!.id } : {}),
        ...(next !== undefined ? { next_token: next } : {})
      }
    }
  }
}

export const deleteTweet = (store: Store, user: FakeXUser, id: string): Answer => {
  const tweet = store.tweets.find((t) => t.id === id && !t.deleted)
  if (tweet === undefined) return notFound(`Could not find tweet with id: [${id}].`)
  if (tweet.authorId !== user.id) return problem(403, "Forbidden", "You are not allowed to delete this Tweet.")
  tweet.deleted = true
  return { status: 200, body: { data: { deleted: true } } }
}
