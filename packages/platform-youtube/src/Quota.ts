/**
 * The YouTube Data API quota, counted per project (per publisher: one OAuth
 * client is one Google Cloud project). Every request costs its documented
 * units, even a refused one; the day's units reset at midnight
 * America/Los_Angeles.
 *
 * | call | units | source |
 * |---|---|---|
 * | `videos.insert` | 1600 | videos/insert reference page ("a call to this method has a quota cost of 1600 units") |
 * | `thumbnails.set` | 50 | determine_quota_cost |
 * | `playlistItems.insert` | 50 | determine_quota_cost |
 * | `videos.list`, `channels.list`, `playlistItems.list` | 1 | determine_quota_cost |
 * | default daily allocation | 10,000 | getting-started#quota |
 *
 * The chunks and status queries of a resumable session belong to its
 * `videos.insert` and cost nothing more. Google's newer pages describe a
 * separate `videos.insert` bucket (platform-specs §4.4, CONFLICT); the cost
 * and the allocation are options (`insertCost`, `dailyUnits`) so a project
 * with another allocation says so.
 *
 * Sources: https://developers.google.com/youtube/v3/determine_quota_cost,
 * https://developers.google.com/youtube/v3/docs/videos/insert,
 * https://developers.google.com/youtube/v3/getting-started#quota.
 */
import * as Errors from "./Errors.js"

export const costs = {
  "videos.insert": 1600,
  "thumbnails.set": 50,
  "playlistItems.insert": 50,
  "commentThreads.insert": 50,
  "videos.list": 1,
  "channels.list": 1,
  "playlistItems.list": 1
} as const

export type Call = keyof typeof costs

export const defaultDailyUnits = 10_000

export interface Options {
  /** The project's daily allocation. Default 10,000. */
  readonly dailyUnits?: number | undefined
  /** What `videos.insert` costs. Default 1600. */
  readonly insertCost?: number | undefined
}

/** Units spent today by one project; a new day (Pacific) starts at 0. */
export class Ledger {
  private resetAtMs = 0
  private spentUnits = 0
  readonly dailyUnits: number
  readonly insertCost: number

  constructor(options: Options = {}) {
    this.dailyUnits = options.dailyUnits ?? defaultDailyUnits
    this.insertCost = options.insertCost ?? costs["videos.insert"]
  }

  cost(call: Call): number {
    return call === "videos.insert" ? this.insertCost : costs[call]
  }

  private roll(nowMs: number): void {
    if (nowMs >= this.resetAtMs) {
      this.spentUnits = 0
      this.resetAtMs = Errors.nextMidnightPacific(nowMs)
    }
  }

  /** Units spent today. */
  spent(nowMs: number): number {
    this.roll(nowMs)
    return this.spentUnits
  }

  remaining(nowMs: number): number {
    return Math.max(0, this.dailyUnits - this.spent(nowMs))
  }

  /** When today's units reset (epoch ms). */
  resetsAt(nowMs: number): number {
    this.roll(nowMs)
    return this.resetAtMs
  }

  /** Counts a call made. */
  charge(call: Call, nowMs: number): void {
    this.roll(nowMs)
    this.spentUnits += this.cost(call)
  }

  /** What a post costs: the upload, and the thumbnail and playlist when asked. */
  postCost(extras: { readonly thumbnail: boolean; readonly playlist: boolean }): number {
    return this.insertCost + (extras.thumbnail ? costs["thumbnails.set"] : 0) + (extras.playlist ? costs["playlistItems.insert"] : 0)
  }
}
