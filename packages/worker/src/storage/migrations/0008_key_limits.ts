/**
 * API keys that end and keys that only read: `expires_at` (after it the key
 * is refused with EXPIRED_API_KEY) and `read_only` (only GET and HEAD).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    ALTER TABLE api_keys ADD COLUMN expires_at timestamptz;
    ALTER TABLE api_keys ADD COLUMN read_only boolean NOT NULL DEFAULT false;
  `)
})
