/** The fake's data: its public types, and the state every XRPC area reads and changes. */
import { makeTidGenerator } from "./ids.js"
import { makeSigner } from "./jwt.js"

export interface FakeAccountInput {
  readonly handle: string
  /** The app password the fake accepts. */
  readonly password: string
  readonly did?: string
  readonly email?: string
  readonly displayName?: string
  readonly avatar?: string
}

export interface FakeAccount {
  readonly did: string
  readonly handle: string
  readonly password: string
  readonly email: string
  readonly displayName?: string | undefined
  readonly avatar?: string | undefined
}

/** A fault for the next calls of one endpoint (by NSID). */
export interface RecordedRequest {
  readonly server: "pds" | "video" | "web"
  readonly method: string
  /** The NSID for XRPC calls, else the path. */
  readonly nsid: string
  readonly query: Readonly<Record<string, string>>
  /** The answered status; 0 when the connection was dropped. */
  readonly status: number
  readonly authorization?: string | undefined
  readonly contentType?: string | undefined
  readonly bodyBytes: number
  /** The XRPC error name of the answer, if any. */
  readonly error?: string | undefined
}

export interface StoredRecord {
  readonly uri: string
  readonly cid: string
  readonly repo: string
  readonly collection: string
  readonly rkey: string
  readonly value: Record<string, unknown>
}

export interface StoredBlob {
  readonly cid: string
  /** The repo that uploaded these bytes last (each repo that uploaded them holds its own copy). */
  readonly did: string
  readonly mimeType: string
  readonly size: number
  /** The bytes, kept for blobs up to `maxImageBytes` (images); larger ones keep only size and CID. */
  readonly bytes?: Uint8Array | undefined
}

export interface VideoJob {
  readonly jobId: string
  readonly did: string
  readonly name: string
  readonly size: number
  readonly blobCid: string
  readonly createdAt: number
  polls: number
  state: "JOB_STATE_CREATED" | "JOB_STATE_ENCODING" | "JOB_STATE_COMPLETED" | "JOB_STATE_FAILED"
  failure?: string | undefined
}

export interface FakeBlueskyOptions {
  /** Accounts; by default one: `alice.bsky.social` with app password `alic-eapp-pass-word`. */
  readonly accounts?: ReadonlyArray<FakeAccountInput>
  /** Access token lifetime. Default 7200 s. */
  readonly accessTokenTtlSeconds?: number
  /** Refresh token lifetime. Default 90 days. */
  readonly refreshTokenTtlSeconds?: number
  /** createSession limit per account. Default 30 per 300 s (platform-specs §6.1). */
  readonly createSessionLimit?: { readonly max: number; readonly windowSeconds: number }
  /** An image embedded in a post, checked when the record is created. Default 2,000,000 bytes (lexicon `app.bsky.embed.images`). */
  readonly maxImageBytes?: number
  /** uploadBlob's limit on any body (413 above it). Default 52,428,800 bytes (platform-specs §6.2; the reference PDS's default is 5 MiB). */
  readonly maxBlobBytes?: number
  /** The video service's limit and the video embed's. Default 300,000,000 bytes (lexicon `app.bsky.embed.video`). */
  readonly maxVideoBytes?: number
  /** The video service's DID, the audience of its `getUploadLimits` tokens. Default `did:web:video.bsky.app`. */
  readonly videoServiceDid?: string
  /** getJobStatus polls answered "processing" before a job completes. Default 2. */
  readonly videoProcessingPolls?: number
  /** Daily video quota per account, reported by getUploadLimits and enforced by uploadVideo. Default 25 videos, 10 GB. */
  readonly videoQuota?: { readonly videos: number; readonly bytes: number }
}

export const defaultAccount: FakeAccountInput = {
  handle: "alice.bsky.social",
  password: "alic-eapp-pass-word",
  displayName: "Alice",
  avatar: "https://cdn.bsky.app/img/avatar/plain/did:plc:alice/avatar@jpeg"
}

/** The options with their defaults filled in. */
export type ResolvedOptions = Required<Omit<FakeBlueskyOptions, "accounts">>

export const resolveOptions = (options: FakeBlueskyOptions): ResolvedOptions => ({
  accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 7200,
  refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 90 * 24 * 3600,
  createSessionLimit: options.createSessionLimit ?? { max: 30, windowSeconds: 300 },
  maxImageBytes: options.maxImageBytes ?? 2_000_000,
  maxBlobBytes: options.maxBlobBytes ?? 52_428_800,
  maxVideoBytes: options.maxVideoBytes ?? 300_000_000,
  videoServiceDid: options.videoServiceDid ?? "did:web:video.bsky.app",
  videoProcessingPolls: options.videoProcessingPolls ?? 2,
  videoQuota: options.videoQuota ?? { videos: 25, bytes: 10_000_000_000 }
})

/** What the fake PDS and video service hold, shared by the sessions, blobs and records areas. */
export class FakeState {
  readonly accounts = new Map<string, FakeAccount>()
  readonly records: Array<StoredRecord> = []
  readonly blobs = new Map<string, StoredBlob>()
  /**
   * Which repo holds which blob (`did cid`): every repo has its own blob
   * store (the PDS's actor store), so the same bytes uploaded by two accounts
   * are a blob of each, and a record may cite only its own repo's.
   */
  readonly heldBlobs = new Set<string>()
  readonly videoJobs = new Map<string, VideoJob>()
  readonly signer = makeSigner()
  readonly usedRefreshTokens = new Set<string>()
  readonly sessionAttempts = new Map<string, Array<number>>()
  /** Access tokens issued and not yet forced to expire, and those forced to. */
  readonly liveAccessTokens = new Set<string>()
  readonly expiredAccessTokens = new Set<string>()
  readonly failNextVideoJobs: Array<string> = []
  readonly nextTid = makeTidGenerator(() => this.now())
  clockOffsetMs = 0
  jobCounter = 0

  constructor(
    readonly options: ResolvedOptions,
    /** The PDS's base URL. */
    private readonly pdsUrl: () => string
  ) {}

  get url(): string {
    return this.pdsUrl()
  }

  /** The PDS's service DID: `did:web:` and the host name of its URL, without the port (as the reference PDS derives it from `PDS_HOSTNAME`). */
  get serviceDid(): string {
    return `did:web:${new URL(this.url).hostname}`
  }

  get videoServiceDid(): string {
    return this.options.videoServiceDid
  }

  now(): number {
    return Date.now() + this.clockOffsetMs
  }

  accountByHandle(handle: string): FakeAccount | undefined {
    const wanted = handle.toLowerCase().replace(/^@/, "")
    return [...this.accounts.values()].find((account) => account.handle === wanted)
  }

  /** The `app.bsky.feed.post` records, oldest first (optionally of one repo). */
  posts(did?: string): ReadonlyArray<StoredRecord> {
    return this.records.filter((record) =>
      record.collection === "app.bsky.feed.post" && (did === undefined || record.repo === did)
    )
  }
}
