/**
 * `validatePost`: pure, synchronous, browser-safe validation of a post against
 * every destination's platform rules. It returns every issue at once and never
 * throws, whatever it is given: anything that is not a post gets
 * `INVALID_POST` issues with the path of the offending field.
 *
 * What it checks, per destination, after overrides (`Post.resolveDestination`)
 * and per thread part: the platform is known, the placement exists, text
 * length counted the platform's way, forbidden characters, hashtags,
 * mentions and links, media count, kinds, mixing, MIME types, size, duration,
 * aspect ratio and dimensions, settings (the platform's settings schema and
 * its settings-text rows), thread support, duplicates, and the schedule (a
 * real date-time, not more than a minute in the past: `SCHEDULE_IN_PAST`).
 * Unknown fields are reported with the field probably meant (`Problems`).
 *
 * The checks live in `validation/`, each a small function that returns what
 * it finds, grouped by what it checks: `PostChecks` (the post as a whole),
 * `TextChecks` and `MediaChecks` (each part of each destination),
 * `DestinationChecks` (thread, first comment, settings texts, native
 * scheduling); this module reads the destinations and runs them in order.
 *
 * @example
 * import { Validation } from "@omnipost/core"
 * const { valid, issues } = Validation.validatePost({
 *   content: { text: "Hello" },
 *   destinations: [{ platform: "x", accountId: "1" }]
 * })
 */
import { Result } from "effect"
import * as Post from "./Post.js"
import type { ValidationContext } from "./Publisher.js"
import * as Rules from "./Rules.js"
import * as Settings from "./Settings.js"
import { decode, describeType, isRecord } from "./validation/Decode.js"
import * as DestinationChecks from "./validation/DestinationChecks.js"
import { type Finding, type IssueCode, type IssuePath, ValidationIssue } from "./validation/Issues.js"
import { mediaChecks } from "./validation/MediaChecks.js"
import { type PartCheck, partContext, type PartPaths } from "./validation/Part.js"
import * as PostChecks from "./validation/PostChecks.js"
import { textChecks } from "./validation/TextChecks.js"

export { type Finding, isIssueCode, IssueCode, issueCodes, type IssuePath, ValidationIssue } from "./validation/Issues.js"
export { pastToleranceMs } from "./validation/PostChecks.js"

export interface ValidationResult {
  readonly valid: boolean
  readonly issues: ReadonlyArray<ValidationIssue>
}

/** A platform's own checks, beyond the rules table: pure and synchronous. */
export type ExtraValidator = (context: ValidationContext<any>) => ReadonlyArray<ValidationIssue>

/**
 * Options of `validatePost`. This shape is what the registry passes for
 * custom platforms; it is stable.
 */
export interface ValidateOptions {
  /** Rules by platform id, merged over the built-in table (a custom platform adds a row; a built-in id replaces its row). */
  readonly rules?: Readonly<Record<string, Rules.PlatformRules>> | undefined
  /** Settings schemas by platform id, merged over `Settings.settingsSchemas`. A platform with none skips the settings check. */
  readonly settingsSchemas?: Readonly<Record<string, Settings.SettingsSchema>> | undefined
  /** Extra checks by platform id, run for each destination of that platform whose settings decode. */
  readonly extraValidators?: Readonly<Record<string, ExtraValidator>> | undefined
  /** The current time, for the native-scheduling window and past schedules. Defaults to the system clock. */
  readonly now?: Date | undefined
  /**
   * Who fires scheduled posts. `"worker"` (default): our scheduler publishes
   * at the time, so every platform can be scheduled. `"native"`: the platform
   * must schedule it itself, within its window, else `SCHEDULING_NOT_SUPPORTED`.
   */
  readonly scheduling?: "worker" | "native" | undefined
}


/** The checks of each part, in the order their issues are reported. */
const partChecks: ReadonlyArray<PartCheck> = [...textChecks, ...mediaChecks]

/** The checks of a destination after its parts. */
const destinationChecks: ReadonlyArray<DestinationChecks.DestinationCheck> = [
  DestinationChecks.comment,
  DestinationChecks.settingsText,
  DestinationChecks.settingsHashtags,
  DestinationChecks.nativeScheduling
]

const destinationInputKeys = new Set(Object.keys(Post.DestinationInput.fields))
/** Publishing state of a stored destination: not the caller's to validate, and not part of what is published. */
const destinationStateKeys = new Set(Object.keys(Post.Destination.fields).filter((key) => !destinationInputKeys.has(key)))

/** What every destination shares: the post as read, the rules and schemas, and the destinations seen so far (duplicates). */
interface PostScope {
  readonly options: ValidateOptions
  readonly now: number
  readonly content: Post.Content | undefined
  readonly platformOverrides: Readonly<Record<string, Post.Override>>
  readonly brokenOverrides: ReadonlySet<string>
  readonly scheduledAt: number | undefined
  readonly allRules: Readonly<Record<string, Rules.PlatformRules>>
  readonly allSchemas: Readonly<Record<string, Settings.SettingsSchema>>
  readonly seen: Map<string, number>
  readonly push: (issue: ValidationIssue) => void
}

