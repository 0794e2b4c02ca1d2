/**
 * The initial schema. Forward-only: never edit a migration that has shipped;
 * add the next numbered file instead. Runs identically on PGlite and PostgreSQL.
 *
 * Conventions: ids are prefixed text (`post_…`, `dst_…`); every instant is
 * `timestamptz`; JSON is `jsonb`; each tenant-owned row carries `organization_id`.
 */
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { runStatements } from "./statements.js"

export default Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  yield* runStatements(sql, `
    CREATE TABLE organizations (
      id text PRIMARY KEY,
      name text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE api_keys (
      id text PRIMARY KEY,
      organization_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      -- The first characters of the raw key, shown in listings to tell keys apart.
      prefix text NOT NULL,
      -- SHA-256 of the raw key; the raw key is shown once and never stored.
      key_hash text NOT NULL UNIQUE,
      -- Requests per minute; NULL means the server default.
      rate_limit_per_minute integer,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );

    CREATE TABLE accounts (
      id text PRIMARY KEY,
      organization_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      platform text NOT NULL,
      platform_account_id text NOT NULL,
      username text NOT NULL,
      display_name text,
      avatar_url text,
      -- AES-256-GCM ciphertext of the credentials JSON, and the id of the key that sealed it (rotation).
      credentials_ciphertext text NOT NULL,
      credentials_key_id text NOT NULL,
      token_expires_at timestamptz,
      status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'needs_reconnect', 'disconnected')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (organization_id, platform, platform_account_id)
    );

    CREATE TABLE posts (
      id text PRIMARY KEY,
      organization_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      status text NOT NULL CHECK (status IN ('draft', 'scheduled', 'publishing', 'published', 'partially_failed', 'failed', 'cancelled')),
      content jsonb NOT NULL,
      platform_overrides jsonb,
      -- The schedule as given (instant, or wall-clock time + IANA zone) and the instant it resolves to.
      schedule jsonb,
      scheduled_at timestamptz,
      time_zone text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz
    );
    CREATE INDEX posts_org_created ON posts (organization_id, created_at DESC, id DESC);
    CREATE INDEX posts_org_status ON posts (organization_id, status);

    CREATE TABLE destinations (
      id text PRIMARY KEY,
      post_id text NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
      organization_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      position integer NOT NULL,
      platform text NOT NULL,
      account_id text NOT NULL,
      placement text,
      settings jsonb NOT NULL DEFAULT '{}'::jsonb,
      override jsonb,
      status text NOT NULL CHECK (status IN ('queued', 'publishing', 'published', 'failed', 'cancelled')),
      attempts integer NOT NULL DEFAULT 0,
      -- When a queued destination may be claimed (the schedule, or the next retry). NULL for drafts.
      due_at timestamptz,
      next_retry_at timestamptz,
      -- The lease of the worker that claimed it; renewed while it works, taken over once expired.
      lease_owner text,
      lease_expires_at timestamptz,
      -- The attempt marked 'publishing' before the platform is called (publish-once).
      current_attempt_id text,
      platform_post_id text,
      url text,
      parts jsonb,
      published_at timestamptz,
      last_error jsonb,
      updated_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (post_id, position)
    );
    CREATE INDEX destinations_due ON destinations (due_at) WHERE status = 'queued' AND due_at IS NOT NULL;
    CREATE INDEX destinations_leases ON destinations (lease_expires_at) WHERE status = 'publishing';
    CREATE INDEX destinations_post ON destinations (post_id);

    -- Append-only: one row per call to a platform.
    CREATE TABLE attempts (
      id text PRIMARY KEY,
      destination_id text NOT NULL REFERENCES destinations(id) ON DELETE CASCADE,
      post_id text NOT NULL,
      organization_id text NOT NULL,
      worker_id text NOT NULL,
      number integer NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      finished_at timestamptz,
      outcome text CHECK (outcome IN ('published', 'failed', 'retry', 'outcome_unknown', 'reconciled_published', 'reconciled_absent', 'cancelled')),
      error jsonb,
      platform_post_id text,
      url text
    );
    CREATE INDEX attempts_destination ON attempts (destination_id, started_at);

    CREATE TABLE media (
      id text PRIMARY KEY,
      organization_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      kind text NOT NULL,
      mime_type text NOT NULL,
      size_bytes bigint NOT NULL,
      sha256 text NOT NULL,
      width integer,
      height integer,
      duration_seconds double precision,
      file_name text,
      storage_key text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE webhooks (
      id text PRIMARY KEY,
      organization_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      url text NOT NULL,
      -- Sealed like credentials: the secret signs deliveries, so it must be recoverable.
      secret_ciphertext text NOT NULL,
      secret_key_id text NOT NULL,
      events text[] NOT NULL,
      active boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE webhook_deliveries (
      id text PRIMARY KEY,
      webhook_id text NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
      organization_id text NOT NULL,
      event text NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz,
      lease_expires_at timestamptz,
      last_status_code integer,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      delivered_at timestamptz
    );
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';

    CREATE TABLE idempotency_keys (
      organization_id text NOT NULL,
      key text NOT NULL,
      method text NOT NULL,
      path text NOT NULL,
      request_hash text NOT NULL,
      response_status integer,
      response_body jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (organization_id, key)
    );

    -- Rate-limit pauses shared by every worker: a platform-wide pause ('x') or one account's ('x:acc_…').
    CREATE TABLE rate_limit_pauses (
      scope text PRIMARY KEY,
      paused_until timestamptz NOT NULL,
      reason text
    );

    -- Worker heartbeats, for /readyz and for telling a dead scheduler from an idle one.
    CREATE TABLE workers (
      id text PRIMARY KEY,
      hostname text NOT NULL,
      pid integer NOT NULL,
      started_at timestamptz NOT NULL DEFAULT now(),
      heartbeat_at timestamptz NOT NULL DEFAULT now(),
      stopped_at timestamptz
    );

    CREATE TABLE oauth_states (
      state text PRIMARY KEY,
      organization_id text NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      platform text NOT NULL,
      code_verifier text,
      redirect_uri text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    );
  `)
})
