/**
 * `Idempotency-Key` for POST requests: the first request with a key stores
 * its response; a repeat with the same method, path and body gets that
 * response again without running anything; the same key with a different
 * request is a conflict. A repeat that arrives while the first is still
 * running is a conflict too (the client should retry it later), so a request
 * never runs twice.
 *
 * Keys are scoped to the organization and kept for 24 hours (the window
 * Stripe documents for its idempotency keys).
 */
import { Context, Effect, Layer } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { createHash } from "node:crypto"

export const retentionHours = 24

export interface StoredResponse {
  readonly status: number
  readonly body: unknown
}

export type Reservation =
  | { readonly _tag: "Reserved" }
  | { readonly _tag: "Replay"; readonly response: StoredResponse }
  | { readonly _tag: "Mismatch" }
  | { readonly _tag: "InProgress" }

export interface IdempotencyShape {
  readonly reserve: (options: {
    readonly organizationId: string
    readonly key: string
    readonly method: string
    readonly path: string
    readonly requestHash: string
  }) => Effect.Effect<Reservation, SqlError.SqlError>
  readonly complete: (organizationId: string, key: string, response: StoredResponse) => Effect.Effect<void, SqlError.SqlError>
  /** Forgets a reservation whose request failed before producing a response worth replaying. */
  readonly release: (organizationId: string, key: string) => Effect.Effect<void, SqlError.SqlError>
}

export const hashRequest = (parts: ReadonlyArray<string>): string => {
  const hash = createHash("sha256")
  for (const part of parts) hash.update(part).update("\u0000")
  return hash.digest("hex")
}

export class Idempotency extends Context.Service<Idempotency, IdempotencyShape>()("@omnipost/worker/Idempotency") {
  static readonly layer: Layer.Layer<Idempotency, never, SqlClient.SqlClient> = Layer.effect(
    Idempotency,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const reserve: IdempotencyShape["reserve"] = (options) =>
        Effect.gen(function*() {
          // An expired key is forgotten, so it can be reused.
          yield* sql`DELETE FROM idempotency_keys
            WHERE organization_id = ${options.organizationId} AND key = ${options.key}
              AND created_at < now() - make_interval(hours => ${retentionHours})`
          const inserted = yield* sql<{ key: string }>`
            INSERT INTO idempotency_keys (organization_id, key, method, path, request_hash)
            VALUES (${options.organizationId}, ${options.key}, ${options.method}, ${options.path}, ${options.requestHash})
            ON CONFLICT (organization_id, key) DO NOTHING
            RETURNING key`
          if (inserted.length > 0) return { _tag: "Reserved" } as const
          const rows = yield* sql<{
            method: string
            path: string
            request_hash: string
            response_status: number | null
            response_body: unknown
          }>`SELECT method, path, request_hash, response_status, response_body FROM idempotency_keys
             WHERE organization_id = ${options.organizationId} AND key = ${options.key}`
          const row = rows[0]
          if (row === undefined) return { _tag: "InProgress" } as const
          if (row.method !== options.method || row.path !== options.path || row.request_hash !== options.requestHash) {
            return { _tag: "Mismatch" } as const
          }
          if (row.response_status === null) return { _tag: "InProgress" } as const
          const body = typeof row.response_body === "string" ? JSON.parse(row.response_body) : row.response_body
          return { _tag: "Replay", response: { status: row.response_status, body } } as const
        }).pipe(Effect.withSpan("Idempotency.reserve"))

      const complete: IdempotencyShape["complete"] = (organizationId, key, response) =>
        sql`UPDATE idempotency_keys
            SET response_status = ${response.status}, response_body = ${JSON.stringify(response.body ?? null)}::jsonb
            WHERE organization_id = ${organizationId} AND key = ${key}`.pipe(Effect.asVoid)

      const release: IdempotencyShape["release"] = (organizationId, key) =>
        sql`DELETE FROM idempotency_keys
            WHERE organization_id = ${organizationId} AND key = ${key} AND response_status IS NULL`.pipe(Effect.asVoid)

      return Idempotency.of({ reserve, complete, release })
    })
  )
}

