/**
 * The scheduler's database operations: claims, leases, the publish-once mark,
 * outcomes, rate-limit pauses and heartbeats. Every instant comes from the
 * caller (effect's `Clock`), so tests drive time with `TestClock` and every
 * worker on one machine agrees.
 *
 * Operations:
 * - `claim`: up to `limit` due, unpaused, unleased `queued` destinations, with
 *   `FOR UPDATE SKIP LOCKED` so concurrent workers never claim the same row; a
 *   claim only sets the lease (the destination stays `queued`, so a cancel
 *   still stops it);
 * - `markPublishing`: the publish-once mark, committed before the platform is
 *   called: `queued → publishing` under a new attempt id, the attempt row
 *   appended, the post moved to `publishing`; `undefined` when the destination
 *   was cancelled, edited away or taken by another worker meanwhile;
 * - `settle`: writes an outcome (published, retry at an instant, failed) to
 *   the destination and its attempt, re-aggregates the post, records events;
 * - `failBeforeCall`: `queued → failed` when no call can be made (no publisher,
 *   unreadable credentials, invalid settings);
 * - `renew` / `release`: extend or give back this worker's leases;
 * - `unmark`: `publishing → queued` for marked destinations whose call was
 *   never made (the worker is shutting down), the attempt logged `not_sent`;
 * - `expiredPublishing`: destinations left `publishing` by a worker whose
 *   lease expired (crashed mid-call), taken over by this worker for
 *   reconciliation;
 * - `pause` / rate-limit scopes: `<platform>` or `<platform>:<accountId>`;
 * - `nextWake`: the earliest due time of unclaimed work that is not paused
 *   (in the past when such work is due now), and the next instant a lease
 *   expires or a pause ends;
 * - `heartbeat`, `health`: the `workers` table for `/readyz`.
 */
import { Lifecycle, type Post } from "@omnipost/core"
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer } from "effect"
import type { SqlError, Statement } from "effect/sql"
import { createHash } from "node:crypto"
import { hostname } from "node:os"
import { destinationFrom, postFrom, settledPostStatuses, transitionDestination, transitionPost } from "./internal/lifecycle.js"
import { lockPost, recordEvent, settlePost, settlePostWith } from "./internal/settle.js"

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

