/**
 * The request and response bodies of the HTTP API. Core's model (`Post`,
 * `Destination`, `Schedule`, `ValidationIssue`) is reused as is; what is
 * added here is what an HTTP caller needs on top: media referenced by id,
 * `scheduledAt` + `timezone` as a shorthand for a schedule, and the views
 * that hide secrets.
 */
import { AccountHealth, Limits, Media as CoreMedia, Platform, Post, Schedule, Validation } from "@omnipost/core"
import { Schema } from "effect"
import { ApiKeyView, CreatedApiKey } from "../storage/ApiKeys.js"
import { MediaView } from "../storage/MediaLibrary.js"
import { pageFields, pagingQuery } from "./Paging.js"
import { WebhookDeliveryView, WebhookEvent, webhookEvents, WebhookView } from "../webhooks/Webhooks.js"

// ---------------------------------------------------------------------------
// Shared
// ---------------------------------------------------------------------------

/** An object with no fields: every key is refused as an unknown field (`{ "type": "object", "additionalProperties": false }`). */
export const EmptyObject = Schema.Record(Schema.String, Schema.Never).annotate({ description: "No fields." })

// ---------------------------------------------------------------------------
// Posts
// ---------------------------------------------------------------------------

/** A media item: a stored upload by id (the server fills in kind, type, size, dimensions), or core's full description. */
export const MediaRef = Schema.Union([
  Schema.Struct({
    mediaId: Limits.BoundedString,
    altText: Schema.optional(Limits.BoundedString)
  }),
  CoreMedia.Media
])
export type MediaRef = typeof MediaRef.Type

// Core's bounds (`Limits`): every text at most 100,000 characters, 100 media a part, 100 thread parts, 100 destinations.
const PartMedia = Limits.boundedArray(MediaRef, Limits.maxMediaPerPart, "media in a part")

export const ThreadPartInput = Schema.Struct({
  text: Schema.optional(Limits.BoundedString),
  media: Schema.optional(PartMedia),
  link: Schema.optional(Limits.BoundedString)
})

const Thread = Limits.boundedArray(ThreadPartInput, Limits.maxThreadParts, "thread parts after the first")

export const ContentInput = Schema.Struct({
  text: Schema.optional(Limits.BoundedString),
  media: Schema.optional(PartMedia),
  link: Schema.optional(Limits.BoundedString),
  thread: Schema.optional(Thread),
  /** A first comment, posted under the published post where the platform has comments or replies (see the destination's `comment`). */
  comment: Schema.optional(Limits.BoundedString)
})
export type ContentInput = typeof ContentInput.Type

export const OverrideInput = Schema.Struct({
  text: Schema.optional(Limits.BoundedString),
  media: Schema.optional(PartMedia),
  link: Schema.optional(Limits.BoundedString),
  thread: Schema.optional(Thread),
  /** Replaces the first comment for this platform or destination; `""` clears it. */
  comment: Schema.optional(Limits.BoundedString),
  settings: Schema.optional(Schema.Record(Schema.String, Schema.Unknown))
})
export type OverrideInput = typeof OverrideInput.Type

/**
 * Where to publish: one account (`accountId`), or every account of a group
 * (`groupId`, expanded when the post is created or updated; an account also
 * named directly keeps its own entry). Exactly one of the two.
 */
export const DestinationInput = Schema.Struct({
  /** The connected account to publish with. */
  accountId: Schema.optional(Limits.BoundedString).annotate({ description: "The connected account to publish with (or groupId)." }),
  /** Every account of this group, each with this entry's placement, settings and override. */
  groupId: Schema.optional(Limits.BoundedString).annotate({
    description: "An account group: one destination per account in it, each with this entry's placement, settings and override (or accountId)."
  }),
  /** Optional: taken from the account when omitted; when given it must match the account's platform (not with groupId). */
  platform: Schema.optional(Platform.PlatformId),
  placement: Schema.optional(Post.Placement),
  settings: Schema.optional(Schema.Record(Schema.String, Schema.Unknown)),
  override: Schema.optional(OverrideInput)
})
export type DestinationInput = typeof DestinationInput.Type

