/**
 * The API's rate limits, shared by every process on the database: one row per
 * API key holding its GCRA "theoretical arrival time" (`tat`, epoch
 * milliseconds). `RateLimiter` updates it in one `INSERT … ON CONFLICT DO
 * UPDATE … RETURNING` per request. UNLOGGED: losing the rows in a crash only
 * forgives the keys' recent requests, and it spares the WAL write each request
 * would otherwise cost.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    CREATE UNLOGGED TABLE rate_limits (
      key text PRIMARY KEY,
      tat double precision NOT NULL,
      allowed boolean NOT NULL
    );
  `)
})
