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
 * - `markPublishingBatch`: the publish-once mark, committed before the platform
 *   is called: `queued → publishing` under a new attempt id, the post moved to
 *   `publishing`; a destination cancelled, edited away or taken by another
 *   worker meanwhile is not marked;
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
 *
 * - `claimComments` / `settleComment` / `nextCommentDue`: first comments of
 *   published destinations (`leases/Comments`), marked sent before their call.
 *
 * In three parts (and `leases/Comments`): `leases/Claims` (claims and marks), `leases/Settlement`
 * (outcomes) and `leases/Administration` (leases, pauses, heartbeats), over
 * the types of `leases/Model`. Each operation is typed once, by its implementation.
 */
import { PgClient } from "@effect/sql-pg"
import { Context, Effect, Layer } from "effect"
import * as Administration from "./leases/Administration.js"
import * as Claims from "./leases/Claims.js"
import * as Comments from "./leases/Comments.js"
import * as Settlement from "./leases/Settlement.js"

export { health } from "./leases/Administration.js"
export {
  type Claim,
  type ClaimAndMarkOptions,
  type ClaimUpcomingOptions,
  type Marked,
  type MarkRooms,
  type Orphan,
  type Outcome,
  pauseScopes,
  type PublishedItem,
  type SchedulerHealth,
  type Upcoming
} from "./leases/Model.js"

export class Leases extends Context.Service<
  Leases,
  Claims.Operations & Settlement.Operations & Administration.Operations & Comments.Operations
>()("@omnipost/worker/Leases") {
  static readonly layer = Layer.effect(Leases)(
    Effect.map(PgClient.PgClient, (sql) => ({ ...Claims.make(sql), ...Settlement.make(sql), ...Administration.make(sql), ...Comments.make(sql) }))
  )
}
