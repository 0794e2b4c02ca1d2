/**
 * The post and destination model.
 *
 * A post is content (text, media, an optional link, and optionally a thread:
 * more parts posted as a reply chain where the platform has them) sent to
 * destinations (a platform account, with a placement and settings). Text,
 * media and settings can be overridden per platform (`platformOverrides`) and
 * per destination (`override`); the destination's value wins.
 *
 * A post may also carry a first comment (`comment`): posted under the
 * published post, as a reply or a comment, on platforms whose publisher has
 * the `comment` capability. An override's `comment` replaces it for that
 * platform or destination; an empty string clears it there.
 */
import { Schema } from "effect"
import { BoundedString, boundedArray, maxDestinations, maxMediaPerPart, maxThreadParts } from "./Limits.js"
import { Media } from "./Media.js"
import { PlatformId } from "./Platform.js"
import { Schedule } from "./Schedule.js"

/** The media of one part, at most `Limits.maxMediaPerPart`. */
const PartMedia = boundedArray(Media, maxMediaPerPart, "media in a part")

/** One part of a thread: its own text, media and link. */
export const ThreadPart = Schema.Struct({
  text: Schema.optional(BoundedString),
  media: Schema.optional(PartMedia),
  link: Schema.optional(BoundedString)
})
export type ThreadPart = typeof ThreadPart.Type

/** The parts after the first, at most `Limits.maxThreadParts`. */
const Thread = boundedArray(ThreadPart, maxThreadParts, "thread parts after the first")

/**
 * What is published. `text`, `media` and `link` form the first part;
 * `thread` holds the parts after it, in order.
 */
export const Content = Schema.Struct({
  text: Schema.optional(BoundedString),
  media: Schema.optional(PartMedia),
  link: Schema.optional(BoundedString),
  thread: Schema.optional(Thread),
  /** The first comment, posted under the published post (see `Comment`). */
  comment: Schema.optional(BoundedString)
})
export type Content = typeof Content.Type

/** Overrides of the content and settings, for a platform or for one destination. */
export const Override = Schema.Struct({
  text: Schema.optional(BoundedString),
  media: Schema.optional(PartMedia),
  link: Schema.optional(BoundedString),
  thread: Schema.optional(Thread),
  /** Replaces the post's first comment here; `""` clears it. */
  comment: Schema.optional(BoundedString),
  /** Merged over the destination's settings, key by key. */
  settings: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
})
export type Override = typeof Override.Type

/**
 * Placements: where on the platform the post goes. Each platform accepts its
 * own subset (see `Rules`): Instagram feed/story/reel/carousel, Facebook
 * feed/story/reel, YouTube video/short, TikTok video/photo; the rest `feed`.
 */
export const Placement = Schema.Literals(["feed", "story", "reel", "carousel", "video", "short", "photo"])
export type Placement = typeof Placement.Type

export const PostStatus = Schema.Literals([
  "draft",
  "scheduled",
  "publishing",
  "published",
  "partially_failed",
  "failed",
  "cancelled"
])
export type PostStatus = typeof PostStatus.Type

export const DestinationStatus = Schema.Literals(["queued", "publishing", "published", "failed", "cancelled"])
export type DestinationStatus = typeof DestinationStatus.Type

/** What a caller says about a destination. */
export const DestinationInput = Schema.Struct({
  platform: PlatformId,
  accountId: BoundedString,
  placement: Schema.optional(Placement),
  /** Platform settings, validated by the platform's own settings schema. */
  settings: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  override: Schema.optional(Override)
})
export type DestinationInput = typeof DestinationInput.Type

/** The last error of a destination: our code plus the platform's own code and message. */
export const DestinationError = Schema.Struct({
  code: Schema.String,
  message: Schema.String,
  retryable: Schema.Boolean,
  platformCode: Schema.optional(Schema.String),
  platformMessage: Schema.optional(Schema.String),
  httpStatus: Schema.optional(Schema.Number)
})
export type DestinationError = typeof DestinationError.Type

/**
 * A part of a post that is live on the platform: its id and URL, and what a
 * reply to it needs besides the id where the platform asks for more
 * (`replyRef`: Bluesky's record CID).
 */
export const PublishedPart = Schema.Struct({
  platformPostId: Schema.String,
  url: Schema.String,
  replyRef: Schema.optional(Schema.String)
})
export type PublishedPart = typeof PublishedPart.Type

/**
 * A first comment's state on its destination: `pending` until it is posted
 * (or while it waits for a retry), `published`, `failed`, or `unknown` (the
 * call was sent and no answer came back: never posted again automatically).
 * It never changes the destination's status.
 */
