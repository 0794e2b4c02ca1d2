/**
 * The thread policy, written once for every platform that posts reply chains.
 *
 * 1. Every part still to post is prepared (media uploaded and checked, links
 *    resolved) before the first one is posted: a failure there posts nothing.
 * 2. The parts are posted strictly in order, each a reply to the one before.
 * 3. If part k fails after parts 1..k-1 are live, the error says so
 *    (`postedParts`, core's `PublishError.withPostedParts`): the destination
 *    keeps them, and a retry (`PublishRequest.postedParts`) resumes at part k
 *    as a reply to part k-1. A live part is never posted again and never
 *    silently dropped; whether the retry happens by itself follows the
 *    error's tag, as for any publish error.
 *
 * Reconciling an unknown outcome goes the same way (`found`): the parts found
 * on the platform are either the whole thread (published), none (not posted),
 * or its first parts, which become a retryable error carrying them, so the
 * rest is posted after them.
 *
 * @example
 * const parts = yield* Thread.publish({
 *   platform: "mastodon",
 *   parts: request.destination.parts,
 *   postedParts: request.postedParts,
 *   prepare: (part) => uploadMedia(part.media),
 *   post: (mediaIds, { part, replyTo }) => createStatus(part.text, mediaIds, replyTo?.platformPostId)
 * })
 */
import { PublishError, type Publisher } from "@omnipost/core"
import { Effect } from "effect"

type PublishedPart = Publisher.PublishedPart

/** What `post` gets for one part. */
export interface PostContext<Part> {
  readonly part: Part
  /** The part's position in the whole thread (0 for the first). */
  readonly index: number
  /** The part this one replies to: the one before it, live already (undefined for the first part). */
  readonly replyTo: PublishedPart | undefined
  /** The thread's first part, once live (undefined while posting it). */
  readonly root: PublishedPart | undefined
}

export interface Options<Part, Prepared> {
  /** The platform id, for the errors this module makes itself. */
  readonly platform: string
  /** Every part of the thread, in order (the first included). */
  readonly parts: ReadonlyArray<Part>
  /** Parts live from an earlier attempt (`PublishRequest.postedParts`): the first `postedParts.length` parts are skipped. */
  readonly postedParts?: ReadonlyArray<PublishedPart> | undefined
  /** Everything that can fail without posting: called for each part still to post, in order, before any is posted. */
  readonly prepare: (part: Part, index: number) => Effect.Effect<Prepared, PublishError.PublishError>
  /** Posts one prepared part; returns what is now live. */
  readonly post: (prepared: Prepared, context: PostContext<Part>) => Effect.Effect<PublishedPart, PublishError.PublishError>
}

/**
 * Publishes the parts not yet live; returns every live part, in order, the
 * earlier attempts' included. A failure after some part is live carries the
 * live parts (`postedParts`).
 */
export const publish = <Part, Prepared>(
  options: Options<Part, Prepared>
): Effect.Effect<ReadonlyArray<PublishedPart>, PublishError.PublishError> =>
  Effect.gen(function*() {
    const live: Array<PublishedPart> = [...(options.postedParts ?? [])]
    const total = options.parts.length
    if (live.length > total) {
      // The post has fewer parts than are live: it was edited after a partial publish.
      return yield* new PublishError.Rejected({
        platform: options.platform,
        code: "THREAD_CHANGED",
        message: `${live.length} parts of this thread are live already, but the post now has ${total}: delete the live parts or restore the thread, then retry`,
        postedParts: live
      })
    }
    const remaining = options.parts.slice(live.length)
    const prepared: Array<Prepared> = []
    for (const [offset, part] of remaining.entries()) {
      prepared.push(
        yield* options.prepare(part, live.length + offset).pipe(
          Effect.mapError((error) => PublishError.withPostedParts(error, live))
        )
      )
    }
    for (const [offset, item] of prepared.entries()) {
      const index = live.length
      const posted = yield* options.post(item, {
        part: remaining[offset]!,
        index,
        replyTo: live.at(-1),
        root: live[0]
      }).pipe(
        Effect.mapError((error) =>
          PublishError.withPostedParts(
            error,
            live,
            `part ${index + 1} of ${total} failed; parts 1-${live.length} are live and kept, and a retry posts the rest after them`
          )
        )
      )
      live.push(posted)
    }
    return live
  })

/**
 * The outcome of looking a thread up after an unknown outcome, from the
 * parts found on the platform in order (the first `found.length` parts):
 * none is `undefined` (not posted: publishing is a first publish); all is the
 * result; some fails `Transient` carrying them, so the rest is posted after
 * them and the live ones are never posted again.
 */
export const found = (options: {
  readonly platform: string
  readonly total: number
  readonly found: ReadonlyArray<PublishedPart>
  /** When the first part was posted (ISO 8601). */
  readonly publishedAt: string
}): Effect.Effect<Publisher.PublishResult | undefined, PublishError.Transient> => {
  const first = options.found[0]
  if (first === undefined) return Effect.succeed(undefined)
  if (options.found.length < options.total) {
    return Effect.fail(
      new PublishError.Transient({
        platform: options.platform,
        message: `parts 1-${options.found.length} of ${options.total} of the thread are live (${
          options.found.map((part) => part.url).join(", ")
        }); the rest was not posted and will be, after them`,
        postedParts: options.found
      })
    )
  }
  return Effect.succeed({ platformPostId: first.platformPostId, url: first.url, publishedAt: options.publishedAt, parts: options.found })
}
