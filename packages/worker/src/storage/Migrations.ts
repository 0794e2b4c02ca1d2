/**
 * The schema migrations, in order. Forward-only: a shipped migration is never
 * edited; a change is a new numbered file registered here. The same list runs
 * on PGlite and on PostgreSQL through effect's `Migrator`.
 */
import { Effect } from "effect"
import { Migrator } from "effect/sql"
import initial from "./migrations/0001_initial.js"
import scheduler from "./migrations/0002_scheduler.js"
import retries from "./migrations/0003_retries.js"
import webhooks from "./migrations/0004_webhooks.js"
import dispatch from "./migrations/0005_dispatch.js"
import outboxOrder from "./migrations/0006_outbox_order.js"
import organizations from "./migrations/0007_organizations.js"
import keyLimits from "./migrations/0008_key_limits.js"
import accountGroups from "./migrations/0009_account_groups.js"
import accountDetails from "./migrations/0010_account_details.js"
import firstComments from "./migrations/0011_first_comments.js"
import tokenHealth from "./migrations/0012_token_health.js"
import rateLimits from "./migrations/0013_rate_limits.js"
import groupMemberOrder from "./migrations/0014_group_member_order.js"

export const migrations = {
  "0001_initial": initial,
  "0002_scheduler": scheduler,
  "0003_retries": retries,
  "0004_webhooks": webhooks,
  "0005_dispatch": dispatch,
  "0006_outbox_order": outboxOrder,
  "0007_organizations": organizations,
  "0008_key_limits": keyLimits,
  "0009_account_groups": accountGroups,
  "0010_account_details": accountDetails,
  "0011_first_comments": firstComments,
  "0012_token_health": tokenHealth,
  "0013_rate_limits": rateLimits,
  "0014_group_member_order": groupMemberOrder
}

const migrator = Migrator.make({})

/** Applies every pending migration; returns those it ran. Safe to run from several processes at once (the migrator locks). */
export const run = migrator({ loader: Migrator.fromRecord(migrations), table: "omnipost_migrations" }).pipe(
  Effect.withSpan("Migrations.run")
)
