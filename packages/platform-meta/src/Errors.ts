/**
 * Maps the Graph API's answers (Instagram, Facebook Pages, Threads share one
 * error body) to core's closed set of publish errors. Meta's `code`,
 * `error_subcode` (as `platformCode` `"code/subcode"`), `message` (as
 * `platformMessage`) and `fbtrace_id` (in the message, for Meta support) are
 * kept on every error.
 *
 * | Graph answer | error |
 * |---|---|
 * | 4, 17, 32, 613, 341, 80000–80014 (business use case) | `RateLimited`: the wait from `X-Business-Use-Case-Usage` `estimated_time_to_regain_access` (minutes), else a usage header at 100 % (`X-App-Usage`, `X-Page-Usage`, `X-Ad-Account-Usage`): the hour those windows roll over, else `Retry-After` |
 * | 9 / 2207042 (Instagram publishing limit), Threads `threads_publish` quota | `RateLimited` scope `quota` |
 * | 190, 102 (token expired, revoked, invalid; subcodes 458–467, 492) | `AuthFailed` (`expired` for 463, `revoked` for 458/460, else `invalid`) |
 * | a Page whose manager must confirm their identity (368 / 1404078 and the message) | `AuthFailed` `revoked`, saying what to do |
 * | 3, 10, 200–299 (permissions) | `AuthFailed` `missing_permission` |
 * | 1, 2, `is_transient: true`, 5xx without a code | `Transient` |
 * | 9007 / 2207027 (container not ready), 24 / 4279009 (Threads "media not found" just after creation) | `Transient` |
 * | media failures (2207004, 2207005, 2207009, 2207026, 2207052, 36000–36004…) | `Rejected` with our code |
 * | 506 (duplicate) | `Rejected` `DUPLICATE_CONTENT` |
 * | Threads' `THREADS_API__LINK_LIMIT_EXCEEDED`, "at most 500 characters" | `Rejected` `TOO_MANY_LINKS`, `CONTENT_TOO_LONG` |
 * | anything else | `Rejected` |
 * | no answer | the kit's `Transport`: `Transient` when certainly not sent or a read, else `OutcomeUnknown` |
 *
 * Sources: platform-specs §2.4; https://developers.facebook.com/docs/graph-api/guides/error-handling;
 * https://developers.facebook.com/docs/graph-api/overview/rate-limiting.
 */
import { PublishError } from "@omnipost/core"
import { Json, RateLimit } from "@omnipost/platform-kit"

/** The Graph error body: `{"error": {...}}`. */
export interface GraphError {
  readonly message?: string | undefined
  readonly type?: string | undefined
  readonly code?: number | undefined
  readonly error_subcode?: number | undefined
  readonly error_user_title?: string | undefined
  readonly error_user_msg?: string | undefined
  readonly is_transient?: boolean | undefined
  readonly fbtrace_id?: string | undefined
}

export type Headers = Readonly<Record<string, string | undefined>>

/** Reads `error` out of a Graph answer body (anything else: `undefined`). */
export const graphErrorOf = (body: unknown): GraphError | undefined => {
  const error = (body as { error?: unknown } | undefined)?.error
  if (typeof error !== "object" || error === null) return undefined
  const value = error as Record<string, unknown>
  const num = (key: string) => {
    const raw = value[key]
    const parsed = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : undefined
    return parsed !== undefined && Number.isFinite(parsed) ? parsed : undefined
  }
  const str = (key: string) => (typeof value[key] === "string" ? (value[key] as string) : undefined)
  return {
    message: str("message"),
    type: str("type"),
    code: num("code"),
    error_subcode: num("error_subcode"),
    error_user_title: str("error_user_title"),
    error_user_msg: str("error_user_msg"),
    is_transient: typeof value.is_transient === "boolean" ? value.is_transient : undefined,
    fbtrace_id: str("fbtrace_id")
  }
}

/** `"code"` or `"code/subcode"`: what `platformCode` holds. */
export const platformCodeOf = (error: GraphError): string | undefined =>
  error.code === undefined ? undefined : error.error_subcode !== undefined ? `${error.code}/${error.error_subcode}` : `${error.code}`

