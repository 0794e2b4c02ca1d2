/**
 * An account's token health and what it can post: the one place that turns
 * a token's expiry, a platform's typed auth error and the granted scopes into
 * what a host shows on the account.
 *
 * - `healthy`: the token works and does not end within the warning window;
 * - `expiring`: it ends within `expiringWindowMs` (`expiresAt` says when);
 * - `expired`: past its end, and nothing can renew it;
 * - `revoked`: the platform said the grant is gone (`AuthFailed` `revoked`);
 * - `reconnect_required`: the platform refused the token otherwise (expired
 *   and not refreshable, invalid, or a permission the account lacks).
 *
 * A refused token wins over its expiry until a successful check clears it.
 *
 * @example
 * const health = AccountHealth.classify({ expiresAt: "2026-12-05T00:00:00Z", nowMs: Date.parse("2026-12-02T00:00:00Z") })
 * // { state: "expiring", expiresAt: "2026-12-05T00:00:00Z" }
 */
import type { MediaKind } from "./Media.js"
import type { Placement } from "./Post.js"
import type { AuthFailed } from "./PublishError.js"
import type { PlatformRules } from "./Rules.js"

export const states = ["healthy", "expiring", "expired", "revoked", "reconnect_required"] as const
export type State = (typeof states)[number]

/** What a failed token leaves until a check succeeds: stored by a host beside the account. */
export type Refusal = "revoked" | "reconnect_required"

/** A token that ends within this is `expiring`: a week, time to reconnect. */
export const expiringWindowMs = 7 * 86_400_000

export interface TokenHealth {
  readonly state: State
  /** When the connection ends (ISO 8601), when known. */
  readonly expiresAt?: string | undefined
}

/** What an auth error says about the token: `revoked` when the platform says so, otherwise a reconnect. */
export const refusalOf = (error: Pick<AuthFailed, "reason">): Refusal =>
  error.reason === "revoked" ? "revoked" : "reconnect_required"

/** The token's health from its refusal (if any), its end and the time now. */
export const classify = (input: {
  readonly expiresAt?: string | undefined
  readonly refusal?: Refusal | undefined
  readonly nowMs: number
  readonly windowMs?: number | undefined
}): TokenHealth => {
  const ms = input.expiresAt === undefined ? Number.NaN : Date.parse(input.expiresAt)
  const expiresAt = Number.isFinite(ms) ? new Date(ms).toISOString() : undefined
  const withEnd = expiresAt !== undefined ? { expiresAt } : {}
  if (input.refusal !== undefined) return { state: input.refusal, ...withEnd }
  if (expiresAt === undefined) return { state: "healthy" }
  if (ms <= input.nowMs) return { state: "expired", expiresAt }
  if (ms - (input.windowMs ?? expiringWindowMs) <= input.nowMs) return { state: "expiring", expiresAt }
  return { state: "healthy", expiresAt }
}

/** What an account can post: content kinds and placements. */
export interface Capabilities {
  readonly text: boolean
  readonly image: boolean
  readonly video: boolean
  readonly placements: ReadonlyArray<Placement>
}

/**
 * Which placements a scope allows, for platforms that say so (TikTok's
 * `video.publish` posts directly, `video.upload` only to the inbox). A
 * platform with no entry, or a host that does not know the scopes granted,
 * gets every placement of its rules.
 */
export interface ScopeRule {
  readonly scope: string
  readonly placements: ReadonlyArray<Placement>
  readonly source: string
}

/**
 * What an account can post: the rules table's placements, kept to those a
 * granted scope allows when the platform has scope rules and the scopes are
 * known; text, image and video when any remaining placement takes them.
 */
export const capabilities = (
  rules: PlatformRules,
  grantedScopes?: ReadonlyArray<string> | undefined,
  scopeRules: ReadonlyArray<ScopeRule> = []
): Capabilities => {
  const allowed = grantedScopes === undefined || scopeRules.length === 0
    ? undefined
    : new Set(scopeRules.filter((rule) => grantedScopes.includes(rule.scope)).flatMap((rule) => rule.placements))
  const placements = rules.placements.filter((p) => allowed === undefined || allowed.has(p.placement))
  const takes = (kind: MediaKind) => placements.some((p) => p.media[kind] !== undefined && p.maxMedia > 0)
  return {
    text: placements.some((p) => p.textAllowed && !p.mediaRequired),
    image: takes("image"),
    video: takes("video"),
    placements: placements.map((p) => p.placement)
  }
}
