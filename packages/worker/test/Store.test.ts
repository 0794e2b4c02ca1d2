import { assert, describe, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { AccountStore } from "../src/storage/AccountStore.js"
import { Crypto, parseKeyring, type Keyring } from "../src/storage/Crypto.js"
import { PostStore } from "../src/storage/PostStore.js"
import { makeAccount, makeOrganization, storesLayer, testKinds } from "./fixtures.js"
import { randomBytes } from "node:crypto"

for (const kind of testKinds) {
  describe(`stores (${kind})`, () => {
    layer(storesLayer(kind), { timeout: 60_000 })((it) => {
      it.effect("accounts: connect, get, list by platform; secrets never in the record; foreign org is not found", () =>
        Effect.gen(function*() {
          const accounts = yield* AccountStore
          const org = yield* makeOrganization
          const other = yield* makeOrganization
          const bsky = yield* makeAccount(org, "bluesky", { accessJwt: "secret-a", refreshJwt: "secret-r" })
          yield* makeAccount(org, "x")
          assert.notInclude(JSON.stringify(bsky), "secret")
          assert.strictEqual((yield* accounts.get(org, bsky.id)).username, bsky.username)
          assert.deepStrictEqual((yield* accounts.list(org, { platform: "bluesky" })).map((a) => a.id), [bsky.id])
          assert.strictEqual((yield* accounts.list(org)).length, 2)
          const foreign = yield* Effect.flip(accounts.get(other, bsky.id))
          assert.strictEqual(foreign._tag, "AccountNotFound")
          assert.deepStrictEqual(yield* accounts.credentials(bsky.id), { accessJwt: "secret-a", refreshJwt: "secret-r" })
          // Stored sealed: the raw row does not contain the secret.
          const sql = yield* SqlClient.SqlClient
          const raw = yield* sql<{ credentials_ciphertext: string }>`SELECT credentials_ciphertext FROM accounts WHERE id = ${bsky.id}`
          assert.notInclude(raw[0]!.credentials_ciphertext, "secret")
        }))

      it.effect("accounts: reconnecting the same platform account updates it in place", () =>
        Effect.gen(function*() {
          const accounts = yield* AccountStore
          const org = yield* makeOrganization
          const first = yield* accounts.connect({ organizationId: org, platform: "x", platformAccountId: "42", username: "a", credentials: { t: 1 } })
          yield* accounts.setStatus(first.id, "needs_reconnect")
          const again = yield* accounts.connect({ organizationId: org, platform: "x", platformAccountId: "42", username: "b", credentials: { t: 2 } })
          assert.strictEqual(again.id, first.id)
          assert.strictEqual(again.status, "active")
          assert.strictEqual(again.username, "b")
          assert.deepStrictEqual(yield* accounts.credentials(first.id), { t: 2 })
        }))

      it.effect("accounts: a credentials update never overwrites a refresh token with an empty value", () =>
        Effect.gen(function*() {
          const accounts = yield* AccountStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org, "x", { accessToken: "a1", refreshToken: "r1" })
          yield* accounts.updateCredentials(account.id, { accessToken: "a2", refreshToken: "" })
          assert.deepStrictEqual(yield* accounts.credentials(account.id), { accessToken: "a2", refreshToken: "r1" })
          yield* accounts.updateCredentials(account.id, { accessToken: "a3" }, "2030-01-01T00:00:00Z")
          assert.deepStrictEqual(yield* accounts.credentials(account.id), { accessToken: "a3", refreshToken: "r1" })
          assert.strictEqual((yield* accounts.get(org, account.id)).tokenExpiresAt, "2030-01-01T00:00:00.000Z")
          yield* accounts.updateCredentials(account.id, { accessToken: "a4", refreshToken: "r2" })
          assert.deepStrictEqual(yield* accounts.credentials(account.id), { accessToken: "a4", refreshToken: "r2" })
        }))

      it.effect("posts: create scheduled at a wall-clock time in a zone; due_at is the resolved instant", () =>
        Effect.gen(function*() {
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org)
          const post = yield* posts.create(org, {
            content: { text: "hello" },
            destinations: [{ platform: "bluesky", accountId: account.id, settings: { langs: ["en"] } }],
            schedule: { _tag: "local", localTime: "2030-03-31T02:30", timeZone: "Europe/London" }
          })
          assert.strictEqual(post.status, "scheduled")
          // BST begins at 01:00Z on 2030-03-31 (last Sunday of March): 02:30 local is 01:30Z.
          assert.strictEqual(post.scheduledAt, "2030-03-31T01:30:00.000Z")
          assert.strictEqual(post.destinations[0]!.dueAt, "2030-03-31T01:30:00.000Z")
          assert.strictEqual(post.destinations[0]!.status, "queued")
          assert.deepStrictEqual(post.destinations[0]!.settings, { langs: ["en"] })
          assert.strictEqual(post.timeZone, "Europe/London")
          const read = yield* posts.get(org, post.id)
          assert.deepStrictEqual(read, post)
        }))

      it.effect("posts: a nonexistent local time and an unknown zone are typed errors", () =>
        Effect.gen(function*() {
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org)
          const gap = yield* Effect.flip(posts.create(org, {
            content: { text: "x" },
            destinations: [{ platform: "bluesky", accountId: account.id }],
            // London skips 01:00-02:00 local that morning.
            schedule: { _tag: "local", localTime: "2030-03-31T01:30", timeZone: "Europe/London" }
          }))
          assert.strictEqual(gap._tag, "InvalidSchedule")
          assert.strictEqual((gap as any).reason, "NonexistentLocalTime")
          const zone = yield* Effect.flip(posts.create(org, {
            content: { text: "x" },
            destinations: [{ platform: "bluesky", accountId: account.id }],
            schedule: { _tag: "local", localTime: "2030-03-31T01:30", timeZone: "Mars/Olympus" }
          }))
          assert.strictEqual((zone as any).reason, "UnknownTimeZone")
        }))

      it.effect("posts: accounts of another organization or platform are rejected", () =>
        Effect.gen(function*() {
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const other = yield* makeOrganization
          const foreign = yield* makeAccount(other)
          const mine = yield* makeAccount(org, "x")
          const error = yield* Effect.flip(posts.create(org, {
            content: { text: "x" },
            destinations: [{ platform: "bluesky", accountId: foreign.id }, { platform: "bluesky", accountId: mine.id }]
          }))
          assert.strictEqual(error._tag, "InvalidAccounts")
          assert.sameMembers([...(error as any).accountIds], [foreign.id, mine.id])
          assert.strictEqual((yield* posts.list(org)).items.length, 0)
        }))

      it.effect("posts: drafts have no due time; update, publish now, cancel; a cancelled post cannot be edited", () =>
        Effect.gen(function*() {
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const account = yield* makeAccount(org)
          const draft = yield* posts.create(org, {
            status: "draft",
            content: { text: "draft" },
            destinations: [{ platform: "bluesky", accountId: account.id }]
          })
          assert.strictEqual(draft.status, "draft")
          assert.isUndefined(draft.destinations[0]!.dueAt)
          const edited = yield* posts.update(org, draft.id, { content: { text: "edited" } })
          assert.strictEqual(edited.content.text, "edited")
          assert.strictEqual(edited.status, "draft")
          const now = yield* posts.publishNow(org, draft.id)
          assert.strictEqual(now.status, "scheduled")
          assert.isDefined(now.destinations[0]!.dueAt)
          const cancelled = yield* posts.cancel(org, draft.id)
          assert.strictEqual(cancelled.status, "cancelled")
          assert.strictEqual(cancelled.destinations[0]!.status, "cancelled")
          const error = yield* Effect.flip(posts.update(org, draft.id, { content: { text: "again" } }))
          assert.strictEqual(error._tag, "InvalidStatusTransition")
          const twice = yield* Effect.flip(posts.cancel(org, draft.id))
          assert.strictEqual(twice._tag, "InvalidStatusTransition")
        }))

      it.effect("posts: retry is refused when nothing failed; retries only the chosen platforms' failures", () =>
        Effect.gen(function*() {
          const posts = yield* PostStore
          const sql = yield* SqlClient.SqlClient
          const org = yield* makeOrganization
          const a = yield* makeAccount(org, "bluesky")
          const b = yield* makeAccount(org, "x")
          const post = yield* posts.create(org, {
            content: { text: "r" },
            destinations: [{ platform: "bluesky", accountId: a.id }, { platform: "x", accountId: b.id }]
          })
          const refused = yield* Effect.flip(posts.retry(org, post.id))
          assert.strictEqual(refused._tag, "InvalidStatusTransition")
          // Simulate a finished run: both failed.
          yield* sql`UPDATE destinations SET status = 'failed', last_error = '{"code":"X","message":"m","retryable":false}'::jsonb WHERE post_id = ${post.id}`
          yield* sql`UPDATE posts SET status = 'failed' WHERE id = ${post.id}`
          const retried = yield* posts.retry(org, post.id, ["x"])
          assert.strictEqual(retried.status, "publishing")
          assert.deepStrictEqual(retried.destinations.map((d) => d.status), ["failed", "queued"])
          assert.isUndefined(retried.destinations[1]!.lastError)
          const none = yield* Effect.flip(posts.retry(org, post.id, ["linkedin"]))
          assert.strictEqual(none._tag, "InvalidStatusTransition")
        }))

      it.effect("posts: list filters by status and platform and pages with a cursor; other orgs see nothing", () =>
        Effect.gen(function*() {
          const posts = yield* PostStore
          const org = yield* makeOrganization
          const other = yield* makeOrganization
          const a = yield* makeAccount(org, "bluesky")
          const b = yield* makeAccount(org, "x")
          for (let i = 0; i < 5; i++) {
            yield* posts.create(org, {
              status: i % 2 === 0 ? "draft" : "scheduled",
              content: { text: `p${i}` },
              destinations: [{ platform: i < 3 ? "bluesky" : "x", accountId: i < 3 ? a.id : b.id }]
            })
          }
          assert.strictEqual((yield* posts.list(org, { status: "draft" })).items.length, 3)
          assert.strictEqual((yield* posts.list(org, { platform: "x" })).items.length, 2)
          const page1 = yield* posts.list(org, { limit: 2 })
          const page2 = yield* posts.list(org, { limit: 2, cursor: page1.nextCursor })
          const page3 = yield* posts.list(org, { limit: 2, cursor: page2.nextCursor })
          const ids = [...page1.items, ...page2.items, ...page3.items].map((p) => p.id)
          assert.strictEqual(new Set(ids).size, 5)
          assert.isUndefined(page3.nextCursor)
          assert.strictEqual((yield* posts.list(other)).items.length, 0)
          const foreign = yield* Effect.flip(posts.get(other, page1.items[0]!.id))
          assert.strictEqual(foreign._tag, "PostNotFound")
          const removed = yield* posts.remove(org, page1.items[0]!.id).pipe(Effect.andThen(posts.get(org, page1.items[0]!.id)), Effect.flip)
          assert.strictEqual(removed._tag, "PostNotFound")
        }))
    })
  })
}

