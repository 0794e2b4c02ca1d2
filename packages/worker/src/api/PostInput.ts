/**
 * From an API post body to core's `PostInput`: media ids become media
 * descriptions (from the media records), destinations get their platform from
 * their account, and `scheduledAt` + `timezone` become a core `Schedule`.
 * Then core's `validatePost` runs with the rules, settings schemas and extra
 * checks of the registered publishers.
 */
import { type Media as CoreMedia, type Post, Registry, Schedule, Validation } from "@omnipost/core"
import { Clock, Effect, Option, Result } from "effect"
import { UrlGuard } from "../internal/platformKit.js"
import { AccountStore } from "../storage/AccountStore.js"
import { MediaLibrary } from "../storage/MediaLibrary.js"
import { expandGroups } from "./GroupTargets.js"
import * as Errors from "../Errors.js"
import type * as Models from "./Models.js"

type MediaRefs = ReadonlyArray<Models.MediaRef> | undefined

/** Where in the body: `["content", "media", 0, "thumbnail", "source"]`. */
type Path = ReadonlyArray<string | number>

/** `content.media[0].thumbnail.source`, for messages. */
const render = (path: Path) =>
  path.map((segment, i) => typeof segment === "number" ? `[${segment}]` : i === 0 ? segment : `.${segment}`).join("")

/** The caller's medium `mediaId`, or `INVALID_MEDIA` naming where the body refers to it. */
const storedMedia = Effect.fnUntraced(function*(organizationId: string, mediaId: string, path: Path) {
  const library = yield* MediaLibrary
  const record = yield* library.get(organizationId, mediaId).pipe(Effect.orDie)
  if (Option.isNone(record)) {
    // Another organization's medium answers exactly like an unknown one.
    return yield* Errors.make(Errors.InvalidMedia, `no media ${mediaId} (at ${render(path)})`, {
      mediaId,
      path: render(path)
    })
  }
  return record.value
})

/**
 * A media source given in a post body (a medium's own, or its thumbnail's),
 * as the server will open it: `stored` must be a medium of the caller's
 * organization (its record is returned), and a `file` path is refused: a
 * server does not read its own files on behalf of an API caller.
 */
const checkSource = Effect.fnUntraced(function*(organizationId: string, source: CoreMedia.MediaSource, path: Path) {
  if (source._tag === "file") {
    return yield* Errors.make(
      Errors.ValidationFailed,
      `${render(path)}: media with a \`file\` source cannot be given over the API; upload the file to /v1/media and use its id`,
      { issues: [{ path, code: "FILE_SOURCE_NOT_ALLOWED", message: "file sources are not accepted over HTTP" }] }
    )
  }
  if (source._tag === "url") {
    // Refused up front with the reason; the fetch itself is guarded again (DNS answers, every redirect hop).
    const guard = yield* UrlGuard.UrlGuard
    const where = render([...path, "url"])
    yield* guard.check(source.url).pipe(Effect.mapError((refused) => Errors.urlNotAllowed(refused, where)))
  }
  return source._tag === "stored" ? yield* storedMedia(organizationId, source.mediaId, path) : undefined
})

/**
 * A thumbnail: its source checked; a stored one must be an image, and its
 * type and size are the stored file's (what the platform will receive, not
 * what the body declares), so that core's thumbnail rules judge the real file.
 */
const resolveThumbnail = Effect.fnUntraced(function*(organizationId: string, thumbnail: CoreMedia.Thumbnail, path: Path) {
  const record = yield* checkSource(organizationId, thumbnail.source, [...path, "source"])
  if (record === undefined) return thumbnail
  if (record.kind !== "image") {
    const message = `${render(path)}: a thumbnail must be an image; media ${record.id} is ${record.mimeType}`
    return yield* Errors.make(Errors.ValidationFailed, message, {
      issues: [{ path: [...path, "source"], code: "THUMBNAIL_NOT_IMAGE", message }]
    })
  }
  return { ...thumbnail, mimeType: record.mimeType, sizeBytes: record.sizeBytes }
})

