/**
 * Account groups through the HTTP API: create (with accounts), list with
 * their accounts, get, rename, add and remove accounts, delete (the accounts
 * stay); strict bounded bodies; duplicate names; another organization's
 * groups and accounts answer like unknown ones; and posts that target a
 * group, expanded into one destination per account (accounts named directly
 * keep their own entry), with overrides applying.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { cli } from "./cliHarness.js"
import { testKinds } from "./fixtures.js"
import { type ApiServer, apiLayer, connectBluesky, errorCode, request, TestApi } from "./apiHarness.js"

/** Connects a second fake Bluesky account (a fresh handle per call); its account id. */
const connectAnother = (api: ApiServer, handle: string) =>
  Effect.gen(function*() {
    api.bluesky.createAccount({ handle, password: `${handle}-password` })
    const answer = yield* request(api, "POST", "/v1/accounts", { body: { platform: "bluesky", credentials: api.bluesky.credentials(handle) } })
    assert.strictEqual(answer.status, 201, JSON.stringify(answer.body))
    return answer.body.id as string
  })

/** A second organization's key, made with the admin key. */
const otherOrganization = (api: ApiServer, name: string) =>
  Effect.gen(function*() {
    const admin = { ...api, key: api.adminKey }
    const org = yield* request(admin, "POST", "/v1/admin/organizations", { body: { name } })
    assert.strictEqual(org.status, 201, JSON.stringify(org.body))
    const key = yield* request(admin, "POST", `/v1/admin/organizations/${org.body.id}/keys`, { body: { name: "first" } })
    assert.strictEqual(key.status, 201, JSON.stringify(key.body))
    return { ...api, key: key.body.key as string }
  })

const ids = (group: { accounts: ReadonlyArray<{ id: string }> }) => group.accounts.map((a) => a.id)

