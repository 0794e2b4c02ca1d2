/**
 * Posts and their destinations, as the API sees them.
 *
 * Operations (every one scoped to an organization; a foreign id is `PostNotFound`):
 * - `create`: stores a post (`draft`, or `scheduled` — the default — due at its
 *   schedule or now); the schedule is resolved with core's `Schedule.resolve`
 *   (IANA zones, DST rules) into `scheduled_at` and each destination's `due_at`;
 *   every account must belong to the organization and match the platform;
 * - `get`, `list` (status, platform, date range; cursor pages of at most 100);
 * - `update`: content, destinations, overrides, schedule, draft/scheduled —
 *   only while the post is draft or scheduled;
 * - `publishNow`: due now; `cancel`: the post and its queued destinations,
 *   including ones a worker has claimed but not started (the worker re-checks
 *   the status in the transaction that marks it publishing);
 * - `retry`: failed destinations (all, or those of some platforms) back to
 *   queued, due now, with a fresh retry budget;
 * - `remove`; `attempts`: the append-only attempt log of a post;
 * - `events`: the outbox of outcomes (`post.published`, `post.partially_failed`,
 *   `post.failed`, `destination.published`, `destination.failed`) with
 *   increasing ids, written in the same transaction as the change; read it
 *   after a cursor to deliver webhooks.
 *
 * Every status change goes through core's `Lifecycle` in a transaction; an
 * impossible one is core's `InvalidStatusTransition`. After a commit that makes
 * work due, the workers are woken with a notification on `omnipost_due`.
 */
import { Lifecycle, Post, Schedule } from "@omnipost/core"
import { PgClient } from "@effect/sql-pg"
import { Clock, Context, Effect, Layer } from "effect"
import type { SqlError, Statement } from "effect/sql"
import * as Cursor from "./Cursor.js"
import { Database } from "./Database.js"
import * as Ids from "./Ids.js"
import { destinationFrom, transitionDestination, transitionPost } from "./internal/lifecycle.js"
import { type CommentSource, commentColumns } from "./leases/Comments.js"
import * as Outbox from "./Outbox.js"
import { createPost } from "./internal/createPost.js"
import { listPosts } from "./internal/postList.js"
import { type AttemptRow, attemptsQuery, postQuery, type PostReadRow, readPost, toAttempt } from "./internal/postRead.js"

export { decodePostRead, type PostReadRow } from "./internal/postRead.js"
import { compact, iso } from "./internal/rows.js"
import {
  announced,
  type AttemptRecord,
  type DestinationRow,
  dueChannel,
  type EventPosition,
  InvalidAccounts,
  InvalidSchedule,
  type ListFilter,
  type OutcomeEvent,
  PostNotFound,
  type PostPatch,
  type PostRow,
  resolveSchedule,
  type StoredPost,
  toPost
} from "./StoredPost.js"

// The model lives in `StoredPost`; re-exported here, beside the store that makes it.
export {
  type AttemptRecord,
  dueChannel,
  type EventPosition,
  InvalidAccounts,
  InvalidSchedule,
  type ListFilter,
  type OutcomeEvent,
  PostNotFound,
  type PostPatch,
  resolveSchedule,
  type StoredDestination,
  type StoredPost
} from "./StoredPost.js"

