/**
 * Claims: due destinations taken under this worker's lease (`claim`, and ahead
 * of their due time with their payload, `claimUpcoming`), the publish-once mark
 * (`markPublishingBatch`; `claimAndMark` claims and marks in one statement),
 * and destinations left `publishing` by a dead worker, taken over for
 * reconciliation (`expiredPublishing`).
 */
import type { PgClient } from "@effect/sql-pg"
import { Effect } from "effect"
import type { Statement } from "effect/sql"
import {
  type Claim,
  type ClaimAndMarkOptions,
  type ClaimUpcomingOptions,
  credentialsFingerprint,
  destinationInput,
  type Marked,
  type MarkRow,
  type Orphan,
  type PayloadRow,
  postedPartsOf,
  postsEnteringPublishing,
  publishableFrom,
  publishingPosts,
  type Upcoming,
  withPosts
} from "./Model.js"

export const make = (sql: PgClient.PgClient) => {
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

  /**
   * `markPublishing` for several claims at once; the result holds the ones
   * marked. A claim read ahead (`payload`) gets the post's columns again only
   * if the post changed since; a claim no longer due (an edit moved it) or
   * paused meanwhile is not marked.
   */
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
  /**
   * Claims due destinations and those due by `until` (the lease only: they stay
   * `queued` and cancellable), with what their calls will need, in due order.
   * With `liveSince`, at most a fair share: what is due by `until`, divided by
   * the workers with a heartbeat since then, less what this worker holds of
   * it already; what is left over is claimed when due, by whoever has room.
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

  /**
   * `claim` and `markPublishing` in one statement, for destinations that can
   * be called at once: locks up to `limit` due destinations of the given
   * platforms (`FOR UPDATE SKIP LOCKED`), keeps those that fit the rooms, and
   * marks those publishing under this worker's lease, in due order. The rest
   * are left untouched (not even leased), for the next round or another worker.
   */
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
    return yield* withPosts(sql, rows, (r, post): Orphan => ({
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
      platformOverrides: post.platformOverrides,
      destination: destinationInput(r),
      scheduledAt: post.scheduledAt,
      ...postedPartsOf(r)
    }))
  })

  return { claim, claimUpcoming, claimAndMark, markPublishingBatch, expiredPublishing }
}

/** The claim operations of `Leases`. */
export type Operations = ReturnType<typeof make>
