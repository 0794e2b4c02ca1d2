/**
 * The contract every platform implements, built-in or written by a user.
 *
 * A publisher is a plain object whose effects need nothing from the context:
 * a platform package builds one from an `HttpClient` (and its config) in an
 * Effect or Layer, so the registry, the fan-out and the worker can hold
 * publishers of any platform side by side.
 *
 * @example
 * const publisher: PlatformPublisher<MySettings, MyCredentials> = {
 *   platform: "mastodon",
 *   displayName: "Mastodon",
 *   rules: mastodonRules,
 *   settingsSchema: MySettings,
 *   credentialsSchema: MyCredentials,
 *   publish: (request) => Effect.succeed({ platformPostId: "1", url: "https://…", publishedAt: "…", parts: [] })
 * }
 */
import type { Effect, Schema } from "effect"
import type { ScopeRule } from "./AccountHealth.js"
import type { PublishedPart, ResolvedDestination } from "./Post.js"
import type { PublishError } from "./PublishError.js"
import type { PlatformRules } from "./Rules.js"
import type { ValidationIssue } from "./Validation.js"

/** What every call for a destination gets (`publish`, `comment`): which destination, resolved, and the account's credentials. */
export interface DestinationCall<Settings = unknown, Credentials = unknown> {
  readonly postId: string
  readonly destinationId: string
  /**
   * Unique per attempt. Platforms that accept an idempotency key get it; the
   * worker stores it before the call so that an unknown outcome can be reconciled.
   */
  readonly attemptId: string
  readonly destination: ResolvedDestination & { readonly settings: Settings }
  readonly credentials: Credentials
  /**
   * Called when the publisher refreshed the credentials during the call
   * (an expired access token): the caller persists them. Never called with an
   * empty refresh token.
   */
  readonly saveCredentials?: ((credentials: Credentials) => Effect.Effect<void>) | undefined
}

/** What a publish call gets: one destination, already resolved (overrides applied, settings decoded). */
export interface PublishRequest<Settings = unknown, Credentials = unknown> extends DestinationCall<Settings, Credentials> {
  /** For platforms with native scheduling: publish at this instant (ISO 8601) instead of now. */
  readonly publishAt?: string | undefined
  /**
   * The first parts of this destination's thread, already live from an
   * earlier attempt that failed part way (`PublishError`'s `postedParts`).
   * The publisher posts the rest, the first of them as a reply to the last
   * of these, and never posts these again: the platform kit's `Thread` does it.
   */
  readonly postedParts?: ReadonlyArray<PublishedPart> | undefined
  /**
   * Keeps parts on the destination before the call ends: parts already live,
   * or a post the platform holds and will publish without another call
   * (TikTok's publish id while it processes). A host that dies before the
   * answer hands them to `findPublished` (as `postedParts`) instead of
   * posting again. Best effort: it never fails the call.
   */
  readonly keepPostedParts?: ((parts: ReadonlyArray<PublishedPart>) => Effect.Effect<void>) | undefined
}

/** A published part (a thread publishes several). */
export type { PublishedPart }

export interface PublishResult {
  /** The first part's id and URL: the post's identity on the platform. */
  readonly platformPostId: string
  readonly url: string
  /** ISO 8601. */
  readonly publishedAt: string
  /** Every part in order, the first included. */
  readonly parts: ReadonlyArray<PublishedPart>
}

/**
 * What a `comment` call gets: the published post (its first part's id and
 * URL, every part, as `publish` returned them) and the comment's text.
 */
export interface CommentRequest<Settings = unknown, Credentials = unknown> extends DestinationCall<Settings, Credentials> {
  /** The post the comment goes under. */
  readonly published: {
    readonly platformPostId: string
    readonly url: string
    readonly parts: ReadonlyArray<PublishedPart>
  }
  /** The comment's text, overrides applied, never blank. */
  readonly text: string
}

/** A posted comment: its id and URL on the platform. */
export interface CommentResult {
  readonly platformCommentId: string
  readonly url: string
  /** ISO 8601. */
  readonly postedAt: string
}

/** A JSON value: what platform details may hold. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | ReadonlyArray<JsonValue>
  | { readonly [key: string]: JsonValue }

/**
 * What a platform says about an account beyond who it is, as JSON, shown on
 * the account by a host (TikTok's creator info: the privacy levels the
 * creator may use, disabled interactions, the longest video). At most
 * `maxPlatformDetailsBytes` of JSON: `boundedPlatformDetails` drops a larger set.
 *
 * @example
 * const details: PlatformDetails = { privacyLevelOptions: ["SELF_ONLY"], commentDisabled: false }
 */
export type PlatformDetails = { readonly [key: string]: JsonValue }

/** The most JSON (UTF-8 bytes) an account's platform details may take: a profile, not a feed. */
export const maxPlatformDetailsBytes = 16_384

