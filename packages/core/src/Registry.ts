/**
 * The publishers an application knows: the built-in platform packages and any
 * user-written ones, side by side. Core has no list of platforms to edit: a
 * custom platform brings its own rules, settings schema and validation, and
 * the registry hands them to `validatePost` and to the fan-out.
 *
 * @example
 * const layer = PublisherRegistry.layer([blueskyPublisher, mastodonPublisher])
 * const issues = yield* PublisherRegistry.use((registry) => Effect.succeed(registry.validate(post)))
 */
import { Context, Effect, Layer, Predicate, Result, Schema } from "effect"
import { isBuiltinPlatform, PlatformId } from "./Platform.js"
import type { PlatformPublisher } from "./Publisher.js"
import type { PlatformRules } from "./Rules.js"
import type { SettingsSchema } from "./Settings.js"
import { type ExtraValidator, validatePost, type ValidateOptions, type ValidationIssue, type ValidationResult } from "./Validation.js"

/** Two publishers claim the same platform id. */
export class DuplicatePlatform extends Schema.TaggedError<DuplicatePlatform>()("DuplicatePlatform", {
  platform: Schema.String,
  message: Schema.String
}) {}

/** A publisher whose id is not a valid platform id, or whose rules are for another platform. */
export class InvalidPublisher extends Schema.TaggedError<InvalidPublisher>()("InvalidPublisher", {
  platform: Schema.String,
  message: Schema.String
}) {}

/** No publisher is registered for a platform. */
export class UnknownPlatform extends Schema.TaggedError<UnknownPlatform>()("UnknownPlatform", {
  platform: Schema.String,
  registered: Schema.Array(Schema.String),
  message: Schema.String
}) {}

export type RegistryError = DuplicatePlatform | InvalidPublisher

export interface Registry {
  /** Registered platform ids, in registration order. */
  readonly platforms: ReadonlyArray<string>
  readonly publishers: ReadonlyArray<PlatformPublisher>
  readonly find: (platform: string) => PlatformPublisher | undefined
  readonly get: (platform: string) => Effect.Effect<PlatformPublisher, UnknownPlatform>
  /**
   * `validatePost` with every registered publisher's rules, settings schema
   * and `validate` hook. A destination on a built-in platform that has no
   * registered publisher is an `UNKNOWN_PLATFORM` issue too: this registry
   * could not publish it.
   */
  readonly validate: (post: unknown, options?: ValidateWith) => ValidationResult
  /** What `validate` passes to `validatePost`, for callers that call it themselves. */
  readonly validationOptions: ValidateOptions
}

/** Options of `Registry.validate`: those of `validatePost` that are not the registry's. */
export type ValidateWith = Pick<ValidateOptions, "now" | "scheduling">

/** `UNKNOWN_PLATFORM` for destinations on built-in platforms without a publisher (validatePost knows their rules). */
const unregisteredBuiltins = (post: unknown, registered: ReadonlySet<string>): Array<ValidationIssue> => {
  const issues: Array<ValidationIssue> = []
  try {
    if (Predicate.isObject(post) && Array.isArray(post.destinations)) collectUnregistered(post.destinations, registered, issues)
  } catch {
    // A hostile getter: validatePost has reported the post as invalid already.
  }
  return issues
}

const collectUnregistered = (
  destinations: ReadonlyArray<unknown>,
  registered: ReadonlySet<string>,
  issues: Array<ValidationIssue>
) => {
  destinations.forEach((destination: unknown, destinationIndex) => {
    if (!Predicate.isObject(destination) || typeof destination.platform !== "string") return
    const platform = destination.platform
    if (!isBuiltinPlatform(platform) || registered.has(platform)) return
    issues.push({
      code: "UNKNOWN_PLATFORM",
      message: `no publisher is registered for "${platform}" (registered: ${[...registered].join(", ") || "none"})`,
      path: ["destinations", destinationIndex, "platform"],
      platform,
      destinationIndex,
      ...(typeof destination.accountId === "string" ? { accountId: destination.accountId } : {})
    })
  })
}

