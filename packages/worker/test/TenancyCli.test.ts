/**
 * Tenancy through the CLI (issue 18): two organizations; every command that
 * takes an id (`status`, `groups rename|delete|add|remove|create`, `post
 * --account`, `keys revoke`) run with the second organization's key and the
 * first one's ids fails with a not-found code (`INVALID_ACCOUNTS` for an
 * account named in a body), prints none of the first's data, and changes
 * nothing of it; the listing commands show none of it.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import type { ApiCallFailed } from "../src/cli/Client.js"
import { apiLayer, connectBluesky, request, TestApi } from "./apiHarness.js"
import { cli } from "./cliHarness.js"

const refusedCodes = ["POST_NOT_FOUND", "GROUP_NOT_FOUND", "ACCOUNT_NOT_FOUND", "API_KEY_NOT_FOUND", "INVALID_ACCOUNTS", "NOT_FOUND"]

describe("tenancy through the CLI (pglite)", () => {
  layer(apiLayer("pglite", {}, { scheduler: false }), { timeout: 180_000, excludeTestServices: true })((it) => {
    it.effect("every command with the other organization's ids: refused, no data, no change", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const accountId = yield* connectBluesky(api)
        const post = yield* request(api, "POST", "/v1/posts", {
          body: { content: { text: "first org's post" }, destinations: [{ accountId }], scheduledAt: "2031-01-01T10:00:00Z" }
        })
        const group = yield* request(api, "POST", "/v1/groups", { body: { name: "First's group", accountIds: [accountId] } })
        const keys = yield* request(api, "GET", "/v1/keys")
        const postId = post.body.id as string
        const groupId = group.body.id as string
        const keyId = ((keys.body.data ?? keys.body) as Array<{ id: string }>)[0]!.id
        const snapshot = Effect.gen(function*() {
          return JSON.stringify([
            (yield* request(api, "GET", `/v1/posts/${postId}`)).body,
            (yield* request(api, "GET", `/v1/groups/${groupId}`)).body,
            (yield* request(api, "GET", "/v1/accounts")).body,
            (yield* request(api, "GET", "/v1/keys")).body
          ])
        })
        const before = yield* snapshot

        const asAdmin = { ...api, key: api.adminKey }
        const other = yield* request(asAdmin, "POST", "/v1/admin/organizations", { body: { name: "Other" } })
        const otherKey = yield* request(asAdmin, "POST", `/v1/admin/organizations/${other.body.id}/keys`, { body: { name: "other cli" } })
        assert.strictEqual(otherKey.status, 201, JSON.stringify(otherKey.body))
        const env = { OMNIPOST_URL: api.url, OMNIPOST_API_KEY: otherKey.body.key as string }
        const ownGroup = yield* request({ ...api, key: env.OMNIPOST_API_KEY }, "POST", "/v1/groups", { body: { name: "Other's group" } })

        const commands: ReadonlyArray<ReadonlyArray<string>> = [
          ["status", postId],
          ["groups", "rename", groupId, "--name", "Renamed"],
          ["groups", "delete", groupId],
          ["groups", "add", groupId, "--account", accountId],
          ["groups", "add", ownGroup.body.id, "--account", accountId],
          ["groups", "remove", groupId, "--account", accountId],
          ["groups", "create", "--name", "Stolen", "--account", accountId],
          ["post", "from the other organization", "--account", accountId, "--draft"],
          ["post", "from the other organization", "--account", accountId],
          ["keys", "revoke", keyId]
        ]
        for (const args of commands) {
          const failure = (yield* cli(args, env).pipe(Effect.flip)) as ApiCallFailed
          assert.include(refusedCodes, failure.code, `${args.join(" ")}: ${failure.code} ${failure.message}`)
          assert.notInclude(JSON.stringify(failure), "first org's post", args.join(" "))
          assert.notInclude(JSON.stringify(failure), "First's group", args.join(" "))
        }
        for (const args of [["accounts", "list"], ["groups", "list"], ["keys", "list"]]) {
          const printed = yield* cli(args, env)
          for (const value of [accountId, groupId, keyId, "First's group"]) assert.notInclude(printed, value, args.join(" "))
        }
        assert.strictEqual(yield* snapshot, before, "the first organization's post, group, accounts or keys changed")
        console.log(`tenancy (CLI): ${commands.length} commands with the other organization's ids, all refused`)
      }))
  })
})
