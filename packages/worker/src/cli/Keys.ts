/**
 * `omnipost keys create|list|revoke`: on the database directly (with
 * embedded PGlite, only while the server is stopped), or through a running
 * server when an API key is given; `--org <id>` for an organization's keys,
 * `--admin` for admin keys (on the database only).
 */
import { Schedule } from "@omnipost/core"
import { Clock, Console, Effect, Option, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { call } from "./Client.js"
import { directKeys, directOrganizations, existingOrganization } from "./Direct.js"
import { connection, hasKey, key, orgPath, print, url } from "./Connection.js"

const org = Flag.String("org").pipe(
  Flag.withDescription("An organization's id (`omnipost orgs list`): act on its keys, as an operator (with --key: an admin key)"),
  Flag.optional
)
const admin = Flag.Boolean("admin").pipe(
  Flag.withDescription("Admin keys (they manage organizations): on the database directly, without --key"),
  Flag.withDefault(false)
)

/** `--org` and `--admin` exclude each other; admin keys are managed on the database only. */
const keyOwner = (flags: { readonly org: Option.Option<string>; readonly admin: boolean; readonly key: Option.Option<string> }) =>
  Effect.gen(function*() {
    if (flags.admin && Option.isSome(flags.org)) return yield* Effect.fail(new Error("--admin and --org exclude each other"))
    const remote = yield* hasKey(flags.key)
    if (flags.admin && remote) {
      return yield* Effect.fail(
        new Error("admin keys are managed on the database directly: run without --key and OMNIPOST_API_KEY (on PGlite, with the server stopped)")
      )
    }
    return { remote, admin: flags.admin, org: Option.getOrUndefined(flags.org) }
  })

const keysCreate = Command.make("create", {
  name: Flag.String("name").pipe(Flag.withDescription("What the key is for")),
  rateLimit: Flag.Int("rate-limit").pipe(Flag.withDescription("Requests per minute for this key"), Flag.optional),
  expiresAt: Flag.String("expires-at").pipe(
    Flag.withDescription("When the key stops working: an ISO 8601 instant such as 2027-01-01T00:00:00Z"),
    Flag.optional
  ),
  readOnly: Flag.Boolean("read-only").pipe(Flag.withDescription("The key may only read (GET)"), Flag.withDefault(false)),
  org,
  admin,
  url,
  key
}, (flags) =>
  Effect.gen(function*() {
    const expiresAt = Option.getOrUndefined(flags.expiresAt)
    if (expiresAt !== undefined) {
      // The API checks the same; the direct path must too.
      const parsed = Schedule.parseInstant(expiresAt)
      if (Result.isFailure(parsed)) return yield* Effect.fail(new Error(`--expires-at: ${parsed.failure}`))
      if (Date.parse(expiresAt) <= (yield* Clock.currentTimeMillis)) {
        return yield* Effect.fail(new Error(`--expires-at ${expiresAt} is not in the future`))
      }
    }
    const body = {
      name: flags.name,
      rateLimitPerMinute: Option.getOrUndefined(flags.rateLimit),
      ...(expiresAt !== undefined ? { expiresAt } : {}),
      ...(flags.readOnly ? { readOnly: true } : {})
    }
    const owner = yield* keyOwner(flags)
    const created = owner.remote
      ? yield* call(yield* connection(flags), "POST", owner.org === undefined ? "/v1/keys" : `${orgPath(owner.org)}/keys`, body)
      : owner.admin
      ? yield* directOrganizations(({ keys }) => keys.createAdmin(body))
      : owner.org !== undefined
      ? yield* directOrganizations(({ keys, organizations }) =>
        Effect.gen(function*() {
          const organization = yield* existingOrganization(organizations, owner.org!)
          return yield* keys.create({ organizationId: organization.id, ...body })
        })
      )
      : yield* directKeys((keys, organizationId) => keys.create({ organizationId, ...body }))
    yield* print(created)
    yield* Console.error("The key is shown once: store it now.")
  })).pipe(Command.withDescription("Create an API key (--org: of that organization; --admin: an admin key)"))

const keysList = Command.make("list", { org, admin, url, key }, (flags) =>
  Effect.gen(function*() {
    const owner = yield* keyOwner(flags)
    const list = owner.remote
      ? yield* call(yield* connection(flags), "GET", owner.org === undefined ? "/v1/keys" : `${orgPath(owner.org)}/keys`)
      : owner.admin
      ? yield* directOrganizations(({ keys }) => keys.listAdmin)
      : owner.org !== undefined
      ? yield* directOrganizations(({ keys, organizations }) =>
        Effect.flatMap(existingOrganization(organizations, owner.org!), (organization) => keys.list(organization.id))
      )
      : yield* directKeys((keys, organizationId) => keys.list(organizationId))
    yield* print(list)
  })).pipe(Command.withDescription("List API keys (--org: of that organization; --admin: the admin keys)"))

const keysRevoke = Command.make("revoke", { id: Argument.String("id"), admin, url, key }, (flags) =>
  Effect.gen(function*() {
    const owner = yield* keyOwner({ ...flags, org: Option.none() })
    if (owner.remote) {
      yield* call(yield* connection(flags), "DELETE", `/v1/keys/${encodeURIComponent(flags.id)}`)
    } else {
      const revoked = owner.admin
        ? yield* directOrganizations(({ keys }) => keys.revokeAdmin(flags.id))
        : yield* directKeys((keys, organizationId) => keys.revoke(organizationId, flags.id))
      if (!revoked) return yield* Effect.fail(new Error(`no active ${owner.admin ? "admin " : ""}API key ${flags.id}`))
    }
    yield* Console.log(`revoked ${flags.id}`)
  })).pipe(Command.withDescription("Revoke an API key (--admin: an admin key)"))

export const keysCommand = Command.make("keys").pipe(
  Command.withDescription("Manage API keys"),
  Command.withSubcommands([keysCreate, keysList, keysRevoke])
)
