/**
 * The one fault vocabulary of every platform fake (`FakeServer.inject`), with
 * one set of defaults, and the rate-limit headers a fake answers with by
 * default. Faults are data; the `FakeServer` applies them.
 *
 * @example
 * server.inject("POST /2/tweets", Faults.dropAfterApply())
 * const release = gate()
 * server.inject("*", Faults.slow({ until: release.promise }))
 */
/** What a rate-limit window looks like when its headers are written. */
export interface WindowState {
  readonly limit: number
  readonly remaining: number
  /** When the window resets (epoch ms, the fake's clock). */
  readonly resetAtMs: number
  readonly windowMs: number
  readonly nowMs: number
}

/** A fault, built with `Faults`. */
export type Fault =
  | { readonly _tag: "DropBeforeApply" }
  | { readonly _tag: "DropAfterApply" }
  | { readonly _tag: "CutBody"; readonly afterBytes: number }
  | {
    readonly _tag: "Status"
    readonly status: number
    readonly headers?: Readonly<Record<string, string>> | undefined
    readonly body?: unknown
  }
  | {
    readonly _tag: "Slow"
    readonly until?: PromiseLike<unknown> | undefined
    readonly delayMs?: number | undefined
    readonly beforeApply?: boolean | undefined
  }
  | { readonly _tag: "RateLimitWindow"; readonly limit: number; readonly windowMs: number; readonly remaining?: number | undefined }

/** The fault vocabulary. */
export const Faults = {
  /** The request arrives whole and is not applied; the connection is destroyed without an answer. */
  dropBeforeApply: (): Fault => ({ _tag: "DropBeforeApply" }),
  /** The request is applied (a post made), then the connection is destroyed: the client never hears of it. */
  dropAfterApply: (): Fault => ({ _tag: "DropAfterApply" }),
  /**
   * A half-finished upload: the connection is destroyed once `afterBytes` of
   * the body arrived (or at its end, if shorter), before the platform applied
   * anything.
   */
  cutBody: (afterBytes: number): Fault => ({ _tag: "CutBody", afterBytes }),
  /** An error answer, not applied; without `body`, the fake's own error body for that status. */
  status: (status: number, options?: { readonly headers?: Readonly<Record<string, string>>; readonly body?: unknown }): Fault => ({
    _tag: "Status",
    status,
    ...options
  }),
  /**
   * The answer is held until `until` settles or `delayMs` passes (a signal the
   * test controls is better than a delay). Applied at once unless `beforeApply`.
   */
  slow: (options: { readonly until?: PromiseLike<unknown>; readonly delayMs?: number; readonly beforeApply?: boolean }): Fault => ({
    _tag: "Slow",
    ...options
  }),
  /**
   * `limit` requests per `windowMs`, then 429 with the fake's rate-limit
   * headers until the window resets. `remaining` (default `limit`) is what is
   * left of the first window: `remaining: 0` is an account that already used
   * its quota, limited now and let through again once the window resets.
   */
  rateLimitWindow: (options: { readonly limit: number; readonly windowMs: number; readonly remaining?: number }): Fault => ({
    _tag: "RateLimitWindow",
    ...options
  })
} as const

/** Standard `RateLimit-*` (IETF draft) and `Retry-After` headers, in seconds from now. */
export const standardRateLimitHeaders = (state: WindowState): Record<string, string> => {
  const seconds = String(Math.max(0, Math.ceil((state.resetAtMs - state.nowMs) / 1000)))
  return {
    "ratelimit-limit": String(state.limit),
    "ratelimit-remaining": String(state.remaining),
    "ratelimit-reset": seconds,
    "ratelimit-policy": `${state.limit};w=${Math.ceil(state.windowMs / 1000)}`,
    ...(state.remaining === 0 ? { "retry-after": seconds } : {})
  }
}

/** A signal a test opens to release `slow` answers (`Faults.slow({ until: gate.promise })`). */
export const gate = (): { readonly promise: Promise<void>; readonly open: () => void } => {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}
