/**
 * One post read in one statement: its row, its destinations and, when asked,
 * its attempt log (the attempts written, and the one running now, recorded on
 * its destination until its outcome writes its row) as JSON beside it. One
 * round trip and one snapshot, as a plain server would read it; the JSON rows'
 * timestamps are ISO strings, which `toPost` and `toAttempt` read.
 */
import type { Post } from "@omnipost/core"
import { Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import { type AttemptRecord, type DestinationRow, PostNotFound, type PostRow, type StoredPost, toPost } from "../StoredPost.js"
import { compact, iso, isoOrUndefined } from "./rows.js"

/** An attempt row, from the table or as JSON (timestamps as ISO strings). */
export interface AttemptRow {
  readonly id: string
  readonly destination_id: string
  readonly post_id: string
  readonly worker_id: string
  readonly number: number
  readonly started_at: Date | string
  readonly finished_at: Date | string | null
  readonly outcome: string | null
  readonly error: Post.DestinationError | null
  readonly platform_post_id: string | null
  readonly url: string | null
}

export const toAttempt = (r: AttemptRow): AttemptRecord =>
  compact({
    id: r.id,
    destinationId: r.destination_id,
    postId: r.post_id,
    workerId: r.worker_id,
    number: r.number,
    startedAt: iso(r.started_at),
    finishedAt: isoOrUndefined(r.finished_at),
    outcome: r.outcome ?? undefined,
    error: r.error ?? undefined,
    platformPostId: r.platform_post_id ?? undefined,
    url: r.url ?? undefined
  })

/** The attempt log of the post `postId` names (a SQL fragment: a parameter, or a column of the outer query). */
export const attemptsQuery = (sql: SqlClient.SqlClient, postId: unknown, organizationId: unknown) => sql`
  SELECT id, destination_id, post_id, worker_id, number, started_at, finished_at, outcome, error, platform_post_id, url
  FROM attempts WHERE post_id = ${postId} AND organization_id = ${organizationId}
  UNION ALL
  SELECT current_attempt_id, id, post_id, attempt_worker_id, attempts, attempt_started_at,
    NULL::timestamptz, NULL::text, NULL::jsonb, NULL::text, NULL::text
  FROM destinations
  WHERE post_id = ${postId} AND organization_id = ${organizationId} AND status = 'publishing'
    AND current_attempt_id IS NOT NULL AND attempt_started_at IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM attempts a WHERE a.id = destinations.current_attempt_id)`

/** A post's row as `postQuery` selects it: the row, its destinations and its attempt log as JSON. */
export type PostReadRow = PostRow & {
  readonly destinations_json: ReadonlyArray<DestinationRow>
  readonly attempts_json: ReadonlyArray<AttemptRow> | null
}

export type PostRead<WithAttempts extends boolean> = WithAttempts extends true
  ? { readonly post: StoredPost; readonly attempts: ReadonlyArray<AttemptRecord> }
  : StoredPost

/**
 * The statement that reads one post (at most one row, `PostReadRow`): of the
 * organization `organizationId` names (a parameter, or a fragment such as a
 * column of an outer query: `KeyGate.admitWith` reads it in the key gate's
 * own statement).
 */
export const postQuery = (sql: SqlClient.SqlClient, organizationId: unknown, postId: string, withAttempts: boolean) =>
  sql<PostReadRow>`
    SELECT posts.*,
      COALESCE((SELECT json_agg(d ORDER BY d.position) FROM destinations d WHERE d.post_id = posts.id), '[]'::json) AS destinations_json,
      ${
    withAttempts
      ? sql`COALESCE((SELECT json_agg(x ORDER BY x.started_at, x.number) FROM (${
        attemptsQuery(sql, sql`posts.id`, sql`posts.organization_id`)
      }) x), '[]'::json)`
      : sql`NULL::json`
  } AS attempts_json
    FROM posts WHERE posts.id = ${postId} AND posts.organization_id = ${organizationId}`

/** `postQuery`'s row as the stored post (with its attempt log when `withAttempts`), or `PostNotFound` when there is none. */
export const decodePostRead = <WithAttempts extends boolean>(
  row: PostReadRow | undefined,
  postId: string,
  withAttempts: WithAttempts
): Effect.Effect<PostRead<WithAttempts>, PostNotFound> => {
  if (row === undefined) return Effect.fail(new PostNotFound({ postId, message: `no post ${postId}` }))
  const { attempts_json, destinations_json, ...post } = row
  const stored = toPost(post, destinations_json)
  return Effect.succeed(
    (withAttempts ? { post: stored, attempts: (attempts_json ?? []).map(toAttempt) } : stored) as PostRead<WithAttempts>
  )
}

/** The post with its destinations (and its attempt log when `withAttempts`), or `PostNotFound`. */
export const readPost = <WithAttempts extends boolean>(
  sql: SqlClient.SqlClient,
  organizationId: string,
  postId: string,
  withAttempts: WithAttempts
): Effect.Effect<PostRead<WithAttempts>, PostNotFound | SqlError.SqlError> =>
  postQuery(sql, organizationId, postId, withAttempts).pipe(
    Effect.flatMap((rows) => decodePostRead(rows[0], postId, withAttempts))
  )
