import { describe, expect, it } from "vitest"
import * as AccountHealth from "../src/AccountHealth.js"
import { rules } from "../src/Rules.js"

const now = Date.parse("2026-12-02T00:00:00.000Z")
const at = (ms: number) => new Date(now + ms).toISOString()
const day = 86_400_000

describe("AccountHealth.classify", () => {
  it.each([
    ["no expiry known", {}, "healthy"],
    ["ends past the window", { expiresAt: at(AccountHealth.expiringWindowMs + 1) }, "healthy"],
    ["ends at the window's edge", { expiresAt: at(AccountHealth.expiringWindowMs) }, "expiring"],
    ["ends in a day", { expiresAt: at(day) }, "expiring"],
    ["ends now", { expiresAt: at(0) }, "expired"],
    ["ended", { expiresAt: at(-1) }, "expired"],
    ["revoked, far from its end", { expiresAt: at(300 * day), refusal: "revoked" as const }, "revoked"],
    ["refused, already ended", { expiresAt: at(-day), refusal: "reconnect_required" as const }, "reconnect_required"],
    ["an unreadable expiry", { expiresAt: "soon" }, "healthy"]
  ])("%s", (_name, input, state) => {
    expect(AccountHealth.classify({ ...input, nowMs: now }).state).toBe(state)
  })

  it("says when an expiring token ends", () => {
    expect(AccountHealth.classify({ expiresAt: at(day), nowMs: now })).toEqual({ state: "expiring", expiresAt: at(day) })
  })

  it.each([
    ["revoked", "revoked"],
    ["expired", "reconnect_required"],
    ["invalid", "reconnect_required"],
    ["missing_permission", "reconnect_required"]
  ] as const)("an AuthFailed %s is %s", (reason, refusal) => {
    expect(AccountHealth.refusalOf({ reason })).toBe(refusal)
  })
})

describe("AccountHealth.capabilities", () => {
  const tiktok = rules.tiktok
  const bluesky = rules.bluesky
  const scopeRules: ReadonlyArray<AccountHealth.ScopeRule> = [{ scope: "video.publish", placements: ["video"], source: "test" }]

  it("takes the rules table's placements when scopes are unknown or the platform has no scope rules", () => {
    expect(AccountHealth.capabilities(bluesky)).toEqual({ text: true, image: true, video: true, placements: ["feed"] })
    expect(AccountHealth.capabilities(tiktok, undefined, scopeRules).placements).toEqual(tiktok.placements.map((p) => p.placement))
  })

  it("keeps the placements a granted scope allows", () => {
    expect(AccountHealth.capabilities(tiktok, ["user.info.basic", "video.publish"], scopeRules)).toEqual({
      text: false,
      image: false,
      video: true,
      placements: ["video"]
    })
    expect(AccountHealth.capabilities(tiktok, ["user.info.basic"], scopeRules)).toEqual({ text: false, image: false, video: false, placements: [] })
  })
})
