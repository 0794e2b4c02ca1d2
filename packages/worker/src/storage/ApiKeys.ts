/**
 * API keys and the organizations they belong to.
 *
 * A raw key (`omp_` + 40 random base32 characters, 200 bits) is returned once
 * when created; only its SHA-256 is stored, so a database leak does not leak
 * usable keys. A hash lookup is enough (no slow KDF) because the key itself
 * has 200 bits of entropy, which is also what lets every request authenticate
 * with one indexed query.
 *
 * A key has a scope: an `organization` key acts for its organization (every
 * `/v1` endpoint but `/v1/admin`) and is refused while the organization is
 * disabled; an `admin` key belongs to no organization and only manages them
 * (`/v1/admin/organizations…`). A fresh install's first start creates the
 * first organization with a key, and the first admin key.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { createHash, randomBytes } from "node:crypto"
import type { InvalidCursor } from "./Cursor.js"
import * as Ids from "./Ids.js"
import * as Paging from "./Paging.js"
import * as Organizations from "./Organizations.js"

/** A key as listed: never the key itself, only its prefix. */
export const ApiKeyView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  /** The first characters of the key, to tell keys apart. */
  prefix: Schema.String,
  rateLimitPerMinute: Schema.optional(Schema.Number),
  createdAt: Schema.String,
  lastUsedAt: Schema.optional(Schema.String),
  revokedAt: Schema.optional(Schema.String),
  /** After this instant the key is refused (EXPIRED_API_KEY); absent: it does not expire. */
  expiresAt: Schema.optional(Schema.String),
  /** The key may only read (GET, HEAD); anything else answers 403 READ_ONLY_API_KEY. */
  readOnly: Schema.Boolean
})
export type ApiKeyView = typeof ApiKeyView.Type

export const CreatedApiKey = Schema.Struct({
  ...ApiKeyView.fields,
  /** The raw key. Shown once: only its hash is stored. */
  key: Schema.String
})
export type CreatedApiKey = typeof CreatedApiKey.Type

export type AuthenticatedKey =
  | {
    readonly scope: "organization"
    readonly id: string
    readonly organizationId: string
    /** The organization is disabled: the key must be refused. */
    readonly organizationDisabled: boolean
    readonly rateLimitPerMinute: number | undefined
    /** When the key stops working (ISO 8601); undefined: never. */
    readonly expiresAt: string | undefined
    readonly readOnly: boolean
  }
  | {
    readonly scope: "admin"
    readonly id: string
    readonly rateLimitPerMinute: number | undefined
    readonly expiresAt: string | undefined
    readonly readOnly: boolean
  }

/** What a first start creates: the first organization's key, and the first admin key beside it. */
export type FirstKeys = CreatedApiKey & { readonly organizationId: string; readonly adminKey: CreatedApiKey }

export interface ApiKeysShape {
  /** The key behind a raw key, if it exists and is not revoked. */
  readonly authenticate: (rawKey: string) => Effect.Effect<Option.Option<AuthenticatedKey>, SqlError.SqlError>
  /** When a raw key that does not authenticate was revoked: its id and when (asked only on that failure path). */
  readonly revocation: (
    rawKey: string
  ) => Effect.Effect<Option.Option<{ readonly id: string; readonly revokedAt: string }>, SqlError.SqlError>
  readonly create: (options: KeyOptions & { readonly organizationId: string }) => Effect.Effect<CreatedApiKey, SqlError.SqlError>
  readonly list: (organizationId: string) => Effect.Effect<ReadonlyArray<ApiKeyView>, SqlError.SqlError>
  /** One page of `list`: by cursor, or by offset with a total (oldest first). */
  readonly listPage: (
    organizationId: string,
    page: Paging.PageRequest
  ) => Effect.Effect<Paging.Page<ApiKeyView>, InvalidCursor | SqlError.SqlError>
  /** `false` when no such (unrevoked) key exists in that organization. */
  readonly revoke: (organizationId: string, id: string) => Effect.Effect<boolean, SqlError.SqlError>
  /** An admin key (it manages organizations; it acts for none). */
  readonly createAdmin: (options: KeyOptions) => Effect.Effect<CreatedApiKey, SqlError.SqlError>
  readonly listAdmin: Effect.Effect<ReadonlyArray<ApiKeyView>, SqlError.SqlError>
  /** `false` when no such (unrevoked) admin key exists. */
  readonly revokeAdmin: (id: string) => Effect.Effect<boolean, SqlError.SqlError>
  readonly createOrganization: (name: string) => Effect.Effect<string, SqlError.SqlError>
  /**
   * For a first start with no configuration: when no organization exists yet,
   * creates one with its first key, and the first admin key, and returns them;
   * otherwise nothing.
   */
  readonly bootstrap: Effect.Effect<Option.Option<FirstKeys>, SqlError.SqlError>
  /** The organization the CLI acts for: the oldest one, created if there is none. */
  readonly defaultOrganization: Effect.Effect<string, SqlError.SqlError>
}

