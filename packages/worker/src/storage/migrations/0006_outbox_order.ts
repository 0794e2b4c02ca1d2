/**
 * Outbox readers that never skip (see `internal/outbox.ts`): each event
 * records the transaction that wrote it, and readers order by `(xid, id)`,
 * taking only events of transactions that have ended.
 *
 * Existing rows get this migration's transaction id, and the webhook cursor
 * is placed at `(this transaction, its last event id)`: what was fanned out
 * stays behind it, what was not is still ahead.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    ALTER TABLE events ADD COLUMN xid xid8 NOT NULL DEFAULT pg_current_xact_id();
    DROP INDEX events_org;
    CREATE INDEX events_position ON events (xid, id);
    CREATE INDEX events_org_position ON events (organization_id, xid, id);
    ALTER TABLE webhook_cursor ADD COLUMN last_xid xid8 NOT NULL DEFAULT '0';
    UPDATE webhook_cursor SET last_xid = pg_current_xact_id();
  `)
})
