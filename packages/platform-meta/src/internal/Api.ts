/**
 * One account's view of a Graph host (base URL and token bound), and the
 * publishing-quota check Instagram and Threads share: both count API posts
 * in a rolling window and say so at `content_publishing_limit` /
 * `threads_publishing_limit`.
 */
import { Clock, type Duration, Effect } from "effect"
import type { HttpClient } from "effect/http"
import { PublishError } from "@omnipost/core"
import type { ContainerContext, Polling } from "../Media.js"
import * as Graph from "./Graph.js"

export interface Api {
  readonly base: string
  readonly get: (path: string, operation: string, params?: Graph.Params) => Effect.Effect<Record<string, unknown>, PublishError.PublishError>
  readonly post: (
    path: string,
    operation: string,
    params: Graph.Params,
    write: boolean
  ) => Effect.Effect<Record<string, unknown>, PublishError.PublishError>
  /** `POST` and the answer's `id`. */
  readonly create: (path: string, operation: string, params: Graph.Params, write: boolean) => Effect.Effect<string, PublishError.PublishError>
  readonly containers: ContainerContext
}

export const makeApi = (options: {
  readonly client: HttpClient.HttpClient
  readonly platform: string
  readonly base: string
  readonly accessToken: string
  readonly timeout: Duration.Input
  readonly polling: Polling
  readonly statusFields: ContainerContext["statusFields"]
}): Api => {
  const { accessToken, base, client, platform, timeout } = options
  const post = (path: string, operation: string, params: Graph.Params, write: boolean) =>
    Graph.call(client, { platform, operation, method: "POST", url: `${base}/${path}`, params, accessToken, write, timeout })
  return {
    base,
    get: (path, operation, params = {}) =>
      Graph.call(client, { platform, operation, method: "GET", url: `${base}/${path}`, params, accessToken, write: false, timeout }),
    post,
    create: (path, operation, params, write) =>
      post(path, operation, params, write).pipe(Effect.flatMap((body) => Graph.field(body, "id", { platform, operation, write }))),
    containers: { client, platform, baseUrl: base, accessToken, polling: options.polling, timeout, statusFields: options.statusFields }
  }
}

/** Meta's `2025-01-01T10:00:00+0000`, as epoch ms (`NaN` when unreadable). */
export const parseGraphTime = (value: unknown): number =>
  typeof value === "string" ? Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, "$1:$2")) : Number.NaN

/** The items of a `{ data: [...] }` answer. */
export const dataOf = (body: Record<string, unknown>): ReadonlyArray<Record<string, unknown>> =>
  Array.isArray(body.data) ? (body.data as ReadonlyArray<Record<string, unknown>>).filter((item) => typeof item === "object" && item !== null) : []

/** Pages a lookup reads at most (100 items each): more than a day of API posts (Instagram allows 50–100 in 24 hours, platform-specs §2.1). */
export const lookupMaxPages = 10

/**
 * An edge's items, newest first, back to `sinceMs`: pages of 100 following
 * the Graph cursor (`paging.cursors.after`) until one reaches an item older
 * than `sinceMs` or there is no next page. A lookup for what an unanswered
 * publish made reads them all: on a busy account the first page may hold
 * only posts made after it (the post would be missed, and posted twice).
 * Still newer than `sinceMs` after `lookupMaxPages` pages: `OutcomeUnknown`
 * (it cannot be told), never "not found".
 */
export const listSince = (
  api: Api,
  options: { readonly platform: string; readonly path: string; readonly operation: string; readonly fields: string; readonly sinceMs: number }
): Effect.Effect<ReadonlyArray<Record<string, unknown>>, PublishError.PublishError> =>
  Effect.gen(function*() {
    const items: Array<Record<string, unknown>> = []
    let after: string | undefined
    for (let page = 0; page < lookupMaxPages; page++) {
      const answer = yield* api.get(options.path, options.operation, {
        fields: options.fields,
        limit: 100,
        ...(after === undefined ? {} : { after })
      })
      const data = dataOf(answer)
      items.push(...data)
      const cursor = (answer.paging as { cursors?: { after?: unknown }; next?: unknown } | undefined)
      const oldest = data.at(-1)
      if (data.length === 0 || cursor?.next === undefined || typeof cursor.cursors?.after !== "string") return items
      if (oldest !== undefined && parseGraphTime(oldest.timestamp) < options.sinceMs) return items
      after = cursor.cursors.after
    }
    return yield* new PublishError.OutcomeUnknown({
      platform: options.platform,
      message: `more than ${lookupMaxPages * 100} posts were made since the attempt (${options.operation}); whether it posted cannot be told: check the account by hand`
    })
  })

/**
 * `RateLimited` (scope `quota`) when the account has used its API posts of
 * the rolling window, waiting until the oldest post of the window leaves it
 * (its timestamp from `listPath`); the whole window when none is listed.
 */
export const checkQuota = Effect.fn("Meta.checkQuota")(function*(
  api: Api,
  options: { readonly platform: string; readonly displayName: string; readonly limitPath: string; readonly limitOperation: string; readonly listPath: string; readonly listOperation: string }
) {
  const answer = yield* api.get(options.limitPath, options.limitOperation, { fields: "quota_usage,config" })
  const entry = dataOf(answer)[0]
  const usage = Number(entry?.quota_usage ?? 0)
  const config = entry?.config as { quota_total?: unknown; quota_duration?: unknown } | undefined
  const total = Number(config?.quota_total ?? Number.POSITIVE_INFINITY)
  if (!(usage >= total)) return
  const durationMs = Number(config?.quota_duration ?? 86_400) * 1000
  const nowMs = yield* Clock.currentTimeMillis
  const recent = yield* api.get(options.listPath, options.listOperation, {
    fields: "id,timestamp",
    limit: Math.min(100, Math.max(1, total))
  }).pipe(Effect.orElseSucceed(() => ({ data: [] }) as Record<string, unknown>))
  const inWindow = dataOf(recent).map((item) => parseGraphTime(item.timestamp)).filter((ms) => !Number.isNaN(ms) && ms > nowMs - durationMs)
  const oldest = inWindow.length > 0 ? Math.min(...inWindow) : nowMs
  const waitMs = Math.max(1000, oldest + durationMs - nowMs)
  const resetAt = new Date(nowMs + waitMs).toISOString()
  return yield* new PublishError.RateLimited({
    platform: options.platform,
    scope: "quota",
    platformCode: options.limitOperation.split("/").pop(),
    retryAfterSeconds: Math.ceil(waitMs / 1000),
    resetAt,
    message: `the ${options.displayName} account has published ${usage} of its ${total} API posts per ${durationMs / 3_600_000} hours; the next slot frees up at ${resetAt}`
  })
})
