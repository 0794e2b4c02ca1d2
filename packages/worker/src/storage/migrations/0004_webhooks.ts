/**
 * Webhook fan-out bookkeeping: how far the outcome `events` have been turned
 * into deliveries (one cursor row, locked while a process fans out), and
 * which event each delivery is for, so an event is delivered to a webhook
 * once even if two processes fan out the same events.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    CREATE TABLE webhook_cursor (
      name text PRIMARY KEY,
      last_event_id bigint NOT NULL
    );
    INSERT INTO webhook_cursor (name, last_event_id) VALUES ('deliveries', 0);
    ALTER TABLE webhook_deliveries ADD COLUMN event_id bigint;
    CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries (webhook_id, event_id);
    CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at DESC);
  `)
})
