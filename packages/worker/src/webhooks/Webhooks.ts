/**
 * Webhooks: registration, the delivery log, and delivery.
 *
 * Outcomes come from the scheduler's `events` outbox (written in the same
 * transaction as the state change, see `PostStore.events`). The fan-out turns
 * each event into one delivery row per matching webhook, under a locked
 * cursor, so an event is never lost or fanned out twice. Deliveries are then
 * claimed with `FOR UPDATE SKIP LOCKED` by whichever process has capacity
 * (every process runs the dispatcher, API or scheduler), under a lease of
 * `webhookLeaseMs`: a process that dies holding one leaves it to another once
 * the lease passes, and a late settlement of a lease taken over is dropped
 * (it is settled under its claim's token). Delivery is at least once: a
 * process killed after the receiver got the request but before recording it
 * means a second send, with the same `Omnipost-Delivery` id, which receivers
 * use as the idempotency key. Deliveries are POSTed and retried after `Backoff.delayMs` (exponential, full jitter; a 429 or
 * 503 with `Retry-After` or rate-limit headers is not retried sooner, up to an
 * hour) until `webhookMaxAttempts`.
 *
 * Every delivery is signed: `Omnipost-Signature: v1=<hex>` is the
 * HMAC-SHA256, under the webhook's secret, of `<timestamp>.<body>`, where
 * `<timestamp>` (Unix seconds) is sent as `Omnipost-Timestamp`. Receivers
 * recompute it and reject old timestamps (see `verifySignature`).
 */
import { Backoff } from "@omnipost/core"
import { RateLimit, UrlGuard } from "../internal/platformKit.js"
import { Clock, Context, Duration, Effect, Layer, Option, Random, Schedule, Schema } from "effect"
import { type HttpClient, HttpClientRequest } from "effect/http"
import { SqlClient, type SqlError } from "effect/sql"
import { createHmac, timingSafeEqual } from "node:crypto"
import { webhookSecretAad } from "../storage/AccountStore.js"
import { ServerConfig } from "../Config.js"
import type * as Cursor from "../storage/Cursor.js"
import { Crypto } from "../storage/Crypto.js"
import * as Ids from "../storage/Ids.js"
import * as Outbox from "../storage/Outbox.js"
import * as Paging from "../storage/Paging.js"

/** The outcomes a webhook can subscribe to. */
export const webhookEvents = [
  "post.published",
  "post.partially_failed",
  "post.failed",
  "destination.published",
  "destination.failed"
] as const
export const WebhookEvent = Schema.Literals(webhookEvents)
export type WebhookEvent = typeof WebhookEvent.Type

export const WebhookView = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  events: Schema.Array(WebhookEvent),
  active: Schema.Boolean,
  createdAt: Schema.String
})
export type WebhookView = typeof WebhookView.Type

export const WebhookDeliveryView = Schema.Struct({
  id: Schema.String,
  webhookId: Schema.String,
  event: Schema.String,
  payload: Schema.Unknown,
  status: Schema.Literals(["pending", "delivered", "failed"]),
  attempts: Schema.Number,
  nextAttemptAt: Schema.optional(Schema.String),
  lastStatusCode: Schema.optional(Schema.Number),
  lastError: Schema.optional(Schema.String),
  createdAt: Schema.String,
  deliveredAt: Schema.optional(Schema.String)
})
export type WebhookDeliveryView = typeof WebhookDeliveryView.Type

export const signatureHeader = "omnipost-signature"
export const timestampHeader = "omnipost-timestamp"

/** `v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`. */
export const sign = (secret: string, timestamp: number, body: string): string =>
  `v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`

/**
 * Checks a delivery as a receiver should: the signature matches and the
 * timestamp is within `toleranceSeconds` (default 300) of `nowSeconds`.
 */
export const verifySignature = (options: {
  readonly secret: string
  readonly timestamp: string
  readonly body: string
  readonly signature: string
  readonly nowSeconds: number
  readonly toleranceSeconds?: number
}): boolean => {
  const timestamp = Number(options.timestamp)
  if (!Number.isInteger(timestamp)) return false
  if (Math.abs(options.nowSeconds - timestamp) > (options.toleranceSeconds ?? 300)) return false
  const expected = Buffer.from(sign(options.secret, timestamp, options.body))
  const given = Buffer.from(options.signature)
  return expected.length === given.length && timingSafeEqual(expected, given)
}

