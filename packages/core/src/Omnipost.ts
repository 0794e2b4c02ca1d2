/**
 * The Promise facade, for backends that do not use Effect.
 *
 * Everything it returns is plain data (JSON-serialisable objects, no Effect
 * types), and nothing it does with a post throws: a bad post gets a
 * validation report (`status: "invalid"` with every issue), a platform
 * failure is a destination's `lastError` (`{ code, message, retryable,
 * platformCode?, platformMessage?, httpStatus? }`), and an unexpected problem
 * is `status: "error"` with `{ code, message }`. Only `createOmnipost` throws,
 * at start-up, when its publishers cannot be registered together.
 *
 * @example
 * import { createOmnipost } from "@omnipost/core"
 *
 * const omnipost = createOmnipost({
 *   publishers: [blueskyPublisher, mastodonPublisher],
 *   credentials: async ({ platform, accountId }) => db.credentials(platform, accountId)
 * })
 * const report = await omnipost.publish(
 *   { content: { text: "Hello" }, destinations: [{ platform: "bluesky", accountId: "did:plc:…" }] },
 *   { onProgress: (event) => console.log(event._tag, event.destinationId) }
 * )
 * if (report.status === "invalid") console.log(report.issues)
 * else console.log(report.status, report.destinations.map((d) => d.url ?? d.lastError?.code))
 */
import { Cause, Clock, Effect, Exit, Layer, Result, Schema } from "effect"
import { type CredentialsRef, CredentialsProvider, CredentialsUnavailable, fromFunction, fromRecord } from "./Credentials.js"
import * as FanOut from "./FanOut.js"
import type { Placement, Post, PostInput } from "./Post.js"
import { Post as PostSchema, PostInput as PostInputSchema } from "./Post.js"
import type { PlatformPublisher } from "./Publisher.js"
import { fromPublishers, PublisherRegistry } from "./Registry.js"
import type { ValidationIssue, ValidationResult } from "./Validation.js"

export interface OmnipostOptions {
  /** Built-in and user-written publishers; each platform id once. */
  readonly publishers: ReadonlyArray<PlatformPublisher>
  /**
   * An account's stored credentials (encoded, as the publisher's
   * `credentialsSchema` expects them), by account id: a record, or a function
   * that may return a Promise. `undefined` means the account is not connected.
   */
  readonly credentials:
    | Readonly<Record<string, unknown>>
    | ((ref: CredentialsRef) => unknown)
  /**
   * Persists credentials a publisher refreshed. Never given a refresh token
   * emptied by the refresh. Without it, refreshed credentials are kept in
   * memory (a record) or for the current publish only (a function).
   */
  readonly saveCredentials?: ((ref: CredentialsRef, credentials: unknown) => unknown) | undefined
  /** Platform calls in flight at once per publish (default 4). */
  readonly concurrency?: number | undefined
  readonly retry?: Partial<FanOut.RetryPolicy> | undefined
}

/** A plain error: a code from a closed set, and a message for people. */
export interface OmnipostError {
  readonly code: "INTERNAL_ERROR" | "INVALID_STATUS_TRANSITION"
  readonly message: string
}

export type ValidationReport = ValidationResult

export type PublishReport =
  | {
    readonly status: "invalid"
    readonly ok: false
    /** Every problem at once, each with a code, a path and a message. */
    readonly issues: ReadonlyArray<ValidationIssue>
  }
  | { readonly status: "error"; readonly ok: false; readonly error: OmnipostError }
  | {
    readonly status: "published" | "partially_failed" | "failed"
    /** `true` when every destination published. */
    readonly ok: boolean
    readonly postId: string
    /** The post as stored after publishing: keep it to `retry` the failed destinations later. */
    readonly post: Post
    readonly destinations: ReadonlyArray<FanOut.DestinationOutcome>
  }

export interface PlatformInfo {
  readonly platform: string
  readonly displayName: string
  readonly placements: ReadonlyArray<Placement>
  readonly threads: boolean
  readonly nativeScheduling: boolean
  readonly canDelete: boolean
  readonly canVerifyCredentials: boolean
  readonly canRefreshCredentials: boolean
}

