/**
 * Connected accounts and their sealed credentials.
 *
 * Operations (all scoped to an organization unless marked internal):
 * - `connect`: insert an account, or reconnect an existing one (same
 *   organization, platform and platform account id): credentials re-sealed,
 *   status back to `active`;
 * - `get` / `list` (filter by platform) / `remove`: accounts without secrets;
 * - `recall`: an account as this process last read it (`recallMs`), for
 *   validation ahead of a write that checks the account again itself;
 * - `credentials` (internal, for publishing): the decrypted credentials JSON;
 * - `updateCredentials` (internal): after a refresh; a refresh token is never
 *   replaced by an empty value (some platforms omit it from refresh answers);
 * - `setStatus` (internal): `needs_reconnect` after an auth failure;
 * - `refuse` (internal): the platform refused the token (core's
 *   `AccountHealth.refusalOf`): `needs_reconnect`, and the refusal kept for
 *   the account's token health; `checked` (internal): a check succeeded,
 *   the refusal cleared, the account `active` again;
 * - `updateProfile` (internal): who the account is and its platform details,
 *   as the platform answered a refresh's check;
 * - `rotateKeys`: re-seals every account credential and webhook secret not
 *   sealed with the current key; returns how many rows it re-sealed.
 *
 * Credentials are sealed with `Crypto` and bound to the row (`account:<id>`),
 * so a ciphertext copied to another row fails to open.
 */
