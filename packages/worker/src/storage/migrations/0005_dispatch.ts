/**
 * The dispatch path's schema changes:
 * - `not_sent`: an attempt that was marked (publish-once) but never called
 *   the platform, because its worker shut down first; the destination went
 *   back to `queued`. Recorded so that the attempt log still explains every
 *   mark.
 * - The attempt running now is recorded on its destination
 *   (`attempt_started_at`, `attempt_worker_id`, beside `current_attempt_id`);
 *   its `attempts` row is written once, with the outcome. The publish-once
 *   mark, on every call's critical path, writes one row fewer.
 * - Two indexes go: every change of a destination's status rewrites an entry
 *   in each of its indexes, and these two served nothing.
 *   `destinations_post` duplicates the unique `(post_id, position)` index,
 *   whose leading column answers the same lookups; nothing queries
 *   `destinations_account_publishing`.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    ALTER TABLE attempts DROP CONSTRAINT attempts_outcome_check;
    ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check CHECK (outcome IN ('published', 'failed', 'retry', 'outcome_unknown', 'reconciled_published', 'reconciled_absent', 'cancelled', 'not_sent'));
    ALTER TABLE destinations ADD COLUMN attempt_started_at timestamptz;
    ALTER TABLE destinations ADD COLUMN attempt_worker_id text;
    DROP INDEX destinations_post;
    DROP INDEX destinations_account_publishing;
  `)
})
