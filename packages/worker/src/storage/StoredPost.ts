/**
 * A post as stored and shown (`StoredPost`, its destinations, its attempts,
 * outcome events), the store's errors, and the conversion from rows.
 */
import { Post, Schedule } from "@omnipost/core"
import { Effect, Schema } from "effect"
import { shownComment, type StoredComment } from "./leases/Comments.js"
import * as Outbox from "./Outbox.js"
import { compact, iso, isoOrUndefined } from "./internal/rows.js"

export class PostNotFound extends Schema.TaggedError<PostNotFound>()("PostNotFound", {
  postId: Schema.String,
  message: Schema.String
}) {}

/** Destinations naming accounts that are not the organization's, or not on that platform. */
export class InvalidAccounts extends Schema.TaggedError<InvalidAccounts>()("InvalidAccounts", {
  accountIds: Schema.Array(Schema.String),
  message: Schema.String
}) {}

export class InvalidSchedule extends Schema.TaggedError<InvalidSchedule>()("InvalidSchedule", {
  reason: Schema.Literals(["InvalidInstant", "UnknownTimeZone", "NonexistentLocalTime"]),
  message: Schema.String
}) {}

/** The channel workers listen on; the payload is the ISO instant the new work is due. */
export const dueChannel = "omnipost_due"

/** The longest a scheduler sleeps between looks at what falls due (its `pollMs` is at most this). */
export const longestPollMs = 86_400_000

/**
 * Work due further ahead than this is not announced on `dueChannel`: every
 * scheduler looks at what falls due at least every `longestPollMs`, so it
 * finds such work well before it is due (the minute covers claiming ahead and
 * clocks that differ a little). Announcing it cost a `NOTIFY`, which
 * PostgreSQL serializes at commit across all sessions, for nothing: a post
 * scheduled days ahead is stored without waking anyone.
 */
export const announceWithinMs = longestPollMs + 60_000

/** Whether work due at `dueAt` is announced to the schedulers when stored at `now` (ms). */
export const announced = (dueAt: Date, now: number) => dueAt.getTime() - now <= announceWithinMs

export interface StoredDestination {
  readonly id: string
  readonly platform: string
  readonly accountId: string
  readonly placement?: Post.Placement | undefined
  readonly settings: Readonly<Record<string, unknown>>
  readonly override?: Post.Override | undefined
  readonly status: Post.DestinationStatus
  readonly attempts: number
  readonly dueAt?: string | undefined
  readonly nextRetryAt?: string | undefined
  readonly platformPostId?: string | undefined
  readonly url?: string | undefined
  /** The thread's live parts: all once published, the first ones while a partly posted thread waits to resume. */
  readonly parts?: ReadonlyArray<Post.PublishedPart> | undefined
  readonly publishedAt?: string | undefined
  readonly lastError?: Post.DestinationError | undefined
  /** The first comment's result, when the destination has one. */
  readonly comment?: Post.CommentResult | undefined
}

export interface StoredPost {
  readonly id: string
  readonly organizationId: string
  readonly status: Post.PostStatus
  readonly content: Post.Content
  readonly platformOverrides?: Readonly<Record<string, Post.Override>> | undefined
  readonly schedule?: Schedule.Schedule | undefined
  readonly scheduledAt?: string | undefined
  readonly timeZone?: string | undefined
  readonly createdAt: string
  readonly updatedAt: string
  readonly publishedAt?: string | undefined
  readonly destinations: ReadonlyArray<StoredDestination>
}

export interface AttemptRecord {
  readonly id: string
  readonly destinationId: string
  readonly postId: string
  readonly workerId: string
  readonly number: number
  readonly startedAt: string
  readonly finishedAt?: string | undefined
  readonly outcome?: string | undefined
  readonly error?: Post.DestinationError | undefined
  readonly platformPostId?: string | undefined
  readonly url?: string | undefined
}

/** Where a reader of `events` stands. */
export type EventPosition = Outbox.EventPosition

