/**
 * Authentication and the rate limit in one database round trip.
 *
 * Every request used to pay three: the key's lookup, the `last_used_at`
 * write, and the limiter's `INSERT … ON CONFLICT` (`RateLimiter.layer`). This
 * statement does all three: it finds the unrevoked key by its hash, marks it
 * used (at most once a minute), and takes the limiter's GCRA step for it,
 * with the same arithmetic as `RateLimiter` (same float8 operations in the
 * same order), but only for a key the request may use: an organization key of
 * an enabled organization, not expired at `now`, and not read-only unless the
 * method reads. A key refused for any of these is not counted, as before. The
 * middleware still checks all of them itself; it takes the limiter's step
 * separately (`RateLimiter.take`) whenever this statement did not.
 *
 * Its commit does not wait for the WAL flush (`synchronous_commit = off`,
 * for this statement's transaction only): what it writes is a counter and a
 * last-used time, and waiting for a disk flush on every request (GETs
 * included) was the largest part of a request's time on a busy machine. A
 * PostgreSQL crash may forget the last fraction of a second of counts (a
 * client may then make that many more requests); it never makes a revoked
 * key valid: the key's lookup reads committed state as before.
 *
 * `admitWith` runs a read in the same statement, of the organization the key
 * belongs to and only when the key is admitted (its limit allows the
 * request): a `GET /v1/posts/:id` is then one round trip, not two (see
 * `Admission`).
 *
 * @example
 * const admitted = yield* (yield* KeyGate).admit(rawKey, { method: "GET", defaultLimitPerMinute: 600 })
 * // Option<{ key: AuthenticatedKey, decision: RateDecision | undefined }>
 */
import { Clock, Context, Effect, Layer, Option } from "effect"
import { SqlClient, type SqlError, type Statement } from "effect/sql"
import { type AuthenticatedKey, type AuthenticatedKeyRow, hashKey, isWellFormed, toAuthenticatedKey } from "../storage/ApiKeys.js"
import { decisionOf, limitOf, type RateDecision, windowMs } from "./RateLimiter.js"

export interface Admitted {
  readonly key: AuthenticatedKey
  /** The rate limit's decision for this request; undefined when the key was not counted (it is refused). */
  readonly decision: RateDecision | undefined
}

export interface AdmitOptions {
  readonly method: string
  readonly defaultLimitPerMinute: number
}

/** `admitWith`'s answer: the key (none: no such unrevoked key) and the read's row, when the key was admitted and the read found one. */
export interface AdmittedWith<Row> {
  readonly admitted: Option.Option<Admitted>
  readonly row: Row | undefined
}

export interface KeyGateShape {
  readonly admit: (rawKey: string, options: AdmitOptions) => Effect.Effect<Option.Option<Admitted>, SqlError.SqlError>
  /**
   * `admit` and, in the same statement, `read` (a query of at most one row)
   * for the key's organization (`organizationId`: a fragment naming it), run
   * only when the key is admitted: of an organization, allowed the method,
   * within its limit. A key refused for any reason reads nothing.
   */
  readonly admitWith: <Row extends object>(
    rawKey: string,
    options: AdmitOptions,
    read: (organizationId: Statement.Fragment) => Statement.Statement<Row>
  ) => Effect.Effect<AdmittedWith<Row>, SqlError.SqlError>
}

type GateRow = AuthenticatedKeyRow & { readonly tat: number | string | null; readonly allowed: boolean | null }

/** Whether a read-only key may make a request with this method. */
export const reads = (method: string) => method === "GET" || method === "HEAD"