const resolveMedia = Effect.fnUntraced(function*(organizationId: string, refs: MediaRefs, path: Path) {
  if (refs === undefined) return undefined
  const library = yield* MediaLibrary
  const out: Array<CoreMedia.Media> = []
  for (const [index, ref] of refs.entries()) {
    const at = [...path, index]
    if ("mediaId" in ref) {
      out.push(library.toCoreMedia(yield* storedMedia(organizationId, ref.mediaId, at), ref.altText))
      continue
    }
    const record = yield* checkSource(organizationId, ref.source, [...at, "source"])
    const thumbnail = ref.thumbnail === undefined ? undefined : yield* resolveThumbnail(organizationId, ref.thumbnail, [...at, "thumbnail"])
    // A stored medium's facts are its record's: the body's declared type and size are not trusted.
    const stored = record === undefined ? {} : library.toCoreMedia(record)
    out.push({ ...ref, ...stored, ...(thumbnail !== undefined ? { thumbnail } : {}) })
  }
  return out
})

const resolveThread = Effect.fnUntraced(function*(
  organizationId: string,
  thread: ReadonlyArray<typeof Models.ThreadPartInput.Type> | undefined,
  path: Path
) {
  if (thread === undefined) return undefined
  const out: Array<Post.ThreadPart> = []
  for (const [index, part] of thread.entries()) {
    const media = yield* resolveMedia(organizationId, part.media, [...path, index, "media"])
    out.push({
      ...(part.text !== undefined ? { text: part.text } : {}),
      ...(media !== undefined ? { media } : {}),
      ...(part.link !== undefined ? { link: part.link } : {})
    })
  }
  return out
})

export const resolveContent = Effect.fnUntraced(function*(
  organizationId: string,
  content: Models.ContentInput,
  path: Path = ["content"]
) {
  const media = yield* resolveMedia(organizationId, content.media, [...path, "media"])
  const thread = yield* resolveThread(organizationId, content.thread, [...path, "thread"])
  return {
    ...(content.text !== undefined ? { text: content.text } : {}),
    ...(media !== undefined ? { media } : {}),
    ...(content.link !== undefined ? { link: content.link } : {}),
    ...(thread !== undefined ? { thread } : {}),
    ...(content.comment !== undefined ? { comment: content.comment } : {})
  } satisfies Post.Content as Post.Content
})

const resolveOverride = Effect.fnUntraced(function*(organizationId: string, override: Models.OverrideInput, path: Path) {
  const content = yield* resolveContent(organizationId, override, path)
  return { ...content, ...(override.settings !== undefined ? { settings: override.settings } : {}) } as Post.Override
})

export const resolveOverrides = Effect.fnUntraced(function*(
  organizationId: string,
  overrides: Readonly<Record<string, Models.OverrideInput>> | undefined
) {
  if (overrides === undefined) return undefined
  const out: Record<string, Post.Override> = {}
  for (const [platform, override] of Object.entries(overrides)) {
    out[platform] = yield* resolveOverride(organizationId, override, ["platformOverrides", platform])
  }
  return out
})

/**
 * How accounts are looked up: `get` reads each now; `recall` may answer from
 * what this process read lately (`AccountStore.recall`), for a create, whose
 * statement checks the accounts again (`PostStore.create`).
 */
export type AccountLookup = "get" | "recall"

/**
 * Destinations with groups expanded (`GroupTargets`) and their platform filled from their account; unknown,
 * foreign, mismatched or disconnected accounts are `INVALID_ACCOUNTS`.
 */
