/**
 * The post and destination lifecycle. Every status change, in the library and
 * in the worker's database, goes through `transitionPost` /
 * `transitionDestination`, so there is one place that says what may follow what.
 */
import { Result, Schema } from "effect"
import type { DestinationStatus, PostStatus } from "./Post.js"

export class InvalidStatusTransition extends Schema.TaggedError<InvalidStatusTransition>()("InvalidStatusTransition", {
  entity: Schema.Literals(["post", "destination"]),
  from: Schema.String,
  to: Schema.String,
  message: Schema.String
}) {}

/** What may follow each post status. */
export const postTransitions: Readonly<Record<PostStatus, ReadonlyArray<PostStatus>>> = {
  draft: ["scheduled", "publishing", "cancelled"],
  scheduled: ["draft", "scheduled", "publishing", "cancelled"],
  // The terminal outcomes come from the destinations (see `aggregate`).
  publishing: ["published", "partially_failed", "failed"],
  published: [],
  // A retry of the failed destinations.
  partially_failed: ["publishing"],
  failed: ["publishing"],
  cancelled: []
}

/** What may follow each destination status. */
export const destinationTransitions: Readonly<Record<DestinationStatus, ReadonlyArray<DestinationStatus>>> = {
  // `queued → failed` covers failures before any platform call (validation, missing account).
  queued: ["publishing", "failed", "cancelled"],
  // `publishing → queued` is an automatic retry after a retryable error.
  publishing: ["published", "failed", "queued"],
  published: [],
  // A manual retry.
  failed: ["queued"],
  cancelled: []
}

const why: Partial<Record<PostStatus, string>> = {
  published: "a published post can no longer be edited, cancelled or retried",
  cancelled: "a cancelled post is final",
  publishing: "the post is being published; wait for its outcome"
}

export const transitionPost = (from: PostStatus, to: PostStatus): Result.Result<PostStatus, InvalidStatusTransition> =>
  postTransitions[from].includes(to)
    ? Result.succeed(to)
    : Result.fail(
      new InvalidStatusTransition({
        entity: "post",
        from,
        to,
        message: `a post cannot go from ${from} to ${to}${why[from] ? `: ${why[from]}` : ""}`
      })
    )

export const transitionDestination = (
  from: DestinationStatus,
  to: DestinationStatus
): Result.Result<DestinationStatus, InvalidStatusTransition> =>
  destinationTransitions[from].includes(to)
    ? Result.succeed(to)
    : Result.fail(
      new InvalidStatusTransition({
        entity: "destination",
        from,
        to,
        message: `a destination cannot go from ${from} to ${to}`
      })
    )

/**
 * A post's status from its destinations' statuses once none is in flight:
 * all published → `published`; some published and some failed →
 * `partially_failed`; none published → `failed`. While any is queued or
 * publishing the post is `publishing`; all cancelled → `cancelled`.
 */
export const aggregate = (statuses: ReadonlyArray<DestinationStatus>): PostStatus => {
  if (statuses.some((s) => s === "queued" || s === "publishing")) return "publishing"
  const live = statuses.filter((s) => s !== "cancelled")
  if (live.length === 0) return "cancelled"
  const published = live.filter((s) => s === "published").length
  if (published === live.length) return "published"
  return published > 0 ? "partially_failed" : "failed"
}

/** Whether a retry has anything to do: `failed`/`partially_failed` with at least one failed destination. */
export const canRetry = (post: PostStatus, destinations: ReadonlyArray<DestinationStatus>) =>
  (post === "failed" || post === "partially_failed") && destinations.includes("failed")