export class KeyGate extends Context.Service<KeyGate, KeyGateShape>()("@omnipost/worker/KeyGate") {
  static readonly layer: Layer.Layer<KeyGate, never, SqlClient.SqlClient> = Layer.effect(
    KeyGate,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      /**
       * The gate's common table expressions, ending with `gate`: the key found
       * (unrevoked, by its hash) with the limiter's step taken for it when the
       * request may use it (`tat`, `allowed`; null when not counted).
       */
      const gateCtes = (rawKey: string, options: AdmitOptions, now: number) =>
        // `interval` and the threshold as RateLimiter computes them: 60000 / limit; now + 60000 - interval + 1e-6.
        sql`found AS (
            SELECT k.id, k.scope, k.organization_id, k.rate_limit_per_minute, o.disabled_at, k.expires_at, k.read_only, k.last_used_at
            FROM api_keys k LEFT JOIN organizations o ON o.id = k.organization_id
            WHERE k.key_hash = ${hashKey(rawKey)} AND k.revoked_at IS NULL
          ), used AS (
            UPDATE api_keys SET last_used_at = now()
            WHERE id IN (SELECT id FROM found WHERE last_used_at IS NULL OR last_used_at < now() - interval '1 minute')
          ), eligible AS (
            SELECT id AS key,
              ${windowMs}::float8 / GREATEST(1, trunc(COALESCE(rate_limit_per_minute::float8, ${limitOf(options.defaultLimitPerMinute)}::float8))) AS step
            FROM found
            WHERE scope = 'organization' AND organization_id IS NOT NULL AND disabled_at IS NULL
              AND (expires_at IS NULL OR EXTRACT(EPOCH FROM expires_at) * 1000 > ${now})
              AND (NOT read_only OR ${reads(options.method)})
          ), counted AS (
            INSERT INTO rate_limits AS r (key, tat, allowed)
            SELECT key, ${now}::float8 + step, true FROM eligible
            ON CONFLICT (key) DO UPDATE SET
              allowed = r.tat <= ${now}::float8 + ${windowMs}::float8 - (SELECT step FROM eligible) + 1e-6::float8,
              tat = CASE WHEN r.tat <= ${now}::float8 + ${windowMs}::float8 - (SELECT step FROM eligible) + 1e-6::float8
                THEN GREATEST(r.tat, ${now}::float8) + (SELECT step FROM eligible) ELSE r.tat END
            RETURNING key, tat, allowed
          ), gate AS (
            SELECT f.id, f.scope, f.organization_id, f.rate_limit_per_minute, f.disabled_at, f.expires_at, f.read_only, c.tat, c.allowed
            FROM found f LEFT JOIN counted c ON c.key = f.id
          )`

      const admittedOf = (row: GateRow | undefined, options: AdmitOptions, now: number): Option.Option<Admitted> => {
        if (row === undefined) return Option.none()
        const key = toAuthenticatedKey(row)
        const limit = limitOf(key.rateLimitPerMinute ?? options.defaultLimitPerMinute)
        const decision = row.tat === null || row.allowed === null
          ? undefined
          : decisionOf({ tat: Number(row.tat), allowed: row.allowed }, now, limit)
        return Option.some({ key, decision })
      }

      const admit = Effect.fn("KeyGate.admit")(function*(rawKey: string, options: AdmitOptions) {
        if (!isWellFormed(rawKey)) return Option.none<Admitted>()
        const now = yield* Clock.currentTimeMillis
        // The commit does not wait for the WAL flush (see above): set for this statement's transaction only.
        const rows = yield* sql<GateRow>`
          WITH ${gateCtes(rawKey, options, now)}
          SELECT *, set_config('synchronous_commit', 'off', true) AS commit_mode FROM gate`
        return admittedOf(rows[0], options, now)
      })

      const admitWith = <Row extends object>(
        rawKey: string,
        options: AdmitOptions,
        read: (organizationId: Statement.Fragment) => Statement.Statement<Row>
      ): Effect.Effect<AdmittedWith<Row>, SqlError.SqlError> =>
        Effect.gen(function*() {
          if (!isWellFormed(rawKey)) return { admitted: Option.none<Admitted>(), row: undefined }
          const now = yield* Clock.currentTimeMillis
          // The gate's columns under names no read uses (a read's columns must not start with `gate_`); the
          // read's beside them, all null when it found nothing or did not run (`ON g.allowed`: only for an
          // admitted key, which is of an organization).
          const rows = yield* sql<Record<string, unknown>>`
            WITH ${gateCtes(rawKey, options, now)}
            SELECT g.id AS gate_id, g.scope AS gate_scope, g.organization_id AS gate_organization_id,
              g.rate_limit_per_minute AS gate_rate_limit_per_minute, g.disabled_at AS gate_disabled_at,
              g.expires_at AS gate_expires_at, g.read_only AS gate_read_only, g.tat AS gate_tat, g.allowed AS gate_allowed,
              set_config('synchronous_commit', 'off', true) AS gate_commit_mode, r.*
            FROM gate g LEFT JOIN LATERAL (
              SELECT q.*, true AS gate_read_found FROM (${read(sql`g.organization_id`)}) q
            ) r ON g.allowed`
          const first = rows[0]
          if (first === undefined) return { admitted: Option.none<Admitted>(), row: undefined }
          const gateRow: Record<string, unknown> = {}
          const readRow: Record<string, unknown> = {}
          for (const [column, value] of Object.entries(first)) {
            if (column.startsWith("gate_")) gateRow[column.slice(5)] = value
            else readRow[column] = value
          }
          const admitted = admittedOf(gateRow as unknown as GateRow, options, now)
          return { admitted, row: gateRow.read_found === true ? readRow as Row : undefined }
        })

      return KeyGate.of({ admit, admitWith })
    })
  )
}