const alphabet = "0123456789abcdefghjkmnpqrstvwxyz"

/** A new raw key: `omp_` + 40 base32 characters (200 random bits). */
export const generateRawKey = (): string => {
  const bytes = randomBytes(40)
  let out = "omp_"
  for (const byte of bytes) out += alphabet[byte & 31]!
  return out
}

export const hashKey = (rawKey: string): string => createHash("sha256").update(rawKey, "utf8").digest("hex")

const iso = (value: unknown): string | undefined =>
  value === null || value === undefined ? undefined : new Date(value as string | Date).toISOString()

/** Whether a raw key could be one of ours at all (anything else is refused without a query). */
export const isWellFormed = (rawKey: string) => rawKey.startsWith("omp_") && rawKey.length <= 200

/** The columns an authentication reads (`ApiKeys.authenticate`, and `KeyGate`'s statement). */
export interface AuthenticatedKeyRow {
  readonly id: string
  readonly scope: "organization" | "admin"
  readonly organization_id: string | null
  readonly rate_limit_per_minute: number | null
  readonly disabled_at: Date | string | null
  readonly expires_at: Date | string | null
  readonly read_only: boolean
}

export const toAuthenticatedKey = (row: AuthenticatedKeyRow): AuthenticatedKey => {
  const rateLimitPerMinute = row.rate_limit_per_minute ?? undefined
  const limits = { expiresAt: iso(row.expires_at), readOnly: row.read_only }
  return row.scope === "admin" || row.organization_id === null
    ? { scope: "admin", id: row.id, rateLimitPerMinute, ...limits }
    : {
      scope: "organization",
      id: row.id,
      organizationId: row.organization_id,
      organizationDisabled: row.disabled_at !== null,
      rateLimitPerMinute,
      ...limits
    }
}

/** What a new key may be given besides its name. */
export interface KeyOptions {
  readonly name: string
  readonly rateLimitPerMinute?: number | undefined
  /** ISO 8601 instant after which the key is refused. */
  readonly expiresAt?: string | undefined
  readonly readOnly?: boolean | undefined
}

interface KeyRow {
  readonly id: string
  readonly name: string
  readonly prefix: string
  readonly rate_limit_per_minute: number | null
  readonly created_at: Date | string
  readonly last_used_at: Date | string | null
  readonly revoked_at: Date | string | null
  readonly expires_at: Date | string | null
  readonly read_only: boolean
}

const toView = (row: KeyRow): ApiKeyView => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  ...(row.rate_limit_per_minute !== null ? { rateLimitPerMinute: row.rate_limit_per_minute } : {}),
  createdAt: iso(row.created_at)!,
  ...(row.last_used_at !== null ? { lastUsedAt: iso(row.last_used_at)! } : {}),
  ...(row.revoked_at !== null ? { revokedAt: iso(row.revoked_at)! } : {}),
  ...(row.expires_at !== null ? { expiresAt: iso(row.expires_at)! } : {}),
  readOnly: row.read_only
})