/** `details` when it is JSON within `maxPlatformDetailsBytes`, else `undefined` (a plugin's oversized answer never grows a row). */
export const boundedPlatformDetails = (details: unknown): PlatformDetails | undefined => {
  if (typeof details !== "object" || details === null || Array.isArray(details)) return undefined
  let json: string | undefined
  try {
    json = JSON.stringify(details)
  } catch {
    return undefined
  }
  if (json === undefined || new TextEncoder().encode(json).byteLength > maxPlatformDetailsBytes) return undefined
  // A round trip keeps only JSON (no functions, Dates as strings, no undefined).
  return JSON.parse(json) as PlatformDetails
}

/** The account behind a set of credentials. */
export interface AccountProfile {
  readonly accountId: string
  readonly username: string
  readonly displayName?: string | undefined
  readonly avatarUrl?: string | undefined
  /** Platform-specific facts about the account (see `PlatformDetails`), refreshed with the profile. */
  readonly details?: PlatformDetails | undefined
}

/** What `validate` sees: one destination after overrides, settings already decoded. */
export interface ValidationContext<Settings = unknown> {
  readonly destination: ResolvedDestination & { readonly settings: Settings }
  readonly destinationIndex: number
}

export interface PlatformPublisher<Settings = any, Credentials = any> {
  /** The platform id used in destinations (`x`, `bluesky`, `mastodon`…). */
  readonly platform: string
  readonly displayName: string
  /** The platform's rows of the rules table, applied by `validatePost`. */
  readonly rules: PlatformRules
  /** Decodes a destination's `settings`; failures become `INVALID_SETTINGS` issues. */
  readonly settingsSchema: Schema.Codec<Settings, any>
  readonly credentialsSchema: Schema.Codec<Credentials, any>
  /** Checks the rules table cannot express; pure and synchronous, like `validatePost`. */
  readonly validate?: ((context: ValidationContext<Settings>) => ReadonlyArray<ValidationIssue>) | undefined
  readonly publish: (request: PublishRequest<Settings, Credentials>) => Effect.Effect<PublishResult, PublishError>
  /**
   * How long a `publish` call usually takes, in milliseconds: a hint for a
   * scheduler before it has timed any call of this publisher (the worker marks
   * destinations of fast platforms a little ahead of a free call slot, see
   * its `markAheadMs`, and from the first burst on with this hint). Leave it
   * out when unsure: until it has measured, the scheduler then marks each
   * destination just before its call, which a cancel can still stop.
   */
  readonly expectedCallMs?: number | undefined
  /**
   * Posts a first comment under a published post (a reply on X and Bluesky,
   * a comment elsewhere). Platforms without comments leave it out, and
   * `validatePost` (through the registry) refuses a first comment for them
   * with `COMMENT_NOT_SUPPORTED`. Its errors are `publish`'s; a failed
   * comment never fails the post (see `Comment`).
   */
  readonly comment?:
    | ((request: CommentRequest<Settings, Credentials>) => Effect.Effect<CommentResult, PublishError>)
    | undefined
  readonly delete?:
    | ((request: { readonly platformPostId: string; readonly credentials: Credentials }) => Effect.Effect<void, PublishError>)
    | undefined
  readonly verifyCredentials?: ((credentials: Credentials) => Effect.Effect<AccountProfile, PublishError>) | undefined
  /**
   * When these credentials' access token expires (ISO 8601), when they say:
   * a host shows it on the account (`tokenExpiresAt`), so a token the
   * platform will not refresh is seen expiring before a post fails on it.
   */
  readonly tokenExpiresAt?: ((credentials: Credentials) => string | undefined) | undefined
  /** The scopes these credentials were granted, when they say: a host shows them on the account. */
  readonly grantedScopes?: ((credentials: Credentials) => ReadonlyArray<string> | undefined) | undefined
  /**
   * Which placements each scope allows, for platforms whose scopes decide what
   * an account may post (TikTok: `video.publish`, `video.upload`): with the
   * granted scopes, `AccountHealth.capabilities` keeps only those placements.
   */
  readonly scopeRules?: ReadonlyArray<ScopeRule> | undefined
  /** Returns fresh credentials; on a transient failure the caller keeps the old ones. */
  readonly refreshCredentials?: ((credentials: Credentials) => Effect.Effect<Credentials, PublishError>) | undefined
  /**
   * Looks for a post made by an attempt whose outcome is unknown (the call was
   * sent but no answer came back). `Option.none` means it was not posted.
   * Platforms without a way to look this up leave it out, and such outcomes
   * stay `OUTCOME_UNKNOWN` for a person to decide.
   */
  readonly findPublished?:
    | ((request: PublishRequest<Settings, Credentials> & { readonly sentAt: string }) => Effect.Effect<
      PublishResult | undefined,
      PublishError
    >)
    | undefined
}