/** One destination: decoded, its rules found, its settings decoded, then every check of it and of its parts. */
const validateDestination = (post: PostScope, rawDestination: unknown, destinationIndex: number): void => {
  const { push } = post
  const destinationPath = ["destinations", destinationIndex] as const
  if (!isRecord(rawDestination)) {
    push({ code: "INVALID_POST", path: destinationPath, message: `a destination is an object with platform and accountId; got ${describeType(rawDestination)}` })
    return
  }
  const withoutState: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rawDestination)) if (!destinationStateKeys.has(key)) withoutState[key] = value
  const decoded = decode(Post.DestinationInput, withoutState)
  if (Result.isFailure(decoded)) {
    for (const problem of decoded.failure) {
      push({
        code: "INVALID_POST",
        path: [...destinationPath, ...problem.path],
        message: problem.message,
        destinationIndex,
        ...(typeof rawDestination.platform === "string" ? { platform: rawDestination.platform } : {}),
        ...(typeof rawDestination.accountId === "string" ? { accountId: rawDestination.accountId } : {})
      })
    }
    return
  }
  const destination = decoded.success
  const place = (found: Finding): void =>
    push({
      code: found.code,
      path: found.path,
      message: found.message,
      platform: destination.platform,
      destinationIndex,
      accountId: destination.accountId,
      ...(found.limit !== undefined ? { limit: found.limit } : {}),
      ...(found.actual !== undefined ? { actual: found.actual } : {})
    })
  const emit = (code: IssueCode, path: IssuePath, message: string) => place({ code, path, message })

  const rules = post.allRules[destination.platform]
  if (rules === undefined) {
    emit(
      "UNKNOWN_PLATFORM",
      [...destinationPath, "platform"],
      `no rules for platform "${destination.platform}": register a publisher for it (known: ${Object.keys(post.allRules).join(", ")})`
    )
    return
  }
  // Rules from a plugin may be malformed: that fails this destination, not the whole report.
  try {
    if (post.brokenOverrides.has(destination.platform)) return

    const platformOverride = post.platformOverrides[destination.platform]
    const settingsPath = (key: string): IssuePath =>
      destination.override?.settings?.[key] !== undefined
        ? [...destinationPath, "override", "settings", key]
        : destination.settings?.[key] !== undefined || platformOverride?.settings?.[key] === undefined
        ? [...destinationPath, "settings", key]
        : ["platformOverrides", destination.platform, "settings", key]

    // Settings first: they do not depend on the content, so a broken content
    // does not hide their issues. Merged as `Post.resolveDestination` merges them.
    const mergedSettings = { ...platformOverride?.settings, ...destination.settings, ...destination.override?.settings }
    const schema = post.allSchemas[destination.platform]
    let settings: Readonly<Record<string, unknown>> | undefined = mergedSettings
    if (schema !== undefined) {
      const decodedSettings = decode(schema, mergedSettings)
      if (Result.isSuccess(decodedSettings)) settings = decodedSettings.success
      else {
        settings = undefined
        for (const problem of decodedSettings.failure) {
          const [key, ...rest] = problem.path
          emit(
            "INVALID_SETTINGS",
            key === undefined ? [...destinationPath, "settings"] : [...settingsPath(String(key)), ...rest],
            `${rules.displayName} settings: ${problem.message}`
          )
        }
      }
    }

    if (post.content === undefined) return
    const resolved = Post.resolveDestination({ content: post.content, platformOverrides: post.platformOverrides }, destination)
    const originOf = (key: DestinationChecks.ContentKey): IssuePath =>
      destination.override?.[key] !== undefined
        ? [...destinationPath, "override", key]
        : platformOverride?.[key] !== undefined
        ? ["platformOverrides", destination.platform, key]
        : ["content", key]

    const placement = destination.placement ?? Rules.inferPlacement(rules, resolved.parts[0].media.map((item) => item.kind))

    // Duplicates: the same account and placement twice would post twice.
    const duplicateKey = JSON.stringify([destination.platform, destination.accountId, placement])
    const first = post.seen.get(duplicateKey)
    if (first !== undefined) {
      emit(
        "DUPLICATE_DESTINATION",
        destinationPath,
        `destination ${destinationIndex} repeats destination ${first} (${rules.displayName} account ${destination.accountId}, ${placement}); it would be posted twice`
      )
    } else post.seen.set(duplicateKey, destinationIndex)

    const row = Rules.placementRule(rules, placement)
    if (row === undefined) {
      emit(
        "INVALID_PLACEMENT",
        [...destinationPath, "placement"],
        `${rules.displayName} has no ${placement} placement; it has ${rules.placements.map((p) => p.placement).join(", ")}`
      )
    } else {
      const context: DestinationChecks.DestinationContext = {
        rules,
        row,
        placement,
        resolved,
        originOf,
        settingsPath,
        scheduledAt: post.scheduledAt,
        now: post.now,
        scheduling: post.options.scheduling
      }
      for (const found of DestinationChecks.threadSupported(context)) place(found)
      const threadPath = originOf("thread")
      const partsToCheck = rules.threads ? resolved.parts : resolved.parts.slice(0, 1)
      partsToCheck.forEach((part, partIndex) => {
        const paths: PartPaths = partIndex === 0
          ? { text: originOf("text"), media: originOf("media"), link: originOf("link") }
          : {
            text: [...threadPath, partIndex - 1, "text"],
            media: [...threadPath, partIndex - 1, "media"],
            link: [...threadPath, partIndex - 1, "link"]
          }
        const partScope = partContext(rules, row, part, partIndex, paths)
        for (const check of partChecks) for (const found of check(partScope)) place(found)
      })
      for (const check of destinationChecks) for (const found of check(context)) place(found)
    }

    // The platform's own checks, given settings that decoded.
    const validator = post.options.extraValidators?.[destination.platform]
    if (validator !== undefined && settings !== undefined) {
      const context: ValidationContext<Readonly<Record<string, unknown>>> = {
        destination: { ...resolved, placement, settings },
        destinationIndex
      }
      let returned: unknown
      try {
        returned = validator(context)
      } catch (error) {
        emit("VALIDATOR_FAILED", destinationPath, `the ${rules.displayName} validator failed: ${error instanceof Error ? error.message : String(error)}`)
        return
      }
      if (!Array.isArray(returned)) {
        emit("VALIDATOR_FAILED", destinationPath, `the ${rules.displayName} validator returned ${describeType(returned)}, not a list of issues`)
        return
      }
      for (const issue of returned as ReadonlyArray<unknown>) {
        const candidate = decode(ValidationIssue, issue)
        if (Result.isFailure(candidate)) {
          emit(
            "VALIDATOR_FAILED",
            destinationPath,
            `the ${rules.displayName} validator returned an invalid issue: ${candidate.failure.map((p) => `${p.message} at ${JSON.stringify(p.path)}`).join("; ")}`
          )
          continue
        }
        push({ platform: destination.platform, destinationIndex, accountId: destination.accountId, ...candidate.success })
      }
    }
  } catch (error) {
    emit(
      "VALIDATOR_FAILED",
      destinationPath,
      `the ${rules.displayName} rules could not be applied: ${error instanceof Error ? error.message : String(error)}`
    )
  }
}

