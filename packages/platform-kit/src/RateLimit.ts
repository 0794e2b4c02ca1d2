/**
 * Rate-limit headers, read once for every platform, into core's `RateLimited`.
 *
 * | header | meaning | example |
 * |---|---|---|
 * | `Retry-After` | seconds, or an HTTP date (RFC 9110 §10.2.3) | `120`, `Wed, 21 Oct 2026 07:28:00 GMT` |
 * | `<prefix>-limit` / `-remaining` / `-reset` | one window per prefix; the reset is epoch seconds, delta seconds or a date | X `x-rate-limit-*` and `x-app-limit-24hour-*` (epoch s), Bluesky `ratelimit-*` (epoch s), Mastodon `x-ratelimit-*` (ISO 8601), IETF draft ≤ 04 `RateLimit-*` (delta s) |
 * | `RateLimit` + `RateLimit-Policy` (structured fields, RFC 9651) | current IETF draft: `"name";r=<remaining>;t=<seconds to reset>` and `"name";q=<quota>;w=<window s>`; drafts 05–06: `limit=, remaining=, reset=` | `RateLimit: "default";r=0;t=30` |
 *
 * A numeric reset is epoch seconds from 10⁹ up (any date after 2001) and
 * seconds from now below: Bluesky's `ratelimit-reset` is a Unix time and the
 * IETF draft's is a delay, under the same name, and no window lasts 31 years.
 *
 * The wait is the later of `Retry-After` and the reset of the limiting window:
 * the exhausted window (`remaining` 0) that resets last, or, when no window
 * says it is exhausted, the one that resets last; at most `maxWaitMs` (366
 * days). Values longer than `maxValueLength` and anything unparsable are
 * ignored, never thrown.
 *
 * @example
 * if (response.status === 429) {
 *   return yield* RateLimit.rateLimited(response.headers, {
 *     platform: "bluesky",
 *     nowMs: yield* Clock.currentTimeMillis,
 *     message: (info) => `Bluesky rate limit reached (${info.limiting?.policy ?? "no policy given"})`
 *   })
 * }
 */
import { PublishError } from "@omnipost/core"
import { parseDictionary, parseList, Token } from "structured-headers"

/** One rate-limit window a response describes. */
export interface Window {
  /** Where it was read: the header prefix (`x-rate-limit`, `ratelimit`) or `RateLimit` and the policy name. */
  readonly source: string
  /** The policy's name or text (`3000;w=300`, `"default"`), when given. */
  readonly policy?: string | undefined
  readonly limit?: number | undefined
  readonly remaining?: number | undefined
  /** The window's length in seconds, when a policy gives it. */
  readonly windowSeconds?: number | undefined
  /** When the window resets, epoch milliseconds. */
  readonly resetAtMs?: number | undefined
}

export interface Info {
  /** `Retry-After`, in milliseconds from now. */
  readonly retryAfterMs?: number | undefined
  readonly windows: ReadonlyArray<Window>
  /** The window the caller waits for (see the module's description). */
  readonly limiting?: Window | undefined
  /** How long to wait from now: the later of `Retry-After` and the limiting window's reset; `undefined` when nothing says. */
  readonly waitMs?: number | undefined
}

export type Headers = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/** Longest header value read; a longer one is ignored (bounded input). */
export const maxValueLength = 1_024
/** Most windows read from one response. */
export const maxWindows = 16
/** A number from this up is epoch seconds; below, seconds from now. */
export const epochSecondsFrom = 1e9
/** The longest wait reported (366 days): a later reset or a larger Retry-After is taken as this. */
export const maxWaitMs = 366 * 24 * 3_600_000

const valueOf = (headers: Headers, name: string): string | undefined => {
  const raw = headers[name]
  const value = typeof raw === "string" ? raw : Array.isArray(raw) ? raw.join(", ") : undefined
  return value === undefined || value.length > maxValueLength ? undefined : value.trim()
}

const lowerCased = (headers: Headers): Headers => {
  const out: Record<string, string | ReadonlyArray<string> | undefined> = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
  return out
}

