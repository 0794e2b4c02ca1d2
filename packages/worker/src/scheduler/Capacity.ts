/**
 * The scheduler's room, as pure functions: how many platform calls may run
 * (per process, per platform, per account), how many destinations may be
 * marked publishing ahead of their call slot (`markAhead`), what a
 * claim-and-mark round may take (`markRooms`) and when freed room is worth a
 * claim round (`worthARound`). They read a snapshot of the scheduler's counts
 * (`Load`) and its bounds (`Bounds`) and decide; the scheduler's fibers do the rest.
 */
import type { MarkRooms } from "../storage/Leases.js"

/** How many of something (calls, reservations) per platform and per account, and in all. */
export class Counts {
  total = 0
  private readonly byPlatform = new Map<string, number>()
  private readonly byAccount = new Map<string, number>()
  /** Each counted account's platform (an account belongs to one). */
  private readonly accountPlatform = new Map<string, string>()

  add(platform: string, accountId: string, delta: number) {
    this.total += delta
    bump(this.byPlatform, platform, delta)
    bump(this.byAccount, accountId, delta)
    if (this.byAccount.has(accountId)) this.accountPlatform.set(accountId, platform)
    else this.accountPlatform.delete(accountId)
  }
  ofPlatform(platform: string) {
    return this.byPlatform.get(platform) ?? 0
  }
  ofAccount(accountId: string) {
    return this.byAccount.get(accountId) ?? 0
  }
  platformOf(accountId: string) {
    return this.accountPlatform.get(accountId)
  }
  platforms() {
    return [...this.byPlatform]
  }
  accounts() {
    return [...this.byAccount]
  }
  copy() {
    const copy = new Counts()
    copy.total = this.total
    for (const [k, v] of this.byPlatform) copy.byPlatform.set(k, v)
    for (const [k, v] of this.byAccount) copy.byAccount.set(k, v)
    for (const [k, v] of this.accountPlatform) copy.accountPlatform.set(k, v)
    return copy
  }
}

const bump = (map: Map<string, number>, key: string, delta: number) => {
  const next = (map.get(key) ?? 0) + delta
  if (next <= 0) map.delete(key)
  else map.set(key, next)
}

/** The earlier of two instants, either possibly unknown. */
export const earliest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b)

/**
 * How many destinations beyond a scope's free call slots may be marked
 * publishing ahead of their call: the calls `limit` slots are expected to start
 * within `windowMs`, given calls that recently took `callMs` on average,
 * at most `cap`. Until a platform's calls have been timed (`undefined`), none:
 * a slow platform keeps the mark just in time, a platform answering in
 * microseconds (a no-op) gets a whole batch, so marks go out as batches
 * instead of one slot at a time.
 */
export const markAhead = (limit: number, callMs: number | undefined, windowMs: number, cap: number): number =>
  callMs === undefined || windowMs <= 0 ? 0 : Math.max(0, Math.min(cap, Math.floor((limit * windowMs) / Math.max(callMs, 0.001))))

/** The scheduler's bounds (its settings). */
export interface Bounds {
  /** Calls in flight in this process. */
  readonly concurrency: number
  /** Calls in flight per account. */
  readonly perAccount: number
  /** Most destinations claimed per query. */
  readonly batchSize: number
  /** The mark-ahead window, in expected call time. */
  readonly markAheadMs: number
  /** Calls in flight per platform. */
  readonly platformLimit: (platform: string) => number
}

/** What the scheduler holds now. */
export interface Load {
  /** Platform calls in flight. */
  readonly calling: Counts
  /** Destinations being marked, marked and waiting for a slot, or in a call. */
  readonly reserved: Counts
  /** Recent call durations per platform. */
  readonly callMs: ReadonlyMap<string, number>
  /** Rows asked for by claim-and-mark rounds whose statement is running. */
  readonly claimsInFlight: number
  /** How many such rounds. */
  readonly roundsInFlight: number
  /** Claimed destinations waiting in the local queue. */
  readonly pending: number
}

/** A claimed destination's scope. */
export interface Scope {
  readonly platform: string
  readonly accountId: string
}

/** The mark-ahead of `limit` slots of `platform`: up to four batches (two rounds or marks in flight and the next ones). */
export const aheadOf = (bounds: Bounds, load: Pick<Load, "callMs">, limit: number, platform: string): number =>
  markAhead(limit, load.callMs.get(platform), bounds.markAheadMs, 4 * bounds.batchSize)

/** The largest mark-ahead of the whole process, over every timed platform. */
export const maxAhead = (bounds: Bounds, load: Pick<Load, "callMs">): number => {
  let ahead = 0
  for (const platform of load.callMs.keys()) ahead = Math.max(ahead, aheadOf(bounds, load, bounds.concurrency, platform))
  return ahead
}