const validate = (input: unknown, options: ValidateOptions): Array<ValidationIssue> => {
  const issues: Array<ValidationIssue> = []
  const push = (issue: ValidationIssue) => issues.push(issue)
  const postLevel = (found: ReadonlyArray<Finding>) => {
    for (const { code, message, path } of found) push({ code, path, message })
  }

  if (!isRecord(input)) {
    push({ code: "INVALID_POST", path: [], message: `a post is an object with content and destinations; got ${describeType(input)}` })
    return issues
  }
  const now = (options.now ?? new Date()).getTime()
  postLevel(PostChecks.knownFields(input))
  const content = PostChecks.content(input)
  postLevel(content.issues)
  const overrides = PostChecks.platformOverrides(input)
  postLevel(overrides.issues)
  const scheduledAt = PostChecks.schedule(input, now)
  postLevel(scheduledAt.issues)
  const destinations = PostChecks.destinations(input)
  postLevel(destinations.issues)
  if (destinations.value === undefined) return issues
  const tooMuchText = PostChecks.totalText(content.value, overrides.value.overrides, destinations.value)
  postLevel(tooMuchText)
  if (tooMuchText.length > 0) return issues

  const post: PostScope = {
    options,
    now,
    content: content.value,
    platformOverrides: overrides.value.overrides,
    brokenOverrides: overrides.value.broken,
    scheduledAt: scheduledAt.value,
    allRules: { ...Rules.rules, ...options.rules },
    allSchemas: { ...Settings.settingsSchemas, ...options.settingsSchemas },
    seen: new Map(),
    push
  }
  destinations.value.forEach((destination, index) => validateDestination(post, destination, index))
  return issues
}

/**
 * Validates a post (a `PostInput`, a stored `Post`, or anything at all)
 * against every destination's platform rules. Pure and synchronous; never
 * throws; returns every issue at once.
 *
 * @example
 * const result = validatePost(
 *   { content: { text: "x".repeat(281) }, destinations: [{ platform: "x", accountId: "1" }] }
 * )
 * result.issues[0]?.message
 * // "X allows 280 characters, URLs counting 23 each and emoji and CJK characters 2; this text counts 281"
 */
export const validatePost = (input: unknown, options: ValidateOptions = {}): ValidationResult => {
  let issues: ReadonlyArray<ValidationIssue>
  try {
    issues = validate(input, options ?? {})
  } catch (error) {
    // A bug of ours (or a hostile getter in the input) must still give a report.
    issues = [{
      code: "INVALID_POST",
      path: [],
      message: `the post could not be validated: ${error instanceof Error ? error.message : String(error)}`
    }]
  }
  return { valid: issues.length === 0, issues }
}
