/**
 * The scheduler's additions:
 * - `events`: an outbox of settled posts and destinations, written in the same
 *   transaction as the state change, so a webhook sender (or anyone) reading it
 *   can never miss an outcome or see one that rolled back;
 * - an index for counting an account's in-flight destinations.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    CREATE TABLE events (
      id bigserial PRIMARY KEY,
      organization_id text NOT NULL,
      -- post.published | post.partially_failed | post.failed | destination.published | destination.failed
      type text NOT NULL,
      post_id text NOT NULL,
      destination_id text,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX events_org ON events (organization_id, id);

    CREATE INDEX destinations_account_publishing ON destinations (account_id) WHERE status = 'publishing';
  `)
})