const Destinations = Limits.boundedArray(DestinationInput, Limits.maxDestinations, "destinations")

/**
 * A post to create (or the full replacement given to an update).
 *
 * When to publish: `schedule` (core's form), or the shorthand `scheduledAt`
 * (an ISO 8601 instant; or a local date-time such as `2026-03-29T09:30` when
 * `timezone` names an IANA zone). Neither, with status `scheduled` or no
 * status, means publish now. `status: "draft"` stores it without publishing.
 */
export const CreatePost = Schema.Struct({
  content: ContentInput,
  destinations: Destinations,
  platformOverrides: Schema.optional(Schema.Record(Schema.String, OverrideInput)),
  status: Schema.optional(Schema.Literals(["draft", "scheduled"])),
  scheduledAt: Schema.optional(Schema.String),
  timezone: Schema.optional(Schema.String),
  schedule: Schema.optional(Schedule.Schedule)
})
export type CreatePost = typeof CreatePost.Type

/** A partial update: fields left out keep their value. Only while the post is a draft or scheduled. */
export const UpdatePost = Schema.Struct({
  content: Schema.optional(ContentInput),
  destinations: Schema.optional(Destinations),
  platformOverrides: Schema.optional(Schema.Record(Schema.String, OverrideInput)),
  status: Schema.optional(Schema.Literals(["draft", "scheduled"])),
  scheduledAt: Schema.optional(Schema.NullOr(Schema.String)),
  timezone: Schema.optional(Schema.String),
  schedule: Schema.optional(Schema.NullOr(Schedule.Schedule))
})
export type UpdatePost = typeof UpdatePost.Type

export const AttemptView = Schema.Struct({
  id: Schema.String,
  number: Schema.Number,
  workerId: Schema.String,
  startedAt: Schema.String,
  finishedAt: Schema.optional(Schema.String),
  outcome: Schema.optional(Schema.String),
  error: Schema.optional(Schema.Unknown),
  platformPostId: Schema.optional(Schema.String),
  url: Schema.optional(Schema.String)
})
export type AttemptView = typeof AttemptView.Type

export const DestinationView = Schema.Struct({
  ...Post.Destination.fields,
  dueAt: Schema.optional(Schema.String),
  /** Every call made to the platform for this destination (on `GET /v1/posts/:id`; lists leave it out). */
  attemptLog: Schema.optional(Schema.Array(AttemptView))
})
export type DestinationView = typeof DestinationView.Type

export const PostView = Schema.Struct({
  id: Schema.String,
  status: Post.PostStatus,
  content: Post.Content,
  destinations: Schema.Array(DestinationView),
  platformOverrides: Schema.optional(Schema.Record(Schema.String, Post.Override)),
  schedule: Schema.optional(Schedule.Schedule),
  /** The instant the schedule resolves to (ISO 8601). */
  scheduledAt: Schema.optional(Schema.String),
  timezone: Schema.optional(Schema.String),
  createdAt: Schema.String,
  updatedAt: Schema.String,
  publishedAt: Schema.optional(Schema.String)
})
export type PostView = typeof PostView.Type

/** The destinations' results alone (`GET /v1/posts/:id/results`). */
export const PostResults = Schema.Struct({
  postId: Schema.String,
  status: Post.PostStatus,
  destinations: Schema.Array(DestinationView),
  publishedAt: Schema.optional(Schema.String)
})
export type PostResults = typeof PostResults.Type

export const PostPage = Schema.Struct({ data: Schema.Array(PostView), ...pageFields })

export const ListPostsQuery = Schema.Struct({
  status: Schema.optional(Post.PostStatus),
  platform: Schema.optional(Schema.String),
  /** `thread` (more than one part), `media` (has media), `text` (neither). */
  type: Schema.optional(Schema.Literals(["text", "media", "thread"])),
  /** Scheduled (or, unscheduled, created) at or after this instant: ISO 8601 with an offset, such as 2026-01-01T00:00:00Z. */
  from: Schema.optional(Schedule.Instant),
  /** Scheduled (or, unscheduled, created) before this instant. */
  to: Schema.optional(Schedule.Instant),
  ...pagingQuery
})
export type ListPostsQuery = typeof ListPostsQuery.Type