import { type AccountHealth, Credentials, Lru, Publisher } from "@omnipost/core"
import { Clock, Context, Effect, Layer, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { Crypto, type DecryptionFailed } from "./Crypto.js"
import type { InvalidCursor } from "./Cursor.js"
import * as Ids from "./Ids.js"
import * as Paging from "./Paging.js"
import { iso, isoOrUndefined } from "./internal/rows.js"

export class AccountNotFound extends Schema.TaggedError<AccountNotFound>()("AccountNotFound", {
  accountId: Schema.String,
  message: Schema.String
}) {}

export type AccountStatus = "active" | "needs_reconnect" | "disconnected"

/** An account as the API shows it: never its credentials. */
export interface Account {
  readonly id: string
  readonly organizationId: string
  readonly platform: string
  readonly platformAccountId: string
  readonly username: string
  readonly displayName?: string | undefined
  readonly avatarUrl?: string | undefined
  readonly tokenExpiresAt?: string | undefined
  /** What the platform says about the account (core's `PlatformDetails`: TikTok's creator info). */
  readonly details?: Publisher.PlatformDetails | undefined
  /** What the platform last said of a refused token, until a check succeeds. */
  readonly tokenRefusal?: AccountHealth.Refusal | undefined
  /** The scopes the platform granted, when its credentials say. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** The last successful check with the platform (connect or refresh). */
  readonly checkedAt?: string | undefined
  readonly status: AccountStatus
  readonly createdAt: string
  readonly updatedAt: string
}

export interface ConnectAccount {
  readonly organizationId: string
  readonly platform: string
  readonly platformAccountId: string
  readonly username: string
  readonly displayName?: string | undefined
  readonly avatarUrl?: string | undefined
  readonly tokenExpiresAt?: Date | string | undefined
  readonly details?: Publisher.PlatformDetails | undefined
  readonly scopes?: ReadonlyArray<string> | undefined
  readonly credentials: unknown
}

/** An `accounts` row as selected with `accountColumns`. */
export interface AccountRow {
  readonly id: string
  readonly organization_id: string
  readonly platform: string
  readonly platform_account_id: string
  readonly username: string
  readonly display_name: string | null
  readonly avatar_url: string | null
  readonly token_expires_at: Date | null
  readonly platform_details: unknown
  readonly token_refusal: AccountHealth.Refusal | null
  readonly scopes: unknown
  readonly checked_at: Date | null
  readonly status: AccountStatus
  readonly created_at: Date
  readonly updated_at: Date
}

/** The stored details (PGlite may hand jsonb back as text). */
const detailsOf = (value: unknown): { readonly details?: Publisher.PlatformDetails } => {
  const parsed = typeof value === "string" ? JSON.parse(value) as unknown : value
  const details = parsed === null || parsed === undefined ? undefined : Publisher.boundedPlatformDetails(parsed)
  return details !== undefined ? { details } : {}
}

const scopesOf = (value: unknown): { readonly scopes?: ReadonlyArray<string> } => {
  const parsed = typeof value === "string" ? JSON.parse(value) as unknown : value
  return Array.isArray(parsed) ? { scopes: parsed.filter((s): s is string => typeof s === "string") } : {}
}

/** Scopes as a jsonb parameter (text, cast in SQL); null when unknown. */
const scopesParam = (scopes: ReadonlyArray<string> | undefined): string | null =>
  scopes === undefined ? null : JSON.stringify(scopes.slice(0, 100).map((s) => s.slice(0, 200)))

export const toAccount = (row: AccountRow): Account => ({
  id: row.id,
  organizationId: row.organization_id,
  platform: row.platform,
  platformAccountId: row.platform_account_id,
  username: row.username,
  displayName: row.display_name ?? undefined,
  avatarUrl: row.avatar_url ?? undefined,
  tokenExpiresAt: isoOrUndefined(row.token_expires_at),
  ...detailsOf(row.platform_details),
  ...(row.token_refusal !== null ? { tokenRefusal: row.token_refusal } : {}),
  ...scopesOf(row.scopes),
  ...(row.checked_at !== null ? { checkedAt: iso(row.checked_at) } : {}),
  status: row.status,
  createdAt: iso(row.created_at),
  updatedAt: iso(row.updated_at)
})

/** A token's expiry as stored: null when unknown or not a valid instant (a plugin's odd value never fails the write). */
const expiryOf = (value: Date | string | undefined): Date | null => {
  if (value === undefined) return null
  const date = new Date(value)
  return Number.isNaN(date.getTime()) ? null : date
}

/** Details as a jsonb parameter (text, cast in SQL): within core's bound, else none. */
const detailsParam = (details: Publisher.PlatformDetails | undefined): string | null => {
  const bounded = details === undefined ? undefined : Publisher.boundedPlatformDetails(details)
  return bounded === undefined ? null : JSON.stringify(bounded)
}

export const accountColumns = "id, organization_id, platform, platform_account_id, username, display_name, avatar_url, token_expires_at, platform_details, token_refusal, scopes, checked_at, status, created_at, updated_at"

export const credentialsAad = (accountId: string) => `account:${accountId}`
export const webhookSecretAad = (webhookId: string) => `webhook:${webhookId}`

/** How long `recall` answers an account from memory; how many accounts it remembers. */
export const recallMs = 30_000
export const recallCapacity = 4_096

export class AccountStore extends Context.Service<AccountStore, {
  readonly connect: (input: ConnectAccount) => Effect.Effect<Account, SqlError.SqlError>
  readonly get: (organizationId: string, accountId: string) => Effect.Effect<Account, AccountNotFound | SqlError.SqlError>
  /**
   * The account as `get` read it in this process at most `recallMs` ago, else
   * read now. Only for a check that a later write repeats on its own
   * (`PostStore.create` refuses an unknown, foreign, mismatched or
   * disconnected account in its statement): another process may have
   * removed or disconnected the account since. Disconnected accounts are not
   * remembered; every `get`, and every change made here, updates the memory.
   */
  readonly recall: (organizationId: string, accountId: string) => Effect.Effect<Account, AccountNotFound | SqlError.SqlError>
  readonly list: (
    organizationId: string,
    filter?: { readonly platform?: string | undefined }
  ) => Effect.Effect<ReadonlyArray<Account>, SqlError.SqlError>
  /** One page of `list`: by cursor, or by offset with a total (oldest first). */
  readonly listPage: (
    organizationId: string,
    filter: { readonly platform?: string | undefined },
    page: Paging.PageRequest
  ) => Effect.Effect<Paging.Page<Account>, InvalidCursor | SqlError.SqlError>
  readonly remove: (organizationId: string, accountId: string) => Effect.Effect<void, AccountNotFound | SqlError.SqlError>
  /** Internal: the decrypted credentials, for a publisher. */
  readonly credentials: (
    accountId: string
  ) => Effect.Effect<unknown, AccountNotFound | DecryptionFailed | SqlError.SqlError>
  /** Internal: stores refreshed credentials, keeping a refresh token the new set leaves empty. */
  readonly updateCredentials: (
    accountId: string,
    credentials: unknown,
    tokenExpiresAt?: Date | string | undefined,
    scopes?: ReadonlyArray<string> | undefined
  ) => Effect.Effect<void, AccountNotFound | DecryptionFailed | SqlError.SqlError>
  readonly setStatus: (accountId: string, status: AccountStatus) => Effect.Effect<void, SqlError.SqlError>
  /** Internal: the platform refused the token: `needs_reconnect`, the refusal kept for the token's health. */
  readonly refuse: (accountId: string, refusal: AccountHealth.Refusal) => Effect.Effect<void, SqlError.SqlError>
  /** Internal: a check with the platform succeeded: the refusal cleared, `active` again. */
  readonly checked: (accountId: string) => Effect.Effect<void, SqlError.SqlError>
  /** Internal: the profile a platform check answered (username, names, avatar, details); absent fields keep their value. */
  readonly updateProfile: (accountId: string, profile: Publisher.AccountProfile) => Effect.Effect<void, SqlError.SqlError>
  /** Re-seals everything not sealed with the current key. */
  readonly rotateKeys: Effect.Effect<{ readonly accounts: number; readonly webhooks: number }, DecryptionFailed | SqlError.SqlError>
}>()("@omnipost/worker/AccountStore") {
  static readonly layer = Layer.effect(AccountStore)(Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const crypto = yield* Crypto

    const findRow = (accountId: string, organizationId?: string) =>
      sql.unsafe<AccountRow>(
        `SELECT ${accountColumns} FROM accounts WHERE id = $1${organizationId === undefined ? "" : " AND organization_id = $2"}`,
        organizationId === undefined ? [accountId] : [accountId, organizationId]
      ).pipe(
        Effect.flatMap((rows) =>
          rows.length === 0
            ? Effect.fail(new AccountNotFound({ accountId, message: `no account ${accountId}` }))
            : Effect.succeed(rows[0]!)
        )
      )

    // `recall`'s memory: accounts by id, with their organization and when they were read.
    const remembered = new Lru<string, { readonly organizationId: string; readonly account: Account; readonly at: number }>(
      recallCapacity
    )
    const forget = <A, E>(accountId: string) => (effect: Effect.Effect<A, E>) =>
      Effect.ensuring(effect, Effect.sync(() => remembered.delete(accountId)))
    const read = (organizationId: string, accountId: string) =>
      findRow(accountId, organizationId).pipe(
        Effect.map(toAccount),
        Effect.tap((account) =>
          Effect.map(Clock.currentTimeMillis, (at) => {
            if (account.status === "disconnected") remembered.delete(accountId)
            else remembered.set(accountId, { organizationId, account, at })
          })
        ),
        Effect.tapError(() => Effect.sync(() => remembered.delete(accountId)))
      )
    const recall = (organizationId: string, accountId: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const memory = remembered.get(accountId)
        return memory !== undefined && memory.organizationId === organizationId && now >= memory.at && now - memory.at < recallMs
          ? Effect.succeed(memory.account)
          : read(organizationId, accountId)
      })

    const readCredentials = Effect.fn("AccountStore.credentials")(function*(accountId: string, lock: boolean) {
      const rows = yield* sql<{ credentials_ciphertext: string; credentials_key_id: string }>`
        SELECT credentials_ciphertext, credentials_key_id FROM accounts WHERE id = ${accountId} ${sql.literal(lock ? "FOR UPDATE" : "")}`
      if (rows.length === 0) return yield* new AccountNotFound({ accountId, message: `no account ${accountId}` })
      return yield* crypto.openJson(
        { ciphertext: rows[0]!.credentials_ciphertext, keyId: rows[0]!.credentials_key_id },
        credentialsAad(accountId)
      )
    })

    const connect = Effect.fn("AccountStore.connect")(function*(input: ConnectAccount) {
      const existing = yield* sql<{ id: string }>`
        SELECT id FROM accounts
        WHERE organization_id = ${input.organizationId} AND platform = ${input.platform}
          AND platform_account_id = ${input.platformAccountId}`
      const id = existing[0]?.id ?? Ids.make("acc")
      const sealed = crypto.sealJson(input.credentials, credentialsAad(id))
      const expires = expiryOf(input.tokenExpiresAt)
      const details = detailsParam(input.details)
      const rows = yield* sql<AccountRow>`
        INSERT INTO accounts (id, organization_id, platform, platform_account_id, username, display_name, avatar_url,
          credentials_ciphertext, credentials_key_id, token_expires_at, platform_details, scopes, checked_at, status)
        VALUES (${id}, ${input.organizationId}, ${input.platform}, ${input.platformAccountId}, ${input.username},
          ${input.displayName ?? null}, ${input.avatarUrl ?? null}, ${sealed.ciphertext}, ${sealed.keyId}, ${expires},
          ${details}::jsonb, ${scopesParam(input.scopes)}::jsonb, now(), 'active')
        ON CONFLICT (organization_id, platform, platform_account_id) DO UPDATE SET
          username = EXCLUDED.username, display_name = EXCLUDED.display_name, avatar_url = EXCLUDED.avatar_url,
          credentials_ciphertext = EXCLUDED.credentials_ciphertext, credentials_key_id = EXCLUDED.credentials_key_id,
          token_expires_at = EXCLUDED.token_expires_at, platform_details = EXCLUDED.platform_details,
          scopes = EXCLUDED.scopes, checked_at = EXCLUDED.checked_at, token_refusal = NULL,
          status = 'active', updated_at = now()
        RETURNING ${sql.literal(accountColumns)}`
      return toAccount(rows[0]!)
    })

    const updateCredentials = Effect.fn("AccountStore.updateCredentials")(function*(
      accountId: string,
      credentials: unknown,
      tokenExpiresAt?: Date | string | undefined,
      scopes?: ReadonlyArray<string> | undefined
    ) {
      const previous = yield* readCredentials(accountId, true)
      const sealed = crypto.sealJson(Credentials.keepRefreshToken(previous, credentials), credentialsAad(accountId))
      const expires = expiryOf(tokenExpiresAt)
      yield* sql`
        UPDATE accounts SET credentials_ciphertext = ${sealed.ciphertext}, credentials_key_id = ${sealed.keyId},
          token_expires_at = COALESCE(${expires}, token_expires_at),
          scopes = COALESCE(${scopesParam(scopes)}::jsonb, scopes), updated_at = now()
        WHERE id = ${accountId}`
    }, sql.withTransaction)

    /**
     * Re-seals every row of one table whose key is not the current one, in batches,
     * each in its own transaction, so a large table does not hold one long lock.
     */
    const resealTable = (
      table: "accounts" | "webhooks",
      ciphertextColumn: string,
      keyIdColumn: string,
      aadOf: (id: string) => string
    ) =>
      Effect.gen(function*() {
        const current = crypto.keyring.current.id
        let total = 0
        while (true) {
          const batch = yield* Effect.gen(function*() {
            const rows = yield* sql<{ id: string; ciphertext: string; key_id: string }>`
              SELECT id, ${sql(ciphertextColumn)} AS ciphertext, ${sql(keyIdColumn)} AS key_id FROM ${sql(table)}
              WHERE ${sql(keyIdColumn)} <> ${current} ORDER BY id LIMIT 100 FOR UPDATE SKIP LOCKED`
            for (const row of rows) {
              const plain = yield* crypto.open({ ciphertext: row.ciphertext, keyId: row.key_id }, aadOf(row.id))
              const sealed = crypto.seal(plain, aadOf(row.id))
              yield* sql`UPDATE ${sql(table)} SET ${sql(ciphertextColumn)} = ${sealed.ciphertext}, ${sql(keyIdColumn)} = ${sealed.keyId} WHERE id = ${row.id}`
            }
            return rows.length
          }).pipe(sql.withTransaction)
          total += batch
          if (batch === 0) return total
        }
      })

    const rotateKeys = Effect.gen(function*() {
      const accounts = yield* resealTable("accounts", "credentials_ciphertext", "credentials_key_id", credentialsAad)
      const webhooks = yield* resealTable("webhooks", "secret_ciphertext", "secret_key_id", webhookSecretAad)
      return { accounts, webhooks }
    }).pipe(Effect.withSpan("AccountStore.rotateKeys"))

    return {
      connect: (input) => connect(input).pipe(Effect.tap((account) => Effect.sync(() => remembered.delete(account.id)))),
      get: read,
      recall,
      list: (organizationId, filter) =>
        (filter?.platform === undefined
          ? sql<AccountRow>`SELECT ${sql.literal(accountColumns)} FROM accounts WHERE organization_id = ${organizationId} ORDER BY created_at, id`
          : sql<AccountRow>`SELECT ${sql.literal(accountColumns)} FROM accounts WHERE organization_id = ${organizationId} AND platform = ${filter.platform} ORDER BY created_at, id`
        ).pipe(Effect.map((rows) => rows.map(toAccount))),
      listPage: (organizationId, filter, page) =>
        Paging.query<AccountRow>(sql, {
          list: "accounts",
          from: "accounts",
          columns: accountColumns,
          where: filter.platform === undefined
            ? sql`organization_id = ${organizationId}`
            : sql`organization_id = ${organizationId} AND platform = ${filter.platform}`
        }, page).pipe(Effect.map((found) => ({ ...found, items: found.items.map(toAccount) }))),
      remove: (organizationId, accountId) =>
        sql<{ id: string }>`DELETE FROM accounts WHERE id = ${accountId} AND organization_id = ${organizationId} RETURNING id`.pipe(
          Effect.flatMap((rows) =>
            rows.length === 0 ? Effect.fail(new AccountNotFound({ accountId, message: `no account ${accountId}` })) : Effect.void
          ),
          forget(accountId)
        ),
      credentials: (accountId) => readCredentials(accountId, false),
      updateCredentials,
      setStatus: (accountId, status) =>
        sql`UPDATE accounts SET status = ${status}, updated_at = now() WHERE id = ${accountId}`.pipe(Effect.asVoid, forget(accountId)),
      refuse: (accountId, refusal) =>
        sql`UPDATE accounts SET status = 'needs_reconnect', token_refusal = ${refusal}, updated_at = now() WHERE id = ${accountId}`.pipe(
          Effect.asVoid,
          forget(accountId)
        ),
      checked: (accountId) =>
        sql`UPDATE accounts SET status = 'active', token_refusal = NULL, checked_at = now(), updated_at = now() WHERE id = ${accountId}`
          .pipe(Effect.asVoid, forget(accountId)),
      updateProfile: (accountId, profile) =>
        sql`
          UPDATE accounts SET username = ${profile.username},
            display_name = COALESCE(${profile.displayName ?? null}, display_name),
            avatar_url = COALESCE(${profile.avatarUrl ?? null}, avatar_url),
            platform_details = COALESCE(${detailsParam(profile.details)}::jsonb, platform_details), updated_at = now()
          WHERE id = ${accountId}`.pipe(Effect.asVoid),
      rotateKeys
    }
  }))
}
