/**
 * X's answers in X's own shapes: problem bodies, `Invalid Request` with its
 * parameters, OAuth errors, and the `x-rate-limit-*` headers (epoch seconds).
 */
import type { Answer, FakeRequest, WindowState } from "@omnipost/platform-kit/testing"
import { windowSeconds } from "./Model.js"

export const problem = (status: number, title: string, detail: string, type = "about:blank"): Answer => ({
  status,
  body: { title, detail, type, status }
})

export const invalidRequest = (message: string, parameters?: Record<string, ReadonlyArray<string>>): Answer => ({
  status: 400,
  body: {
    errors: [{ parameters: parameters ?? {}, message }],
    title: "Invalid Request",
    detail: "One or more parameters to your request was invalid.",
    type: "https://api.twitter.com/2/problems/invalid-request"
  }
})

export const unauthorized = (): Answer => problem(401, "Unauthorized", "Unauthorized")

export const oauthError = (status: number, error: string, description: string): Answer => ({
  status,
  body: { error, error_description: description }
})

export const tooMany = (): Answer => ({
  status: 429,
  body: { title: "Too Many Requests", detail: "Too Many Requests", type: "about:blank", status: 429, errors: [{ code: 88, message: "Rate limit exceeded" }] }
})

export const notFound = (detail: string): Answer =>
  problem(404, "Not Found Error", detail, "https://api.twitter.com/2/problems/resource-not-found")

/** X's body for a `status` fault without one, for a 404 route and for a rate-limit window's 429. */
export const errorAnswer = (status: number, request: FakeRequest): Answer =>
  status === 429
    ? tooMany()
    : status === 404
    ? problem(404, "Not Found Error", `No route for ${request.method} ${request.path}`)
    : status === 503
    ? problem(503, "Service Unavailable", "Something went wrong. Please try again later.")
    : status >= 500
    ? problem(status, "Internal Server Error", "Something went wrong. Please try again later.")
    : problem(status, "Error", `HTTP ${status}`)

export const rateHeaders = (limit: number, remaining: number, resetAtSeconds: number): Record<string, string> => ({
  "x-rate-limit-limit": String(limit),
  "x-rate-limit-remaining": String(Math.max(0, remaining)),
  "x-rate-limit-reset": String(resetAtSeconds)
})

/** A kit rate-limit window's 429, with X's headers. */
export const windowHeaders = (state: WindowState): Record<string, string> =>
  rateHeaders(state.limit, state.remaining, Math.ceil(state.resetAtMs / 1000))

/** Headers on answers that counted in no window (unauthenticated, unrouted, faults). */
export const defaultHeaders = (now: () => number) => (): Record<string, string> =>
  rateHeaders(0, 0, Math.floor(now() / 1000) + windowSeconds)

/** X's own per-user windows: 15 minutes, the endpoint's documented limit. */
export class RateWindows {
  private readonly windows = new Map<string, { count: number; resetAtSeconds: number }>()

  constructor(private readonly now: () => number) {}

  /** Counts a request in `key`'s window: whether it is let through, and the headers to answer with. */
  take(key: string, limit: number): { readonly allowed: boolean; readonly headers: Record<string, string> } {
    const nowSeconds = Math.floor(this.now() / 1000)
    let window = this.windows.get(key)
    if (window === undefined || window.resetAtSeconds <= nowSeconds) {
      window = { count: 0, resetAtSeconds: nowSeconds + windowSeconds }
      this.windows.set(key, window)
    }
    const allowed = window.count < limit
    if (allowed) window.count += 1
    return { allowed, headers: rateHeaders(limit, limit - window.count, window.resetAtSeconds) }
  }

  clear(): void {
    this.windows.clear()
  }
}
