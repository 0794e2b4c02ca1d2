/**
 * Token health and granted scopes on accounts: `token_refusal` is what the
 * platform last said of a refused token (`revoked`, `reconnect_required`),
 * cleared by a successful check (`checked_at`); `scopes` is the list the
 * platform granted (JSON). Health itself is computed when read (core's
 * `AccountHealth.classify`), from the refusal and `token_expires_at`.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    ALTER TABLE accounts ADD COLUMN token_refusal text CHECK (token_refusal IN ('revoked', 'reconnect_required'));
    ALTER TABLE accounts ADD COLUMN scopes jsonb;
    ALTER TABLE accounts ADD COLUMN checked_at timestamptz;
  `)
})
