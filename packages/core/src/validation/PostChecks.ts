/**
 * The post as a whole, read before any destination: its shape and known
 * fields, its content, its platform overrides, its schedule, the list of
 * destinations and the total text (past that bound, no destination is
 * checked). Each reader returns what it read and the issues it found.
 */
import { Result, Schema } from "effect"
import * as Limits from "../Limits.js"
import * as Post from "../Post.js"
import * as Problems from "../Problems.js"
import * as Schedule from "../Schedule.js"
import { decode, describeType, isRecord } from "./Decode.js"
import { type Finding, finding } from "./Issues.js"
import { formatAgo } from "./Messages.js"

/** How far in the past a schedule may be and still mean "now" (clock skew, a request in flight). */
export const pastToleranceMs = 60_000

/** What a reader read (`value`), and what it found wrong. */
export interface Read<A> {
  readonly value: A
  readonly issues: ReadonlyArray<Finding>
}

const topLevelKeys = new Set([...Object.keys(Post.PostInput.fields), ...Object.keys(Post.Post.fields)])

const PostMeta = Schema.Struct({
  id: Schema.optional(Schema.String),
  status: Schema.optional(Post.PostStatus),
  createdAt: Schema.optional(Schema.String),
  updatedAt: Schema.optional(Schema.String)
})

/** Unknown top-level fields (with the field probably meant) and a stored post's own fields. */
export const knownFields = (input: Record<string, unknown>): ReadonlyArray<Finding> => {
  const issues: Array<Finding> = []
  for (const key of Object.keys(input)) {
    if (!topLevelKeys.has(key)) issues.push(finding("INVALID_POST", [key], Problems.unknownField([key], topLevelKeys).message))
  }
  const meta = decode(PostMeta, { id: input.id, status: input.status, createdAt: input.createdAt, updatedAt: input.updatedAt })
  if (Result.isFailure(meta)) for (const problem of meta.failure) issues.push(finding("INVALID_POST", problem.path, problem.message))
  return issues
}

export const content = (input: Record<string, unknown>): Read<Post.Content | undefined> => {
  if (!("content" in input) || input.content === undefined) {
    return { value: undefined, issues: [finding("INVALID_POST", ["content"], "a post needs content (text, media, a link or a thread)")] }
  }
  const decoded = decode(Post.Content, input.content)
  return Result.isSuccess(decoded)
    ? { value: decoded.success, issues: [] }
    : { value: undefined, issues: decoded.failure.map((problem) => finding("INVALID_POST", ["content", ...problem.path], problem.message)) }
}

/** The platform overrides that decode, and the platforms whose override does not (one bad override does not hide the others' issues). */
export const platformOverrides = (
  input: Record<string, unknown>
): Read<{ readonly overrides: Readonly<Record<string, Post.Override>>; readonly broken: ReadonlySet<string> }> => {
  const overrides: Record<string, Post.Override> = {}
  const broken = new Set<string>()
  const issues: Array<Finding> = []
  if (input.platformOverrides !== undefined) {
    if (!isRecord(input.platformOverrides)) {
      issues.push(finding("INVALID_POST", ["platformOverrides"], `platformOverrides is an object keyed by platform id; got ${describeType(input.platformOverrides)}`))
    } else {
      for (const [platform, override] of Object.entries(input.platformOverrides)) {
        const decoded = decode(Post.Override, override)
        if (Result.isSuccess(decoded)) overrides[platform] = decoded.success
        else {
          broken.add(platform)
          for (const problem of decoded.failure) issues.push(finding("INVALID_POST", ["platformOverrides", platform, ...problem.path], problem.message))
        }
      }
    }
  }
  return { value: { overrides, broken }, issues }
}

/** The schedule as epoch milliseconds: a real date-time, and not in the past (a stored post had its schedule checked when it was stored). */
export const schedule = (input: Record<string, unknown>, now: number): Read<number | undefined> => {
  if (input.schedule === undefined) return { value: undefined, issues: [] }
  const decoded = decode(Schedule.Schedule, input.schedule)
  if (Result.isFailure(decoded)) {
    return { value: undefined, issues: decoded.failure.map((problem) => finding("INVALID_SCHEDULE", ["schedule", ...problem.path], problem.message)) }
  }
  const resolved = Schedule.resolve(decoded.success)
  if (Result.isFailure(resolved)) return { value: undefined, issues: [finding("INVALID_SCHEDULE", ["schedule"], resolved.failure.message)] }
  const scheduledAt = resolved.success.epochMilliseconds
  if (input.createdAt === undefined && scheduledAt < now - pastToleranceMs) {
    return {
      value: scheduledAt,
      issues: [finding(
        "SCHEDULE_IN_PAST",
        ["schedule"],
        `the schedule (${new Date(scheduledAt).toISOString()}) is ${formatAgo(now - scheduledAt)} in the past; give a future time, or no schedule to publish now`
      )]
    }
  }
  return { value: scheduledAt, issues: [] }
}

/** The destinations as a list to check, or `undefined` when there is none to check (not a list, or too long to look at). */
export const destinations = (input: Record<string, unknown>): Read<ReadonlyArray<unknown> | undefined> => {
  const list = input.destinations
  if (!Array.isArray(list)) {
    return {
      value: undefined,
      issues: [finding("INVALID_POST", ["destinations"], list === undefined ? "a post needs destinations" : `destinations is an array; got ${describeType(list)}`)]
    }
  }
  if (list.length > Limits.maxDestinations) {
    return {
      value: undefined,
      issues: [finding("INVALID_POST", ["destinations"], `a post has at most ${Limits.maxDestinations} destinations; this one has ${list.length}`)]
    }
  }
  return { value: list, issues: list.length === 0 ? [finding("INVALID_POST", ["destinations"], "a post needs at least one destination")] : [] }
}

/** Characters of text in a content or an override (first part, thread parts, comment); anything malformed counts 0. */
const textLength = (value: unknown): number => {
  if (!isRecord(value)) return 0
  const own = (typeof value.text === "string" ? value.text.length : 0) +
    (typeof value.comment === "string" ? value.comment.length : 0)
  const thread = Array.isArray(value.thread)
    ? value.thread.reduce((sum: number, part: unknown) => sum + (isRecord(part) && typeof part.text === "string" ? part.text.length : 0), 0)
    : 0
  return own + thread
}

/** All the post's texts together: past the bound, no destination is checked (that work is what the bound bounds). */
export const totalText = (
  postContent: Post.Content | undefined,
  overrides: Readonly<Record<string, Post.Override>>,
  list: ReadonlyArray<unknown>
): ReadonlyArray<Finding> => {
  const total = textLength(postContent) +
    Object.values(overrides).reduce((sum, override) => sum + textLength(override), 0) +
    list.reduce((sum: number, destination: unknown) =>
      sum + (isRecord(destination) && isRecord(destination.override) ? textLength(destination.override) : 0), 0)
  return total > Limits.maxPostTextLength
    ? [finding(
      "INVALID_POST",
      ["content"],
      `a post holds at most ${Limits.maxPostTextLength.toLocaleString("en-US")} characters of text in all (every part, every override); this one has ${total.toLocaleString("en-US")}`
    )]
    : []
}