interface MarkRow {
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
type PayloadRow = MarkRow & {
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

const postedPartsOf = (row: MarkRow): { readonly postedParts?: ReadonlyArray<Post.PublishedPart> } =>
  // Statements that do not select `parts` leave it undefined.
  row.parts != null && row.parts.length > 0 ? { postedParts: row.parts } : {}

const destinationInput = (row: MarkRow): Post.DestinationInput => ({
  platform: row.platform,
  accountId: row.account_id,
  ...(row.placement === null ? {} : { placement: row.placement }),
  settings: row.settings ?? {},
  ...(row.override === null ? {} : { override: row.override })
})

/**
 * The MD5 of sealed credentials, as PostgreSQL's `md5()` spells it: a mark
 * compares it with the account's current ciphertext and sends the
 * credentials again only when they changed. Not a secret (the ciphertext is
 * not one either); cached, as a batch's destinations mostly share accounts.
 */
const fingerprints = new Map<string, string>()
const credentialsFingerprint = (ciphertext: string): string => {
  let fingerprint = fingerprints.get(ciphertext)
  if (fingerprint === undefined) {
    if (fingerprints.size >= 1_024) fingerprints.delete(fingerprints.keys().next().value!)
    fingerprint = createHash("md5").update(ciphertext, "utf8").digest("hex")
    fingerprints.set(ciphertext, fingerprint)
  }
  return fingerprint
}

const publishableFrom = destinationFrom("publishing")
/** A post whose destinations may be published: scheduled (the first call moves it on) or already publishing. */
const publishingPosts: ReadonlyArray<Post.PostStatus> = ["scheduled", "publishing"]
/** Of those, the statuses core moves to `publishing` (scheduled). */
const postsEnteringPublishing = publishingPosts.filter((s) => postFrom("publishing").includes(s))

export class Leases extends Context.Service<Leases, {
  readonly claim: (options: {
    readonly workerId: string
    readonly now: Date
    readonly leaseMs: number
    readonly limit: number
    readonly excludePlatforms?: ReadonlyArray<string>
    readonly excludeAccounts?: ReadonlyArray<string>
  }) => Effect.Effect<ReadonlyArray<Claim>, SqlError.SqlError>
  readonly markPublishing: (options: {
    readonly claim: Claim
    readonly workerId: string
    readonly attemptId: string
    readonly now: Date
    readonly leaseMs: number
  }) => Effect.Effect<Marked | undefined, Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  /**
   * `claim` and `markPublishing` in one statement, for destinations that can
   * be called at once: locks up to `limit` due destinations of the given
   * platforms (`FOR UPDATE SKIP LOCKED`), keeps those that fit the rooms, and
   * marks those publishing under this worker's lease, in due order. The rest
   * are left untouched (not even leased), for the next round or another worker.
   */
  readonly claimAndMark: (
    options: ClaimAndMarkOptions
  ) => Effect.Effect<ReadonlyArray<{ readonly claim: Claim; readonly marked: Marked }>, SqlError.SqlError>
  /**
   * Claims due destinations and those due by `until` (the lease only: they stay
   * `queued` and cancellable), with what their calls will need, in due order.
   * With `liveSince`, at most a fair share: what is due by `until`, divided by
   * the workers with a heartbeat since then, less what this worker holds of
   * it already; what is left over is claimed when due, by whoever has room.
   */
  readonly claimUpcoming: (options: ClaimUpcomingOptions) => Effect.Effect<ReadonlyArray<Upcoming>, SqlError.SqlError>
  /**
   * `markPublishing` for several claims at once; the result holds the ones
   * marked. A claim read ahead (`payload`) gets the post's columns again only
   * if the post changed since; a claim no longer due (an edit moved it) or
   * paused meanwhile is not marked.
   */
  readonly markPublishingBatch: (options: {
    readonly items: ReadonlyArray<{ readonly claim: Claim; readonly attemptId: string; readonly payload?: Upcoming["payload"] | undefined }>
    readonly workerId: string
    readonly now: Date
    readonly leaseMs: number
  }) => Effect.Effect<ReadonlyMap<string, Marked>, SqlError.SqlError>
  readonly settle: (options: {
    readonly destinationId: string
    readonly postId: string
    readonly attemptId: string
    readonly now: Date
    readonly outcome: Outcome
  }) => Effect.Effect<boolean, Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  /**
   * Settles many successful calls in one transaction (group commit): the
   * scheduler's hot path. Returns the destination ids it settled; the others
   * were no longer this worker's to settle.
   */
  readonly settlePublishedBatch: (
    items: ReadonlyArray<PublishedItem>,
    now: Date
  ) => Effect.Effect<ReadonlySet<string>, Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  readonly failBeforeCall: (options: {
    readonly claim: Claim
    readonly workerId: string
    readonly error: Post.DestinationError
  }) => Effect.Effect<void, Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  readonly renew: (workerId: string, ids: ReadonlyArray<string>, until: Date) => Effect.Effect<void, SqlError.SqlError>
  readonly release: (workerId: string, ids?: ReadonlyArray<string>) => Effect.Effect<number, SqlError.SqlError>
  /**
   * Gives back marked destinations whose call never started: back to `queued`,
   * due now, their attempts logged `not_sent`. Returns how many went back.
   */
  readonly unmark: (options: {
    readonly workerId: string
    readonly items: ReadonlyArray<{ readonly destinationId: string; readonly attemptId: string }>
    readonly now: Date
  }) => Effect.Effect<number, Lifecycle.InvalidStatusTransition | SqlError.SqlError>
  readonly expiredPublishing: (options: {
    readonly workerId: string
    readonly now: Date
    readonly leaseMs: number
    readonly limit: number
  }) => Effect.Effect<ReadonlyArray<Orphan>, SqlError.SqlError>
  readonly pause: (scope: string, until: Date, reason: string) => Effect.Effect<void, SqlError.SqlError>
  /**
   * When to look again: `due`, the earliest due time of work no one has
   * claimed and no pause holds (in the past when some is due now);
   * `other`, the earliest instant a claim or a call's lease expires or a pause ends.
   */
  readonly nextWake: (now: Date) => Effect.Effect<{ readonly due: Date | undefined; readonly other: Date | undefined }, SqlError.SqlError>
  readonly heartbeat: (workerId: string, now: Date, stopped?: boolean) => Effect.Effect<void, SqlError.SqlError>
}>()("@omnipost/worker/Leases") {
  static readonly layer = Layer.effect(Leases)(Effect.gen(function*() {
    const sql = yield* PgClient.PgClient

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

    const claim = Effect.fn("Leases.claim")(function*(options: {
      readonly workerId: string
      readonly now: Date
      readonly leaseMs: number
      readonly limit: number
      readonly excludePlatforms?: ReadonlyArray<string>
      readonly excludeAccounts?: ReadonlyArray<string>
    }) {
      if (options.limit <= 0) return []
      const until = new Date(options.now.getTime() + options.leaseMs)
      const excluded = [
        ...(options.excludePlatforms?.length ? [sql`NOT ${sql.in("platform", options.excludePlatforms)}`] : []),
        ...(options.excludeAccounts?.length ? [sql`NOT ${sql.in("account_id", options.excludeAccounts)}`] : [])
      ]
      const rows = yield* sql<{
        id: string
        post_id: string
        organization_id: string
        platform: string
        account_id: string
        due_at: Date
        auto_retries: number
      }>`
        UPDATE destinations d SET lease_owner = ${options.workerId}, lease_expires_at = ${until}
        FROM (
          SELECT id FROM destinations
          WHERE status = 'queued' AND due_at <= ${options.now}
            AND (lease_expires_at IS NULL OR lease_expires_at < ${options.now})
            AND NOT EXISTS (
              SELECT 1 FROM rate_limit_pauses p
              WHERE p.paused_until > ${options.now}
                AND (p.scope = destinations.platform OR p.scope = destinations.platform || ':' || destinations.account_id
                  OR p.scope = 'org:' || destinations.organization_id))
            ${excluded.length === 0 ? sql`` : sql`AND ${sql.and(excluded)}`}
          ORDER BY due_at
          LIMIT ${options.limit}
          FOR UPDATE SKIP LOCKED
        ) c
        WHERE d.id = c.id
        RETURNING d.id, d.post_id, d.organization_id, d.platform, d.account_id, d.due_at, d.auto_retries`
      return rows.map((r): Claim => ({
        id: r.id,
        postId: r.post_id,
        organizationId: r.organization_id,
        platform: r.platform,
        accountId: r.account_id,
        dueAt: r.due_at,
        autoRetries: r.auto_retries
      }))
    })

    /**
     * The publish-once mark, one statement (one round trip, atomic) for many
     * destinations, given a CTE `v (id, post_id, attempt_id)` of candidates:
     * lock their posts (only a scheduled or publishing post may publish), move
     * each destination `queued → publishing` under this worker's lease and its
     * attempt id, append the attempts, move the posts `scheduled → publishing`,
     * and read what the calls need, the sealed credentials included. A
     * candidate missing from the result was cancelled, set back to draft,
     * deleted or taken over meanwhile: no call. `leased` says whether the
     * candidates must already be under this worker's lease (a claim) or are
     * locked by the same statement (`claimAndMark`).
     */
    type MarkRowFull = PayloadRow & {
      due_at: Date | null
      attempt_id: string
      /**
       * False when the candidate's `post_version` is still the post's: then
       * only `id`, `attempt_id`, `attempts`, `auto_retries` and the credentials
       * (null when unchanged) come back, the rest is null (see the statement).
       */
      fresh: boolean
      /** The account was disconnected: no credentials. */
      account_gone: boolean
    }
    const markStatement = (candidates: Statement.Fragment, options: {
      readonly workerId: string
      readonly now: Date
      readonly leaseMs: number
      readonly leased: boolean
    }) => {
      const until = new Date(options.now.getTime() + options.leaseMs)
      return sql<MarkRowFull>`
        WITH ${candidates},
        p AS (
          SELECT id, content, platform_overrides, scheduled_at, updated_at FROM posts
          WHERE id IN (SELECT post_id FROM v) AND ${sql.in("status", publishingPosts)}
          ORDER BY id
          FOR UPDATE
        ), d AS (
          UPDATE destinations SET status = 'publishing', attempts = destinations.attempts + 1, current_attempt_id = v.attempt_id,
            attempt_started_at = ${options.now}, attempt_worker_id = ${options.workerId},
            lease_owner = ${options.workerId}, lease_expires_at = ${until}, updated_at = ${options.now}
          FROM v
          WHERE destinations.id = v.id
            ${
  options.leased
    // Claimed earlier: still this worker's, due by now (an edit may have moved it), and not paused since.
    ? sql`AND destinations.lease_owner = ${options.workerId} AND destinations.due_at <= ${options.now}
            AND NOT EXISTS (
              SELECT 1 FROM rate_limit_pauses rp
              WHERE rp.paused_until > ${options.now}
                AND (rp.scope = destinations.platform OR rp.scope = destinations.platform || ':' || destinations.account_id
                  OR rp.scope = 'org:' || destinations.organization_id))`
    : sql``
}
            AND ${sql.in("destinations.status", publishableFrom)}
            AND v.post_id IN (SELECT id FROM p)
          RETURNING destinations.id, destinations.post_id, destinations.organization_id, destinations.attempts,
            destinations.platform, destinations.account_id, destinations.placement, destinations.settings,
            destinations.override, destinations.due_at, destinations.auto_retries, destinations.parts, v.attempt_id,
            v.post_version, v.credentials_md5
        ), u AS (
          UPDATE posts SET status = 'publishing', updated_at = ${options.now}
          WHERE posts.id IN (SELECT post_id FROM d) AND ${sql.in("posts.status", postsEnteringPublishing)}
        )
        SELECT d.id, d.attempt_id, d.attempts, d.auto_retries, d.parts, f.fresh,
          -- Read ahead and unchanged since (the post's version is the one read then): only what may have
          -- changed comes back, which keeps the due instant's statement lean. Otherwise, everything.
          CASE WHEN f.fresh THEN d.post_id END AS post_id,
          CASE WHEN f.fresh THEN d.organization_id END AS organization_id,
          CASE WHEN f.fresh THEN d.due_at END AS due_at,
          CASE WHEN f.fresh THEN d.platform END AS platform,
          CASE WHEN f.fresh THEN d.account_id END AS account_id,
          CASE WHEN f.fresh THEN d.placement END AS placement,
          CASE WHEN f.fresh THEN d.settings END AS settings,
          CASE WHEN f.fresh THEN d.override END AS override,
          CASE WHEN f.fresh THEN p.updated_at END AS post_version,
          CASE WHEN f.fresh THEN p.content END AS content,
          CASE WHEN f.fresh THEN p.platform_overrides END AS platform_overrides,
          CASE WHEN f.fresh THEN p.scheduled_at END AS scheduled_at,
          CASE WHEN f.fresh THEN (SELECT count(*) FROM destinations s WHERE s.post_id = d.post_id) END AS destination_count,
          -- The credentials, always as they are now (another worker may have refreshed them): sent only
          -- when they differ from those read ahead.
          CASE WHEN f.fresh OR f.credentials_changed THEN acc.credentials_ciphertext END AS credentials_ciphertext,
          CASE WHEN f.fresh OR f.credentials_changed THEN acc.credentials_key_id END AS credentials_key_id,
          acc.id IS NULL AS account_gone
        FROM d JOIN p ON p.id = d.post_id LEFT JOIN accounts acc ON acc.id = d.account_id
          CROSS JOIN LATERAL (SELECT d.post_version IS NULL OR d.post_version <> p.updated_at AS fresh,
            d.credentials_md5 IS DISTINCT FROM md5(acc.credentials_ciphertext) AS credentials_changed) f`
    }

    /** What a call needs, from a row that joined the destination, its post and its account. */
    const payloadFrom = (row: PayloadRow): Upcoming["payload"] => ({
      content: row.content,
      platformOverrides: row.platform_overrides ?? undefined,
      destination: destinationInput(row),
      scheduledAt: row.scheduled_at ?? undefined,
      credentials: row.credentials_ciphertext === null || row.credentials_key_id === null
        ? undefined
        : { ciphertext: row.credentials_ciphertext, keyId: row.credentials_key_id },
      onlyDestination: Number(row.destination_count) === 1,
      postVersion: row.post_version
    })
    const claimFrom = (row: PayloadRow & { due_at: Date | null }, now: Date): Claim => ({
      id: row.id,
      postId: row.post_id,
      organizationId: row.organization_id,
      platform: row.platform,
      accountId: row.account_id,
      dueAt: row.due_at ?? now,
      autoRetries: row.auto_retries
    })
    const markedFrom = (row: MarkRowFull): Marked => ({
      attemptId: row.attempt_id,
      attemptNumber: row.attempts,
      ...payloadFrom(row),
      ...postedPartsOf(row)
    })

    const markPublishingBatch = Effect.fn("Leases.markPublishingBatch")(function*(options: {
      readonly items: ReadonlyArray<{ readonly claim: Claim; readonly attemptId: string; readonly payload?: Upcoming["payload"] | undefined }>
      readonly workerId: string
      readonly now: Date
      readonly leaseMs: number
    }) {
      const marked = new Map<string, Marked>()
      if (options.items.length === 0) return marked
      // One JSON parameter, so the statement's text (and its prepared plan) is the same for any batch size.
      const candidates = sql`v AS (
        SELECT * FROM jsonb_to_recordset(${
        sql.json(options.items.map((i) => ({
          id: i.claim.id,
          post_id: i.claim.postId,
          attempt_id: i.attemptId,
          post_version: i.payload?.postVersion?.toISOString() ?? null,
          credentials_md5: i.payload?.credentials === undefined ? null : credentialsFingerprint(i.payload.credentials.ciphertext)
        })))
      }::jsonb) AS v (id text, post_id text, attempt_id text, post_version timestamptz, credentials_md5 text))`
      const rows = yield* markStatement(candidates, { ...options, leased: true })
      const payloads = new Map(options.items.map((i) => [i.claim.id, i.payload]))
      for (const row of rows) {
        const payload = payloads.get(row.id)
        if (row.fresh || payload === undefined) {
          marked.set(row.id, markedFrom(row))
          continue
        }
        // Unchanged since it was read ahead: what was read then; the credentials as they are now.
        const credentials = row.account_gone
          ? undefined
          : row.credentials_ciphertext !== null && row.credentials_key_id !== null
          ? { ciphertext: row.credentials_ciphertext, keyId: row.credentials_key_id }
          : payload.credentials
        marked.set(row.id, { ...payload, attemptId: row.attempt_id, attemptNumber: row.attempts, credentials, ...postedPartsOf(row) })
      }
      return marked
    })

    /**
     * Claims due destinations, and those due by `until`, for a worker to call
     * on time: the lease only (they stay `queued`, so a cancel or an edit still
     * stops them), with what the call will need, read now so that little is
     * left for the due instant (see `markPublishingBatch`'s post versions).
     */
    const claimUpcoming = Effect.fn("Leases.claimUpcoming")(function*(options: ClaimUpcomingOptions) {
      if (options.limit <= 0 || options.platforms.length === 0) return [] as ReadonlyArray<Upcoming>
      const leaseUntil = new Date(Math.max(options.now.getTime(), options.until.getTime()) + options.leaseMs)
      // A fair share, so that one burst is called by every worker at once instead of by whichever
      // claimed fastest (the others would sit idle at the due instant while it works through its pile).
      const limit = options.liveSince === undefined ? sql`${options.limit}` : sql`(
            SELECT LEAST(${options.limit}, GREATEST(0,
              ceil(count(*)::numeric / (
                SELECT GREATEST(1, count(*)) FROM workers WHERE stopped_at IS NULL AND heartbeat_at >= ${options.liveSince}
              ))::int
              - count(*) FILTER (WHERE lease_owner = ${options.workerId} AND lease_expires_at >= ${options.now})))
            FROM destinations WHERE status = 'queued' AND due_at <= ${options.until} AND ${sql.in("platform", options.platforms)})`
      const rows = yield* sql<PayloadRow & { due_at: Date }>`
        WITH c AS (
          SELECT id FROM destinations
          WHERE status = 'queued' AND due_at <= ${options.until}
            AND (lease_expires_at IS NULL OR lease_expires_at < ${options.now})
            AND ${sql.in("platform", options.platforms)}
            ${options.excludeAccounts?.length ? sql`AND NOT ${sql.in("account_id", options.excludeAccounts)}` : sql``}
            -- A disabled organization's work is not claimed ahead (its pause lasts until it is enabled).
            AND NOT EXISTS (
              SELECT 1 FROM rate_limit_pauses p
              WHERE p.scope = 'org:' || destinations.organization_id AND p.paused_until > ${options.now})
          ORDER BY due_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ), d AS (
          UPDATE destinations SET lease_owner = ${options.workerId}, lease_expires_at = ${leaseUntil}
          FROM c WHERE destinations.id = c.id
          RETURNING destinations.*
        )
        SELECT d.id, d.post_id, d.organization_id, d.platform, d.account_id, d.due_at, d.auto_retries, d.attempts,
          d.placement, d.settings, d.override, p.content, p.platform_overrides, p.scheduled_at, p.updated_at AS post_version,
          acc.credentials_ciphertext, acc.credentials_key_id,
          (SELECT count(*) FROM destinations s WHERE s.post_id = d.post_id) AS destination_count
        FROM d JOIN posts p ON p.id = d.post_id LEFT JOIN accounts acc ON acc.id = d.account_id
        ORDER BY d.due_at`
      return rows.map((row): Upcoming => ({ claim: claimFrom(row, options.now), payload: payloadFrom(row) }))
    })

    const claimAndMark = Effect.fn("Leases.claimAndMark")(function*(options: ClaimAndMarkOptions) {
      const limit = Math.min(options.limit, options.attemptIds.length)
      if (limit <= 0 || options.platforms.length === 0) return []
      const { rooms } = options
      // Window functions cannot sit beside FOR UPDATE, so the rooms are applied to the locked rows
      // one level up; rows locked but not chosen are let go at commit, untouched.
      const candidates = sql`c AS (
          SELECT id, post_id, platform, account_id, due_at FROM destinations
          WHERE status = 'queued' AND due_at <= ${options.now}
            AND (lease_expires_at IS NULL OR lease_expires_at < ${options.now})
            AND ${sql.in("platform", options.platforms)}
            AND NOT EXISTS (
              SELECT 1 FROM rate_limit_pauses p
              WHERE p.paused_until > ${options.now}
                AND (p.scope = destinations.platform OR p.scope = destinations.platform || ':' || destinations.account_id
                  OR p.scope = 'org:' || destinations.organization_id))
          ORDER BY due_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        ), ranked AS (
          SELECT c.*,
            row_number() OVER (PARTITION BY c.account_id ORDER BY c.due_at, c.id) AS account_rank,
            row_number() OVER (PARTITION BY c.platform ORDER BY c.due_at, c.id) AS platform_rank
          FROM c
        ), account_rooms AS (
          SELECT * FROM jsonb_to_recordset(${sql.json(rooms.accounts)}::jsonb) AS r ("accountId" text, room int)
        ), platform_rooms AS (
          SELECT * FROM jsonb_to_recordset(${sql.json(rooms.platforms)}::jsonb) AS r (platform text, room int, "accountRoom" int)
        ), chosen AS (
          SELECT ranked.id, ranked.post_id, row_number() OVER (ORDER BY ranked.due_at, ranked.id) AS n
          FROM ranked
            LEFT JOIN account_rooms ar ON ar."accountId" = ranked.account_id
            LEFT JOIN platform_rooms pr ON pr.platform = ranked.platform
          WHERE ranked.account_rank <= COALESCE(ar.room, pr."accountRoom", ${rooms.defaultAccountRoom})
            AND ranked.platform_rank <= COALESCE(pr.room, ${rooms.defaultPlatformRoom})
        ), v AS (
          SELECT chosen.id, chosen.post_id, ids.attempt_id, NULL::timestamptz AS post_version, NULL::text AS credentials_md5
          FROM chosen JOIN jsonb_array_elements_text(${sql.json(options.attemptIds.slice(0, limit))}::jsonb) WITH ORDINALITY AS ids (attempt_id, n)
            ON ids.n = chosen.n
        )`
      const rows = yield* markStatement(candidates, { ...options, leased: false })
      return rows
        .map((row) => ({ claim: claimFrom(row, options.now), marked: markedFrom(row) }))
        .sort((a, b) => a.claim.dueAt.getTime() - b.claim.dueAt.getTime())
    })

    const markPublishing = (options: {
      readonly claim: Claim
      readonly workerId: string
      readonly attemptId: string
      readonly now: Date
      readonly leaseMs: number
    }) =>
      markPublishingBatch({
        items: [{ claim: options.claim, attemptId: options.attemptId }],
        workerId: options.workerId,
        now: options.now,
        leaseMs: options.leaseMs
      }).pipe(Effect.map((marked) => marked.get(options.claim.id)))

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
        yield* sql`UPDATE accounts SET status = 'needs_reconnect', updated_at = ${now} WHERE id = ${row.account_id}`
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

    const expiredPublishing = Effect.fn("Leases.expiredPublishing")(function*(options: {
      readonly workerId: string
      readonly now: Date
      readonly leaseMs: number
      readonly limit: number
    }) {
      const until = new Date(options.now.getTime() + options.leaseMs)
      const rows = yield* sql<MarkRow & {
        id: string
        post_id: string
        organization_id: string
        previous_owner: string | null
        current_attempt_id: string
        auto_retries: number
        attempt_started_at: Date | null
      }>`
        WITH expired AS (
          SELECT id, attempt_worker_id AS previous_owner FROM destinations
          WHERE status = 'publishing' AND lease_expires_at < ${options.now}
          ORDER BY lease_expires_at LIMIT ${options.limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE destinations d SET lease_owner = ${options.workerId}, lease_expires_at = ${until}
        FROM expired WHERE d.id = expired.id
        RETURNING d.id, d.post_id, d.organization_id, d.attempts, d.platform, d.account_id, d.placement, d.settings,
          d.override, d.current_attempt_id, d.auto_retries, d.attempt_started_at, d.parts, expired.previous_owner`
      if (rows.length === 0) return []
      const posts = yield* sql<{ id: string; content: Post.Content; platform_overrides: Record<string, Post.Override> | null; scheduled_at: Date | null }>`
        SELECT id, content, platform_overrides, scheduled_at FROM posts WHERE ${sql.in("id", rows.map((r) => r.post_id))}`
      const postById = new Map(posts.map((p) => [p.id, p]))
      return rows.flatMap((r): Array<Orphan> => {
        const post = postById.get(r.post_id)
        if (post === undefined) return []
        return [{
          id: r.id,
          postId: r.post_id,
          organizationId: r.organization_id,
          platform: r.platform,
          accountId: r.account_id,
          previousOwner: r.previous_owner,
          attemptId: r.current_attempt_id,
          attemptNumber: r.attempts,
          autoRetries: r.auto_retries,
          sentAt: r.attempt_started_at ?? options.now,
          content: post.content,
          platformOverrides: post.platform_overrides ?? undefined,
          destination: destinationInput(r),
          scheduledAt: post.scheduled_at ?? undefined,
          ...postedPartsOf(r)
        }]
      })
    })

    return {
      claim,
      claimAndMark,
      claimUpcoming,
      markPublishing,
      markPublishingBatch,
      settle,
      settlePublishedBatch,
      failBeforeCall,
      renew: (workerId, ids, until) =>
        ids.length === 0
          ? Effect.void
          : sql`UPDATE destinations SET lease_expires_at = ${until} WHERE lease_owner = ${workerId} AND ${sql.in("id", ids)}`.pipe(
            Effect.asVoid
          ),
      release: (workerId, ids) =>
        (ids === undefined
          ? sql<{ id: string }>`UPDATE destinations SET lease_owner = NULL, lease_expires_at = NULL
              WHERE lease_owner = ${workerId} AND status = 'queued' RETURNING id`
          : ids.length === 0
          ? Effect.succeed([] as ReadonlyArray<{ id: string }>)
          : sql<{ id: string }>`UPDATE destinations SET lease_owner = NULL, lease_expires_at = NULL
              WHERE lease_owner = ${workerId} AND status = 'queued' AND ${sql.in("id", ids)} RETURNING id`
        ).pipe(Effect.map((rows) => rows.length)),
      unmark,
      expiredPublishing,
      pause: (scope, until, reason) =>
        sql`
          INSERT INTO rate_limit_pauses (scope, paused_until, reason) VALUES (${scope}, ${until}, ${reason})
          ON CONFLICT (scope) DO UPDATE SET
            paused_until = GREATEST(rate_limit_pauses.paused_until, EXCLUDED.paused_until), reason = EXCLUDED.reason`.pipe(
          Effect.asVoid
        ),
      nextWake: (now) =>
        sql<{ due: Date | null; other: Date | null }>`
          SELECT
            (SELECT min(due_at) FROM destinations
              WHERE status = 'queued' AND due_at IS NOT NULL AND (lease_expires_at IS NULL OR lease_expires_at < ${now})
                AND NOT EXISTS (
                  SELECT 1 FROM rate_limit_pauses p
                  WHERE p.paused_until > ${now}
                    AND (p.scope = destinations.platform OR p.scope = destinations.platform || ':' || destinations.account_id
                  OR p.scope = 'org:' || destinations.organization_id))
            ) AS due,
            LEAST(
              (SELECT min(lease_expires_at) FROM destinations WHERE status = 'queued' AND lease_expires_at > ${now}),
              (SELECT min(lease_expires_at) FROM destinations WHERE status = 'publishing'),
              (SELECT min(paused_until) FROM rate_limit_pauses WHERE paused_until > ${now})
            ) AS other`.pipe(Effect.map((rows) => ({ due: rows[0]?.due ?? undefined, other: rows[0]?.other ?? undefined }))),
      heartbeat: (workerId, now, stopped = false) =>
        sql`
          INSERT INTO workers (id, hostname, pid, started_at, heartbeat_at, stopped_at)
          VALUES (${workerId}, ${hostname()}, ${process.pid}, ${now}, ${now}, ${stopped ? now : null})
          ON CONFLICT (id) DO UPDATE SET heartbeat_at = EXCLUDED.heartbeat_at, stopped_at = EXCLUDED.stopped_at`.pipe(
          Effect.asVoid
        )
    }
  }))
}

/**
 * Whether a scheduler is alive and whether work is overdue, for `/readyz`:
 * live workers have a heartbeat within `windowMs` and are not stopped; overdue
 * destinations are queued and due more than `overdueAfterMs` ago.
 */
export const health = Effect.fn("Leases.health")(function*(options: {
  readonly now: Date
  readonly windowMs?: number | undefined
  readonly overdueAfterMs?: number | undefined
}) {
  const sql = yield* PgClient.PgClient
  const since = new Date(options.now.getTime() - (options.windowMs ?? 30_000))
  const overdueBefore = new Date(options.now.getTime() - (options.overdueAfterMs ?? 60_000))
  // A disabled organization's queued work waits on purpose: not overdue.
  const notDisabled = sql`NOT EXISTS (SELECT 1 FROM rate_limit_pauses p
    WHERE p.scope = 'org:' || destinations.organization_id AND p.paused_until > ${options.now})`
  const rows = yield* sql<{ live: string | number; overdue: string | number; oldest: Date | null }>`
    SELECT
      (SELECT count(*) FROM workers WHERE heartbeat_at >= ${since} AND stopped_at IS NULL) AS live,
      (SELECT count(*) FROM destinations WHERE status = 'queued' AND due_at < ${overdueBefore} AND ${notDisabled}) AS overdue,
      (SELECT min(due_at) FROM destinations WHERE status = 'queued' AND due_at < ${overdueBefore} AND ${notDisabled}) AS oldest`
  const row = rows[0]!
  return {
    liveWorkers: Number(row.live),
    overdue: Number(row.overdue),
    ...(row.oldest === null ? {} : { oldestOverdueAt: row.oldest.toISOString() })
  } satisfies SchedulerHealth
})

