/**
 * Tenancy for the operator: an admin key creates, lists, disables and
 * enables organizations and creates their first keys (`/v1/admin`, and the
 * CLI's `orgs` and `keys --org`); an organization's key gets 403 there, an
 * admin key gets 403 on an organization's endpoints, and a disabled
 * organization's keys are refused while the others keep working.
 */
import { assert, describe, it, layer } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { Migrator, SqlClient } from "effect/sql"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ApiKeys, hashKey } from "../src/storage/ApiKeys.js"
import { layerMigratedBefore, testKinds } from "./fixtures.js"
import { health, Leases } from "../src/storage/Leases.js"
import { migrations } from "../src/storage/Migrations.js"
import { cli } from "./cliHarness.js"
import { type ApiServer, apiLayer, errorCode, request, TestApi } from "./apiHarness.js"

const asAdmin = (api: ApiServer) => ({ ...api, key: api.adminKey })

for (const kind of testKinds) {
  describe(`organizations (${kind})`, () => {
    layer(apiLayer(kind, {}, { scheduler: false }), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("an admin key creates an organization and its first key; the new key acts for it alone", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const admin = asAdmin(api)
          const created = yield* request(admin, "POST", "/v1/admin/organizations", { body: { name: "Acme" } })
          assert.strictEqual(created.status, 201, JSON.stringify(created.body))
          assert.strictEqual(created.body.name, "Acme")
          assert.match(created.body.id, /^org_/)
          assert.isUndefined(created.body.disabledAt)
          const acme = created.body.id as string

          const key = yield* request(admin, "POST", `/v1/admin/organizations/${acme}/keys`, { body: { name: "acme first" } })
          assert.strictEqual(key.status, 201, JSON.stringify(key.body))
          const acmeApi = { ...api, key: key.body.key as string, organizationId: acme }

          // The first organization's post is not the new one's, and the other way round.
          const mine = yield* request(api, "POST", "/v1/posts/validate", { body: { content: { text: "x" }, destinations: [] } })
          assert.strictEqual(mine.status, 200)
          const draft = yield* request(acmeApi, "POST", "/v1/webhooks", {
            body: { url: "http://127.0.0.1:9/hook", secret: "0123456789abcdef", events: ["post.published"] }
          })
          assert.strictEqual(draft.status, 201, JSON.stringify(draft.body))
          assert.deepStrictEqual((yield* request(api, "GET", "/v1/webhooks")).body, [])
          assert.strictEqual((yield* request(api, "GET", `/v1/webhooks/${draft.body.id}/deliveries`)).status, 404)
          const acmeKeys = yield* request(acmeApi, "GET", "/v1/keys")
          assert.deepStrictEqual(acmeKeys.body.map((k: { id: string }) => k.id), [key.body.id])

          const listedKeys = yield* request(admin, "GET", `/v1/admin/organizations/${acme}/keys`)
          assert.deepStrictEqual(listedKeys.body.map((k: { id: string }) => k.id), [key.body.id])
          const fetched = yield* request(admin, "GET", `/v1/admin/organizations/${acme}`)
          assert.deepStrictEqual(fetched.body, created.body)

          // Paging: every organization once, oldest (the first start's) first.
          const seen: Array<string> = []
          let cursor: string | undefined
          do {
            const page = yield* request(admin, "GET", `/v1/admin/organizations?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`)
            assert.strictEqual(page.status, 200, JSON.stringify(page.body))
            assert.isAtMost(page.body.data.length, 1)
            seen.push(...page.body.data.map((o: { id: string }) => o.id))
            cursor = page.body.nextCursor
          } while (cursor !== undefined)
          assert.strictEqual(seen[0], api.organizationId)
          assert.include(seen, acme)
          assert.strictEqual(new Set(seen).size, seen.length)
        }))

      it.effect("scopes: an organization's key gets 403 on /v1/admin, an admin key 403 on an organization's endpoints", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const admin = asAdmin(api)
          const org = api.organizationId
          const adminCalls: ReadonlyArray<readonly [string, string, unknown?]> = [
            ["POST", "/v1/admin/organizations", { name: "nope" }],
            ["GET", "/v1/admin/organizations"],
            ["GET", `/v1/admin/organizations/${org}`],
            ["POST", `/v1/admin/organizations/${org}/disable`],
            ["POST", `/v1/admin/organizations/${org}/enable`],
            ["POST", `/v1/admin/organizations/${org}/keys`, { name: "nope" }],
            ["GET", `/v1/admin/organizations/${org}/keys`]
          ]
          for (const [method, path, body] of adminCalls) {
            const answer = yield* request(api, method, path, body === undefined ? {} : { body })
            assert.strictEqual(answer.status, 403, `${method} ${path}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(errorCode(answer), "ADMIN_KEY_REQUIRED")
            const anonymous = yield* request(api, method, path, { key: null, ...(body === undefined ? {} : { body }) })
            assert.strictEqual(anonymous.status, 401)
            assert.strictEqual(errorCode(anonymous), "INVALID_API_KEY")
          }
          // Nothing was disabled or created by the refused calls.
          const orgs = yield* request(admin, "GET", "/v1/admin/organizations?limit=100")
          assert.notInclude(orgs.body.data.map((o: { name: string }) => o.name), "nope")
          assert.isUndefined(orgs.body.data.find((o: { id: string }) => o.id === org).disabledAt)

          for (const [method, path] of [["GET", "/v1/posts"], ["GET", "/v1/keys"], ["POST", "/v1/keys"], ["GET", "/v1/accounts"]] as const) {
            const answer = yield* request(admin, method, path, method === "POST" ? { body: { name: "x" } } : {})
            assert.strictEqual(answer.status, 403, `${method} ${path}: ${JSON.stringify(answer.body)}`)
            assert.strictEqual(errorCode(answer), "ORGANIZATION_KEY_REQUIRED")
          }

          const unknown = yield* request(admin, "POST", "/v1/admin/organizations/org_nobody/keys", { body: { name: "x" } })
          assert.strictEqual(unknown.status, 404)
          assert.strictEqual(errorCode(unknown), "ORGANIZATION_NOT_FOUND")
          const unnamed = yield* request(admin, "POST", "/v1/admin/organizations", { body: { name: "" } })
          assert.strictEqual(unnamed.status, 400)
          assert.strictEqual(errorCode(unnamed), "VALIDATION_FAILED")
          const badCursor = yield* request(admin, "GET", "/v1/admin/organizations?cursor=abc")
          assert.strictEqual(badCursor.status, 400)

          const openapi = yield* request(api, "GET", "/openapi.json", { key: null })
          for (const path of ["/v1/admin/organizations", "/v1/admin/organizations/{id}/disable", "/v1/admin/organizations/{id}/keys"]) {
            assert.property(openapi.body.paths, path)
          }
        }))

      it.effect("a disabled organization's keys are refused (403 ORGANIZATION_DISABLED) until it is enabled; others keep working", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const admin = asAdmin(api)
          const beta = (yield* request(admin, "POST", "/v1/admin/organizations", { body: { name: "Beta" } })).body.id as string
          const betaKey = (yield* request(admin, "POST", `/v1/admin/organizations/${beta}/keys`, { body: { name: "b" } })).body.key
          const betaApi = { ...api, key: betaKey as string, organizationId: beta }
          assert.strictEqual((yield* request(betaApi, "GET", "/v1/posts")).status, 200)

          const disabled = yield* request(admin, "POST", `/v1/admin/organizations/${beta}/disable`)
          assert.strictEqual(disabled.status, 200, JSON.stringify(disabled.body))
          assert.isString(disabled.body.disabledAt)
          const again = yield* request(admin, "POST", `/v1/admin/organizations/${beta}/disable`)
          assert.strictEqual(again.body.disabledAt, disabled.body.disabledAt)

          for (const [method, path] of [["GET", "/v1/posts"], ["GET", "/v1/keys"], ["POST", "/v1/keys"]] as const) {
            const refused = yield* request(betaApi, method, path, method === "POST" ? { body: { name: "more" } } : {})
            assert.strictEqual(refused.status, 403, `${method} ${path}`)
            assert.strictEqual(errorCode(refused), "ORGANIZATION_DISABLED")
            assert.strictEqual(refused.body.error.details.organizationId, beta)
          }
          // A key created while disabled is refused too; the other organization is untouched.
          const later = yield* request(admin, "POST", `/v1/admin/organizations/${beta}/keys`, { body: { name: "later" } })
          assert.strictEqual(errorCode(yield* request({ ...betaApi, key: later.body.key }, "GET", "/v1/posts")), "ORGANIZATION_DISABLED")
          assert.strictEqual((yield* request(api, "GET", "/v1/posts")).status, 200)

          const enabled = yield* request(admin, "POST", `/v1/admin/organizations/${beta}/enable`, { body: {} })
          assert.strictEqual(enabled.status, 200)
          assert.isUndefined(enabled.body.disabledAt)
          assert.strictEqual((yield* request(betaApi, "GET", "/v1/posts")).status, 200)
        }))

      it.effect("a disabled organization's scheduled work is held: not claimed (now or ahead), not overdue; enabled, it is claimed", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const admin = asAdmin(api)
          const leases = yield* Leases.pipe(Effect.provide(Leases.layer))
          const held = (yield* request(admin, "POST", "/v1/admin/organizations", { body: { name: "Held" } })).body.id as string
          const key = (yield* request(admin, "POST", `/v1/admin/organizations/${held}/keys`, { body: { name: "h" } })).body.key
          const heldApi = { ...api, key: key as string, organizationId: held }
          const account = yield* request(heldApi, "POST", "/v1/accounts", {
            body: { platform: "bluesky", credentials: api.bluesky.credentials() }
          })
          assert.strictEqual(account.status, 201, JSON.stringify(account.body))
          // Due now; this suite runs no scheduler, so it stays queued.
          const post = yield* request(heldApi, "POST", "/v1/posts", {
            body: { content: { text: "held" }, destinations: [{ accountId: account.body.id }] }
          })
          assert.strictEqual(post.status, 201, JSON.stringify(post.body))
          const mine = <C extends { readonly postId: string }>(claims: ReadonlyArray<C>) => claims.filter((c) => c.postId === post.body.id)
          const later = new Date(Date.now() + 10 * 60_000)
          const overdue = () => health({ now: later, overdueAfterMs: 0 }).pipe(Effect.map((h) => h.overdue))
          const before = yield* overdue()
          assert.isAtLeast(before, 1)

          yield* request(admin, "POST", `/v1/admin/organizations/${held}/disable`)
          assert.deepStrictEqual(mine(yield* leases.claim({ workerId: "wrk_held", now: later, leaseMs: 1_000, limit: 1_000 })), [])
          const ahead = yield* leases.claimUpcoming({
            workerId: "wrk_held",
            now: later,
            until: new Date(later.getTime() + 60_000),
            leaseMs: 1_000,
            limit: 1_000,
            platforms: ["bluesky"]
          })
          assert.deepStrictEqual(mine(ahead.map((u) => u.claim)), [])
          assert.strictEqual(yield* overdue(), before - 1)

          yield* request(admin, "POST", `/v1/admin/organizations/${held}/enable`)
          assert.strictEqual(yield* overdue(), before)
          const claimed = mine(yield* leases.claim({ workerId: "wrk_held", now: later, leaseMs: 1_000, limit: 1_000 }))
          assert.strictEqual(claimed.length, 1)
          assert.strictEqual(claimed[0]!.organizationId, held)
        }))

      it.effect("the CLI: orgs create, keys create --org, orgs list, orgs disable (through the server, with the admin key)", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const env = { OMNIPOST_URL: api.url, OMNIPOST_API_KEY: api.adminKey }
          const created = JSON.parse(yield* cli(["orgs", "create", "--name", "Gamma"], env))
          assert.strictEqual(created.name, "Gamma")
          const key = JSON.parse(yield* cli(["keys", "create", "--org", created.id, "--name", "gamma first"], env))
          assert.match(key.key, /^omp_/)
          const gammaApi = { ...api, key: key.key as string, organizationId: created.id as string }
          assert.strictEqual((yield* request(gammaApi, "GET", "/v1/posts")).status, 200)
          const listed = JSON.parse(yield* cli(["orgs", "list"], env))
          assert.include(listed.map((o: { id: string }) => o.id), created.id)
          const disabled = JSON.parse(yield* cli(["orgs", "disable", created.id], env))
          assert.isString(disabled.disabledAt)
          assert.strictEqual(errorCode(yield* request(gammaApi, "GET", "/v1/posts")), "ORGANIZATION_DISABLED")
          // An organization's key cannot do it.
          const refused = yield* cli(["orgs", "create", "--name", "Delta"], { ...env, OMNIPOST_API_KEY: api.key }).pipe(Effect.flip)
          assert.strictEqual((refused as { code?: string }).code, "ADMIN_KEY_REQUIRED")
        }))
    })
  })
}

describe("the CLI on the database directly (an existing install's first admin key)", () => {
  it.live("keys create --admin, orgs create, keys create --org, keys list --admin", () =>
    Effect.gen(function*() {
      const dataDir = yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "omnipost-orgs-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
      // No DATABASE_URL, no key: PGlite in the data directory, as `omnipost` run beside a stopped server.
      const env = { OMNIPOST_DATA_DIR: dataDir }
      const adminKey = JSON.parse(yield* cli(["keys", "create", "--admin", "--name", "operator"], env))
      assert.match(adminKey.key, /^omp_/)
      const organization = JSON.parse(yield* cli(["orgs", "create", "--name", "Direct"], env))
      const key = JSON.parse(yield* cli(["keys", "create", "--org", organization.id, "--name", "first"], env))
      const admins = JSON.parse(yield* cli(["keys", "list", "--admin"], env))
      assert.deepStrictEqual(admins.map((k: { id: string }) => k.id), [adminKey.id])
      const expiresAt = "2099-01-01T00:00:00.000Z"
      const reader = JSON.parse(yield* cli(["keys", "create", "--org", organization.id, "--name", "reader", "--read-only", "--expires-at", expiresAt], env))
      assert.isTrue(reader.readOnly)
      assert.strictEqual(reader.expiresAt, expiresAt)
      assert.isFalse(key.readOnly)
      for (const bad of ["2020-01-01T00:00:00Z", "2027-02-30T10:00:00Z", "tomorrow"]) {
        const refused = yield* cli(["keys", "create", "--org", organization.id, "--name", "bad", "--expires-at", bad], env).pipe(Effect.flip)
        assert.include(String((refused as Error).message), "--expires-at", bad)
      }
      const keys = JSON.parse(yield* cli(["keys", "list", "--org", organization.id], env))
      assert.deepStrictEqual(keys.map((k: { id: string }) => k.id), [key.id, reader.id])
      const unknown = yield* cli(["keys", "create", "--org", "org_nobody", "--name", "x"], env).pipe(Effect.flip)
      assert.include(String((unknown as Error).message), "no organization org_nobody")
      // Admin keys are never made through a server.
      const remote = yield* cli(["keys", "create", "--admin", "--name", "x"], { ...env, OMNIPOST_API_KEY: adminKey.key }).pipe(Effect.flip)
      assert.include(String((remote as Error).message), "on the database directly")
    }).pipe(Effect.scoped), 120_000)
})

const beforeOrganizations = layerMigratedBefore("0007")

describe.runIf(process.env.DATABASE_URL)("migration 0007 (postgres)", () => {
  layer(beforeOrganizations, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("keys made before the upgrade are organization keys and still authenticate; admin keys belong to none", () =>
      Effect.gen(function*() {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO organizations (id, name) VALUES ('org_old', 'old')`
        yield* sql`INSERT INTO api_keys (id, organization_id, name, prefix, key_hash)
          VALUES ('key_old', 'org_old', 'old', 'omp_old', ${hashKey("omp_oldkey")})`
        yield* Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: "omnipost_migrations" })
        const keys = yield* ApiKeys.pipe(Effect.provide(ApiKeys.layer.pipe(Layer.provide(Layer.succeed(SqlClient.SqlClient, sql)))))
        const old = Option.getOrThrow(yield* keys.authenticate("omp_oldkey"))
        assert.deepStrictEqual(old, { scope: "organization", id: "key_old", organizationId: "org_old", organizationDisabled: false, rateLimitPerMinute: undefined, expiresAt: undefined, readOnly: false })
        const admin = yield* keys.createAdmin({ name: "ops" })
        assert.strictEqual(Option.getOrThrow(yield* keys.authenticate(admin.key)).scope, "admin")
        // The schema holds the rule: an admin key has no organization, an organization key has one.
        const mixed = yield* sql`INSERT INTO api_keys (id, organization_id, scope, name, prefix, key_hash)
          VALUES ('key_bad', 'org_old', 'admin', 'bad', 'omp_bad', 'x')`.pipe(Effect.flip)
        assert.strictEqual(mixed._tag, "SqlError")
      }))
  })
})
