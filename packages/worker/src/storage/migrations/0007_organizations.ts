/**
 * Organizations managed by an operator: an organization can be disabled
 * (`disabled_at`; its keys are then refused), and an API key has a scope:
 * `organization` (every existing key: it acts for its organization) or
 * `admin` (manages organizations through `/v1/admin`; it belongs to none).
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    ALTER TABLE organizations ADD COLUMN disabled_at timestamptz;
    ALTER TABLE api_keys ADD COLUMN scope text NOT NULL DEFAULT 'organization' CHECK (scope IN ('organization', 'admin'));
    ALTER TABLE api_keys ALTER COLUMN organization_id DROP NOT NULL;
    ALTER TABLE api_keys ADD CONSTRAINT api_keys_scope_organization CHECK ((scope = 'admin') = (organization_id IS NULL));
    CREATE INDEX organizations_created ON organizations (created_at, id);
  `)
})
