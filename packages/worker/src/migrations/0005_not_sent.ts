/**
 * `not_sent`: an attempt that was marked (publish-once) but never called the
 * platform, because its worker shut down first; the destination went back to
 * `queued`. Recorded so that the attempt log still explains every mark.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    ALTER TABLE attempts DROP CONSTRAINT attempts_outcome_check;
    ALTER TABLE attempts ADD CONSTRAINT attempts_outcome_check CHECK (outcome IN ('published', 'failed', 'retry', 'outcome_unknown', 'reconciled_published', 'reconciled_absent', 'cancelled', 'not_sent'));
  `)
})
