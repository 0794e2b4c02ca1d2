/**
 * An account's platform details (core's `PlatformDetails`: TikTok's creator
 * info), as JSON beside its profile, refreshed with it. Bounded by core's
 * `maxPlatformDetailsBytes` before it is written.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    ALTER TABLE accounts ADD COLUMN platform_details jsonb;
  `)
})
