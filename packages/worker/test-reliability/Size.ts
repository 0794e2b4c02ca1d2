/**
 * The size of a reliability run, from the environment: `RELIABILITY_POSTS`,
 * `RELIABILITY_REQUESTS` and `RELIABILITY_KILLS` (default: the reduced run that `npm test`
 * includes) and `RELIABILITY_SEED`
 * (default: drawn, and printed by each suite so a run can be replayed).
 */

/** Posts of the faults run: `RELIABILITY_POSTS`, else 12. */
export const postsCount = (): number => {
  const value = Number.parseInt(process.env.RELIABILITY_POSTS ?? "", 10)
  return Number.isInteger(value) && value > 0 ? value : 12
}

/** The run's seed: `RELIABILITY_SEED`, else a fresh one. */
export const seedOf = (): number => {
  const value = Number.parseInt(process.env.RELIABILITY_SEED ?? "", 10)
  return Number.isInteger(value) ? value : Math.floor(Math.random() * 2 ** 31)
}

/** A small seeded generator (mulberry32): numbers in [0, 1), the same for the same seed. */
export const randomOf = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Requests of the hostile-input run: `RELIABILITY_REQUESTS`, else 2,000. */
export const requestsCount = (): number => {
  const value = Number.parseInt(process.env.RELIABILITY_REQUESTS ?? "", 10)
  return Number.isInteger(value) && value > 0 ? value : 2_000
}

/** SIGKILLs of the crash run: `RELIABILITY_KILLS`, else 5. */
export const killsCount = (): number => {
  const value = Number.parseInt(process.env.RELIABILITY_KILLS ?? "", 10)
  return Number.isInteger(value) && value > 0 ? value : 5
}

/**
 * How long a faults run of `posts` may take: ten minutes, plus a second a
 * post. The platforms' calls for one account run a few at a time, so a run
 * grows with its posts (about half a second a video post to YouTube and
 * TikTok on a loaded two-core machine): a fixed limit that fits 12 posts cut
 * the full 1,000 short while it was still settling, not stuck.
 */
export const runTimeoutMs = (posts: number): number => 600_000 + posts * 1_000