export const CommentStatus = Schema.Literals(["pending", "published", "failed", "unknown"])
export type CommentStatus = typeof CommentStatus.Type

/** A first comment's result on its destination. */
export const CommentResult = Schema.Struct({
  status: CommentStatus,
  /** Calls made to post it. */
  attempts: Schema.Number,
  platformCommentId: Schema.optional(Schema.String),
  url: Schema.optional(Schema.String),
  postedAt: Schema.optional(Schema.String),
  /** When a pending comment is tried again, after a retryable failure. */
  nextAttemptAt: Schema.optional(Schema.String),
  error: Schema.optional(DestinationError)
})
export type CommentResult = typeof CommentResult.Type

/** A destination with its publishing state. */
export const Destination = Schema.Struct({
  ...DestinationInput.fields,
  id: Schema.String,
  status: DestinationStatus,
  attempts: Schema.Number,
  platformPostId: Schema.optional(Schema.String),
  url: Schema.optional(Schema.String),
  publishedAt: Schema.optional(Schema.String),
  /**
   * The parts that are live, in order, the first included: all of them once
   * published; after a thread failed part way, those posted before the
   * failure (a retry posts the rest, never these again).
   */
  parts: Schema.optional(Schema.Array(PublishedPart)),
  nextRetryAt: Schema.optional(Schema.String),
  lastError: Schema.optional(DestinationError),
  /** The first comment's result, when the destination has one. */
  comment: Schema.optional(CommentResult)
})
export type Destination = typeof Destination.Type

/** What a caller sends to create a post. */
export const PostInput = Schema.Struct({
  id: Schema.optional(Schema.String),
  content: Content,
  destinations: boundedArray(DestinationInput, maxDestinations, "destinations"),
  schedule: Schema.optional(Schedule),
  platformOverrides: Schema.optional(Schema.Record(Schema.String, Override)),
  status: Schema.optional(Schema.Literals(["draft", "scheduled"]))
})
export type PostInput = typeof PostInput.Type

export const Post = Schema.Struct({
  id: Schema.String,
  content: Content,
  destinations: Schema.Array(Destination),
  schedule: Schema.optional(Schedule),
  platformOverrides: Schema.optional(Schema.Record(Schema.String, Override)),
  status: PostStatus,
  createdAt: Schema.String,
  updatedAt: Schema.String
})
export type Post = typeof Post.Type

/** One part as a platform publishes it. */
export interface ResolvedPart {
  readonly text: string
  readonly media: ReadonlyArray<Media>
  readonly link?: string | undefined
}

/** The content and settings one destination publishes, after overrides. */
export interface ResolvedDestination {
  readonly platform: string
  readonly accountId: string
  readonly placement?: Placement | undefined
  readonly settings: Readonly<Record<string, unknown>>
  /** Always at least one part: the first is the post, the rest its replies. */
  readonly parts: readonly [ResolvedPart, ...Array<ResolvedPart>]
  /** The first comment to post under the published post; absent when there is none (or an override cleared it). */
  readonly comment?: string | undefined
}

/**
 * Applies overrides for one destination: the destination's override wins over
 * the platform override, which wins over the post's content. A `thread` given
 * in an override replaces the whole thread; a `comment` given in an override
 * replaces the first comment, and a blank one clears it.
 */
export const resolveDestination = (
  post: { readonly content: Content; readonly platformOverrides?: Readonly<Record<string, Override>> | undefined },
  destination: DestinationInput
): ResolvedDestination => {
  const platformOverride = post.platformOverrides?.[destination.platform]
  const destinationOverride = destination.override
  const pick = <K extends "text" | "media" | "link" | "thread" | "comment">(key: K) =>
    destinationOverride?.[key] ?? platformOverride?.[key] ?? post.content[key]
  const first: ResolvedPart = { text: pick("text") ?? "", media: pick("media") ?? [], link: pick("link") }
  const rest: Array<ResolvedPart> = (pick("thread") ?? []).map((part) => ({
    text: part.text ?? "",
    media: part.media ?? [],
    link: part.link
  }))
  const comment = pick("comment")
  return {
    platform: destination.platform,
    accountId: destination.accountId,
    placement: destination.placement,
    settings: { ...platformOverride?.settings, ...destination.settings, ...destinationOverride?.settings },
    parts: [first, ...rest],
    ...(comment !== undefined && comment.trim().length > 0 ? { comment } : {})
  }
}