export interface OutcomeEvent {
  readonly id: number
  readonly organizationId: string
  readonly type: string
  readonly postId: string
  readonly destinationId?: string | undefined
  readonly payload: Record<string, unknown>
  readonly createdAt: string
}

export interface ListFilter {
  readonly status?: Post.PostStatus | undefined
  readonly platform?: string | undefined
  /** ISO instants bounding the scheduled time (or the creation time of unscheduled posts). */
  readonly from?: string | undefined
  readonly to?: string | undefined
  /** 1–100, default 20. */
  readonly limit?: number | undefined
  readonly cursor?: string | undefined
  /** Skip this many posts (not with `cursor`); the page then carries `total`, the posts the filter selects. */
  readonly offset?: number | undefined
}

export interface PostPatch {
  readonly content?: Post.Content | undefined
  readonly destinations?: ReadonlyArray<Post.DestinationInput> | undefined
  readonly platformOverrides?: Readonly<Record<string, Post.Override>> | null | undefined
  /** `null` clears the schedule (due now when scheduled). */
  readonly schedule?: Schedule.Schedule | null | undefined
  readonly status?: "draft" | "scheduled" | undefined
}

export interface PostRow {
  readonly id: string
  readonly organization_id: string
  readonly status: Post.PostStatus
  readonly content: Post.Content
  readonly platform_overrides: Record<string, Post.Override> | null
  readonly schedule: Schedule.Schedule | null
  readonly scheduled_at: Date | null
  readonly time_zone: string | null
  readonly created_at: Date
  readonly updated_at: Date
  readonly published_at: Date | null
}

export interface DestinationRow {
  readonly id: string
  readonly post_id: string
  readonly platform: string
  readonly account_id: string
  readonly placement: Post.Placement | null
  readonly settings: Record<string, unknown>
  readonly override: Post.Override | null
  readonly status: Post.DestinationStatus
  readonly attempts: number
  readonly due_at: Date | null
  readonly next_retry_at: Date | null
  readonly platform_post_id: string | null
  readonly url: string | null
  readonly parts: Array<Post.PublishedPart> | null
  readonly published_at: Date | null
  readonly last_error: Post.DestinationError | null
  readonly comment: StoredComment | null
}

export const toDestination = (row: DestinationRow): StoredDestination =>
  compact({
    id: row.id,
    platform: row.platform,
    accountId: row.account_id,
    placement: row.placement ?? undefined,
    settings: row.settings ?? {},
    override: row.override ?? undefined,
    status: row.status,
    attempts: row.attempts,
    dueAt: isoOrUndefined(row.due_at),
    nextRetryAt: isoOrUndefined(row.next_retry_at),
    platformPostId: row.platform_post_id ?? undefined,
    url: row.url ?? undefined,
    parts: row.parts ?? undefined,
    publishedAt: isoOrUndefined(row.published_at),
    lastError: row.last_error ?? undefined,
    comment: shownComment(row.comment)
  })

export const toPost = (row: PostRow, destinations: ReadonlyArray<DestinationRow>): StoredPost =>
  compact({
    id: row.id,
    organizationId: row.organization_id,
    status: row.status,
    content: row.content,
    platformOverrides: row.platform_overrides ?? undefined,
    schedule: row.schedule ?? undefined,
    scheduledAt: isoOrUndefined(row.scheduled_at),
    timeZone: row.time_zone ?? undefined,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
    publishedAt: isoOrUndefined(row.published_at),
    destinations: destinations.map(toDestination)
  })

/** The instant a schedule fires at, as a typed error when it has none. */
export const resolveSchedule = (schedule: Schedule.Schedule): Effect.Effect<Date, InvalidSchedule> => {
  const result = Schedule.resolve(schedule)
  return result._tag === "Success"
    ? Effect.succeed(new Date(result.success.epochMilliseconds))
    : Effect.fail(new InvalidSchedule({ reason: result.failure._tag, message: result.failure.message }))
}