/**
 * Delivery retries: `Backoff` with a ceiling of `webhookBackoffBaseMs` doubling
 * per attempt up to an hour, full jitter (receivers that failed together are
 * not all retried at the same instant).
 */
export const deliveryBackoff = (baseMs: number): Backoff.Policy => ({ baseMs, maxMs: 3_600_000 })

interface WebhookRow {
  readonly id: string
  readonly organization_id: string
  readonly url: string
  readonly secret_ciphertext: string
  readonly secret_key_id: string
  readonly events: ReadonlyArray<string>
  readonly active: boolean
  readonly created_at: Date | string
}

interface DeliveryRow {
  readonly id: string
  readonly webhook_id: string
  readonly event: string
  readonly payload: unknown
  readonly status: "pending" | "delivered" | "failed"
  readonly attempts: number
  readonly next_attempt_at: Date | string | null
  readonly last_status_code: number | null
  readonly last_error: string | null
  readonly created_at: Date | string
  readonly delivered_at: Date | string | null
}

interface ClaimedRow extends DeliveryRow {
  readonly url: string
  readonly secret_ciphertext: string
  readonly secret_key_id: string
  readonly lease_token: string
}

const iso = (value: Date | string) => new Date(value).toISOString()

const toView = (row: WebhookRow): WebhookView => ({
  id: row.id,
  url: row.url,
  events: row.events as ReadonlyArray<WebhookEvent>,
  active: row.active,
  createdAt: iso(row.created_at)
})

const toDeliveryView = (row: DeliveryRow): WebhookDeliveryView => ({
  id: row.id,
  webhookId: row.webhook_id,
  event: row.event,
  payload: typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload,
  status: row.status,
  attempts: row.attempts,
  ...(row.next_attempt_at !== null && row.status === "pending" ? { nextAttemptAt: iso(row.next_attempt_at) } : {}),
  ...(row.last_status_code !== null ? { lastStatusCode: row.last_status_code } : {}),
  ...(row.last_error !== null ? { lastError: row.last_error } : {}),
  createdAt: iso(row.created_at),
  ...(row.delivered_at !== null ? { deliveredAt: iso(row.delivered_at) } : {})
})

export interface WebhooksShape {
  readonly create: (organizationId: string, input: {
    readonly url: string
    readonly secret: string
    readonly events: ReadonlyArray<WebhookEvent>
  }) => Effect.Effect<WebhookView, SqlError.SqlError>
  readonly list: (organizationId: string) => Effect.Effect<ReadonlyArray<WebhookView>, SqlError.SqlError>
  /** One page of `list`: by cursor, or by offset with a total (oldest first). */
  readonly listPage: (
    organizationId: string,
    page: Paging.PageRequest
  ) => Effect.Effect<Paging.Page<WebhookView>, Cursor.InvalidCursor | SqlError.SqlError>
  readonly remove: (organizationId: string, id: string) => Effect.Effect<boolean, SqlError.SqlError>
  /** A page of the delivery log, newest first (by cursor, or by offset with a total); none when the webhook is not the organization's. */
  readonly deliveries: (
    organizationId: string,
    webhookId: string,
    page: Paging.PageRequest
  ) => Effect.Effect<Option.Option<Paging.Page<WebhookDeliveryView>>, Cursor.InvalidCursor | SqlError.SqlError>
  /** Turns new outcome events into deliveries; returns how many deliveries it created. */
  readonly fanOut: Effect.Effect<number, SqlError.SqlError>
  /** Sends the deliveries that are due; returns how many it attempted. */
  readonly deliverDue: Effect.Effect<number, SqlError.SqlError>
}