/** A free call slot for `claim`: in the process, its platform and its account. */
export const canCall = (bounds: Bounds, load: Pick<Load, "calling">, claim: Scope): boolean =>
  load.calling.total < bounds.concurrency &&
  load.calling.ofPlatform(claim.platform) < bounds.platformLimit(claim.platform) &&
  load.calling.ofAccount(claim.accountId) < bounds.perAccount

/** Room to mark one more: the free call slots, plus the mark-ahead of fast platforms. */
export const canReserve = (bounds: Bounds, load: Load, claim: Scope): boolean => {
  const platformBound = bounds.platformLimit(claim.platform)
  // A claim-and-mark round in flight may bring up to its limit for any one account or platform (as
  // `markRooms` assumes): counted as taken, or both paths together could overrun a bound.
  const { claimsInFlight, reserved } = load
  return reserved.total + claimsInFlight < bounds.concurrency + aheadOf(bounds, load, bounds.concurrency, claim.platform) &&
    reserved.ofPlatform(claim.platform) + claimsInFlight < platformBound + aheadOf(bounds, load, platformBound, claim.platform) &&
    reserved.ofAccount(claim.accountId) + claimsInFlight < bounds.perAccount + aheadOf(bounds, load, bounds.perAccount, claim.platform)
}

/** No room at all, whatever the platform: scans stop at once instead of visiting every claim. */
export const noRoomLeft = (bounds: Bounds, load: Load): boolean =>
  load.reserved.total + load.claimsInFlight >= bounds.concurrency + maxAhead(bounds, load)

/**
 * Whether freed room is worth waking the loop for a claim round: at once
 * when the mark stays just in time (slow platforms), and for fast ones once
 * half a batch fits, so that rounds stay batches and the loop does not spin
 * once per call.
 */
export const worthARound = (bounds: Bounds, load: Load): boolean => {
  if (load.pending > 0) return load.pending <= bounds.batchSize / 2
  const ahead = maxAhead(bounds, load)
  const room = bounds.concurrency + ahead - load.reserved.total - load.claimsInFlight
  return ahead === 0 ? room > 0 : room >= bounds.batchSize / 2 && load.roundsInFlight < 2
}

/**
 * What `claimAndMark` may take now: the room under each bound (calls plus
 * mark-ahead, minus what is already reserved) per platform and per account,
 * for the platforms this process can publish to (`known`).
 */
export const markRooms = (
  bounds: Bounds,
  load: Load,
  known: (platform: string) => boolean
): { readonly limit: number; readonly pipelined: boolean; readonly rooms: MarkRooms } => {
  const { claimsInFlight, reserved } = load
  const { concurrency, perAccount } = bounds
  const platforms = [...new Set([...reserved.platforms().map(([p]) => p), ...load.callMs.keys()])].filter(known)
  // A claim round in flight may bring up to its limit for any one account or platform.
  const platformRooms = platforms.map((platform) => ({
    platform,
    room: Math.max(
      0,
      bounds.platformLimit(platform) + aheadOf(bounds, load, bounds.platformLimit(platform), platform) - reserved.ofPlatform(platform) -
        claimsInFlight
    ),
    accountRoom: Math.max(0, perAccount + aheadOf(bounds, load, perAccount, platform) - claimsInFlight)
  }))
  const accounts = reserved.accounts().map(([accountId, n]) => {
    const platform = reserved.platformOf(accountId)!
    return { accountId, room: Math.max(0, perAccount + aheadOf(bounds, load, perAccount, platform) - n - claimsInFlight) }
  })
  const total = concurrency + Math.max(0, ...platforms.map((p) => aheadOf(bounds, load, concurrency, p))) - reserved.total - claimsInFlight
  return {
    limit: Math.max(0, Math.min(bounds.batchSize, total)),
    /** Platforms answering fast enough that a second round may run while one is in flight. */
    pipelined: platforms.length > 0 && platforms.every((p) => aheadOf(bounds, load, perAccount, p) >= bounds.batchSize),
    rooms: {
      accounts,
      platforms: platformRooms,
      defaultPlatformRoom: Math.max(0, Math.min(concurrency, concurrency - reserved.total - claimsInFlight)),
      defaultAccountRoom: Math.max(0, perAccount - claimsInFlight)
    }
  }
}

/**
 * What one account and one platform may have in hand (reserved or claimed
 * into the local queue) before claims leave them to other workers: what may be
 * reserved (calls plus mark-ahead) and, for fast platforms, one more batch waiting.
 */
export const inHandBounds = (bounds: Bounds, load: Pick<Load, "callMs">) => ({
  account: (platform: string) => bounds.perAccount + 2 * aheadOf(bounds, load, bounds.perAccount, platform),
  platform: (platform: string) => bounds.platformLimit(platform) + 2 * aheadOf(bounds, load, bounds.platformLimit(platform), platform)
})

/** A call's duration folded into a platform's recent average (exponentially weighted). */
export const observeCall = (callMs: Map<string, number>, platform: string, ms: number): void => {
  const previous = callMs.get(platform)
  callMs.set(platform, previous === undefined ? ms : previous * 0.8 + ms * 0.2)
}
