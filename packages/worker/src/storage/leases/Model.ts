/**
 * What the scheduler's database operations (`Leases`) take and return: claims,
 * marks, outcomes, rooms, orphans; and the row helpers its statements share.
 */
import { Lru, type Post } from "@omnipost/core"
import type { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { destinationFrom, postFrom } from "../internal/lifecycle.js"
/** A claimed destination. */
export interface Claim {
  readonly id: string
  readonly postId: string
  readonly organizationId: string
  readonly platform: string
  readonly accountId: string
  readonly dueAt: Date
  readonly autoRetries: number
}

/** What a worker needs to call the platform, read in the transaction that marks it publishing. */
export interface Marked {
  readonly attemptId: string
  readonly attemptNumber: number
  readonly content: Post.Content
  readonly platformOverrides: Readonly<Record<string, Post.Override>> | undefined
  readonly destination: Post.DestinationInput
  readonly scheduledAt: Date | undefined
  /** The account's sealed credentials, read in the same statement; undefined when the account is gone. */
  readonly credentials?: { readonly ciphertext: string; readonly keyId: string } | undefined
  /**
   * The post has this one destination only, so its outcome alone decides the
   * post's (a post being published cannot gain destinations).
   */
  readonly onlyDestination?: boolean | undefined
  /**
   * Parts of its thread live from an earlier attempt that failed part way:
   * the call resumes after them (`PublishRequest.postedParts`).
   */
  readonly postedParts?: ReadonlyArray<Post.PublishedPart> | undefined
  /** The post's `updated_at` when this was read: a mark given it returns the post again only if it changed since. */
  readonly postVersion?: Date | undefined
}

/** A destination claimed ahead of (or at) its due time, with what its call will need (see `claimUpcoming`). */
export interface Upcoming {
  readonly claim: Claim
  readonly payload: Omit<Marked, "attemptId" | "attemptNumber">
}

/**
 * How many more destinations this worker may mark now, per account and per
 * platform (see `claimAndMark`). Accounts and platforms not listed get the
 * defaults; a platform's `accountRoom` is the default for its accounts.
 */
export interface MarkRooms {
  readonly accounts: ReadonlyArray<{ readonly accountId: string; readonly room: number }>
  readonly platforms: ReadonlyArray<{ readonly platform: string; readonly room: number; readonly accountRoom: number }>
  readonly defaultPlatformRoom: number
  readonly defaultAccountRoom: number
}

/** What `claimAndMark` takes (see there). */
export interface ClaimAndMarkOptions {
  readonly workerId: string
  readonly now: Date
  readonly leaseMs: number
  readonly limit: number
  readonly platforms: ReadonlyArray<string>
  readonly rooms: MarkRooms
  /** One per destination that may be marked (at least `limit`). */
  readonly attemptIds: ReadonlyArray<string>
}

/** What `claimUpcoming` takes (see there). */
export interface ClaimUpcomingOptions {
  readonly workerId: string
  readonly now: Date
  readonly until: Date
  readonly leaseMs: number
  readonly limit: number
  readonly platforms: ReadonlyArray<string>
  readonly excludeAccounts?: ReadonlyArray<string>
  /** Take at most a fair share among the workers with a heartbeat since then. */
  readonly liveSince?: Date | undefined
}

/** A `publishing` destination whose worker's lease expired: the outcome of its attempt is unknown. */
export interface Orphan extends Marked {
  readonly id: string
  readonly postId: string
  readonly organizationId: string
  readonly platform: string
  readonly accountId: string
  readonly previousOwner: string | null
  readonly sentAt: Date
  readonly autoRetries: number
}

export type Outcome =
  | {
    readonly _tag: "Published"
    readonly platformPostId: string
    readonly url: string
    readonly publishedAt: Date
    readonly parts: ReadonlyArray<{ readonly platformPostId: string; readonly url: string }>
    /** `reconciled_published` when found by `findPublished` after an unknown outcome. */
    readonly attemptOutcome?: "published" | "reconciled_published"
  }
  | {
    readonly _tag: "Retry"
    readonly at: Date
    readonly error: Post.DestinationError
    readonly attemptOutcome?: "retry" | "reconciled_absent"
    /** A thread that failed part way: the live parts, kept for the retry to resume after. */
    readonly parts?: ReadonlyArray<Post.PublishedPart> | undefined
  }
  | {
    readonly _tag: "Failed"
    readonly error: Post.DestinationError
    readonly attemptOutcome: "failed" | "outcome_unknown"
    /** The account needs reconnecting (an auth failure). */
    readonly accountNeedsReconnect?: boolean
    /** What the auth failure says of the token (core's `AccountHealth.refusalOf`), kept on the account. */
    readonly accountRefusal?: "revoked" | "reconnect_required" | undefined
    /** A thread that failed part way: the live parts, kept on the destination (a retry resumes after them). */
    readonly parts?: ReadonlyArray<Post.PublishedPart> | undefined
  }

/** A successful publish, settled together with others in one group commit. */
export interface PublishedItem {
  readonly destinationId: string
  readonly postId: string
  readonly attemptId: string
  /** From `Marked.onlyDestination`: the post's status follows from this outcome alone. */
  readonly onlyDestination?: boolean | undefined
  readonly outcome: Extract<Outcome, { readonly _tag: "Published" }>
}

export interface SchedulerHealth {
  /** Workers with a heartbeat within the window, not stopped. */
  readonly liveWorkers: number
  /** Queued destinations due more than `overdueAfter` ago: work no scheduler is picking up. */
  readonly overdue: number
  readonly oldestOverdueAt?: string | undefined
}

export const pauseScopes = (platform: string, accountId: string) => [platform, `${platform}:${accountId}`] as const

export interface MarkRow {
  readonly attempts: number
  /** The thread's live parts (all of them once published; the first ones after a partial failure). */
  readonly parts: ReadonlyArray<Post.PublishedPart> | null
  readonly platform: string
  readonly account_id: string
  readonly placement: Post.Placement | null
  readonly settings: Record<string, unknown>
  readonly override: Post.Override | null
}

/** A destination joined with its post and account: what a call needs. */
export type PayloadRow = MarkRow & {
  id: string
  post_id: string
  organization_id: string
  auto_retries: number
  content: Post.Content
  platform_overrides: Record<string, Post.Override> | null
  scheduled_at: Date | null
  post_version: Date
  credentials_ciphertext: string | null
  credentials_key_id: string | null
  destination_count: string | number
}

export const postedPartsOf = (row: MarkRow): { readonly postedParts?: ReadonlyArray<Post.PublishedPart> } =>
  // Statements that do not select `parts` leave it undefined.
  row.parts != null && row.parts.length > 0 ? { postedParts: row.parts } : {}

export const destinationInput = (row: MarkRow): Post.DestinationInput => ({
  platform: row.platform,
  accountId: row.account_id,
  ...(row.placement === null ? {} : { placement: row.placement }),
  settings: row.settings ?? {},
  ...(row.override === null ? {} : { override: row.override })
})

/** What a claimed row needs of its post to be published (or commented on). */
export interface ClaimedPost {
  readonly content: Post.Content
  readonly platformOverrides: Record<string, Post.Override> | undefined
  readonly scheduledAt: Date | undefined
}

/**
 * Joins claimed rows with their posts in one query (a batch's rows share
 * posts): `build` makes each row's result; a row whose post is gone (deleted
 * meanwhile) yields nothing.
 */
export const withPosts = <Row extends { readonly post_id: string }, A>(
  sql: PgClient.PgClient,
  rows: ReadonlyArray<Row>,
  build: (row: Row, post: ClaimedPost) => A
) =>
  Effect.gen(function*() {
    if (rows.length === 0) return []
    const posts = yield* sql<{
      id: string
      content: Post.Content
      platform_overrides: Record<string, Post.Override> | null
      scheduled_at: Date | null
    }>`SELECT id, content, platform_overrides, scheduled_at FROM posts WHERE ${sql.in("id", [...new Set(rows.map((r) => r.post_id))])}`
    const postById = new Map(posts.map((p) => [p.id, {
      content: p.content,
      platformOverrides: p.platform_overrides ?? undefined,
      scheduledAt: p.scheduled_at ?? undefined
    }]))
    return rows.flatMap((row) => {
      const post = postById.get(row.post_id)
      return post === undefined ? [] : [build(row, post)]
    })
  })

/**
 * The MD5 of sealed credentials, as PostgreSQL's `md5()` spells it: a mark
 * compares it with the account's current ciphertext and sends the
 * credentials again only when they changed. Not a secret (the ciphertext is
 * not one either); cached, as a batch's destinations mostly share accounts.
 */
const fingerprints = new Lru<string, string>(1_024)
export const credentialsFingerprint = (ciphertext: string): string =>
  fingerprints.getOrSet(ciphertext, () => createHash("md5").update(ciphertext, "utf8").digest("hex"))

export const publishableFrom = destinationFrom("publishing")
/** A post whose destinations may be published: scheduled (the first call moves it on) or already publishing. */
export const publishingPosts: ReadonlyArray<Post.PostStatus> = ["scheduled", "publishing"]
/** Of those, the statuses core moves to `publishing` (scheduled). */
export const postsEnteringPublishing = publishingPosts.filter((s) => postFrom("publishing").includes(s))
