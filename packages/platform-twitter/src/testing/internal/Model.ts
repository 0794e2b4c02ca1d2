/**
 * The fake X's data: accounts, posts and uploads, the endpoints it serves
 * and X's documented numbers (platform-specs §1), shared by its modules.
 */

export type FakeXEndpoint =
  | "POST /2/oauth2/token"
  | "GET /2/users/me"
  | "POST /2/media/upload/initialize"
  | "POST /2/media/upload/:id/append"
  | "POST /2/media/upload/:id/finalize"
  | "GET /2/media/upload"
  | "POST /2/media/metadata"
  | "POST /2/tweets"
  | "DELETE /2/tweets/:id"
  | "GET /2/users/:id/tweets"

export interface FakeXUser {
  readonly id: string
  readonly username: string
  readonly name: string
  readonly profileImageUrl: string
}

export interface FakeXTweet {
  readonly id: string
  readonly authorId: string
  readonly text: string
  readonly mediaIds: ReadonlyArray<string>
  readonly inReplyToTweetId?: string | undefined
  readonly quoteTweetId?: string | undefined
  readonly replySettings?: string | undefined
  readonly createdAt: string
  deleted: boolean
}

export type FakeXProcessingState = "pending" | "in_progress" | "succeeded" | "failed"

export interface FakeXUpload {
  readonly id: string
  readonly mediaKey: string
  readonly ownerId: string
  readonly mediaType: string
  readonly mediaCategory: string
  readonly totalBytes: number
  /** Segments in the order they arrived. */
  readonly segments: Array<{ readonly index: number; readonly size: number }>
  receivedBytes: number
  finalized: boolean
  state: FakeXProcessingState
  /** SHA-256 (hex) of the whole file, once finalized. */
  sha256?: string | undefined
  /** The type the bytes are (sniffed at FINALIZE, as X judges the file, not `media_type`). */
  sniffedType?: string | undefined
  altText?: string | undefined
  /** When each STATUS poll arrived (epoch ms). */
  readonly statusPolls: Array<number>
  readonly expiresAtMs: number
}

export interface FakeXOptions {
  /** Lifetime of issued OAuth 2.0 access tokens; X's is 2 hours. */
  readonly accessTokenTtlSeconds?: number
  /** STATUS behaviour for video and GIF. */
  readonly processing?: {
    /** `check_after_secs` in FINALIZE and STATUS answers (default 1). */
    readonly checkAfterSecs?: number
    /** STATUS polls before `succeeded` (default 2: one `in_progress`, then done). */
    readonly pollsUntilDone?: number
  }
  /** Per-user limits per 15-minute window, overriding X's documented ones. */
  readonly rateLimits?: Partial<Record<FakeXEndpoint, number>>
  /** Byte caps per category; defaults to platform-specs §1.4 (conservative video cap). */
  readonly limits?: {
    readonly imageBytes?: number
    readonly gifBytes?: number
    readonly videoBytes?: number
    readonly segmentBytes?: number
  }
  /** Clock of the fake (epoch ms); `Date.now` by default. */
  readonly now?: () => number
}

export const MB = 1_000_000

/** Documented per-user limits per 15 minutes (platform-specs §1.6); the unverified ones are marked. */
export const defaultRateLimits: Record<FakeXEndpoint, number> = {
  "POST /2/tweets": 100,
  "DELETE /2/tweets/:id": 50,
  "POST /2/media/upload/initialize": 1875,
  "POST /2/media/upload/:id/append": 1875,
  "POST /2/media/upload/:id/finalize": 1875,
  "GET /2/media/upload": 1000,
  // unverified: not in the spec sheet's table
  "POST /2/media/metadata": 500,
  "GET /2/users/me": 75,
  "POST /2/oauth2/token": 1000,
  "GET /2/users/:id/tweets": 900
}

export const requiredScope: Partial<Record<FakeXEndpoint, string>> = {
  "GET /2/users/me": "users.read",
  "POST /2/tweets": "tweet.write",
  "DELETE /2/tweets/:id": "tweet.write",
  "GET /2/users/:id/tweets": "tweet.read",
  "POST /2/media/upload/initialize": "media.write",
  "POST /2/media/upload/:id/append": "media.write",
  "POST /2/media/upload/:id/finalize": "media.write",
  "GET /2/media/upload": "media.write",
  "POST /2/media/metadata": "media.write"
}

export const categoryTypes: Record<string, ReadonlyArray<string>> = {
  tweet_image: ["image/jpeg", "image/png", "image/webp", "image/gif", "image/bmp"],
  tweet_gif: ["image/gif"],
  tweet_video: ["video/mp4", "video/quicktime"]
}

/** X's rate-limit window. */
export const windowSeconds = 15 * 60

const twitterEpochMs = 1288834974657n

/** What every module of the fake shares: the clock, ids, accounts, posts and uploads. */
export class Store {
  readonly tweets: Array<FakeXTweet> = []
  readonly uploads: Array<FakeXUpload> = []
  readonly users: Array<FakeXUser> = []
  private sequence = 0n

  constructor(readonly options: FakeXOptions, readonly now: () => number) {}

  /** A snowflake: milliseconds since X's epoch, then worker and sequence bits. */
  nextId(): string {
    this.sequence = (this.sequence + 1n) & 0xfffn
    return (((BigInt(this.now()) - twitterEpochMs) << 22n) | (1n << 17n) | (1n << 12n) | this.sequence).toString()
  }

  addUser(input: { readonly username: string; readonly name?: string | undefined; readonly id?: string | undefined }): FakeXUser {
    const existing = this.users.find((u) => u.username.toLowerCase() === input.username.toLowerCase())
    if (existing !== undefined) return existing
    const id = input.id ?? this.nextId()
    const user: FakeXUser = {
      id,
      username: input.username,
      name: input.name ?? input.username,
      profileImageUrl: `https://pbs.twimg.com/profile_images/${id}/avatar_normal.jpg`
    }
    this.users.push(user)
    return user
  }

  findUpload(user: FakeXUser, id: string): FakeXUpload | undefined {
    return this.uploads.find((u) => u.id === id && u.ownerId === user.id && u.expiresAtMs > this.now())
  }
}