export const RetryPost = Schema.Struct({
  /** Retry only the failed destinations of these platforms; all failed destinations when omitted. */
  platforms: Schema.optional(Schema.Array(Schema.String))
})

export const ValidationResult = Schema.Struct({
  valid: Schema.Boolean,
  issues: Schema.Array(Validation.ValidationIssue)
})

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

/** A connected account. Credentials are never part of it. */
export const AccountView = Schema.Struct({
  id: Schema.String,
  platform: Schema.String,
  platformAccountId: Schema.String,
  username: Schema.String,
  displayName: Schema.optional(Schema.String),
  avatarUrl: Schema.optional(Schema.String),
  status: Schema.Literals(["active", "needs_reconnect", "disconnected"]),
  tokenExpiresAt: Schema.optional(Schema.String),
  details: Schema.optional(Schema.Record(Schema.String, Schema.Json).annotate({
    description: "What the platform says about the account beyond who it is, as JSON (at most 16 KiB), refreshed by " +
      "`POST /v1/accounts/:id/refresh`. TikTok: `creatorInfo`, its `creator_info/query` answer in TikTok's field names " +
      "(`privacy_level_options`, `comment_disabled`, `duet_disabled`, `stitch_disabled`, `max_video_post_duration_sec`, " +
      "`creator_username`, `creator_nickname`, `creator_avatar_url`): what a post to this creator may ask."
  })),
  tokenHealth: Schema.Struct({
    state: Schema.Literals(AccountHealth.states),
    expiresAt: Schema.optional(Schema.String),
    checkedAt: Schema.optional(Schema.String)
  }).annotate({
    description: "The token's health (core's `AccountHealth.classify`): `healthy`; `expiring` when the connection ends within 7 days " +
      "(`expiresAt`); `expired` past it; `revoked` when the platform said the grant is gone; `reconnect_required` when it refused " +
      "the token otherwise (a publish or a refresh). A refused token stays so until `POST /v1/accounts/:id/refresh` succeeds " +
      "or the account is connected again. `checkedAt`: the last successful check with the platform."
  }),
  scopes: Schema.optional(Schema.Array(Schema.String).annotate({ description: "The scopes the platform granted, when its credentials say." })),
  capabilities: Schema.Struct({
    text: Schema.Boolean,
    image: Schema.Boolean,
    video: Schema.Boolean,
    placements: Schema.Array(Schema.String)
  }).annotate({
    description: "What the account can post: the placements of the platform's rules table, kept to those its granted scopes allow " +
      "where the platform says which scope allows what (TikTok); `text`: a post of text alone; `image`, `video`: media of that kind."
  }),
  createdAt: Schema.String,
  updatedAt: Schema.String
})
export type AccountView = typeof AccountView.Type

export const ConnectAccount = Schema.Struct({
  platform: Platform.PlatformId,
  /** The platform's credentials, as its plugin's credentials schema reads them (an app password, OAuth tokens…). Verified before saving. */
  credentials: Schema.Record(Schema.String, Schema.Unknown),
  /** Only for platforms that cannot verify credentials (some plugins): who the account is. */
  platformAccountId: Schema.optional(Schema.String),
  username: Schema.optional(Schema.String)
})

export const OAuthStart = Schema.Struct({
  /** Where the platform sends the user back; defaults to this server's callback. */
  redirectUri: Schema.optional(Schema.String)
})

export const OAuthStartResult = Schema.Struct({
  authorizationUrl: Schema.String,
  state: Schema.String,
  expiresAt: Schema.String
})

// ---------------------------------------------------------------------------
// Media
// ---------------------------------------------------------------------------

// Views of stored records are defined where they are made (storage and webhooks use no HTTP module).
export { MediaView }

/**
 * A file to fetch from a URL into the media library. The URL goes through the
 * URL guard (no loopback, private, link-local or metadata addresses, by name,
 * by the address connected to and after each of at most 5 redirects).
 */