/** The codes that say "slow down". */
export const rateLimitCodes: ReadonlySet<number> = new Set([4, 17, 32, 341, 613])
/** Business use case limits: 80000–80014. */
export const isBusinessUseCaseCode = (code: number | undefined): boolean => code !== undefined && code >= 80000 && code <= 80014
/** Subcodes of 190/102 and what they mean for the account. */
const authSubcodes: Readonly<Record<number, { readonly reason: "expired" | "revoked" | "invalid"; readonly what: string }>> = {
  458: { reason: "revoked", what: "the app was removed from the account" },
  459: { reason: "invalid", what: "the user is checkpointed: they must log in at facebook.com first" },
  460: { reason: "revoked", what: "the password changed" },
  463: { reason: "expired", what: "the token expired" },
  464: { reason: "invalid", what: "the user is not confirmed" },
  467: { reason: "invalid", what: "the token is invalid" },
  492: { reason: "invalid", what: "the session is invalid" }
}

/** Media refusals, by subcode, with our code (IG User Media reference; platform-specs §2.1). */
const mediaSubcodes: Readonly<Record<number, string>> = {
  2207004: "MEDIA_TOO_LARGE",
  2207005: "UNSUPPORTED_MEDIA_TYPE",
  2207009: "ASPECT_RATIO_OUT_OF_RANGE",
  2207010: "CONTENT_TOO_LONG",
  2207026: "UNSUPPORTED_MEDIA_CONFIG",
  2207040: "TOO_MANY_HASHTAGS",
  2207052: "MEDIA_UNAVAILABLE"
}
const mediaCodes: Readonly<Record<number, string>> = {
  36000: "MEDIA_TOO_LARGE",
  36001: "UNSUPPORTED_MEDIA_TYPE",
  36003: "ASPECT_RATIO_OUT_OF_RANGE",
  36004: "CONTENT_TOO_LONG",
  9004: "MEDIA_UNAVAILABLE",
  352: "UNSUPPORTED_MEDIA_CONFIG",
  506: "DUPLICATE_CONTENT"
}

/** Refusals Meta names only in the message (Threads). */
const messageCode = (message: string): string | undefined =>
  /LINK_LIMIT_EXCEEDED/.test(message)
    ? "TOO_MANY_LINKS"
    : /\bat most \d+ characters\b|\btoo long\b/i.test(message)
    ? "CONTENT_TOO_LONG"
    : undefined

/** The Page's manager must confirm their identity before the Page can publish (Meta's Page Publishing Authorization). */
export const isIdentityConfirmation = (error: GraphError): boolean =>
  error.error_subcode === 1404078 ||
  /confirm (your|their) identity|publishing authori[sz]ation/i.test(`${error.message ?? ""} ${error.error_user_msg ?? ""}`)

const hourMs = 3_600_000

/** A usage header's JSON; an absent or oversized (over 4 KiB) header is not read. */
const parseJson = (value: string | undefined): unknown =>
  value === undefined || value.length > 4096 ? undefined : Json.parse(value)

/**
 * How long Meta's usage headers say to wait, in ms: the largest
 * `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`
 * (or `X-App-Usage`, which carries it for some apps); else, when a usage
 * percentage in `X-App-Usage`, `X-Page-Usage` or `X-Ad-Account-Usage` is at
 * 100, the hour over which those counters roll; else `undefined`.
 */
export const usageWaitMs = (headers: Headers): number | undefined => {
  const entries: Array<Record<string, unknown>> = []
  const buc = parseJson(headers["x-business-use-case-usage"])
  if (typeof buc === "object" && buc !== null) {
    for (const list of Object.values(buc as Record<string, unknown>)) {
      if (Array.isArray(list)) for (const entry of list) if (typeof entry === "object" && entry !== null) entries.push(entry)
    }
  }
  const flat: Array<Record<string, unknown>> = []
  for (const name of ["x-app-usage", "x-page-usage", "x-ad-account-usage"]) {
    const value = parseJson(headers[name])
    if (typeof value === "object" && value !== null && !Array.isArray(value)) flat.push(value as Record<string, unknown>)
  }
  const minutes = [...entries, ...flat]
    .map((entry) => entry.estimated_time_to_regain_access)
    .filter((value): value is number => typeof value === "number" && Number.isFinite(value) && value > 0)
  if (minutes.length > 0) return Math.max(...minutes) * 60_000
  const saturated = [...entries, ...flat].some((entry) =>
    ["call_count", "total_cputime", "total_time", "acc_id_util_pct"].some((key) => {
      const value = entry[key]
      return typeof value === "number" && value >= 100
    })
  )
  return saturated ? hourMs : undefined
}

