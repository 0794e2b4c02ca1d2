/**
 * A group's accounts keep the order they were added in by a sequence number
 * (`seq`), not by `added_at`: `clock_timestamp()` has millisecond resolution
 * in PGlite, so two accounts added one after the other could share an
 * instant and come back in the order of their ids. Existing members are
 * numbered in the order they were listed before (`added_at`, then id).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    CREATE SEQUENCE account_group_members_seq;
    ALTER TABLE account_group_members ADD COLUMN seq bigint;
    UPDATE account_group_members m SET seq = o.n
      FROM (SELECT group_id, account_id, nextval('account_group_members_seq') AS n
            FROM (SELECT group_id, account_id FROM account_group_members ORDER BY added_at, account_id) AS ordered) AS o
      WHERE m.group_id = o.group_id AND m.account_id = o.account_id;
    ALTER TABLE account_group_members ALTER COLUMN seq SET DEFAULT nextval('account_group_members_seq');
    ALTER TABLE account_group_members ALTER COLUMN seq SET NOT NULL;
    ALTER SEQUENCE account_group_members_seq OWNED BY account_group_members.seq;
  `)
})
