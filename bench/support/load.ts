/**
 * The load generator of `bench/api.ts`, run in its own process so that the
 * measured server does not share an event loop with it: autocannon against
 * one endpoint for a while, its figures printed as one JSON line.
 *
 *   node load.ts '{"url":…,"kind":"create"|"get"|"list",…}'
 */
import autocannon from "autocannon"

export interface LoadOptions {
  readonly url: string
  /**
   * `create`, `get`, `list`: the measured endpoints; `health`, `accounts`,
   * `draft`: the floor under them (`BENCH_FLOOR`): no auth and no SQL, the key
   * gate and one read, a create with no due time.
   */
  readonly kind: "create" | "get" | "list" | "health" | "accounts" | "draft"
  readonly seconds: number
  readonly connections: number
  readonly headers: Record<string, string>
  /** For `create`: the account of the post's one destination. */
  readonly accountId?: string
  /** For `get`: the posts to read, in turn. */
  readonly ids?: ReadonlyArray<string>
  /** Requests per second in all (autocannon's `overallRate`); unset: as fast as the server answers. */
  readonly rate?: number
}

export interface LoadResult {
  readonly perSecond: number
  readonly p50: number
  readonly p99: number
  readonly ok: number
  readonly non2xx: number
  readonly errors: number
  readonly timeouts: number
}

const options = JSON.parse(process.argv[2]!) as LoadOptions
let counter = 0
const request: Record<string, unknown> = options.kind === "create" || options.kind === "draft"
  ? {
    method: "POST",
    path: "/v1/posts",
    headers: { ...options.headers, "content-type": "application/json" },
    setupRequest: (req: Record<string, unknown>) => ({
      ...req,
      body: JSON.stringify({
        content: { text: `Benchmark post ${counter++}: validated for Bluesky's 300 graphemes and stored #bench https://example.com` },
        destinations: [{ accountId: options.accountId }],
        ...(options.kind === "draft" ? { status: "draft" } : { scheduledAt: "2099-01-01T00:00:00Z" })
      })
    })
  }
  : options.kind === "health"
  ? { method: "GET", path: "/healthz" }
  : options.kind === "accounts"
  ? { method: "GET", path: "/v1/accounts", headers: options.headers }
  : options.kind === "get"
  ? {
    method: "GET",
    path: "/v1/posts",
    headers: options.headers,
    setupRequest: (req: Record<string, unknown>) => ({ ...req, path: `/v1/posts/${options.ids![counter++ % options.ids!.length]}` })
  }
  : { method: "GET", path: "/v1/posts?limit=50", headers: options.headers }

const result = await autocannon({
  url: options.url,
  connections: options.connections,
  duration: options.seconds,
  ...(options.rate !== undefined ? { overallRate: options.rate } : {}),
  requests: [request]
})
const ok = result["2xx"]
console.log(JSON.stringify({
  perSecond: Math.round(ok / options.seconds),
  p50: result.latency.p50,
  p99: result.latency.p99,
  ok,
  non2xx: result.non2xx,
  errors: result.errors,
  timeouts: result.timeouts
} satisfies LoadResult))