export interface AnswerContext {
  readonly platform: string
  /** `POST /{ig-user-id}/media_publish`: for messages. */
  readonly operation: string
  /** Now, epoch ms (from `Clock`). */
  readonly nowMs: number
}

/** Maps a non-2xx Graph answer (or a 2xx one carrying `error`) to core's error. */
export const fromAnswer = (
  status: number,
  headers: Headers,
  body: unknown,
  context: AnswerContext
): PublishError.PublishError => {
  const platform = context.platform
  const graph = graphErrorOf(body) ?? {}
  const platformCode = platformCodeOf(graph)
  const platformMessage = graph.message ?? (typeof body === "string" ? body.slice(0, 300) : undefined)
  const trace = graph.fbtrace_id !== undefined ? ` (fbtrace_id ${graph.fbtrace_id})` : ""
  const said = [graph.message, graph.error_user_msg].filter((text) => text !== undefined && text !== "").join(": ") ||
    `HTTP ${status}`
  const common = {
    platform,
    httpStatus: status,
    ...(platformCode !== undefined ? { platformCode } : {}),
    ...(platformMessage !== undefined ? { platformMessage } : {})
  }
  const code = graph.code
  const subcode = graph.error_subcode

  if (code === 9 && subcode === 2207042) {
    return new PublishError.RateLimited({
      ...common,
      scope: "quota",
      message: `${context.operation}: the account's publishing limit is reached (${said})${trace}`
    })
  }
  if ((code !== undefined && rateLimitCodes.has(code)) || isBusinessUseCaseCode(code) || status === 429) {
    const waitMs = usageWaitMs(headers)
    const fromHeaders = RateLimit.parse(headers, context.nowMs).waitMs
    const wait = Math.max(waitMs ?? 0, fromHeaders ?? 0)
    return new PublishError.RateLimited({
      ...common,
      scope: code === 4 || code === 341 ? "app" : "account",
      message: `${context.operation}: Meta rate limit reached (${platformCode ?? status}: ${said})${trace}`,
      ...(wait > 0
        ? { retryAfterSeconds: Math.ceil(wait / 1000), resetAt: new Date(context.nowMs + wait).toISOString() }
        : {})
    })
  }
  if (isIdentityConfirmation(graph)) {
    return new PublishError.AuthFailed({
      ...common,
      reason: "revoked",
      message: `${context.operation}: Meta requires the Page's manager to confirm their identity before the Page can publish (${said}). ` +
        `Confirm it in Meta Business Suite or on facebook.com (Page Publishing Authorization), then reconnect the account${trace}`
    })
  }
  if (code === 190 || code === 102) {
    const known = subcode !== undefined ? authSubcodes[subcode] : undefined
    return new PublishError.AuthFailed({
      ...common,
      reason: known?.reason ?? "invalid",
      message: `${context.operation}: Meta refused the access token${known !== undefined ? `: ${known.what}` : ""} (${said}); reconnect the account${trace}`
    })
  }
  if (code === 3 || code === 10 || (code !== undefined && code >= 200 && code <= 299)) {
    return new PublishError.AuthFailed({
      ...common,
      reason: "missing_permission",
      message: `${context.operation}: the account did not grant a permission this needs (${said}); reconnect it and grant every permission asked${trace}`
    })
  }
  if (
    code === 1 || code === 2 || graph.is_transient === true || (code === 9007 && subcode === 2207027) ||
    (code === 24 && subcode === 4279009) || (code === undefined && status >= 500)
  ) {
    return new PublishError.Transient({ ...common, message: `${context.operation}: Meta answered a temporary error (${said})${trace}` })
  }
  const ours = (subcode !== undefined ? mediaSubcodes[subcode] : undefined) ?? (code !== undefined ? mediaCodes[code] : undefined) ??
    messageCode(graph.message ?? "")
  return new PublishError.Rejected({
    ...common,
    ...(ours !== undefined ? { code: ours } : {}),
    message: `${context.operation}: Meta refused it (${platformCode ?? status}: ${said})${trace}`
  })
}
