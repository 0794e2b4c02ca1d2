/**
 * A new post in one statement: its destinations' accounts checked (each of
 * the organization, on the destination's platform, not disconnected), the post and its
 * destinations inserted, and on PostgreSQL the schedulers woken
 * (`pg_notify`, delivered at the commit), all or nothing.
 *
 * It was a transaction of six round trips (`BEGIN`, the account check, two
 * inserts, `COMMIT`, then the notification); one statement is atomic by
 * itself, so the same guarantees cost one. When an account does not pass,
 * nothing is inserted and the statement answers the refused account ids.
 * The rows come back as JSON (`row_to_json`: timestamps as ISO strings,
 * which `toPost` reads as it reads the driver's `Date`s).
 */
import type { PgClient } from "@effect/sql-pg"
import type { Post } from "@omnipost/core"
import { Effect } from "effect"
import type { SqlError } from "effect/sql"
import * as Ids from "../Ids.js"
import { type CommentSource, commentColumns } from "../leases/Comments.js"
import type { DestinationRow, PostRow } from "../StoredPost.js"

export interface NewPost {
  readonly id: string
  readonly organizationId: string
  readonly status: "draft" | "scheduled"
  readonly input: Post.PostInput & CommentSource
  readonly scheduledAt: Date | null
  readonly dueAt: Date | null
  readonly now: Date
  /** `pg_notify(channel, payload)` in the same statement, when given (PostgreSQL; PGlite's notifications are in-process). */
  readonly notify?: { readonly channel: string; readonly payload: string } | undefined
}

export type Created =
  | { readonly _tag: "Created"; readonly post: PostRow; readonly destinations: ReadonlyArray<DestinationRow> }
  | { readonly _tag: "Refused"; readonly accountIds: ReadonlyArray<string> }

const json = (sql: PgClient.PgClient, value: unknown) => value === undefined || value === null ? null : sql.json(value)

export const createPost = (sql: PgClient.PgClient, post: NewPost): Effect.Effect<Created, SqlError.SqlError> => {
  const { input, organizationId } = post
  const destinations = input.destinations.map((d, position) => {
    const { comment, dueAt } = commentColumns(input, d, post.now)
    return sql`(${Ids.make("dst")}, ${position}::int, ${d.platform}, ${d.accountId}, ${d.placement ?? null}::text,
      ${sql.json(d.settings ?? {})}::jsonb, ${json(sql, d.override)}::jsonb, ${json(sql, comment)}::jsonb, ${dueAt}::timestamptz)`
  })
  const wanted = input.destinations.length === 0
    ? sql`SELECT NULL::text AS account_id, NULL::text AS platform WHERE false`
    : sql`SELECT DISTINCT account_id, platform FROM (VALUES ${
      sql.csv(input.destinations.map((d) => sql`(${d.accountId}::text, ${d.platform}::text)`))
    }) AS w(account_id, platform)`
  const insertDestinations = destinations.length === 0
    ? sql`SELECT NULL::text AS id, NULL::int AS position WHERE false`
    : sql`INSERT INTO destinations (id, post_id, organization_id, position, platform, account_id, placement, settings, override,
        status, due_at, comment, comment_due_at)
      SELECT v.id, p.id, p.organization_id, v.position, v.platform, v.account_id, v.placement, v.settings, v.override,
        'queued', ${post.dueAt}::timestamptz, v.comment, v.comment_due_at
      FROM inserted p, (VALUES ${sql.csv(destinations)}) AS v(id, position, platform, account_id, placement, settings, override, comment, comment_due_at)
      RETURNING *`
  const notify = post.notify === undefined
    ? sql`SELECT 0 AS n WHERE false`
    : sql`SELECT 1 AS n FROM (SELECT pg_notify(${post.notify.channel}, ${post.notify.payload}) FROM inserted) AS sent`
  return sql<{ post: PostRow | null; destinations: ReadonlyArray<DestinationRow>; refused: ReadonlyArray<string> }>`
    WITH wanted AS (${wanted}), refused AS (
      SELECT w.account_id FROM wanted w
      WHERE NOT EXISTS (
        SELECT 1 FROM accounts a WHERE a.id = w.account_id AND a.organization_id = ${organizationId} AND a.platform = w.platform
          AND a.status <> 'disconnected'
      )
    ), inserted AS (
      INSERT INTO posts (id, organization_id, status, content, platform_overrides, schedule, scheduled_at, time_zone)
      SELECT ${post.id}, ${organizationId}, ${post.status}, ${sql.json(input.content)}::jsonb, ${json(sql, input.platformOverrides)}::jsonb,
        ${json(sql, input.schedule)}::jsonb, ${post.scheduledAt}::timestamptz,
        ${input.schedule?._tag === "local" ? input.schedule.timeZone : null}::text
      WHERE NOT EXISTS (SELECT 1 FROM refused)
      RETURNING *
    ), added AS (${insertDestinations}), woken AS (${notify})
    SELECT (SELECT row_to_json(inserted) FROM inserted) AS post,
      (SELECT COALESCE(json_agg(added ORDER BY added.position), '[]'::json) FROM added) AS destinations,
      (SELECT COALESCE(array_agg(DISTINCT account_id ORDER BY account_id), '{}'::text[]) FROM refused) AS refused,
      (SELECT count(*) FROM woken) AS woken`.pipe(
    Effect.map(([row]): Created =>
      row?.post === null || row?.post === undefined
        ? { _tag: "Refused", accountIds: accountIdsInOrder(input.destinations, row?.refused ?? []) }
        : { _tag: "Created", post: row.post, destinations: row.destinations }
    )
  )
}

/** The refused ids in the order the destinations name them, each once (as the account check always answered). */
const accountIdsInOrder = (destinations: ReadonlyArray<Post.DestinationInput>, refused: ReadonlyArray<string>) => {
  const set = new Set(refused)
  return [...new Set(destinations.map((d) => d.accountId).filter((id) => set.has(id)))]
}