export const resolveDestinations = Effect.fnUntraced(function*(
  organizationId: string,
  destinations: ReadonlyArray<Models.DestinationInput>,
  lookup: AccountLookup = "get"
) {
  const accounts = yield* AccountStore
  const problems: Array<{ index: number; accountId: string; message: string }> = []
  const out: Array<Post.DestinationInput> = []
  const entries = yield* expandGroups(organizationId, destinations)
  // Looked up four at a time: pipelined on one connection (`Database`'s multiplexing), a round trip per four
  // destinations instead of one each, without taking the whole pool for a post with many.
  const find = lookup === "recall" ? accounts.recall : accounts.get
  const found = yield* Effect.forEach(entries, ({ destination }) =>
    find(organizationId, destination.accountId).pipe(
      Effect.map(Option.some),
      Effect.catchTag("AccountNotFound", () => Effect.succeedNone),
      Effect.orDie
    ), { concurrency: 4 })
  for (const [position, { destination, index }] of entries.entries()) {
    const account = found[position]!
    if (Option.isNone(account)) {
      problems.push({ index, accountId: destination.accountId, message: `no account ${destination.accountId}` })
      continue
    }
    if (destination.platform !== undefined && destination.platform !== account.value.platform) {
      problems.push({
        index,
        accountId: destination.accountId,
        message: `account ${destination.accountId} is on ${account.value.platform}, not ${destination.platform}`
      })
      continue
    }
    if (account.value.status === "disconnected") {
      problems.push({ index, accountId: destination.accountId, message: `account ${destination.accountId} is disconnected` })
      continue
    }
    const override = destination.override === undefined
      ? undefined
      : yield* resolveOverride(organizationId, destination.override, ["destinations", index, "override"])
    out.push({
      platform: account.value.platform,
      accountId: destination.accountId,
      ...(destination.placement !== undefined ? { placement: destination.placement } : {}),
      ...(destination.settings !== undefined ? { settings: destination.settings } : {}),
      ...(override !== undefined ? { override } : {})
    })
  }
  if (problems.length > 0) {
    return yield* Errors.make(
      Errors.InvalidAccounts,
      problems.map((p) => p.message).join("; "),
      { accounts: problems }
    )
  }
  return out
})

const scheduleProblem = (path: string, message: string) =>
  Errors.make(Errors.ValidationFailed, message, { issues: [{ code: "INVALID_SCHEDULE", path: [path], message }] })

/**
 * `scheduledAt` (+ `timezone`) as a core schedule: an instant when it has an
 * offset, else a wall-clock time in the zone; `"now"` is `null` (publish
 * now, or clear the schedule of a PATCH). Impossible dates and strings that
 * are no ISO 8601 date-time are refused here with core's message.
 */
export const scheduleFrom = (body: {
  readonly scheduledAt?: string | null | undefined
  readonly timezone?: string | undefined
  readonly schedule?: Schedule.Schedule | null | undefined
}): Effect.Effect<Schedule.Schedule | null | undefined, Errors.ValidationFailed> => {
  if (body.schedule !== undefined && body.scheduledAt !== undefined) {
    return Effect.fail(scheduleProblem("scheduledAt", "give either schedule or scheduledAt (its shorthand), not both"))
  }
  if (body.timezone !== undefined && (body.scheduledAt === undefined || body.scheduledAt === null)) {
    return Effect.fail(scheduleProblem(
      "timezone",
      "timezone goes with a local scheduledAt such as 2026-03-29T09:30; in a schedule it is localTime's timeZone"
    ))
  }
  if (body.schedule !== undefined) return Effect.succeed(body.schedule)
  if (body.scheduledAt === null) return Effect.succeed(null)
  if (body.scheduledAt === undefined) return Effect.succeed(undefined)
  if (body.scheduledAt.trim().toLowerCase() === "now") return Effect.succeed(null)
  const parsed = Schedule.parseDateTime(body.scheduledAt)
  if (Result.isFailure(parsed)) return Effect.fail(scheduleProblem("scheduledAt", parsed.failure))
  if (parsed.success.offsetMinutes !== undefined) return Effect.succeed({ _tag: "instant", at: body.scheduledAt })
  if (body.timezone === undefined) {
    return Effect.fail(scheduleProblem(
      "scheduledAt",
      `scheduledAt "${body.scheduledAt}" has no offset: give an instant such as 2026-03-29T09:30:00Z, or a local time with a timezone`
    ))
  }
  return Effect.succeed({ _tag: "local", localTime: body.scheduledAt, timeZone: body.timezone })
}

/** Core's validation with the registered publishers' rules, settings and checks, at the current time (`Clock`). */
export const validate = (registry: Registry.Registry, input: Post.PostInput): Effect.Effect<Validation.ValidationResult> =>
  Effect.map(Clock.currentTimeMillis, (now) => registry.validate(input, { now: new Date(now) }))

export const validationFailed = (issues: ReadonlyArray<Validation.ValidationIssue>) =>
  Errors.make(
    Errors.ValidationFailed,
    issues.length === 1 ? issues[0]!.message : `${issues.length} problems: ${issues.map((i) => i.message).join("; ")}`,
    { issues }
  )

/** The registry, for handlers. */
export const PublisherRegistry = Registry.PublisherRegistry
