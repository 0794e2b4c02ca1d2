/**
 * First comments in the database (part of `Leases`): a published
 * destination's pending comment claimed and marked sent in one statement
 * (`claimComments`: its `attemptId` and `sentAt` committed before the call,
 * `comment_due_at` moved ahead as the lease), and the call's outcome written
 * under that attempt only (`settleComment`).
 *
 * A claimed comment that already carries an `attemptId` was sent by a worker
 * that stopped before writing the answer: the caller settles it `unknown`,
 * never posts it again (as for posts: publish once).
 */
import { Post } from "@omnipost/core"
import type { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { destinationInput, type MarkRow, withPosts } from "./Model.js"

/** A comment's state as stored: core's result, plus the call in flight. */
export interface StoredComment extends Post.CommentResult {
  readonly attemptId?: string | undefined
  readonly sentAt?: string | undefined
}

/** A claimed comment, with what its call needs. */
export interface ClaimedComment {
  readonly destinationId: string
  readonly postId: string
  readonly organizationId: string
  readonly platform: string
  readonly accountId: string
  /** This claim's attempt, committed on the comment before the call. */
  readonly attemptId: string
  /** The state before this claim: an `attemptId` there means an earlier call's answer was lost. */
  readonly before: StoredComment
  readonly content: Post.Content
  readonly platformOverrides: Readonly<Record<string, Post.Override>> | undefined
  readonly destination: Post.DestinationInput
  readonly published: { readonly platformPostId: string; readonly url: string; readonly parts: ReadonlyArray<Post.PublishedPart> }
}

/** The stored comment a destination starts with: pending when its resolved content has one. */
export const initialComment = (
  post: { readonly content: Post.Content; readonly platformOverrides?: Readonly<Record<string, Post.Override>> | undefined },
  destination: Post.DestinationInput
): Post.CommentResult | undefined =>
  Post.resolveDestination(post, destination).comment === undefined ? undefined : { status: "pending", attempts: 0 }

/** What a destination's comment resolves from: its post's content and overrides. */
export interface CommentSource {
  readonly content: Post.Content
  readonly platformOverrides?: Readonly<Record<string, Post.Override>> | undefined
}

/** A new (or re-resolved) destination's comment columns: pending and due from `now` when it has a comment. */
export const commentColumns = (post: CommentSource, destination: Post.DestinationInput, now: Date) => {
  const comment = initialComment(post, destination)
  return { comment, dueAt: comment === undefined ? null : now }
}

/** The comment as shown: without the call in flight. */
export const shownComment = (stored: StoredComment | null | undefined): Post.CommentResult | undefined => {
  if (stored === null || stored === undefined) return undefined
  const { attemptId: _a, sentAt: _s, ...shown } = stored
  return shown
}

export const make = (sql: PgClient.PgClient) => {
  const claimComments = Effect.fn("Leases.claimComments")(function*(options: {
    readonly workerId: string
    readonly now: Date
    /** How long the claim holds: past it, another worker settles the comment as unknown. */
    readonly leaseMs: number
    readonly limit: number
    readonly platforms: ReadonlyArray<string>
  }) {
    if (options.platforms.length === 0) return []
    const until = new Date(options.now.getTime() + options.leaseMs)
    const rows = yield* sql<MarkRow & {
      id: string
      post_id: string
      organization_id: string
      before: StoredComment
      attempt_id: string
      platform_post_id: string
      url: string
      parts: Array<Post.PublishedPart> | null
    }>`
      WITH c AS (
        SELECT id, comment AS before FROM destinations
        WHERE comment_due_at <= ${options.now} AND status = 'published' AND platform_post_id IS NOT NULL
          AND ${sql.in("platform", options.platforms)}
        ORDER BY comment_due_at LIMIT ${options.limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE destinations d SET comment_due_at = ${until},
        comment = COALESCE(c.before, '{"status":"pending","attempts":0}'::jsonb)
          || jsonb_build_object('attemptId', d.id || ':comment:' || (COALESCE((c.before->>'attempts')::int, 0) + 1)
            || ':' || ${options.workerId}::text, 'sentAt', ${options.now.toISOString()}::text)
      FROM c WHERE d.id = c.id
      RETURNING d.id, d.post_id, d.organization_id, d.platform, d.account_id, d.placement, d.settings, d.override,
        d.platform_post_id, d.url, d.parts, COALESCE(c.before, '{"status":"pending","attempts":0}'::jsonb) AS before,
        d.comment->>'attemptId' AS attempt_id`
    return yield* withPosts(sql, rows, (r, post): ClaimedComment => ({
      destinationId: r.id,
      postId: r.post_id,
      organizationId: r.organization_id,
      platform: r.platform,
      accountId: r.account_id,
      attemptId: r.attempt_id,
      before: r.before,
      content: post.content,
      platformOverrides: post.platformOverrides,
      destination: destinationInput(r),
      published: { platformPostId: r.platform_post_id, url: r.url, parts: r.parts ?? [] }
    }))
  })

  /** Writes a comment call's outcome, only while the comment is still under `attemptId`. Returns whether it was written. */
  const settleComment = Effect.fn("Leases.settleComment")(function*(options: {
    readonly destinationId: string
    readonly attemptId: string
    readonly comment: Post.CommentResult | undefined
    /** When to try again (a pending comment); none when it is settled for good. */
    readonly dueAt: Date | undefined
    readonly now: Date
  }) {
    const rows = yield* sql<{ id: string }>`
      UPDATE destinations SET comment = ${options.comment === undefined ? null : sql.json(options.comment)},
        comment_due_at = ${options.dueAt ?? null}, updated_at = ${options.now}
      WHERE id = ${options.destinationId} AND comment->>'attemptId' = ${options.attemptId}
      RETURNING id`
    return rows.length > 0
  })

  /** The earliest instant a pending comment falls due (in the past when one is due now). */
  const nextCommentDue = Effect.fn("Leases.nextCommentDue")(function*(platforms: ReadonlyArray<string>) {
    if (platforms.length === 0) return undefined
    const rows = yield* sql<{ due: Date | null }>`
      SELECT min(comment_due_at) AS due FROM destinations
      WHERE comment_due_at IS NOT NULL AND status = 'published' AND ${sql.in("platform", platforms)}`
    return rows[0]?.due ?? undefined
  })

  return { claimComments, settleComment, nextCommentDue }
}

/** The comment operations of `Leases`. */
export type Operations = ReturnType<typeof make>
