/**
 * Brings a post's status in line with its destinations (core's
 * `Lifecycle.aggregate`) and records the outcome events. Runs inside the
 * caller's transaction with the post row already locked (`FOR UPDATE`), so two
 * destinations settling at once on two workers are serialized on the post and
 * the second sees the first's result.
 */
import { Lifecycle, type Post } from "@omnipost/core"
import type { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { settledPostStatuses, transitionPost } from "./lifecycle.js"

export const lockPost = (sql: PgClient.PgClient, postId: string) =>
  sql<{ id: string; status: Post.PostStatus; organization_id: string }>`
    SELECT id, status, organization_id FROM posts WHERE id = ${postId} FOR UPDATE`.pipe(
    Effect.map((rows) => rows[0])
  )

/** Recomputes the post's status from its destinations; records `post.<status>` when it settles. */
export const settlePost = Effect.fnUntraced(function*(
  sql: PgClient.PgClient,
  post: { readonly id: string; readonly status: Post.PostStatus; readonly organization_id: string }
) {
  const destinations = yield* sql<{ status: Post.DestinationStatus }>`
    SELECT status FROM destinations WHERE post_id = ${post.id}`
  return yield* settlePostWith(sql, post, destinations.map((d) => d.status))
})

/** `settlePost` when the caller already read the destinations' statuses under the post's lock. */
export const settlePostWith = Effect.fnUntraced(function*(
  sql: PgClient.PgClient,
  post: { readonly id: string; readonly status: Post.PostStatus; readonly organization_id: string },
  statuses: ReadonlyArray<Post.DestinationStatus>
) {
  const next = Lifecycle.aggregate(statuses)
  // Before any destination is in flight the post keeps its own status (draft, scheduled).
  if (next === post.status || next === "publishing" || next === "cancelled") return post.status
  const to = yield* transitionPost(post.status, next)
  yield* sql`
    UPDATE posts SET status = ${to}, updated_at = now(),
      published_at = CASE WHEN ${to} IN ('published', 'partially_failed') THEN now() ELSE published_at END
    WHERE id = ${post.id}`
  if (settledPostStatuses.includes(to)) {
    yield* recordEvent(sql, {
      organizationId: post.organization_id,
      type: `post.${to}`,
      postId: post.id,
      payload: { postId: post.id, status: to }
    })
  }
  return to
})

export const recordEvent = (
  sql: PgClient.PgClient,
  event: {
    readonly organizationId: string
    readonly type: string
    readonly postId: string
    readonly destinationId?: string | undefined
    readonly payload: Record<string, unknown>
  }
) =>
  sql`
    INSERT INTO events (organization_id, type, post_id, destination_id, payload)
    VALUES (${event.organizationId}, ${event.type}, ${event.postId}, ${event.destinationId ?? null}, ${sql.json(event.payload)})`