const isValidPlatformId = Schema.is(PlatformId)

/**
 * Builds a registry, or says why not. Pure: usable where no Effect runs (the
 * Promise facade builds its registry with it).
 */
export const fromPublishers = (
  publishers: Iterable<PlatformPublisher>
): Result.Result<Registry, RegistryError> => {
  const byPlatform = new Map<string, PlatformPublisher>()
  for (const publisher of publishers) {
    if (!isValidPlatformId(publisher.platform)) {
      return Result.fail(
        new InvalidPublisher({
          platform: String(publisher.platform),
          message:
            `"${publisher.platform}" is not a valid platform id: use 1-40 lowercase letters, digits, '-' or '_', starting with a letter`
        })
      )
    }
    if (publisher.rules?.platform !== publisher.platform) {
      return Result.fail(
        new InvalidPublisher({
          platform: publisher.platform,
          message:
            `the "${publisher.platform}" publisher carries rules for "${publisher.rules?.platform}"; a publisher's rules.platform must be its own id`
        })
      )
    }
    if (byPlatform.has(publisher.platform)) {
      return Result.fail(
        new DuplicatePlatform({
          platform: publisher.platform,
          message:
            `two publishers are registered for "${publisher.platform}"; each platform id may be registered once (give a custom publisher its own id)`
        })
      )
    }
    byPlatform.set(publisher.platform, publisher)
  }
  const platforms = [...byPlatform.keys()]
  const registered = new Set(platforms)
  const find = (platform: string) => byPlatform.get(platform)
  const rules: Record<string, PlatformRules> = {}
  const settingsSchemas: Record<string, SettingsSchema> = {}
  const extraValidators: Record<string, ExtraValidator> = {}
  for (const publisher of byPlatform.values()) {
    // A first comment is validated only where the publisher can post it.
    rules[publisher.platform] = publisher.comment === undefined && publisher.rules.firstComment !== undefined
      ? { ...publisher.rules, firstComment: undefined }
      : publisher.rules
    settingsSchemas[publisher.platform] = publisher.settingsSchema
    if (publisher.validate !== undefined) extraValidators[publisher.platform] = publisher.validate
  }
  const validationOptions: ValidateOptions = { rules, settingsSchemas, extraValidators }
  return Result.succeed({
    platforms,
    publishers: [...byPlatform.values()],
    find,
    validationOptions,
    validate: (post, options) => {
      const result = validatePost(post, { ...validationOptions, ...options })
      const missing = unregisteredBuiltins(post, registered)
      return missing.length === 0 ? result : { valid: false, issues: [...result.issues, ...missing] }
    },
    get: (platform) => {
      const publisher = find(platform)
      return publisher !== undefined
        ? Effect.succeed(publisher)
        : Effect.fail(
          new UnknownPlatform({
            platform,
            registered: platforms,
            message: `no publisher is registered for "${platform}" (registered: ${platforms.join(", ") || "none"})`
          })
        )
    }
  })
}

/** Builds a registry; fails with `DuplicatePlatform` or `InvalidPublisher`. */
export const make = (publishers: Iterable<PlatformPublisher>): Effect.Effect<Registry, RegistryError> =>
  Effect.fromResult(fromPublishers(publishers))

export class PublisherRegistry extends Context.Service<PublisherRegistry, Registry>()("@omnipost/core/PublisherRegistry") {
  /** Builds a registry (same as `Registry.make`). */
  static readonly make = make

  /** A registry of these publishers. */
  static readonly layer = (publishers: Iterable<PlatformPublisher>): Layer.Layer<PublisherRegistry, RegistryError> =>
    Layer.effect(PublisherRegistry, make(publishers))

  /**
   * A registry of publishers that are built in an Effect (a platform package
   * builds its publisher from an `HttpClient`).
   */
  static readonly layerEffect = <E, R>(
    publishers: Effect.Effect<Iterable<PlatformPublisher>, E, R>
  ): Layer.Layer<PublisherRegistry, E | RegistryError, R> =>
    Layer.effect(PublisherRegistry, Effect.flatMap(publishers, make))
}
