/**
 * Account groups: named sets of an organization's accounts that a post can
 * target as a whole. A name is unique per organization, ignoring case; a
 * member row goes with its account (disconnecting an account leaves its
 * groups) and with its group (deleting a group leaves the accounts).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    CREATE TABLE account_groups (
      id text PRIMARY KEY,
      organization_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX account_groups_org_name ON account_groups (organization_id, lower(name));
    CREATE INDEX account_groups_org_created ON account_groups (organization_id, created_at, id);
    CREATE TABLE account_group_members (
      group_id text NOT NULL REFERENCES account_groups(id) ON DELETE CASCADE,
      account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
      added_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (group_id, account_id)
    );
    CREATE INDEX account_group_members_account ON account_group_members (account_id);
  `)
})
