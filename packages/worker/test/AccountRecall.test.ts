/**
 * Issue 19: a create validates its destinations with the accounts this
 * process read lately (`AccountStore.recall`) instead of a round trip to
 * read them again, and the insert checks them itself (`createPost`: of the
 * organization, on the platform, not disconnected). So an account another
 * process removed or disconnected since is still refused, with the same
 * reason validation gives, and nothing is stored.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import { AccountStore, recallMs } from "../src/storage/AccountStore.js"
import { PostStore } from "../src/storage/PostStore.js"
import { apiLayer, connectBluesky, errorCode, request, secondServer, TestApi } from "./apiHarness.js"
import { makeAccount, makeOrganization, storesLayer, testKinds } from "./fixtures.js"

for (const kind of testKinds) {
  describe(`AccountStore.recall (${kind})`, () => {
    layer(storesLayer(kind), { timeout: 60_000 })((it) => {
      it.effect("answers what this process read for recallMs; its own changes and every get refresh the memory", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const accounts = yield* AccountStore
          const organizationId = yield* makeOrganization
          const account = yield* makeAccount(organizationId)
          const rename = (username: string) => sql`UPDATE accounts SET username = ${username} WHERE id = ${account.id}`
          assert.strictEqual((yield* accounts.recall(organizationId, account.id)).username, account.username)

          // Changed behind this process's back: remembered until a get, or until recallMs have passed.
          yield* rename("elsewhere-1")
          assert.strictEqual((yield* accounts.recall(organizationId, account.id)).username, account.username)
          assert.strictEqual((yield* accounts.get(organizationId, account.id)).username, "elsewhere-1")
          assert.strictEqual((yield* accounts.recall(organizationId, account.id)).username, "elsewhere-1")
          yield* rename("elsewhere-2")
          yield* TestClock.adjust(`${recallMs - 1} millis`)
          assert.strictEqual((yield* accounts.recall(organizationId, account.id)).username, "elsewhere-1")
          yield* TestClock.adjust("1 millis")
          assert.strictEqual((yield* accounts.recall(organizationId, account.id)).username, "elsewhere-2")

          // A change made through the store is seen at once.
          yield* accounts.setStatus(account.id, "needs_reconnect")
          assert.strictEqual((yield* accounts.recall(organizationId, account.id)).status, "needs_reconnect")

          // Another organization never gets the account from memory.
          const other = yield* makeOrganization
          const foreign = yield* Effect.exit(accounts.recall(other, account.id))
          assert.isTrue(Exit.isFailure(foreign))

          // A disconnected account is not remembered: each recall reads it.
          yield* sql`UPDATE accounts SET status = 'disconnected' WHERE id = ${account.id}`
          assert.strictEqual((yield* accounts.get(organizationId, account.id)).status, "disconnected")
          yield* sql`UPDATE accounts SET status = 'active' WHERE id = ${account.id}`
          assert.strictEqual((yield* accounts.recall(organizationId, account.id)).status, "active")

          // A removed account is forgotten.
          yield* accounts.remove(organizationId, account.id)
          const removed = yield* Effect.flip(accounts.recall(organizationId, account.id))
          assert.strictEqual(removed._tag, "AccountNotFound")
        }))

      it.effect("the create statement refuses a disconnected account, and stores nothing", () =>
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          const posts = yield* PostStore
          const organizationId = yield* makeOrganization
          const live = yield* makeAccount(organizationId)
          const gone = yield* makeAccount(organizationId)
          yield* sql`UPDATE accounts SET status = 'disconnected' WHERE id = ${gone.id}`
          const refused = yield* Effect.flip(posts.create(organizationId, {
            content: { text: "hello" },
            destinations: [{ platform: "bluesky", accountId: live.id }, { platform: "bluesky", accountId: gone.id }]
          }))
          assert.strictEqual(refused._tag, "InvalidAccounts")
          assert.deepStrictEqual(refused._tag === "InvalidAccounts" ? refused.accountIds : [], [gone.id])
          const [{ count }] = yield* sql<{ count: number }>`SELECT count(*)::int AS count FROM posts WHERE organization_id = ${organizationId}`
          assert.strictEqual(count, 0)
        }))
    })
  })

  describe(`a create after another process changed an account (${kind})`, () => {
    layer(apiLayer(kind, {}, { scheduler: false }), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("an account disconnected or removed elsewhere since is refused with the reason, and no post is stored", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const sql = yield* SqlClient.SqlClient
          const other = yield* secondServer(api, kind)
          const accountId = yield* connectBluesky(api)
          const post = (text: string) =>
            request(api, "POST", "/v1/posts", {
              body: { content: { text }, destinations: [{ accountId }], scheduledAt: "2099-01-01T00:00:00Z" }
            })
          // The first create reads the account; this server now remembers it.
          assert.strictEqual((yield* post("one")).status, 201)

          // Disconnected behind this server's back (no API makes an account `disconnected`; an operator's SQL does).
          yield* sql`UPDATE accounts SET status = 'disconnected' WHERE id = ${accountId}`
          const disconnected = yield* post("two")
          assert.strictEqual(disconnected.status, 400, JSON.stringify(disconnected.body))
          assert.strictEqual(errorCode(disconnected), "INVALID_ACCOUNTS")
          assert.deepStrictEqual(disconnected.body.error.details.accounts, [
            { index: 0, accountId, message: `account ${accountId} is disconnected` }
          ])

          // Active again, then removed through the other server: this one still remembers it as active.
          yield* sql`UPDATE accounts SET status = 'active' WHERE id = ${accountId}`
          assert.strictEqual((yield* post("three")).status, 201)
          assert.strictEqual((yield* request(other, "DELETE", `/v1/accounts/${accountId}`)).status, 204)
          const removed = yield* post("four")
          assert.strictEqual(removed.status, 400, JSON.stringify(removed.body))
          assert.strictEqual(errorCode(removed), "INVALID_ACCOUNTS")
          assert.deepStrictEqual(removed.body.error.details.accounts, [
            { index: 0, accountId, message: `no account ${accountId}` }
          ])

          const texts = yield* sql<{ text: string }>`
            SELECT content->>'text' AS text FROM posts WHERE organization_id = ${api.organizationId} ORDER BY created_at`
          assert.deepStrictEqual(texts.map((row) => row.text), ["one", "three"])
        }))
    })
  })
}