export class ApiKeys extends Context.Service<ApiKeys, ApiKeysShape>()("@omnipost/worker/ApiKeys") {
  static readonly layer: Layer.Layer<ApiKeys, never, SqlClient.SqlClient> = Layer.effect(
    ApiKeys,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient

      const revocation = Effect.fn("ApiKeys.revocation")(function*(rawKey: string) {
        if (!isWellFormed(rawKey)) return Option.none()
        const rows = yield* sql<{ id: string; revoked_at: Date | string }>`
          SELECT id, revoked_at FROM api_keys WHERE key_hash = ${hashKey(rawKey)} AND revoked_at IS NOT NULL`
        const row = rows[0]
        return row === undefined
          ? Option.none()
          : Option.some({ id: row.id, revokedAt: new Date(row.revoked_at).toISOString() })
      })

      const authenticate = Effect.fn("ApiKeys.authenticate")(function*(rawKey: string) {
        if (!isWellFormed(rawKey)) return Option.none<AuthenticatedKey>()
        const rows = yield* sql<AuthenticatedKeyRow>`
          WITH found AS (
            SELECT k.id, k.scope, k.organization_id, k.rate_limit_per_minute, o.disabled_at, k.expires_at, k.read_only, k.last_used_at
            FROM api_keys k LEFT JOIN organizations o ON o.id = k.organization_id
            WHERE k.key_hash = ${hashKey(rawKey)} AND k.revoked_at IS NULL
          ), used AS (
            -- Written at most once a minute per key (so authentication is mostly a read), in the same round trip.
            UPDATE api_keys SET last_used_at = now()
            WHERE id IN (SELECT id FROM found WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
          )
          SELECT id, scope, organization_id, rate_limit_per_minute, disabled_at, expires_at, read_only FROM found`
        const row = rows[0]
        return row === undefined ? Option.none<AuthenticatedKey>() : Option.some(toAuthenticatedKey(row))
      })

      const insertKey = (organizationId: string | null, options: KeyOptions) =>
        Effect.gen(function*() {
          const raw = generateRawKey()
          const rows = yield* sql<KeyRow>`
            INSERT INTO api_keys (id, organization_id, scope, name, prefix, key_hash, rate_limit_per_minute, expires_at, read_only)
            VALUES (${Ids.make("key")}, ${organizationId}, ${organizationId === null ? "admin" : "organization"},
                    ${options.name}, ${raw.slice(0, 12)}, ${hashKey(raw)}, ${options.rateLimitPerMinute ?? null},
                    ${options.expiresAt ?? null}, ${options.readOnly ?? false})
            RETURNING id, name, prefix, rate_limit_per_minute, created_at, last_used_at, revoked_at, expires_at, read_only`
          return { ...toView(rows[0]!), key: raw }
        })

      const create = Effect.fn("ApiKeys.create")(function*(options: KeyOptions & { readonly organizationId: string }) {
        return yield* insertKey(options.organizationId, options)
      })

      const createAdmin = Effect.fn("ApiKeys.createAdmin")(function*(options: KeyOptions) {
        return yield* insertKey(null, options)
      })

      const listAdmin = sql<KeyRow>`
        SELECT id, name, prefix, rate_limit_per_minute, created_at, last_used_at, revoked_at, expires_at, read_only
        FROM api_keys WHERE scope = 'admin' ORDER BY created_at, id`.pipe(Effect.map((rows) => rows.map(toView)))

      const revokeAdmin = (id: string) =>
        sql<{ id: string }>`
          UPDATE api_keys SET revoked_at = now()
          WHERE id = ${id} AND scope = 'admin' AND revoked_at IS NULL
          RETURNING id`.pipe(Effect.map((rows) => rows.length > 0))

      const list = (organizationId: string) =>
        sql<KeyRow>`
          SELECT id, name, prefix, rate_limit_per_minute, created_at, last_used_at, revoked_at, expires_at, read_only
          FROM api_keys WHERE organization_id = ${organizationId} ORDER BY created_at, id`.pipe(
          Effect.map((rows) => rows.map(toView))
        )

      const revoke = (organizationId: string, id: string) =>
        sql<{ id: string }>`
          UPDATE api_keys SET revoked_at = now()
          WHERE id = ${id} AND organization_id = ${organizationId} AND revoked_at IS NULL
          RETURNING id`.pipe(Effect.map((rows) => rows.length > 0))

      const createOrganization = (name: string) =>
        Organizations.insert(sql, name).pipe(Effect.map((organization) => organization.id))

      const defaultOrganization = sql.withTransaction(
        Effect.gen(function*() {
          const rows = yield* sql<{ id: string }>`SELECT id FROM organizations ORDER BY created_at, id LIMIT 1`
          return rows[0]?.id ?? (yield* createOrganization("default"))
        })
      )

      const bootstrap = sql.withTransaction(
        Effect.gen(function*() {
          // Serializes concurrent first starts on one database.
          yield* sql`SELECT pg_advisory_xact_lock(7031)`
          const existing = yield* sql<{ id: string }>`SELECT id FROM organizations LIMIT 1`
          if (existing.length > 0) return Option.none<FirstKeys>()
          const organizationId = yield* createOrganization("default")
          const key = yield* create({ organizationId, name: "first key" })
          const adminKey = yield* createAdmin({ name: "first admin key" })
          return Option.some<FirstKeys>({ ...key, organizationId, adminKey })
        })
      )

      return ApiKeys.of({
        authenticate,
        revocation,
        create,
        list,
        listPage: (organizationId, page) =>
          Paging.query<KeyRow>(sql, {
            list: "keys",
            from: "api_keys",
            columns: "id, name, prefix, rate_limit_per_minute, created_at, last_used_at, revoked_at, expires_at, read_only",
            where: sql`organization_id = ${organizationId}`
          }, page).pipe(Effect.map((found) => ({ ...found, items: found.items.map(toView) }))),
        revoke,
        createAdmin,
        listAdmin,
        revokeAdmin,
        createOrganization,
        bootstrap,
        defaultOrganization
      })
    })
  )
}
