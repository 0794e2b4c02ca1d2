/**
 * What a publish call means for its destination: the request built from a
 * marked destination (`prepare`), an error's outcome (retry with backoff, or
 * fail; a rate limit also pauses its scope), and the reconciliation of an
 * unknown outcome through the publisher's `findPublished`.
 */
import { AccountHealth, Backoff, Credentials, Post, PublishError } from "@omnipost/core"
import type { Publisher } from "@omnipost/core"
import { Clock, Effect, Random } from "effect"
import type { SqlError } from "effect/sql"
import type { AccountStore } from "../storage/AccountStore.js"
import type { Marked, Outcome } from "../storage/Leases.js"
import { codecsOf } from "./Credentials.js"

export const destinationError = (code: string, message: string, retryable = false): Post.DestinationError => ({
  code,
  message,
  retryable
})

/** The pause scope a rate limit applies to: the account, or the whole platform for app limits and quotas. */
export const pauseScopeFor = (error: PublishError.RateLimited, platform: string, accountId: string) =>
  error.scope === "app" || error.scope === "quota" ? platform : `${platform}:${accountId}`

/**
 * The outcome of a failed call: a retry after `delayMs` while the error is
 * retryable and retries remain, else a failure (an unknown outcome stays
 * `outcome_unknown`; an authorization failure other than a missing permission
 * asks for the account to be reconnected). A thread that failed part way keeps
 * its live parts, and the retry resumes after them.
 */
export const failedCallOutcome = (
  error: PublishError.PublishError,
  options: { readonly autoRetries: number; readonly maxAutoRetries: number; readonly now: number; readonly delayMs: number }
): Extract<Outcome, { readonly _tag: "Retry" | "Failed" }> => {
  const detail = PublishError.toDestinationError(error)
  const parts = error.postedParts
  if (PublishError.isRetryable(error) && options.autoRetries < options.maxAutoRetries) {
    return { _tag: "Retry", at: new Date(options.now + options.delayMs), error: detail, parts }
  }
  return {
    _tag: "Failed",
    error: detail,
    attemptOutcome: error._tag === "OutcomeUnknown" ? "outcome_unknown" : "failed",
    accountNeedsReconnect: error._tag === "AuthFailed" && error.reason !== "missing_permission",
    ...(error._tag === "AuthFailed" ? { accountRefusal: AccountHealth.refusalOf(error) } : {}),
    parts
  }
}

/** A post a look-up found on the platform: published, by reconciliation. */
const reconciledPublished = (found: Publisher.PublishResult): Outcome => ({
  _tag: "Published",
  platformPostId: found.platformPostId,
  url: found.url,
  publishedAt: new Date(found.publishedAt),
  parts: found.parts,
  attemptOutcome: "reconciled_published"
})

/**
 * A platform's refusal of a post as a duplicate of one it has, on an attempt
 * after the first: possibly the post an earlier attempt made.
 */
export const isDuplicateOfEarlier = (error: PublishError.PublishError, attemptNumber: number): boolean =>
  error._tag === "Rejected" && error.code === "DUPLICATE_CONTENT" && attemptNumber > 1

/** A publisher and the request for one marked destination. */
export interface Prepared {
  readonly publisher: Publisher.PlatformPublisher
  readonly request: Publisher.PublishRequest
}

/** A claimed destination, as much as a request needs of it. */
export interface ClaimRef {
  readonly id: string
  readonly postId: string
  readonly accountId: string
}

