/**
 * Core's lifecycle as SQL guards and as effects.
 *
 * A status change is written as `UPDATE … WHERE status IN (<every status core
 * allows to go to the target>)`, the list computed from core's transition
 * function, so the database and core cannot disagree; when the update matches
 * nothing, `transitionDestination(current, target)` gives the typed error.
 */
import { Lifecycle, type Post } from "@omnipost/core"
import { Effect, Result } from "effect"

const destinationStatuses = Object.keys(Lifecycle.destinationTransitions) as Array<Post.DestinationStatus>
const postStatuses = Object.keys(Lifecycle.postTransitions) as Array<Post.PostStatus>

/** The destination statuses core allows to move to `to`. */
export const destinationFrom = (to: Post.DestinationStatus): ReadonlyArray<Post.DestinationStatus> =>
  destinationStatuses.filter((from) => Result.isSuccess(Lifecycle.transitionDestination(from, to)))

/** The post statuses core allows to move to `to`. */
export const postFrom = (to: Post.PostStatus): ReadonlyArray<Post.PostStatus> =>
  postStatuses.filter((from) => Result.isSuccess(Lifecycle.transitionPost(from, to)))

export const transitionPost = (from: Post.PostStatus, to: Post.PostStatus) =>
  Effect.fromResult(Lifecycle.transitionPost(from, to))

export const transitionDestination = (from: Post.DestinationStatus, to: Post.DestinationStatus) =>
  Effect.fromResult(Lifecycle.transitionDestination(from, to))

/** The terminal post statuses that produce an event. */
export const settledPostStatuses: ReadonlyArray<Post.PostStatus> = ["published", "partially_failed", "failed"]