export interface PublishCallOptions {
  /** Called for every event, in order per destination. A throwing callback is ignored. */
  readonly onProgress?: ((event: FanOut.PublishEvent) => void) | undefined
}

export interface Omnipost {
  /** Validates a post against every registered platform's rules. Pure, synchronous, never throws. */
  readonly validate: (post: unknown, options?: { readonly now?: Date | undefined }) => ValidationReport
  /** Validates, then publishes to every destination at once. Never rejects. */
  readonly publish: (post: unknown, options?: PublishCallOptions) => Promise<PublishReport>
  /**
   * Publishes again the failed destinations of a post a previous `publish`
   * returned. Destinations whose outcome is unknown are left alone unless
   * `includeOutcomeUnknown` is set (they may already be on the platform).
   */
  readonly retry: (
    post: unknown,
    options?: PublishCallOptions & { readonly includeOutcomeUnknown?: boolean | undefined }
  ) => Promise<PublishReport>
  /** What each registered platform supports. */
  readonly platforms: () => ReadonlyArray<PlatformInfo>
}

/** Thrown by `createOmnipost` only: its publishers cannot be registered together. */
export class OmnipostConfigError extends Error {
  readonly code: "DUPLICATE_PLATFORM" | "INVALID_PUBLISHER"
  constructor(code: OmnipostConfigError["code"], message: string) {
    super(message)
    this.name = "OmnipostConfigError"
    this.code = code
  }
}

const messageOf = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

const invalid = (issues: ReadonlyArray<ValidationIssue>): PublishReport => ({ status: "invalid", ok: false, issues })

/** Schema issues of a decoding failure as `INVALID_POST` issues with their paths. */
const decodingIssues = (error: Schema.SchemaError, hint: string): ReadonlyArray<ValidationIssue> => [{
  code: "INVALID_POST",
  path: [],
  message: `${hint}: ${error.message}`
}]

