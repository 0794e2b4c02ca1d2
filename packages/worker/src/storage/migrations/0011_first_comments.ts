/**
 * First comments (issue 17): each destination's comment state (`comment`,
 * core's `CommentResult` plus, while a call is out, its `attemptId` and
 * `sentAt`) and when it may be posted next (`comment_due_at`: also the lease
 * of the worker posting it). Set when the destination is created with a
 * comment, so a crash between the publish and the comment loses nothing.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    ALTER TABLE destinations ADD COLUMN comment jsonb;
    ALTER TABLE destinations ADD COLUMN comment_due_at timestamptz;
    CREATE INDEX destinations_comment_due ON destinations (comment_due_at) WHERE comment_due_at IS NOT NULL;
  `)
})