export const make = (options: {
  readonly accounts: AccountStore["Service"]
  /** Pauses a scope (see `Leases.pause`). */
  readonly pause: (scope: string, until: Date, reason: string) => Effect.Effect<void, SqlError.SqlError>
  /** Keeps a call's parts on its destination while it runs (see `Leases.keepParts`). */
  readonly keepParts: (destinationId: string, attemptId: string, parts: ReadonlyArray<Post.PublishedPart>) => Effect.Effect<void, SqlError.SqlError>
  readonly backoff: Backoff.Policy
  readonly maxAutoRetries: number
}) => {
  const { accounts, backoff, maxAutoRetries } = options
  const nowDate = Clock.currentTimeMillis.pipe(Effect.map((ms) => new Date(ms)))

  /** What an error from a publish call means for the destination (a rate limit pauses its scope first). */
  const outcomeOf = Effect.fnUntraced(function*(
    error: PublishError.PublishError,
    claim: { platform: string; accountId: string; autoRetries: number }
  ) {
    const now = yield* Clock.currentTimeMillis
    if (error._tag === "RateLimited") {
      const floor = Backoff.retryAfterMs(error, now)
      const delay = Backoff.delayForErrorMs(backoff, claim.autoRetries, error, now, yield* Random.next)
      yield* options.pause(pauseScopeFor(error, claim.platform, claim.accountId), new Date(now + (floor ?? delay)), error.message)
    }
    const retryable = PublishError.isRetryable(error) && claim.autoRetries < maxAutoRetries
    const delayMs = retryable ? Backoff.delayForErrorMs(backoff, claim.autoRetries, error, now, yield* Random.next) : 0
    return failedCallOutcome(error, { autoRetries: claim.autoRetries, maxAutoRetries, now, delayMs }) as Outcome
  })

  const requestFor = (
    publisher: Publisher.PlatformPublisher,
    claim: ClaimRef,
    attemptId: string,
    destination: Publisher.PublishRequest["destination"],
    credentials: unknown,
    postedParts: ReadonlyArray<Post.PublishedPart> | undefined
  ): Publisher.PublishRequest => {
    const codecs = codecsOf(publisher)
    return {
      postId: claim.postId,
      destinationId: claim.id,
      attemptId,
      destination,
      credentials,
      ...(postedParts !== undefined ? { postedParts } : {}),
      keepPostedParts: (parts) =>
        options.keepParts(claim.id, attemptId, parts).pipe(
          Effect.tapCause((cause) => Effect.logWarning("could not keep the call's posted parts", cause)),
          Effect.ignore
        ),
      // Tried again while the database blinks, then logged at error level: a
      // rotated refresh token that is not saved disconnects the account.
      saveCredentials: (fresh) =>
        codecs.encodeCredentials(fresh).pipe(
          Effect.matchCauseEffect({
            onFailure: (cause) => Effect.logError("refreshed credentials that do not encode cannot be saved; they serve this call only", cause),
            onSuccess: (encoded) =>
              Credentials.retrySave(
                accounts.updateCredentials(claim.accountId, encoded, publisher.tokenExpiresAt?.(fresh)),
                { platform: publisher.platform, accountId: claim.accountId }
              )
          })
        )
    }
  }

  /** The publish request for a marked destination, or the error that prevents one. */
  const prepare = Effect.fnUntraced(function*(
    publisher: Publisher.PlatformPublisher,
    claim: ClaimRef,
    marked: Marked,
    rawCredentials: unknown
  ) {
    const resolved = Post.resolveDestination(
      { content: marked.content, platformOverrides: marked.platformOverrides },
      marked.destination
    )
    const codecs = codecsOf(publisher)
    const settings = yield* codecs.decodeSettings(resolved.settings).pipe(
      Effect.mapError((e) => destinationError("INVALID_SETTINGS", `the destination's settings are invalid: ${e.message}`))
    )
    const cached = typeof rawCredentials === "object" && rawCredentials !== null ? codecs.decodedCredentials.get(rawCredentials) : undefined
    const credentials = cached !== undefined ? cached : yield* codecs.decodeCredentials(rawCredentials).pipe(
      Effect.tap((decoded) =>
        Effect.sync(() => {
          // Opened credentials are shared (see the credential cache), so is their decoding.
          if (typeof rawCredentials === "object" && rawCredentials !== null) codecs.decodedCredentials.set(rawCredentials, decoded)
        })
      ),
      Effect.mapError((e) => destinationError("AUTH_EXPIRED", `the account's stored credentials are unusable; reconnect it: ${e.message}`))
    )
    const request = requestFor(
      publisher,
      claim,
      marked.attemptId,
      { ...resolved, settings },
      credentials,
      marked.postedParts
    )
    return { publisher, request } satisfies Prepared
  })

  /**
   * Looks an unknown outcome up on the platform, when the publisher can.
   * `live`: a thread's parts known to be live (the failed attempt's, else the
   * earlier attempts'); the look-up searches after them, and they are kept
   * whatever it finds.
   */
  const reconcile = Effect.fnUntraced(function*(
    prepared: Prepared,
    sentAt: Date,
    unknownError: Post.DestinationError,
    live: ReadonlyArray<Post.PublishedPart> | undefined = prepared.request.postedParts
  ) {
    const findPublished = prepared.publisher.findPublished
    if (findPublished === undefined) {
      return { _tag: "Failed", error: unknownError, attemptOutcome: "outcome_unknown", parts: live } satisfies Outcome
    }
    const found = yield* findPublished({ ...prepared.request, ...(live !== undefined ? { postedParts: live } : {}), sentAt: sentAt.toISOString() }).pipe(
      Effect.catchDefect((defect) => Effect.fail(new PublishError.Transient({ platform: prepared.publisher.platform, message: String(defect) }))),
      Effect.result
    )
    if (found._tag === "Failure") {
      const failure = found.failure
      const error = { ...unknownError, message: `${unknownError.message} Looking it up on the platform: ${failure.message}` }
      // The first parts of the thread were found and the rest was not: the rest is posted after them.
      if (failure.postedParts !== undefined && failure.postedParts.length > 0 && PublishError.isRetryable(failure)) {
        return { _tag: "Retry", at: yield* nowDate, error, parts: failure.postedParts } satisfies Outcome
      }
      return {
        _tag: "Failed",
        error,
        attemptOutcome: "outcome_unknown",
        parts: failure.postedParts ?? live
      } satisfies Outcome
    }
    if (found.success !== undefined) return reconciledPublished(found.success)
    // The platform says it is not there: publishing it now is a first publish, not a repost.
    return {
      _tag: "Retry",
      at: yield* nowDate,
      error: { ...unknownError, message: `${unknownError.message} The platform has no such post; publishing it again.` },
      attemptOutcome: "reconciled_absent"
    } satisfies Outcome
  })

  /**
   * A refusal as a duplicate on a later attempt (`isDuplicateOfEarlier`): an
   * earlier attempt of this destination may have made the post after all,
   * and the look-up that followed it ran before the platform showed it (X's
   * timeline is read eventually). Looked up once more: found, it is
   * published (`reconciled_published`); else, or when the look-up fails,
   * the refusal stands as any error does (`outcomeOf`).
   */
  const duplicateOutcome = Effect.fnUntraced(function*(
    prepared: Prepared,
    sentAt: Date,
    error: PublishError.PublishError,
    claim: { platform: string; accountId: string; autoRetries: number }
  ) {
    const findPublished = prepared.publisher.findPublished
    const found = findPublished === undefined ? undefined : yield* findPublished({ ...prepared.request, sentAt: sentAt.toISOString() }).pipe(
      Effect.catchDefect(() => Effect.succeed(undefined)),
      Effect.orElseSucceed(() => undefined)
    )
    if (found === undefined) return yield* outcomeOf(error, claim)
    return reconciledPublished(found)
  })

  return { outcomeOf, requestFor, prepare, reconcile, duplicateOutcome }
}
