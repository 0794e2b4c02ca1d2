/**
 * A group lists its accounts in the order they were added, even when they
 * were added within one millisecond (PGlite's `clock_timestamp()` has no
 * finer resolution: "create, list with accounts…" in `Groups.test` once came
 * back in id order on a loaded machine). Migration 0014 numbers the members
 * that existed before it in the order they were listed then.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { AccountGroups } from "../src/storage/AccountGroups.js"
import { migrations } from "../src/storage/Migrations.js"
import { layerMigratedBefore, makeAccount, makeOrganization, storesLayer, testKinds } from "./fixtures.js"

for (const kind of testKinds) {
  describe(`a group's order (${kind})`, () => {
    layer(AccountGroups.layer.pipe(Layer.provideMerge(storesLayer(kind))), { timeout: 60_000, excludeTestServices: true })((it) => {
      it.effect("accounts added in one instant keep the order given, not the order of their ids", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const groups = yield* AccountGroups
          const organizationId = yield* makeOrganization
          const accounts: Array<string> = []
          for (let i = 0; i < 6; i++) accounts.push((yield* makeAccount(organizationId)).id)
          // Given against the order of their ids, which the old tiebreak would have answered.
          const given = [...accounts].sort().reverse()
          const group = yield* groups.create(organizationId, { name: "launch", accountIds: given.slice(0, 4) })
          yield* groups.addAccounts(organizationId, group.id, given.slice(4))
          yield* sql`UPDATE account_group_members SET added_at = '2030-01-01T00:00:00Z' WHERE group_id = ${group.id}`
          const listed = yield* groups.get(organizationId, group.id)
          assert.deepStrictEqual(listed.accounts.map((a) => a.id), given)
        }))
    })
  })
}

describe.runIf(process.env.DATABASE_URL)("migration 0014 (postgres)", () => {
  layer(layerMigratedBefore("0014"), { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("members added before the upgrade keep the order they were listed in (added_at, then id)", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO organizations (id, name) VALUES ('org_old', 'old')`
        for (const id of ["acc_a", "acc_b", "acc_c"]) {
          yield* sql`INSERT INTO accounts (id, organization_id, platform, platform_account_id, username, credentials_ciphertext, credentials_key_id)
            VALUES (${id}, 'org_old', 'bluesky', ${id}, ${id}, 'x', 'k')`
        }
        yield* sql`INSERT INTO account_groups (id, organization_id, name) VALUES ('grp_old', 'org_old', 'old')`
        yield* sql`INSERT INTO account_group_members (group_id, account_id, added_at) VALUES
          ('grp_old', 'acc_c', '2030-01-01T00:00:01Z'), ('grp_old', 'acc_b', '2030-01-01T00:00:00Z'), ('grp_old', 'acc_a', '2030-01-01T00:00:01Z')`
        yield* Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: "omnipost_migrations" })
        const rows = yield* sql<{ account_id: string }>`SELECT account_id FROM account_group_members ORDER BY seq`
        assert.deepStrictEqual(rows.map((r) => r.account_id), ["acc_b", "acc_a", "acc_c"])
        // A member added after the upgrade comes last.
        yield* sql`DELETE FROM account_group_members WHERE account_id = 'acc_b'`
        yield* sql`INSERT INTO account_group_members (group_id, account_id, added_at) VALUES ('grp_old', 'acc_b', '2020-01-01T00:00:00Z')`
        const after = yield* sql<{ account_id: string }>`SELECT account_id FROM account_group_members ORDER BY seq`
        assert.deepStrictEqual(after.map((r) => r.account_id), ["acc_a", "acc_c", "acc_b"])
      }))
  })
})