for (const kind of testKinds) {
  describe(`account groups (${kind})`, () => {
    layer(apiLayer(kind, {}, { scheduler: false }), { timeout: 120_000, excludeTestServices: true })((it) => {
      it.effect("create, list with accounts, get, rename, add, remove, delete (the accounts stay)", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const alice = yield* connectBluesky(api)
          const bob = yield* connectAnother(api, "bob.crud.test")
          const created = yield* request(api, "POST", "/v1/groups", { body: { name: "Launch", accountIds: [bob, alice, bob] } })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          assert.match(created.body.id, /^grp_/)
          assert.strictEqual(created.body.name, "Launch")
          assert.deepStrictEqual(ids(created.body), [bob, alice], "in the order given, once each")
          assert.strictEqual(created.body.accounts[0].platform, "bluesky")
          const group = created.body.id as string

          const got = yield* request(api, "GET", `/v1/groups/${group}`)
          assert.strictEqual(got.status, 200)
          assert.deepStrictEqual(ids(got.body), [bob, alice])

          const renamed = yield* request(api, "PATCH", `/v1/groups/${group}`, { body: { name: "Launch day" } })
          assert.strictEqual(renamed.status, 200, JSON.stringify(renamed.body))
          assert.strictEqual(renamed.body.name, "Launch day")

          const removed = yield* request(api, "POST", `/v1/groups/${group}/accounts/remove`, { body: { accountIds: [bob, "acc_not_there"] } })
          assert.strictEqual(removed.status, 200, JSON.stringify(removed.body))
          assert.deepStrictEqual(ids(removed.body), [alice])
          const added = yield* request(api, "POST", `/v1/groups/${group}/accounts`, { body: { accountIds: [alice, bob] } })
          assert.strictEqual(added.status, 200, JSON.stringify(added.body))
          assert.deepStrictEqual(ids(added.body), [alice, bob], "an account already in stays where it was")

          const empty = yield* request(api, "POST", "/v1/groups", { body: { name: "Empty" } })
          assert.strictEqual(empty.status, 201)
          assert.deepStrictEqual(empty.body.accounts, [])
          const listed = yield* request(api, "GET", "/v1/groups")
          assert.strictEqual(listed.status, 200)
          const byId = new Map(listed.body.data.map((g: any) => [g.id, g]))
          assert.deepStrictEqual(ids(byId.get(group) as any), [alice, bob], "listed with their accounts")
          assert.isTrue(byId.has(empty.body.id))

          const deleted = yield* request(api, "DELETE", `/v1/groups/${group}`)
          assert.strictEqual(deleted.status, 204)
          assert.strictEqual((yield* request(api, "GET", `/v1/groups/${group}`)).status, 404)
          assert.strictEqual(errorCode(yield* request(api, "DELETE", `/v1/groups/${group}`)), "GROUP_NOT_FOUND")
          // The accounts stay connected.
          assert.strictEqual((yield* request(api, "GET", `/v1/accounts/${alice}`)).status, 200)
          assert.strictEqual((yield* request(api, "GET", `/v1/accounts/${bob}`)).status, 200)
          // Disconnecting an account takes it out of its groups, not the group away.
          const team = yield* request(api, "POST", "/v1/groups", { body: { name: "Team", accountIds: [alice, bob] } })
          assert.strictEqual((yield* request(api, "DELETE", `/v1/accounts/${bob}`)).status, 204)
          assert.deepStrictEqual(ids((yield* request(api, "GET", `/v1/groups/${team.body.id}`)).body), [alice])
        }))

      it.effect("strict, bounded bodies; duplicate names are 409 GROUP_NAME_TAKEN; unknown accounts are INVALID_ACCOUNTS", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const alice = yield* connectBluesky(api)
          const unknown = yield* request(api, "POST", "/v1/groups", { body: { name: "Typo", acountIds: [alice] } })
          assert.strictEqual(unknown.status, 400)
          assert.strictEqual(errorCode(unknown), "UNKNOWN_FIELD")
          assert.include(JSON.stringify(unknown.body.error), "acountIds")

          for (const name of ["", "   ", "n".repeat(101)]) {
            const bad = yield* request(api, "POST", "/v1/groups", { body: { name } })
            assert.strictEqual(bad.status, 400, `name ${JSON.stringify(name)}: ${JSON.stringify(bad.body)}`)
            assert.strictEqual(errorCode(bad), "VALIDATION_FAILED")
          }
          const longest = yield* request(api, "POST", "/v1/groups", { body: { name: "n".repeat(100) } })
          assert.strictEqual(longest.status, 201, "100 characters is the longest name")

          const tooMany = Array.from({ length: 101 }, (_, i) => `acc_${i}`)
          const overfull = yield* request(api, "POST", "/v1/groups", { body: { name: "Too many", accountIds: tooMany } })
          assert.strictEqual(overfull.status, 400)
          assert.strictEqual(errorCode(overfull), "VALIDATION_FAILED")

          const first = yield* request(api, "POST", "/v1/groups", { body: { name: "Press" } })
          assert.strictEqual(first.status, 201)
          const again = yield* request(api, "POST", "/v1/groups", { body: { name: "PRESS" } })
          assert.strictEqual(again.status, 409, JSON.stringify(again.body))
          assert.strictEqual(errorCode(again), "GROUP_NAME_TAKEN")
          const other = yield* request(api, "POST", "/v1/groups", { body: { name: "Other" } })
          const clash = yield* request(api, "PATCH", `/v1/groups/${other.body.id}`, { body: { name: "press" } })
          assert.strictEqual(clash.status, 409)
          assert.strictEqual(errorCode(clash), "GROUP_NAME_TAKEN")
          const sameName = yield* request(api, "PATCH", `/v1/groups/${first.body.id}`, { body: { name: "press" } })
          assert.strictEqual(sameName.status, 200, "a group may change its own name's case")

          const noAccount = yield* request(api, "POST", "/v1/groups", { body: { name: "Ghosts", accountIds: [alice, "acc_missing"] } })
          assert.strictEqual(noAccount.status, 400)
          assert.strictEqual(errorCode(noAccount), "INVALID_ACCOUNTS")
          assert.deepStrictEqual(noAccount.body.error.details.accountIds, ["acc_missing"])
          const noneToAdd = yield* request(api, "POST", `/v1/groups/${first.body.id}/accounts`, { body: { accountIds: [] } })
          assert.strictEqual(noneToAdd.status, 400)
        }))

      it.effect("another organization's group and accounts are unknown (404 / INVALID_ACCOUNTS)", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const alice = yield* connectBluesky(api)
          const mine = yield* request(api, "POST", "/v1/groups", { body: { name: "Mine", accountIds: [alice] } })
          const other = yield* otherOrganization(api, "Tenant B")
          for (const [method, path, body] of [
            ["GET", `/v1/groups/${mine.body.id}`, undefined],
            ["PATCH", `/v1/groups/${mine.body.id}`, { name: "Stolen" }],
            ["DELETE", `/v1/groups/${mine.body.id}`, undefined],
            ["POST", `/v1/groups/${mine.body.id}/accounts`, { accountIds: [alice] }],
            ["POST", `/v1/groups/${mine.body.id}/accounts/remove`, { accountIds: [alice] }]
          ] as const) {
            const answer = yield* request(other, method, path, body === undefined ? {} : { body })
            assert.strictEqual(answer.status, 404, `${method} ${path}`)
            assert.strictEqual(errorCode(answer), "GROUP_NOT_FOUND")
          }
          assert.deepStrictEqual((yield* request(other, "GET", "/v1/groups")).body.data, [])
          // The same name is free in another organization; my account is not theirs to add.
          const theirs = yield* request(other, "POST", "/v1/groups", { body: { name: "Mine" } })
          assert.strictEqual(theirs.status, 201)
          const borrowed = yield* request(other, "POST", `/v1/groups/${theirs.body.id}/accounts`, { body: { accountIds: [alice] } })
          assert.strictEqual(borrowed.status, 400)
          assert.strictEqual(errorCode(borrowed), "INVALID_ACCOUNTS")
          // Nor can a post of theirs target my group.
          const post = yield* request(other, "POST", "/v1/posts", {
            body: { content: { text: "hi" }, destinations: [{ groupId: mine.body.id }], status: "draft" }
          })
          assert.strictEqual(post.status, 404)
          assert.strictEqual(errorCode(post), "GROUP_NOT_FOUND")
          assert.strictEqual((yield* request(api, "GET", `/v1/groups/${mine.body.id}`)).body.name, "Mine")
        }))

      it.effect("a post targets a group: one destination per account, accounts named directly keep their entry, overrides apply", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const alice = yield* connectBluesky(api)
          const carol = yield* connectAnother(api, "carol.posts.test")
          const dave = yield* connectAnother(api, "dave.posts.test")
          const group = yield* request(api, "POST", "/v1/groups", { body: { name: "Everyone", accountIds: [alice, carol, dave] } })
          const created = yield* request(api, "POST", "/v1/posts", {
            body: {
              content: { text: "To the group" },
              destinations: [
                { accountId: carol, override: { text: "Carol's own" } },
                { groupId: group.body.id, override: { text: "From the group" } }
              ],
              platformOverrides: { bluesky: { text: "Bluesky version" } },
              status: "draft"
            }
          })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          const destinations = created.body.destinations as Array<any>
          assert.deepStrictEqual(destinations.map((d) => d.accountId), [carol, alice, dave], "deduplicated, in order")
          assert.deepStrictEqual(destinations.map((d) => d.override?.text), ["Carol's own", "From the group", "From the group"])
          assert.isTrue(destinations.every((d) => d.platform === "bluesky"))
          assert.strictEqual(created.body.platformOverrides.bluesky.text, "Bluesky version")

          // The dry run expands the same way; an empty group, an unknown one, or both ids at once are refused.
          const valid = yield* request(api, "POST", "/v1/posts/validate", {
            body: { content: { text: "hi" }, destinations: [{ groupId: group.body.id }] }
          })
          assert.strictEqual(valid.status, 200, JSON.stringify(valid.body))
          assert.isTrue(valid.body.valid)
          const empty = yield* request(api, "POST", "/v1/groups", { body: { name: "Nobody" } })
          const toEmpty = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "hi" }, destinations: [{ groupId: empty.body.id }], status: "draft" }
          })
          assert.strictEqual(toEmpty.status, 400, JSON.stringify(toEmpty.body))
          assert.strictEqual(errorCode(toEmpty), "EMPTY_GROUP")
          const toUnknown = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "hi" }, destinations: [{ groupId: "grp_missing" }], status: "draft" }
          })
          assert.strictEqual(toUnknown.status, 404)
          assert.strictEqual(errorCode(toUnknown), "GROUP_NOT_FOUND")
          assert.deepStrictEqual(toUnknown.body.error.details.path, ["destinations", 0, "groupId"])
          for (const destination of [{ accountId: alice, groupId: group.body.id }, {}, { groupId: group.body.id, platform: "bluesky" }]) {
            const bad = yield* request(api, "POST", "/v1/posts", {
              body: { content: { text: "hi" }, destinations: [destination], status: "draft" }
            })
            assert.strictEqual(bad.status, 400, JSON.stringify(destination))
            assert.strictEqual(errorCode(bad), "VALIDATION_FAILED")
          }

          // An update may retarget a draft at a group too.
          const draft = yield* request(api, "POST", "/v1/posts", {
            body: { content: { text: "later" }, destinations: [{ accountId: alice }], status: "draft" }
          })
          const retargeted = yield* request(api, "PATCH", `/v1/posts/${draft.body.id}`, { body: { destinations: [{ groupId: group.body.id }] } })
          assert.strictEqual(retargeted.status, 200, JSON.stringify(retargeted.body))
          assert.deepStrictEqual(retargeted.body.destinations.map((d: any) => d.accountId), [alice, carol, dave])
        }))

      it.effect("the CLI: groups create, list, rename, add, remove, delete through the server; refusals carry the API's code", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const env = { OMNIPOST_URL: api.url, OMNIPOST_API_KEY: api.key }
          const alice = yield* connectBluesky(api)
          const erin = yield* connectAnother(api, "erin.cli.test")
          const created = JSON.parse(yield* cli(["groups", "create", "--name", "From the CLI", "--account", alice], env))
          assert.match(created.id, /^grp_/)
          assert.deepStrictEqual(ids(created), [alice])
          const added = JSON.parse(yield* cli(["groups", "add", created.id, "--account", erin], env))
          assert.deepStrictEqual(ids(added), [alice, erin])
          const renamed = JSON.parse(yield* cli(["groups", "rename", created.id, "--name", "CLI crew"], env))
          assert.strictEqual(renamed.name, "CLI crew")
          const removed = JSON.parse(yield* cli(["groups", "remove", created.id, "--account", alice], env))
          assert.deepStrictEqual(ids(removed), [erin])
          const listed = JSON.parse(yield* cli(["groups", "list"], env)) as Array<any>
          assert.deepStrictEqual(ids(listed.find((g) => g.id === created.id)), [erin])
          const taken = yield* Effect.flip(cli(["groups", "create", "--name", "cli CREW"], env))
          assert.include(String((taken as any).code ?? (taken as any).message), "GROUP_NAME_TAKEN")
          yield* cli(["groups", "delete", created.id], env)
          assert.strictEqual((yield* request(api, "GET", `/v1/groups/${created.id}`)).status, 404)
          const gone = yield* Effect.flip(cli(["groups", "delete", created.id], env))
          assert.include(String((gone as any).code ?? (gone as any).message), "GROUP_NOT_FOUND")
        }))
    })
  })
}