const number = (value: unknown): number | undefined => {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined
  if (typeof value !== "string" || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return undefined
  return Number(value)
}

/** A reset as epoch ms: epoch seconds (≥ 10⁹), seconds from now, or a date. */
export const parseReset = (value: string | undefined, nowMs: number): number | undefined => {
  if (value === undefined || value.length > maxValueLength) return undefined
  const n = number(value)
  if (n !== undefined) return n >= epochSecondsFrom ? n * 1000 : nowMs + n * 1000
  // ISO 8601 or an HTTP date; bare numbers never reach Date.parse.
  if (!/[a-z:-]/i.test(value)) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

/** `Retry-After` in milliseconds from now: delay-seconds or an HTTP date (a past date is 0). */
export const parseRetryAfter = (value: string | undefined, nowMs: number): number | undefined => {
  if (value === undefined || value.length > maxValueLength) return undefined
  const seconds = number(value)
  if (seconds !== undefined) return seconds * 1000
  if (!/[a-z]/i.test(value)) return undefined
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : Math.max(0, ms - nowMs)
}

const text = (item: unknown): string | undefined =>
  typeof item === "string" ? item : item instanceof Token ? item.toString() : undefined

/** `RateLimit-Policy` items: `"name";q=100;w=60` (current draft) or `3000;w=300` (older drafts, Bluesky). */
const policies = (value: string | undefined) => {
  const out = new Map<string, { readonly quota?: number | undefined; readonly windowSeconds?: number | undefined }>()
  if (value === undefined) return out
  try {
    for (const member of parseList(value).slice(0, maxWindows)) {
      const [item, params] = member
      if (Array.isArray(item)) continue
      const name = text(item)
      const quota = name === undefined ? number(item) : number(params.get("q"))
      out.set(name ?? String(item), { quota, windowSeconds: number(params.get("w")) })
    }
  } catch {
    // Not a structured list: no policy.
  }
  return out
}

/** The structured `RateLimit` field: `"name";r=;t=` items (current draft), or a `limit=, remaining=, reset=` dictionary (05–06). */
const structured = (value: string, policyValue: string | undefined, nowMs: number): Array<Window> => {
  const named = policies(policyValue)
  try {
    const items = parseList(value).slice(0, maxWindows)
    const windows: Array<Window> = []
    for (const [item, params] of items) {
      const name = Array.isArray(item) ? undefined : text(item)
      if (name === undefined || (!params.has("r") && !params.has("t"))) continue
      const policy = named.get(name)
      const t = number(params.get("t"))
      windows.push({
        source: `RateLimit ${JSON.stringify(name)}`,
        policy: name,
        limit: policy?.quota,
        remaining: number(params.get("r")),
        windowSeconds: policy?.windowSeconds,
        resetAtMs: t === undefined ? undefined : nowMs + t * 1000
      })
    }
    if (windows.length > 0) return windows
  } catch {
    // Not a list: maybe the older dictionary form.
  }
  try {
    const dictionary = parseDictionary(value)
    const field = (key: string) => {
      const member = dictionary.get(key)
      return member === undefined || Array.isArray(member[0]) ? undefined : number(member[0])
    }
    const reset = field("reset")
    if (field("remaining") === undefined && reset === undefined) return []
    const first = [...named.values()][0]
    return [{
      source: "RateLimit",
      policy: policyValue,
      limit: field("limit") ?? first?.quota,
      remaining: field("remaining"),
      windowSeconds: first?.windowSeconds,
      resetAtMs: reset === undefined ? undefined : nowMs + reset * 1000
    }]
  } catch {
    return []
  }
}

const suffixed = /^(.*limit.*)-(limit|remaining|reset)$/

/** Every rate-limit window and the `Retry-After` a response's headers describe. */
export const parse = (input: Headers, nowMs: number): Info => {
  const headers = lowerCased(input)
  const windows: Array<Window> = []
  const prefixes: Array<string> = []
  for (const name of Object.keys(headers)) {
    const match = suffixed.exec(name)
    if (match !== null && !prefixes.includes(match[1]!)) prefixes.push(match[1]!)
  }
  for (const prefix of prefixes.slice(0, maxWindows)) {
    const policyValue = valueOf(headers, `${prefix}-policy`)
    const policy = [...policies(policyValue).values()][0]
    const window: Window = {
      source: prefix,
      policy: policyValue,
      limit: number(valueOf(headers, `${prefix}-limit`)) ?? policy?.quota,
      remaining: number(valueOf(headers, `${prefix}-remaining`)),
      windowSeconds: policy?.windowSeconds,
      resetAtMs: parseReset(valueOf(headers, `${prefix}-reset`), nowMs)
    }
    if (window.limit !== undefined || window.remaining !== undefined || window.resetAtMs !== undefined) windows.push(window)
  }
  const field = valueOf(headers, "ratelimit")
  if (field !== undefined) windows.push(...structured(field, valueOf(headers, "ratelimit-policy"), nowMs))

  const retryAfterMs = parseRetryAfter(valueOf(headers, "retry-after"), nowMs)
  const timed = windows.filter((w) => w.resetAtMs !== undefined)
  const exhausted = timed.filter((w) => w.remaining === 0)
  const candidates = exhausted.length > 0 ? exhausted : timed
  const limiting = candidates.reduce<Window | undefined>((a, w) => a === undefined || w.resetAtMs! > a.resetAtMs! ? w : a, undefined)
  const resetMs = limiting === undefined ? undefined : Math.max(0, limiting.resetAtMs! - nowMs)
  const waits = [retryAfterMs, resetMs].filter((ms): ms is number => ms !== undefined)
  return {
    retryAfterMs,
    windows,
    limiting,
    waitMs: waits.length === 0 ? undefined : Math.min(maxWaitMs, Math.max(...waits))
  }
}

export interface RateLimitedOptions {
  readonly platform: string
  /** Now, epoch milliseconds (from `Clock`). */
  readonly nowMs: number
  readonly message: string | ((info: Info) => string)
  /** Default 429. */
  readonly httpStatus?: number | undefined
  readonly platformCode?: string | undefined
  readonly platformMessage?: string | undefined
  /** What is limited; a function decides from the limiting window (X's 24-hour app cap is `app`). Default `account`. */
  readonly scope?: PublishError.RateLimited["scope"] | ((info: Info) => PublishError.RateLimited["scope"]) | undefined
}

/**
 * Core's `RateLimited` for an answer's headers: `retryAfterSeconds` (whole
 * seconds, rounded up) and `resetAt` from `parse(...).waitMs`, absent when the
 * headers say nothing.
 */
export const rateLimited = (headers: Headers, options: RateLimitedOptions): PublishError.RateLimited => {
  const info = parse(headers, options.nowMs)
  const scope = typeof options.scope === "function" ? options.scope(info) : options.scope ?? "account"
  return new PublishError.RateLimited({
    platform: options.platform,
    message: typeof options.message === "function" ? options.message(info) : options.message,
    httpStatus: options.httpStatus ?? 429,
    ...(options.platformCode !== undefined ? { platformCode: options.platformCode } : {}),
    ...(options.platformMessage !== undefined ? { platformMessage: options.platformMessage } : {}),
    ...(info.waitMs !== undefined
      ? { retryAfterSeconds: Math.ceil(info.waitMs / 1000), resetAt: new Date(options.nowMs + info.waitMs).toISOString() }
      : {}),
    ...(scope !== undefined ? { scope } : {})
  })
}