export class Webhooks extends Context.Service<Webhooks, WebhooksShape>()("@omnipost/worker/Webhooks") {
  static readonly layer: Layer.Layer<
    Webhooks,
    never,
    SqlClient.SqlClient | Crypto | ServerConfig | HttpClient.HttpClient
  > = Layer.effect(
    Webhooks,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const crypto = yield* Crypto
      const config = yield* ServerConfig
      // Webhook targets are users' URLs: the guarded client (every hop and DNS answer checked).
      const { client } = yield* UrlGuard.fetcher

      const create: WebhooksShape["create"] = (organizationId, input) => {
        const id = Ids.make("whk")
        const sealed = crypto.seal(input.secret, webhookSecretAad(id))
        return sql<WebhookRow>`
          INSERT INTO webhooks (id, organization_id, url, secret_ciphertext, secret_key_id, events)
          VALUES (${id}, ${organizationId}, ${input.url}, ${sealed.ciphertext}, ${sealed.keyId}, ${
          // A text[] literal: event names are a closed set of `a-z._` words, nothing to escape.
          `{${[...new Set(input.events)].join(",")}}`
        }::text[])
          RETURNING *`.pipe(Effect.map((rows) => toView(rows[0]!)))
      }

      const list = (organizationId: string) =>
        sql<WebhookRow>`SELECT * FROM webhooks WHERE organization_id = ${organizationId} ORDER BY created_at, id`.pipe(
          Effect.map((rows) => rows.map(toView))
        )

      const remove = (organizationId: string, id: string) =>
        sql<{ id: string }>`DELETE FROM webhooks WHERE id = ${id} AND organization_id = ${organizationId} RETURNING id`
          .pipe(Effect.map((rows) => rows.length > 0))

      const listPage: WebhooksShape["listPage"] = (organizationId, page) =>
        Paging.query<WebhookRow>(sql, {
          list: "webhooks",
          from: "webhooks",
          columns: "*",
          where: sql`organization_id = ${organizationId}`
        }, page).pipe(Effect.map((found) => ({ ...found, items: found.items.map(toView) })))

      const deliveries: WebhooksShape["deliveries"] = (organizationId, webhookId, page) =>
        Effect.gen(function*() {
          const owned = yield* sql`SELECT 1 FROM webhooks WHERE id = ${webhookId} AND organization_id = ${organizationId}`
          if (owned.length === 0) return Option.none()
          const found = yield* Paging.query<DeliveryRow>(sql, {
            list: "deliveries",
            from: "webhook_deliveries",
            columns: "*",
            where: sql`webhook_id = ${webhookId}`,
            newestFirst: true
          }, page)
          return Option.some({ ...found, items: found.items.map(toDeliveryView) })
        })

      const fanOut = sql.withTransaction(Effect.gen(function*() {
        const [cursor] = yield* sql<{ last_xid: string; last_event_id: string | number }>`
          SELECT last_xid::text AS last_xid, last_event_id FROM webhook_cursor WHERE name = 'deliveries' FOR UPDATE`
        const events = yield* Outbox.readEvents(sql, {
          after: cursor === undefined ? Outbox.origin : { xid: cursor.last_xid, id: Number(cursor.last_event_id) },
          limit: 500
        })
        if (events.length === 0) return 0
        let created = 0
        for (const event of events) {
          const hooks = yield* sql<{ id: string }>`
            SELECT id FROM webhooks
            WHERE organization_id = ${event.organization_id} AND active AND ${event.type} = ANY(events)`
          for (const hook of hooks) {
            const payload = {
              id: `evt_${event.id}`,
              type: event.type,
              createdAt: iso(event.created_at),
              data: {
                postId: event.post_id,
                ...(event.destination_id !== null ? { destinationId: event.destination_id } : {}),
                ...(typeof event.payload === "string" ? JSON.parse(event.payload) : event.payload as object)
              }
            }
            const inserted = yield* sql`
              INSERT INTO webhook_deliveries (id, webhook_id, organization_id, event, payload, status, next_attempt_at, event_id)
              VALUES (${Ids.make("whd")}, ${hook.id}, ${event.organization_id}, ${event.type},
                      ${JSON.stringify(payload)}::jsonb, 'pending', now(), ${event.id})
              ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING id`
            created += inserted.length
          }
        }
        const last = Outbox.positionOf(events[events.length - 1]!)
        yield* sql`UPDATE webhook_cursor SET last_xid = ${last.xid}::xid8, last_event_id = ${last.id} WHERE name = 'deliveries'`
        return created
      }))

      // A live process settles within its lease: the request is cut at a third of it.
      const requestTimeoutMs = Math.max(100, Math.min(10_000, Math.floor(config.webhookLeaseMs / 3)))

      const deliverOne = (row: ClaimedRow) =>
        Effect.gen(function*() {
          const secret = yield* crypto.open(
            { ciphertext: row.secret_ciphertext, keyId: row.secret_key_id },
            webhookSecretAad(row.webhook_id)
          )
          const body = JSON.stringify(typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload)
          const timestamp = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const response = yield* client.execute(
            HttpClientRequest.post(row.url).pipe(
              HttpClientRequest.setHeaders({
                "content-type": "application/json",
                "user-agent": "omnipost-webhooks/0.1",
                [timestampHeader]: String(timestamp),
                [signatureHeader]: sign(secret, timestamp, body),
                "omnipost-event": row.event,
                "omnipost-delivery": row.id
              }),
              HttpClientRequest.bodyText(body, "application/json")
            )
          ).pipe(Effect.timeout(Duration.millis(requestTimeoutMs)))
          // A receiver that says when to come back (429/503 with Retry-After or rate-limit headers) is not retried sooner.
          const retryAfterMs = response.status === 429 || response.status === 503
            ? RateLimit.parse(response.headers, yield* Clock.currentTimeMillis).waitMs
            : undefined
          return { status: response.status, retryAfterMs }
        }).pipe(
          Effect.map(({ retryAfterMs, status }) => ({
            status,
            retryAfterMs,
            error: status >= 200 && status < 300 ? undefined : `HTTP ${status}`
          })),
          Effect.catch((error) =>
            Effect.succeed({ status: undefined, retryAfterMs: undefined, error: String((error as { message?: string }).message ?? error) })
          ),
          Effect.flatMap((result) => Effect.map(Random.next, (random) => ({ result, random }))),
          Effect.flatMap(({ random, result }) => {
            const attempts = row.attempts + 1
            if (result.error === undefined) {
              return sql`UPDATE webhook_deliveries SET status = 'delivered', attempts = ${attempts}, delivered_at = now(),
                  last_status_code = ${result.status ?? null}, last_error = NULL, lease_expires_at = NULL
                WHERE id = ${row.id} AND lease_expires_at = ${row.lease_token}::timestamptz`
            }
            const final = attempts >= config.webhookMaxAttempts
            const policy = deliveryBackoff(config.webhookBackoffBaseMs)
            // The receiver's wait is a floor, bounded by the backoff's cap (an hour).
            const retryAfterMs = result.retryAfterMs === undefined ? undefined : Math.min(policy.maxMs, result.retryAfterMs)
            const delay = Backoff.delayMs(policy, attempts - 1, random, { retryAfterMs })
            return sql`UPDATE webhook_deliveries SET status = ${final ? "failed" : "pending"}, attempts = ${attempts},
                last_status_code = ${result.status ?? null}, last_error = ${result.error},
                next_attempt_at = ${final ? null : sql`now() + make_interval(secs => ${delay / 1000})`},
                lease_expires_at = NULL
              WHERE id = ${row.id} AND lease_expires_at = ${row.lease_token}::timestamptz`
          })
        )

      const deliverDue = Effect.gen(function*() {
        // The claim's lease end, to the microsecond, is its token: a settlement after another process took it over changes nothing.
        const due = yield* sql<ClaimedRow>`
          WITH claimed AS (
            UPDATE webhook_deliveries SET lease_expires_at = now() + make_interval(secs => ${config.webhookLeaseMs / 1000})
            WHERE id IN (
              SELECT id FROM webhook_deliveries
              WHERE status = 'pending' AND next_attempt_at <= now()
                AND (lease_expires_at IS NULL OR lease_expires_at < now())
              ORDER BY next_attempt_at LIMIT 20
              FOR UPDATE SKIP LOCKED)
            RETURNING *)
          SELECT claimed.*, claimed.lease_expires_at::text AS lease_token, w.url, w.secret_ciphertext, w.secret_key_id
          FROM claimed JOIN webhooks w ON w.id = claimed.webhook_id`
        yield* Effect.forEach(due, deliverOne, { concurrency: 8, discard: true })
        return due.length
      })

      return Webhooks.of({ create, list, listPage, remove, deliveries, fanOut, deliverDue })
    })
  )

  /** Runs fan-out and delivery in the background every `webhookPollMs`, for the life of the layer. */
  static readonly layerDispatcher: Layer.Layer<never, never, Webhooks | ServerConfig> = Layer.effectDiscard(
    Effect.gen(function*() {
      const webhooks = yield* Webhooks
      const config = yield* ServerConfig
      const tick = Effect.gen(function*() {
        yield* webhooks.fanOut
        yield* webhooks.deliverDue
      }).pipe(Effect.catchCause((cause) => Effect.logWarning("webhook dispatch failed", cause)))
      yield* tick.pipe(
        Effect.repeat(Schedule.spaced(Duration.millis(config.webhookPollMs))),
        Effect.forkScoped
      )
    })
  )
}
