/**
 * Settlement: an outcome written to the destination, its attempt, the post's
 * aggregate and the `events` outbox in one transaction (`settle`; successes
 * in groups, `settlePublishedBatch`), a destination failed before any call
 * (`failBeforeCall`), and marked destinations given back unsent (`unmark`).
 */
import { Lifecycle, type Post } from "@omnipost/core"
import type { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import type { Statement } from "effect/sql"
import { destinationFrom, postFrom, settledPostStatuses, transitionDestination, transitionPost } from "../internal/lifecycle.js"
import { lockPost, recordEvent, settlePost, settlePostWith } from "../internal/settle.js"
import type { Claim, Outcome, PublishedItem } from "./Model.js"

export const make = (sql: PgClient.PgClient) => {
  /**
   * The attempt log's row for a finished attempt, from `select` (its columns in the order below).
   * Written once, with the outcome: while the call runs, the destination itself records the
   * attempt (`current_attempt_id`, `attempt_started_at`, `attempt_worker_id`), which keeps the
   * publish-once mark, on every call's critical path, one row smaller.
   */
  const insertAttempt = (select: Statement.Fragment) =>
    sql`INSERT INTO attempts (id, destination_id, post_id, organization_id, worker_id, number, started_at, finished_at, outcome,
        error, platform_post_id, url)
      SELECT id, destination_id, post_id, organization_id, COALESCE(worker_id, 'unknown'), number,
        COALESCE(started_at, finished_at), finished_at, outcome, error, platform_post_id, url
      FROM (${select}) AS s (id, destination_id, post_id, organization_id, worker_id, number, started_at, finished_at, outcome,
        error, platform_post_id, url)
      -- An attempt marked before this layout (its row written at the mark) gets its outcome.
      ON CONFLICT (id) DO UPDATE SET finished_at = EXCLUDED.finished_at, outcome = EXCLUDED.outcome, error = EXCLUDED.error,
        platform_post_id = EXCLUDED.platform_post_id, url = EXCLUDED.url`

  /**
   * Writes an outcome in one transaction: the guarded destination update,
   * the attempt's result and the event in one statement, then the post's
   * aggregate. Returns false when the attempt is no longer this one's to
   * settle (another worker reconciled it after this one's lease expired).
   */
  /** Keeps a partly posted thread's live parts (never fewer than were kept: parts only become live). */
  const livePartsAssignment = (parts: ReadonlyArray<Post.PublishedPart> | undefined) =>
    parts === undefined || parts.length === 0 ? sql`` : sql`parts = ${sql.json(parts)},`

  const settle = Effect.fn("Leases.settle")(function*(options: {
    readonly destinationId: string
    readonly postId: string
    readonly attemptId: string
    readonly now: Date
    readonly outcome: Outcome
  }) {
    const { now, outcome } = options
    const target: Post.DestinationStatus = outcome._tag === "Published" ? "published" : outcome._tag === "Retry" ? "queued" : "failed"
    const assignments = outcome._tag === "Published"
      ? sql`status = 'published', platform_post_id = ${outcome.platformPostId}, url = ${outcome.url},
          parts = ${sql.json(outcome.parts)}, published_at = ${outcome.publishedAt}, last_error = NULL, next_retry_at = NULL,
          due_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ${now}`
      : outcome._tag === "Retry"
      ? sql`status = 'queued', due_at = ${outcome.at}, next_retry_at = ${outcome.at}, auto_retries = auto_retries + 1,
          last_error = ${sql.json(outcome.error)}, lease_owner = NULL, lease_expires_at = NULL, current_attempt_id = NULL,
          ${livePartsAssignment(outcome.parts)} updated_at = ${now}`
      : sql`status = 'failed', last_error = ${sql.json(outcome.error)}, next_retry_at = NULL, due_at = NULL,
          lease_owner = NULL, lease_expires_at = NULL, ${livePartsAssignment(outcome.parts)} updated_at = ${now}`
    const attemptOutcome = outcome._tag === "Published"
      ? outcome.attemptOutcome ?? "published"
      : outcome._tag === "Retry"
      ? outcome.attemptOutcome ?? "retry"
      : outcome.attemptOutcome
    const event = outcome._tag === "Published" ? "destination.published" : outcome._tag === "Failed" ? "destination.failed" : null
    const eventDetail = outcome._tag === "Published"
      ? { platformPostId: outcome.platformPostId, url: outcome.url }
      : outcome._tag === "Failed"
      ? { error: outcome.error }
      : {}
    // The post's lock first, in its own statement: the statement below then reads, in a snapshot taken
    // after the lock, every sibling destination a concurrent settle committed before it.
    if ((yield* lockPost(sql, options.postId)) === undefined) return false
    const rows = yield* sql<{
      settled: string | number
      post_status: Post.PostStatus
      organization_id: string
      account_id: string | null
      others: Array<Post.DestinationStatus> | null
    }>`
      WITH p AS (
        SELECT id, status, organization_id FROM posts WHERE id = ${options.postId}
      ), d AS (
        UPDATE destinations SET ${assignments}
        WHERE id = ${options.destinationId} AND current_attempt_id = ${options.attemptId}
          AND ${sql.in("status", destinationFrom(target))} AND status = 'publishing' AND EXISTS (SELECT 1 FROM p)
        RETURNING id, post_id, organization_id, platform, account_id, attempts, attempt_started_at, attempt_worker_id
      ), a AS (
        ${insertAttempt(sql`
          SELECT ${options.attemptId}, d.id, d.post_id, d.organization_id, d.attempt_worker_id, d.attempts,
            d.attempt_started_at, ${now}::timestamptz, ${attemptOutcome}::text,
            ${outcome._tag === "Published" ? null : sql.json(outcome.error)}::jsonb,
            ${outcome._tag === "Published" ? outcome.platformPostId : null}::text,
            ${outcome._tag === "Published" ? outcome.url : null}::text
          FROM d`)}
      ), e AS (
        INSERT INTO events (organization_id, type, post_id, destination_id, payload)
        SELECT p.organization_id, ${event}, p.id, d.id,
          jsonb_build_object('postId', p.id, 'destinationId', d.id, 'platform', d.platform, 'accountId', d.account_id)
            || ${sql.json(eventDetail)}::jsonb
        FROM d, p WHERE ${event}::text IS NOT NULL
      )
      SELECT (SELECT count(*) FROM d) AS settled, p.status AS post_status, p.organization_id,
        (SELECT account_id FROM d) AS account_id,
        (SELECT array_agg(status) FROM destinations WHERE post_id = ${options.postId} AND id <> ${options.destinationId}) AS others
      FROM p`
    const row = rows[0]
    if (row === undefined || Number(row.settled) === 0) return false
    if (outcome._tag === "Failed" && outcome.accountNeedsReconnect === true && row.account_id !== null) {
      yield* sql`UPDATE accounts SET status = 'needs_reconnect', token_refusal = ${outcome.accountRefusal ?? "reconnect_required"},
        updated_at = ${now} WHERE id = ${row.account_id}`
    }
    yield* settlePostWith(sql, { id: options.postId, status: row.post_status, organization_id: row.organization_id }, [
      ...(row.others ?? []),
      target
    ])
    return true
  }, sql.withTransaction)

  /**
   * Posts with one destination: its outcome decides the post's, so the whole
   * settlement is one statement (one round trip, one commit): the post row
   * locked first (as every writer of a post does, so no deadlock), the
   * destination, its attempt, both events and the post's own status. The
   * statuses come from core (`published` destination, and the aggregate of
   * that alone for the post); the guards in the statement only apply them.
   */
  /**
   * The CTEs `v`, `d`, `a`, `e` that write successes: each destination
   * `publishing → published` (only under its current attempt), its attempt
   * row, its `destination.published` event. `before` adds CTEs between `v`
   * and `d` (ending in a comma); `guard` adds conditions on `d`.
   */
  const publishedWrites = (
    items: ReadonlyArray<PublishedItem>,
    now: Date,
    extra: { readonly before: Statement.Fragment; readonly guard: Statement.Fragment }
  ) => {
    const values = sql.json(items.map((i) => ({
      id: i.destinationId,
      post_id: i.postId,
      attempt_id: i.attemptId,
      platform_post_id: i.outcome.platformPostId,
      url: i.outcome.url,
      parts: i.outcome.parts,
      published_at: i.outcome.publishedAt.toISOString(),
      attempt_outcome: i.outcome.attemptOutcome ?? "published"
    })))
    return sql`v AS (
        SELECT * FROM jsonb_to_recordset(${values}::jsonb)
          AS v (id text, post_id text, attempt_id text, platform_post_id text, url text, parts jsonb, published_at timestamptz, attempt_outcome text)
      ), ${extra.before} d AS (
        UPDATE destinations SET status = 'published', platform_post_id = v.platform_post_id, url = v.url, parts = v.parts,
          published_at = v.published_at, last_error = NULL, next_retry_at = NULL, due_at = NULL,
          lease_owner = NULL, lease_expires_at = NULL, updated_at = ${now}
        FROM v
        WHERE destinations.id = v.id AND destinations.current_attempt_id = v.attempt_id
          AND ${sql.in("destinations.status", destinationFrom("published"))} ${extra.guard}
        RETURNING destinations.id, destinations.post_id, destinations.platform, destinations.account_id,
          destinations.organization_id, destinations.attempts, destinations.attempt_started_at, destinations.attempt_worker_id,
          v.attempt_id, v.platform_post_id, v.url, v.attempt_outcome
      ), a AS (
        ${insertAttempt(sql`
          SELECT d.attempt_id, d.id, d.post_id, d.organization_id, d.attempt_worker_id, d.attempts, d.attempt_started_at,
            ${now}::timestamptz, d.attempt_outcome, NULL::jsonb, d.platform_post_id, d.url
          FROM d`)}
      ), e AS (
        INSERT INTO events (organization_id, type, post_id, destination_id, payload)
        SELECT d.organization_id, 'destination.published', d.post_id, d.id,
          jsonb_build_object('postId', d.post_id, 'destinationId', d.id, 'platform', d.platform, 'accountId', d.account_id,
            'platformPostId', d.platform_post_id, 'url', d.url)
        FROM d
      )`
  }

  const publishedPost = Lifecycle.aggregate(["published"])
  const settleOnlyDestinations = Effect.fn("Leases.settleOnlyDestinations")(function*(
    items: ReadonlyArray<PublishedItem>,
    now: Date
  ) {
    if (items.length === 0) return new Set<string>()
    yield* transitionDestination("publishing", "published")
    yield* transitionPost("publishing", publishedPost)
    const settled = yield* sql<{ id: string }>`
      WITH ${publishedWrites(items, now, {
      // The posts' locks first (every writer of a post takes it first, so no deadlock).
      before: sql`p AS (
        SELECT id FROM posts WHERE id IN (SELECT post_id FROM v) AND status = 'publishing' ORDER BY id FOR UPDATE
      ),`,
      guard: sql`AND destinations.post_id IN (SELECT id FROM p)`
    })},
      u AS (
        UPDATE posts SET status = ${publishedPost}, updated_at = ${now}, published_at = ${now}
        FROM d WHERE posts.id = d.post_id
        RETURNING posts.id, posts.organization_id
      ), pe AS (
        INSERT INTO events (organization_id, type, post_id, payload)
        SELECT u.organization_id, ${"post." + publishedPost}, u.id, jsonb_build_object('postId', u.id, 'status', ${publishedPost}::text)
        FROM u
      )
      SELECT id FROM d`
    return new Set(settled.map((r) => r.id))
  })

  /**
   * Settles many successful calls in one transaction (group commit): the
   * scheduler's hot path. Returns the destination ids it settled; the others
   * were no longer this worker's to settle.
   */
  const settlePublishedBatch = (items: ReadonlyArray<PublishedItem>, now: Date) =>
    Effect.gen(function*() {
      const only = items.filter((i) => i.onlyDestination === true)
      const shared = items.filter((i) => i.onlyDestination !== true)
      const settled = new Set<string>()
      for (const id of yield* settleOnlyDestinations(only, now)) settled.add(id)
      for (const id of yield* settleSharedPosts(shared, now)) settled.add(id)
      return settled as ReadonlySet<string>
    })

  /** Posts with several destinations: the aggregate reads every sibling, after the posts' locks. */
  const settleSharedPosts = Effect.fn("Leases.settleSharedPosts")(function*(
    items: ReadonlyArray<PublishedItem>,
    now: Date
  ) {
    if (items.length === 0) return new Set<string>()
    // Posts locked in id order, so concurrent batches cannot deadlock on each other.
    const postIds = [...new Set(items.map((i) => i.postId))].sort()
    const posts = yield* sql<{ id: string; status: Post.PostStatus; organization_id: string }>`
      SELECT id, status, organization_id FROM posts WHERE ${sql.in("id", postIds)} ORDER BY id FOR UPDATE`
    const settled = yield* sql<{ id: string; post_id: string }>`
      WITH ${publishedWrites(items, now, { before: sql``, guard: sql`` })}
      SELECT id, post_id FROM d`
    if (settled.length === 0) return new Set<string>()
    // A new statement after the locks: it sees every sibling committed before them, and this batch's own rows.
    const touched = [...new Set(settled.map((r) => r.post_id))]
    const statusRows = yield* sql<{ post_id: string; statuses: Array<Post.DestinationStatus> }>`
      SELECT post_id, array_agg(status) AS statuses FROM destinations WHERE ${sql.in("post_id", touched)} GROUP BY post_id`
    const postById = new Map(posts.map((p) => [p.id, p]))
    const changes: Array<{ id: string; organization_id: string; to: Post.PostStatus }> = []
    for (const row of statusRows) {
      const post = postById.get(row.post_id)
      if (post === undefined) continue
      const next = Lifecycle.aggregate(row.statuses)
      if (next === post.status || next === "publishing" || next === "cancelled") continue
      changes.push({ id: post.id, organization_id: post.organization_id, to: yield* transitionPost(post.status, next) })
    }
    if (changes.length > 0) {
      const rows = sql.join(", ", false)(changes.map((c) => sql`(${c.id}::text, ${c.to}::text, ${c.organization_id}::text)`))
      yield* sql`
        WITH v (id, status, organization_id) AS (VALUES ${rows}),
        u AS (
          UPDATE posts SET status = v.status, updated_at = ${now},
            published_at = CASE WHEN v.status IN ('published', 'partially_failed') THEN ${now} ELSE posts.published_at END
          FROM v WHERE posts.id = v.id
        )
        INSERT INTO events (organization_id, type, post_id, payload)
        SELECT v.organization_id, 'post.' || v.status, v.id, jsonb_build_object('postId', v.id, 'status', v.status)
        FROM v WHERE ${sql.in("v.status", settledPostStatuses)}`
    }
    return new Set(settled.map((r) => r.id))
  }, sql.withTransaction)

  const failBeforeCall = Effect.fn("Leases.failBeforeCall")(function*(options: {
    readonly claim: Claim
    readonly workerId: string
    readonly error: Post.DestinationError
  }) {
    const { claim } = options
    const post = yield* lockPost(sql, claim.postId)
    if (post === undefined) return
    const rows = yield* sql<{ status: Post.DestinationStatus }>`
      SELECT status FROM destinations WHERE id = ${claim.id} AND lease_owner = ${options.workerId} FOR UPDATE`
    if (rows[0] === undefined || rows[0].status !== "queued") return
    yield* transitionDestination(rows[0].status, "failed")
    // The post enters publishing first, so that its aggregate may become failed.
    let postStatus = post.status
    if (postStatus !== "publishing") {
      if (!postFrom("publishing").includes(postStatus)) return
      postStatus = yield* transitionPost(postStatus, "publishing")
      yield* sql`UPDATE posts SET status = ${postStatus}, updated_at = now() WHERE id = ${claim.postId}`
    }
    yield* sql`
      UPDATE destinations SET status = 'failed', last_error = ${sql.json(options.error)}, due_at = NULL,
        lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
      WHERE id = ${claim.id}`
    yield* recordEvent(sql, {
      organizationId: post.organization_id,
      type: "destination.failed",
      postId: claim.postId,
      destinationId: claim.id,
      payload: { postId: claim.postId, destinationId: claim.id, platform: claim.platform, accountId: claim.accountId, error: options.error }
    })
    yield* settlePost(sql, { ...post, status: postStatus })
  }, sql.withTransaction)

  /**
   * Gives back marked destinations whose call never started: back to `queued`,
   * due now, their attempts logged `not_sent`. Returns how many went back.
   */
  const unmark = Effect.fn("Leases.unmark")(function*(options: {
    readonly workerId: string
    readonly items: ReadonlyArray<{ readonly destinationId: string; readonly attemptId: string }>
    readonly now: Date
  }) {
    if (options.items.length === 0) return 0
    yield* transitionDestination("publishing", "queued")
    const values = sql.join(", ", false)(options.items.map((i) => sql`(${i.destinationId}::text, ${i.attemptId}::text)`))
    const rows = yield* sql<{ id: string }>`
      WITH v (id, attempt_id) AS (VALUES ${values}),
      d AS (
        UPDATE destinations SET status = 'queued', due_at = ${options.now}, current_attempt_id = NULL,
          lease_owner = NULL, lease_expires_at = NULL, updated_at = ${options.now}
        FROM v
        WHERE destinations.id = v.id AND destinations.current_attempt_id = v.attempt_id
          AND destinations.status = 'publishing' AND destinations.lease_owner = ${options.workerId}
        RETURNING destinations.id, destinations.post_id, destinations.organization_id, destinations.attempts,
          destinations.attempt_started_at, destinations.attempt_worker_id, v.attempt_id
      ), a AS (
        ${insertAttempt(sql`
          SELECT d.attempt_id, d.id, d.post_id, d.organization_id, d.attempt_worker_id, d.attempts, d.attempt_started_at,
            ${options.now}::timestamptz, 'not_sent',
            ${sql.json({ code: "NOT_SENT", message: "the worker shut down before calling the platform", retryable: true })}::jsonb,
            NULL::text, NULL::text
          FROM d`)}
      )
      SELECT id FROM d`
    return rows.length
  })

  return { settle, settlePublishedBatch, failBeforeCall, unmark }
}

/** The settlement operations of `Leases`. */
export type Operations = ReturnType<typeof make>