export const createOmnipost = (options: OmnipostOptions): Omnipost => {
  const built = fromPublishers(options.publishers)
  if (Result.isFailure(built)) {
    throw new OmnipostConfigError(
      built.failure._tag === "DuplicatePlatform" ? "DUPLICATE_PLATFORM" : "INVALID_PUBLISHER",
      built.failure.message
    )
  }
  const registry = built.success

  const credentialsSource = options.credentials
  const save = options.saveCredentials
  const provider = typeof credentialsSource === "function"
    ? fromFunction(
      (ref) =>
        Effect.tryPromise({
          try: async () => credentialsSource(ref),
          catch: (cause) =>
            new CredentialsUnavailable({ ...ref, message: `reading the credentials failed: ${messageOf(cause)}` })
        }),
      // A rejected save is retried and logged by the fan-out (`Credentials.saveReliably`).
      save === undefined ? undefined : (ref, credentials) => Effect.tryPromise(async () => {
        await save(ref, credentials)
      })
    )
    : (() => {
      const memory = fromRecord(credentialsSource)
      return {
        get: memory.get,
        save: (ref: CredentialsRef, credentials: unknown) =>
          Effect.andThen(
            memory.save(ref, credentials),
            save === undefined
              ? Effect.void
              : Effect.tryPromise(async () => {
                await save(ref, credentials)
              })
          )
      }
    })()

  const services = Layer.mergeAll(
    Layer.succeed(PublisherRegistry, registry),
    CredentialsProvider.layer(provider)
  )

  const fanOutOptions = (call: PublishCallOptions | undefined): FanOut.PublishOptions => {
    const onProgress = call?.onProgress
    return {
      concurrency: options.concurrency,
      retry: options.retry,
      onEvent: onProgress === undefined ? undefined : (event) => Effect.sync(() => notify(onProgress, event))
    }
  }

  const run = async (program: Effect.Effect<PublishReport, unknown, PublisherRegistry | CredentialsProvider>) => {
    const exit = await Effect.runPromiseExit(Effect.provide(program, services))
    if (Exit.isSuccess(exit)) return exit.value
    const failure = Cause.squash(exit.cause)
    const report: PublishReport = {
      status: "error",
      ok: false,
      error: isTagged(failure, "InvalidStatusTransition")
        ? { code: "INVALID_STATUS_TRANSITION", message: messageOf(failure) }
        : { code: "INTERNAL_ERROR", message: `publishing failed unexpectedly: ${messageOf(failure)}` }
    }
    return report
  }

  const toReport = (outcome: FanOut.PublishOutcome): PublishReport => ({
    status: outcome.status === "published" || outcome.status === "partially_failed" ? outcome.status : "failed",
    ok: outcome.status === "published",
    postId: outcome.postId,
    post: outcome.post,
    destinations: outcome.destinations
  })

  const validate: Omnipost["validate"] = (post, validateOptions) =>
    registry.validate(post, validateOptions?.now !== undefined ? { now: validateOptions.now } : {})

  const publish: Omnipost["publish"] = (input, call) =>
    run(Effect.gen(function*() {
      const validation = registry.validate(input)
      if (!validation.valid) return invalid(validation.issues)
      const decoded = Schema.decodeUnknownExit(PostInputSchema, { onExcessProperty: "error" })(input)
      if (Exit.isFailure(decoded)) {
        return invalid(decodingIssues(
          Cause.squash(decoded.cause) as Schema.SchemaError,
          "publish takes a new post (content and destinations); to publish a returned post again use retry"
        ))
      }
      if (decoded.value.schedule !== undefined) {
        return invalid([{
          code: "SCHEDULING_NOT_SUPPORTED",
          path: ["schedule"],
          message:
            "publish sends the post now; to publish at a later time, schedule it with @omnipost/worker or call publish at that time"
        }])
      }
      const post = newPost(decoded.value, yield* Clock.currentTimeMillis)
      return toReport(yield* FanOut.publish(post, fanOutOptions(call)))
    }))

  const retry: Omnipost["retry"] = (input, call) =>
    run(Effect.gen(function*() {
      const decoded = Schema.decodeUnknownExit(PostSchema)(input)
      if (Exit.isFailure(decoded)) {
        return invalid(decodingIssues(
          Cause.squash(decoded.cause) as Schema.SchemaError,
          "retry takes the post a previous publish returned (report.post)"
        ))
      }
      const queued = FanOut.retryFailed(decoded.value, { includeOutcomeUnknown: call?.includeOutcomeUnknown })
      if (Result.isFailure(queued)) {
        return { status: "error", ok: false, error: { code: "INVALID_STATUS_TRANSITION", message: queued.failure.message } }
      }
      return toReport(yield* FanOut.publish(queued.success, fanOutOptions(call)))
    }))

  const platforms = (): ReadonlyArray<PlatformInfo> =>
    registry.publishers.map((publisher) => ({
      platform: publisher.platform,
      displayName: publisher.displayName,
      placements: publisher.rules.placements.map((rule) => rule.placement),
      threads: publisher.rules.threads,
      nativeScheduling: publisher.rules.nativeScheduling.supported,
      canDelete: publisher.delete !== undefined,
      canVerifyCredentials: publisher.verifyCredentials !== undefined,
      canRefreshCredentials: publisher.refreshCredentials !== undefined
    }))

  return { validate, publish, retry, platforms }
}

/** A listener's exception is the listener's problem: it must not stop publishing. */
const notify = (listener: (event: FanOut.PublishEvent) => void, event: FanOut.PublishEvent) => {
  try {
    listener(event)
  } catch {
    // ignored on purpose
  }
}

const isTagged = (value: unknown, tag: string) =>
  typeof value === "object" && value !== null && "_tag" in value && value._tag === tag

let sequence = 0

/** A new post from its input: ids, `queued` destinations, timestamps. */
const newPost = (input: PostInput, nowMs: number): Post => {
  const id = input.id ?? randomId()
  const now = new Date(nowMs).toISOString()
  return {
    id,
    content: input.content,
    ...(input.platformOverrides !== undefined ? { platformOverrides: input.platformOverrides } : {}),
    destinations: input.destinations.map((destination, index) => ({
      ...destination,
      id: `${id}-${index + 1}`,
      status: "queued",
      attempts: 0
    })),
    status: "draft",
    createdAt: now,
    updatedAt: now
  }
}

const randomId = (): string =>
  typeof globalThis.crypto?.randomUUID === "function"
    ? globalThis.crypto.randomUUID()
    : `post-${Date.now().toString(36)}-${(++sequence).toString(36)}`