export const MediaFromUrl = Schema.Struct({
  url: Limits.BoundedString.check(Schema.isMaxLength(8192)).annotate({ description: "An http or https URL of the file." }),
  fileName: Schema.optional(Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(255)))
    .annotate({ description: "The file's name; by default the URL's last path segment." })
})
export type MediaFromUrl = typeof MediaFromUrl.Type

/** The documented shape of a multipart upload: one `file` part. */
export const MediaUpload = Schema.Struct({
  file: Schema.Unknown.annotate({ description: "The file (binary)." })
})

// ---------------------------------------------------------------------------
// API keys
// ---------------------------------------------------------------------------

export const CreateApiKey = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200)),
  /** Requests per minute for this key; the server default when omitted. */
  rateLimitPerMinute: Schema.optional(Schema.Number.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 1_000_000 }))),
  /** After this instant (ISO 8601, in the future) the key is refused with EXPIRED_API_KEY; never when omitted. */
  expiresAt: Schema.optional(Schedule.Instant),
  /** Only GET and HEAD: anything else answers 403 READ_ONLY_API_KEY. */
  readOnly: Schema.optional(Schema.Boolean)
})

// Views of stored records are defined where they are made (storage and webhooks use no HTTP module).
export { ApiKeyView, CreatedApiKey }

// ---------------------------------------------------------------------------
// Organizations (admin)
// ---------------------------------------------------------------------------

export const CreateOrganization = Schema.Struct({
  name: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(200))
})

export const OrganizationView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  createdAt: Schema.String,
  /** Set while disabled: the organization's keys are refused (`ORGANIZATION_DISABLED`). */
  disabledAt: Schema.optional(Schema.String)
})

export const ListOrganizationsQuery = Schema.Struct({ ...pagingQuery })

export const OrganizationPage = Schema.Struct({ data: Schema.Array(OrganizationView), ...pageFields })

// ---------------------------------------------------------------------------
// Webhooks
// ---------------------------------------------------------------------------

// Views of stored records are defined where they are made (storage and webhooks use no HTTP module).
export { WebhookDeliveryView, WebhookEvent, webhookEvents, WebhookView }

/** A webhook secret's bounds: the one definition (the server's check and the OpenAPI document both come from it). */
export const webhookSecretLength = { min: 16, max: 512 } as const

export const CreateWebhook = Schema.Struct({
  url: Schema.String.check(
    Schema.isPattern(/^https?:\/\/\S+$/, { message: "an http(s) URL" }),
    Schema.isMaxLength(2048)
  ),
  /** Signs every delivery (HMAC-SHA256); 16 to 512 characters (code points). */
  // Counted in code points, as JSON Schema counts `minLength` (`isMinLength` counts UTF-16 units, so the
  // document could only promise half of it: 8).
  secret: Schema.String.check(
    Schema.isMinCodePoints(webhookSecretLength.min),
    Schema.isMaxCodePoints(webhookSecretLength.max)
  ),
  events: Schema.Array(WebhookEvent).check(Schema.isMinLength(1), Schema.isMaxLength(webhookEvents.length))
})

export const WebhookDeliveryPage = Schema.Struct({ data: Schema.Array(WebhookDeliveryView), ...pageFields })

// ---------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------

export const Health = Schema.Struct({ status: Schema.Literal("ok") })

export const Readiness = Schema.Struct({
  status: Schema.Literals(["ready", "degraded"]),
  database: Schema.Literals(["ok", "unreachable"]),
  scheduler: Schema.Struct({
    alive: Schema.Boolean,
    workers: Schema.Number,
    lastHeartbeatAt: Schema.optional(Schema.String)
  }),
  /** Queued destinations past their due time by more than the threshold: work nobody is doing. */
  overdue: Schema.Struct({
    count: Schema.Number,
    thresholdSeconds: Schema.Number,
    oldestDueAt: Schema.optional(Schema.String)
  }),
  /** HTTP requests this process is handling, this one included: one that never ends shows here. */
  requestsInFlight: Schema.Number
})
export type Readiness = typeof Readiness.Type
