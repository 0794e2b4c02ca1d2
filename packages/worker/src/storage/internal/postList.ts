/**
 * A page of an organization's posts with their destinations: filtered by
 * status, platform and date range; by cursor (newest first, keyed by
 * creation time and id) or by offset with a total counted under the same
 * conditions as the page.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import * as Cursor from "../Cursor.js"
import { type DestinationRow, type ListFilter, type PostRow, toPost } from "../StoredPost.js"
import { compact } from "./rows.js"

export const listPosts = (sql: PgClient.PgClient, organizationId: string, filter: ListFilter) =>
  Effect.gen(function*() {
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? 20), 1), 100)
    const cursor = filter.cursor === undefined ? undefined : yield* Cursor.decode("posts", filter.cursor)
    const conditions = [sql`organization_id = ${organizationId}`]
    if (filter.status !== undefined) conditions.push(sql`status = ${filter.status}`)
    if (filter.platform !== undefined) {
      conditions.push(sql`EXISTS (SELECT 1 FROM destinations d WHERE d.post_id = posts.id AND d.platform = ${filter.platform})`)
    }
    if (filter.from !== undefined) conditions.push(sql`COALESCE(scheduled_at, created_at) >= ${new Date(filter.from)}`)
    if (filter.to !== undefined) conditions.push(sql`COALESCE(scheduled_at, created_at) < ${new Date(filter.to)}`)
    // The total counts what the filter selects (on the same indexes as the page), only when paging by offset.
    const total = filter.offset === undefined
      ? undefined
      : (yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM posts WHERE ${sql.and(conditions)}`)[0]!.n
    if (cursor !== undefined) conditions.push(sql`(created_at, id) < (${cursor.at}::timestamptz, ${cursor.id})`)
    // The page and its destinations in one statement (the destinations as JSON rows: `toPost` reads their
    // timestamps as ISO strings), as a plain server would; the extra row that tells whether a next page exists
    // brings its own, unused.
    const rows = yield* sql<PostRow & { readonly cursor_at: string; readonly destinations: ReadonlyArray<DestinationRow> }>`
      SELECT posts.*, ${Cursor.instantOf(sql, "posts.created_at")} AS cursor_at,
        COALESCE((SELECT json_agg(d ORDER BY d.position) FROM destinations d WHERE d.post_id = posts.id), '[]'::json) AS destinations
      FROM posts WHERE ${sql.and(conditions)}
      ORDER BY posts.created_at DESC, posts.id DESC LIMIT ${limit + 1} OFFSET ${filter.offset ?? 0}`
    const page = rows.slice(0, limit)
    const last = page[page.length - 1]
    return compact({
      items: page.map(({ cursor_at: _, destinations, ...row }) => toPost(row, destinations)),
      nextCursor: rows.length > limit && last !== undefined ? Cursor.encode("posts", { at: last.cursor_at, id: last.id }) : undefined,
      total
    })
  })