describe("key rotation", () => {
  const oldKey = randomBytes(32).toString("base64")
  const newKey = randomBytes(32).toString("base64")
  const keyring = (text: string) => parseKeyring(text) as Keyring
  layer(storesLayer("pglite"), { timeout: 60_000 })((it) => {
    it.effect("re-seals every row under the new key; the old key can then go", () =>
      Effect.gen(function*() {
        const org = yield* makeOrganization
        const withOld = Layer.fresh(AccountStore.layer).pipe(Layer.provide(Layer.succeed(Crypto)(Crypto.make(keyring(`old:${oldKey}`)))))
        const withBoth = Layer.fresh(AccountStore.layer).pipe(
          Layer.provide(Layer.succeed(Crypto)(Crypto.make(keyring(`new:${newKey},old:${oldKey}`))))
        )
        const withNew = Layer.fresh(AccountStore.layer).pipe(Layer.provide(Layer.succeed(Crypto)(Crypto.make(keyring(`new:${newKey}`)))))
        const ids = yield* Effect.forEach([1, 2, 3], (i) => makeAccount(org, "x", { token: `t${i}` }).pipe(Effect.map((a) => a.id))).pipe(
          Effect.provide(withOld)
        )
        const unreadable = yield* AccountStore.use((s) => s.credentials(ids[0]!)).pipe(Effect.provide(withNew), Effect.flip)
        assert.strictEqual(unreadable._tag, "DecryptionFailed")
        const rotated = yield* AccountStore.use((s) => s.rotateKeys).pipe(Effect.provide(withBoth))
        assert.strictEqual(rotated.accounts, 3)
        const again = yield* AccountStore.use((s) => s.rotateKeys).pipe(Effect.provide(withBoth))
        assert.strictEqual(again.accounts, 0)
        const read = yield* Effect.forEach(ids, (id) => AccountStore.use((s) => s.credentials(id))).pipe(Effect.provide(withNew))
        assert.deepStrictEqual(read, [{ token: "t1" }, { token: "t2" }, { token: "t3" }])
      }))
  })
})