export class PostStore extends Context.Service<PostStore, {
  readonly create: (
    organizationId: string,
    input: Post.PostInput
  ) => Effect.Effect<StoredPost, InvalidAccounts | InvalidSchedule | Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  readonly get: (organizationId: string, postId: string) => Effect.Effect<StoredPost, PostNotFound | SqlError.SqlError>
  readonly list: (
    organizationId: string,
    filter?: ListFilter
  ) => Effect.Effect<
    { readonly items: ReadonlyArray<StoredPost>; readonly nextCursor?: string | undefined; readonly total?: number | undefined },
    Cursor.InvalidCursor | SqlError.SqlError
  >
  readonly update: (
    organizationId: string,
    postId: string,
    patch: PostPatch
  ) => Effect.Effect<
    StoredPost,
    PostNotFound | InvalidAccounts | InvalidSchedule | Lifecycle.InvalidStatusTransition | SqlError.SqlError
  >
  readonly publishNow: (
    organizationId: string,
    postId: string
  ) => Effect.Effect<StoredPost, PostNotFound | Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  readonly cancel: (
    organizationId: string,
    postId: string
  ) => Effect.Effect<StoredPost, PostNotFound | Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  readonly retry: (
    organizationId: string,
    postId: string,
    platforms?: ReadonlyArray<string> | undefined
  ) => Effect.Effect<StoredPost, PostNotFound | Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  readonly remove: (
    organizationId: string,
    postId: string
  ) => Effect.Effect<void, PostNotFound | Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  readonly attempts: (
    organizationId: string,
    postId: string
  ) => Effect.Effect<ReadonlyArray<AttemptRecord>, PostNotFound | SqlError.SqlError>
  /**
   * `getWithAttempts`' statement, for a caller that runs it inside its own
   * (`KeyGate.admitWith`): `organizationId` a value or a fragment naming it.
   * `decodePostRead(row, postId, true)` reads its row.
   */
  readonly getWithAttemptsQuery: (
    organizationId: Statement.Fragment | string,
    postId: string
  ) => Statement.Statement<PostReadRow>
  /** `get` and `attempts` together, the post read once. */
  readonly getWithAttempts: (
    organizationId: string,
    postId: string
  ) => Effect.Effect<{ readonly post: StoredPost; readonly attempts: ReadonlyArray<AttemptRecord> }, PostNotFound | SqlError.SqlError>
  /**
   * Outcome events after `after` (from the start when omitted), in commit-safe
   * order (see `internal/outbox.ts`: an event committed late is never
   * skipped), 1–1000 per call; all organizations when `organizationId` is
   * omitted. Pass `next` back as `after` to read on.
   */
  readonly events: (options: {
    readonly after?: EventPosition | undefined
    readonly limit?: number | undefined
    readonly organizationId?: string | undefined
  }) => Effect.Effect<{ readonly items: ReadonlyArray<OutcomeEvent>; readonly next: EventPosition }, SqlError.SqlError>
}>()("@omnipost/worker/PostStore") {
  static readonly layer = Layer.effect(PostStore)(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    const database = yield* Database

    // A lost notification delays the post until the next poll: say so rather than drop it silently.
    const wake = (dueAt: Date) =>
      sql.afterCommit(
        database.notify(dueChannel, dueAt.toISOString()).pipe(
          Effect.catchCause((cause) => Effect.logWarning("could not notify the schedulers; the next poll finds the post", cause))
        )
      )

    const findPost = (organizationId: string, postId: string, lock: boolean) =>
      sql<PostRow>`SELECT * FROM posts WHERE id = ${postId} AND organization_id = ${organizationId} ${sql.literal(lock ? "FOR UPDATE" : "")}`.pipe(
        Effect.flatMap((rows) =>
          rows.length === 0 ? Effect.fail(new PostNotFound({ postId, message: `no post ${postId}` })) : Effect.succeed(rows[0]!)
        )
      )

    // The post, its destinations (and its attempt log) in one statement: one round trip, one snapshot.
    const get = (organizationId: string, postId: string) => readPost(sql, organizationId, postId, false)

    const invalidAccounts = (accountIds: ReadonlyArray<string>) =>
      new InvalidAccounts({
        accountIds,
        message: `these accounts are not connected to this organization on the destination's platform: ${accountIds.join(", ")}`
      })

    const checkAccounts = Effect.fnUntraced(function*(organizationId: string, destinations: ReadonlyArray<Post.DestinationInput>) {
      const ids = [...new Set(destinations.map((d) => d.accountId))]
      if (ids.length === 0) return
      const rows = yield* sql<{ id: string; platform: string }>`
        SELECT id, platform FROM accounts WHERE organization_id = ${organizationId} AND ${sql.in("id", ids)}`
      const platformOf = new Map(rows.map((r) => [r.id, r.platform]))
      const invalid = [...new Set(destinations.filter((d) => platformOf.get(d.accountId) !== d.platform).map((d) => d.accountId))]
      if (invalid.length > 0) return yield* invalidAccounts(invalid)
    })

    const commentValues = (post: CommentSource, destination: Post.DestinationInput, now: Date) => {
      const { comment, dueAt } = commentColumns(post, destination, now)
      return { comment: comment === undefined ? null : sql.json(comment), comment_due_at: dueAt }
    }

    /** `post`: the content its comments resolve from; `now`: when a comment may be posted at the earliest. */
    const insertDestinations = (
      organizationId: string,
      postId: string,
      destinations: ReadonlyArray<Post.DestinationInput>,
      dueAt: Date | null,
      post: CommentSource,
      now: Date
    ) =>
      destinations.length === 0 ? Effect.succeed([] as ReadonlyArray<DestinationRow>) : sql<DestinationRow & { readonly position: number }>`INSERT INTO destinations ${
        sql.insert(destinations.map((d, position): Record<string, unknown> => ({
          id: Ids.make("dst"),
          post_id: postId,
          organization_id: organizationId,
          position,
          platform: d.platform,
          account_id: d.accountId,
          placement: d.placement ?? null,
          settings: sql.json(d.settings ?? {}),
          override: d.override === undefined ? null : sql.json(d.override),
          status: "queued",
          due_at: dueAt,
          ...commentValues(post, d, now)
        })) as unknown as readonly [Record<string, unknown>, ...Array<Record<string, unknown>>])
      } RETURNING *`.pipe(Effect.map((rows) => [...rows].sort((a, b) => a.position - b.position)))

    /** When a post in `status` with `schedule` is due: drafts never, scheduled posts at the schedule or now. */
    const dueAtFor = (status: "draft" | "scheduled", schedule: Schedule.Schedule | undefined, now: Date) =>
      schedule === undefined
        ? Effect.succeed({ scheduledAt: status === "draft" ? null : now, dueAt: status === "draft" ? null : now })
        : resolveSchedule(schedule).pipe(Effect.map((at) => ({ scheduledAt: at, dueAt: status === "draft" ? null : at })))

    const create = Effect.fn("PostStore.create")(function*(organizationId: string, input: Post.PostInput) {
      const status = input.status ?? "scheduled"
      if (status !== "draft") yield* transitionPost("draft", status)
      const now = new Date(yield* Clock.currentTimeMillis)
      const { dueAt, scheduledAt } = yield* dueAtFor(status, input.schedule, now)
      const postId = input.id ?? Ids.make("post")
      // One statement checks the accounts, inserts, and (PostgreSQL) wakes the schedulers; the answer is its rows.
      const announce = dueAt !== null && announced(dueAt, now.getTime())
      const notifyInStatement = announce && database.kind === "postgres"
      const created = yield* createPost(sql, {
        id: postId,
        organizationId,
        status,
        input,
        scheduledAt,
        dueAt,
        now,
        notify: notifyInStatement ? { channel: dueChannel, payload: dueAt.toISOString() } : undefined
      })
      if (created._tag === "Refused") return yield* invalidAccounts(created.accountIds)
      if (announce && !notifyInStatement && dueAt !== null) yield* wake(dueAt)
      return toPost(created.post, created.destinations)
    })

    const list = Effect.fn("PostStore.list")((organizationId: string, filter: ListFilter = {}) => listPosts(sql, organizationId, filter))

    /** An edit is allowed while the post is draft or scheduled; otherwise core explains why not. */
    const ensureEditable = (status: Post.PostStatus) =>
      status === "draft" || status === "scheduled" ? Effect.void : transitionPost(status, "scheduled").pipe(Effect.asVoid)

    const update = Effect.fn("PostStore.update")(function*(organizationId: string, postId: string, patch: PostPatch) {
      const now = new Date(yield* Clock.currentTimeMillis)
      yield* Effect.gen(function*() {
        const row = yield* findPost(organizationId, postId, true)
        yield* ensureEditable(row.status)
        const status = patch.status ?? (row.status as "draft" | "scheduled")
        if (status !== row.status) yield* transitionPost(row.status, status)
        const schedule = patch.schedule === undefined ? row.schedule ?? undefined : patch.schedule ?? undefined
        const { dueAt, scheduledAt } = yield* dueAtFor(status, schedule, now)
        yield* sql`
          UPDATE posts SET status = ${status},
            content = ${patch.content === undefined ? sql`content` : sql.json(patch.content)},
            platform_overrides = ${
          patch.platformOverrides === undefined
            ? sql`platform_overrides`
            : patch.platformOverrides === null
            ? null
            : sql.json(patch.platformOverrides)
        },
            schedule = ${schedule === undefined ? null : sql.json(schedule)},
            scheduled_at = ${scheduledAt},
            time_zone = ${schedule?._tag === "local" ? schedule.timeZone : null},
            updated_at = now()
          WHERE id = ${postId}`
        const commentSource: CommentSource = {
          content: patch.content ?? row.content,
          platformOverrides: patch.platformOverrides === undefined ? row.platform_overrides ?? undefined : patch.platformOverrides ?? undefined
        }
        if (patch.destinations === undefined && (patch.content !== undefined || patch.platformOverrides !== undefined)) {
          // The content changed: each destination's first comment is resolved again.
          const kept = yield* sql<DestinationRow>`SELECT * FROM destinations WHERE post_id = ${postId}`
          for (const d of kept) {
            const columns = commentValues(commentSource, {
              platform: d.platform,
              accountId: d.account_id,
              ...(d.placement !== null ? { placement: d.placement } : {}),
              settings: d.settings ?? {},
              ...(d.override !== null ? { override: d.override } : {})
            }, now)
            yield* sql`UPDATE destinations SET comment = ${columns.comment}, comment_due_at = ${columns.comment_due_at}
              WHERE id = ${d.id} AND status <> 'published'`
          }
        }
        if (patch.destinations !== undefined) {
          yield* checkAccounts(organizationId, patch.destinations)
          yield* sql`DELETE FROM destinations WHERE post_id = ${postId}`
          yield* insertDestinations(organizationId, postId, patch.destinations, dueAt, commentSource, now)
        } else {
          // A worker's claim on a queued destination is given back: it was for the old due time and content.
          yield* sql`UPDATE destinations SET due_at = ${dueAt}, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
            WHERE post_id = ${postId} AND status = 'queued'`
        }
        if (dueAt !== null) yield* wake(dueAt)
      }).pipe(sql.withTransaction)
      return yield* get(organizationId, postId)
    })

    const publishNow = Effect.fn("PostStore.publishNow")(function*(organizationId: string, postId: string) {
      const now = new Date(yield* Clock.currentTimeMillis)
      yield* Effect.gen(function*() {
        const row = yield* findPost(organizationId, postId, true)
        const status = yield* transitionPost(row.status, "scheduled")
        yield* sql`UPDATE posts SET status = ${status}, scheduled_at = ${now}, updated_at = now() WHERE id = ${postId}`
        yield* sql`
          UPDATE destinations SET due_at = ${now}, auto_retries = 0, updated_at = now()
          WHERE post_id = ${postId} AND status = 'queued'`
        yield* wake(now)
      }).pipe(sql.withTransaction)
      return yield* get(organizationId, postId)
    })

    const cancel = Effect.fn("PostStore.cancel")(function*(organizationId: string, postId: string) {
      yield* Effect.gen(function*() {
        const row = yield* findPost(organizationId, postId, true)
        const status = yield* transitionPost(row.status, "cancelled")
        const destinations = yield* sql<{ id: string; status: Post.DestinationStatus }>`
          SELECT id, status FROM destinations WHERE post_id = ${postId} FOR UPDATE`
        for (const d of destinations) yield* transitionDestination(d.status, "cancelled")
        // Claimed-but-not-started destinations are still `queued`: cancelling them here is what
        // stops the worker, which re-checks the status before it calls the platform.
        yield* sql`
          UPDATE destinations SET status = 'cancelled', due_at = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
          WHERE post_id = ${postId} AND ${sql.in("status", destinationFrom("cancelled"))}`
        yield* sql`UPDATE posts SET status = ${status}, updated_at = now() WHERE id = ${postId}`
      }).pipe(sql.withTransaction)
      return yield* get(organizationId, postId)
    })

    const retry = Effect.fn("PostStore.retry")(function*(
      organizationId: string,
      postId: string,
      platforms?: ReadonlyArray<string> | undefined
    ) {
      const now = new Date(yield* Clock.currentTimeMillis)
      yield* Effect.gen(function*() {
        const row = yield* findPost(organizationId, postId, true)
        const destinations = yield* sql<{ id: string; platform: string; status: Post.DestinationStatus }>`
          SELECT id, platform, status FROM destinations WHERE post_id = ${postId} ORDER BY position FOR UPDATE`
        if (!Lifecycle.canRetry(row.status, destinations.map((d) => d.status))) {
          yield* transitionPost(row.status, "publishing")
          return yield* new Lifecycle.InvalidStatusTransition({
            entity: "post",
            from: row.status,
            to: "publishing",
            message: `post ${postId} has no failed destination to retry`
          })
        }
        const chosen = destinations.filter((d) =>
          d.status === "failed" && (platforms === undefined || platforms.length === 0 || platforms.includes(d.platform))
        )
        if (chosen.length === 0) {
          return yield* new Lifecycle.InvalidStatusTransition({
            entity: "post",
            from: row.status,
            to: "publishing",
            message: `post ${postId} has no failed destination on ${platforms!.join(", ")}`
          })
        }
        const status = yield* transitionPost(row.status, "publishing")
        for (const d of chosen) yield* transitionDestination(d.status, "queued")
        yield* sql`
          UPDATE destinations SET status = 'queued', due_at = ${now}, next_retry_at = NULL, auto_retries = 0,
            lease_owner = NULL, lease_expires_at = NULL, current_attempt_id = NULL, last_error = NULL, updated_at = now()
          WHERE ${sql.in("id", chosen.map((d) => d.id))} AND ${sql.in("status", destinationFrom("queued"))}`
        yield* sql`UPDATE posts SET status = ${status}, updated_at = now() WHERE id = ${postId}`
        yield* wake(now)
      }).pipe(sql.withTransaction)
      return yield* get(organizationId, postId)
    })

    const remove = Effect.fn("PostStore.remove")(function*(organizationId: string, postId: string) {
      yield* Effect.gen(function*() {
        const row = yield* findPost(organizationId, postId, true)
        if (row.status === "publishing") {
          return yield* new Lifecycle.InvalidStatusTransition({
            entity: "post",
            from: row.status,
            to: "deleted",
            message: "the post is being published; wait for its outcome, then delete it"
          })
        }
        // The hosted APIs refuse too: what was published lives on the platforms, and this record is its only trace.
        const live = yield* sql<{ n: number }>`
          SELECT count(*)::int AS n FROM destinations WHERE post_id = ${postId} AND status = 'published'`
        if (row.status === "published" || (live[0]?.n ?? 0) > 0) {
          return yield* new Lifecycle.InvalidStatusTransition({
            entity: "post",
            from: row.status,
            to: "deleted",
            message: "the post is published on at least one platform; Omnipost does not delete posts from platforms, " +
              "and keeps its record (ids, URLs, attempts)"
          })
        }
        yield* sql`DELETE FROM posts WHERE id = ${postId}`
      }).pipe(sql.withTransaction)
    })

    /** The attempt log of a post known to exist. */
    const attemptsOf = (organizationId: string, postId: string) =>
      sql<AttemptRow>`${attemptsQuery(sql, postId, organizationId)} ORDER BY started_at, number`.pipe(
        Effect.map((rows) => rows.map(toAttempt))
      )

    const attempts = Effect.fn("PostStore.attempts")(function*(organizationId: string, postId: string) {
      yield* findPost(organizationId, postId, false)
      return yield* attemptsOf(organizationId, postId)
    })

    const getWithAttempts = (organizationId: string, postId: string) =>
      readPost(sql, organizationId, postId, true).pipe(Effect.withSpan("PostStore.getWithAttempts"))

    const events = Effect.fn("PostStore.events")(function*(options: {
      readonly after?: EventPosition | undefined
      readonly limit?: number | undefined
      readonly organizationId?: string | undefined
    }) {
      const after = options.after ?? Outbox.origin
      const limit = Math.min(Math.max(Math.trunc(options.limit ?? 100), 1), 1000)
      const rows = yield* Outbox.readEvents(sql, { after, limit, organizationId: options.organizationId })
      const last = rows[rows.length - 1]
      return {
        items: rows.map((r): OutcomeEvent =>
          compact({
            id: Number(r.id),
            organizationId: r.organization_id,
            type: r.type,
            postId: r.post_id,
            destinationId: r.destination_id ?? undefined,
            payload: r.payload as Record<string, unknown>,
            createdAt: iso(r.created_at)
          })
        ),
        next: last === undefined ? after : Outbox.positionOf(last)
      }
    })

    return {
      create,
      get: (organizationId, postId) => get(organizationId, postId).pipe(Effect.withSpan("PostStore.get")),
      list,
      update,
      publishNow,
      cancel,
      retry,
      remove,
      attempts,
      getWithAttempts,
      getWithAttemptsQuery: (organizationId, postId) => postQuery(sql, organizationId, postId, true),
      events
    }
  }))
}
