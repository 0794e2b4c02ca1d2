/**
 * The fake's limits, as TikTok documents them (platform-specs §5.6):
 *
 * - per access token and per minute: 20 `creator_info/query`, 6 inits
 *   (`video/init`, `inbox/video/init`, `content/init`), 30 `status/fetch`;
 *   past them `429 rate_limit_exceeded`;
 * - per creator and per day, about 15 Direct Posts (shared by every app): past
 *   them `creator_info/query` and init answer `403 spam_risk_too_many_posts`.
 *
 * Windows are fixed minutes and UTC days of `now` (a test sets it: no sleeps).
 */
import { answer } from "./FakeAnswer.js"

export type Endpoint = "creator_info" | "init" | "status"

export const perMinute: Readonly<Record<Endpoint, number>> = { creator_info: 20, init: 6, status: 30 }

export class Limits {
  /** The fake's clock (epoch ms). */
  now: () => number = Date.now
  perMinute: Record<Endpoint, number> = { ...perMinute }
  /** Direct Posts a creator may make per UTC day. */
  dailyPostCap = 15
  private readonly windows = new Map<string, { minute: number; count: number }>()
  private day = -1
  private postsToday = 0

  /** Counts a call; the refusal when the token is over the endpoint's limit this minute. */
  take(token: string, endpoint: Endpoint, _server: unknown) {
    const minute = Math.floor(this.now() / 60_000)
    const key = `${endpoint}\u0000${token}`
    const window = this.windows.get(key)
    const current = window !== undefined && window.minute === minute ? window : { minute, count: 0 }
    if (current.count >= this.perMinute[endpoint]) {
      return answer(429, "rate_limit_exceeded", `Too many ${endpoint} requests for this access token: at most ${this.perMinute[endpoint]} per minute.`)
    }
    current.count += 1
    this.windows.set(key, current)
    return undefined
  }

  private today(): number {
    const day = Math.floor(this.now() / 86_400_000)
    if (day !== this.day) {
      this.day = day
      this.postsToday = 0
    }
    return this.postsToday
  }

  /** Whether the creator reached today's cap. */
  capped(): boolean {
    return this.today() >= this.dailyPostCap
  }

  /** A Direct Post was accepted. */
  posted(): void {
    this.today()
    this.postsToday += 1
  }
}
