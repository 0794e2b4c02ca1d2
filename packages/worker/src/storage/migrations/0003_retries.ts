/**
 * `auto_retries`: automatic retries since the destination was last queued by a
 * person (create, publish now, manual retry). The backoff and the retry budget
 * count these, so a manual retry starts a fresh budget while `attempts` keeps
 * counting every call ever made.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    ALTER TABLE destinations ADD COLUMN auto_retries integer NOT NULL DEFAULT 0;
  `)
})
