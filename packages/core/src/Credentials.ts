/**
 * Where the fan-out gets an account's credentials, and where it saves them
 * after a refresh.
 *
 * The provider hands out credentials in their encoded form (what a database
 * or a config file holds); the fan-out decodes them with the publisher's
 * `credentialsSchema`, and encodes refreshed ones before `save`.
 *
 * @example
 * const provider = CredentialsProvider.fromRecord({ "acct-1": { accessToken: "…" } })
 * program.pipe(Effect.provide(CredentialsProvider.layer(provider)))
 */
import { Context, Effect, Layer, Predicate, Schedule, Schema } from "effect"

/** Which account's credentials. */
export interface CredentialsRef {
  readonly platform: string
  readonly accountId: string
}

/**
 * The store could not be read (a database down, a secret manager timing
 * out). Nothing was sent to the platform, so the destination may be retried.
 */
export class CredentialsUnavailable extends Schema.TaggedError<CredentialsUnavailable>()("CredentialsUnavailable", {
  platform: Schema.String,
  accountId: Schema.String,
  message: Schema.String
}) {}

export interface CredentialsProviderShape {
  /** The account's credentials, encoded; `undefined` when the account is not connected. */
  readonly get: (ref: CredentialsRef) => Effect.Effect<unknown, CredentialsUnavailable>
  /**
   * Persists refreshed credentials (encoded). Never called with a refresh
   * token emptied by the refresh. A failure (or a crash) is retried and then
   * logged by the fan-out (`saveReliably`), never dropped in silence.
   */
  readonly save: (ref: CredentialsRef, credentials: unknown) => Effect.Effect<void, unknown>
}

export class CredentialsProvider extends Context.Service<CredentialsProvider, CredentialsProviderShape>()(
  "@omnipost/core/CredentialsProvider"
) {
  static readonly layer = (provider: CredentialsProviderShape): Layer.Layer<CredentialsProvider> =>
    Layer.succeed(CredentialsProvider, provider)
}

/** How often a failed save of refreshed credentials is tried again, and how long apart: 4 more times, 200 ms doubling. */
export const saveRetry = { times: 4, schedule: Schedule.exponential("200 millis") } as const

/**
 * Saves refreshed credentials through the provider, trying again when the
 * save fails (an error or a crash of the provider: a database that blinked),
 * and logging at error level, with the account but never the credentials,
 * when it still fails. It never fails itself: the fresh credentials serve the
 * call that refreshed them either way, but an unsaved rotated refresh token
 * disconnects the account at the next refresh, so the failure must be seen.
 */
export const saveReliably = (
  provider: CredentialsProviderShape,
  ref: CredentialsRef,
  credentials: unknown,
  retry: { readonly times: number; readonly schedule: Schedule.Schedule<unknown> } = saveRetry
): Effect.Effect<void> => retrySave(Effect.suspend(() => provider.save(ref, credentials)), ref, retry)

/**
 * `saveReliably` for a host that saves without a provider (the worker writes
 * the account row itself): `save` is tried again on an error or a defect,
 * then the failure is logged at error level with the account, and swallowed.
 */
export const retrySave = (
  save: Effect.Effect<void, unknown>,
  ref: CredentialsRef,
  retry: { readonly times: number; readonly schedule: Schedule.Schedule<unknown> } = saveRetry
): Effect.Effect<void> =>
  save.pipe(
    Effect.catchDefect((defect) => Effect.fail(defect)),
    Effect.retry(retry),
    Effect.catchCause((cause) =>
      Effect.logError(`saving the refreshed ${ref.platform} credentials of account ${ref.accountId} failed ${retry.times + 1} times; they serve this call only, and the account may need reconnecting`, cause).pipe(
        Effect.annotateLogs({ platform: ref.platform, accountId: ref.accountId })
      )
    )
  )

/**
 * A provider from a lookup function. Without `save`, refreshed credentials are
 * kept for the rest of the publish call only.
 */
export const fromFunction = (
  get: (ref: CredentialsRef) => Effect.Effect<unknown, CredentialsUnavailable>,
  save?: (ref: CredentialsRef, credentials: unknown) => Effect.Effect<void, unknown>
): CredentialsProviderShape => ({ get, save: save ?? (() => Effect.void) })

/**
 * An in-memory provider keyed by account id (`"acct-1"`) or by
 * `"platform:accountId"` when one account id exists on two platforms; the
 * platform-qualified key wins. Refreshed credentials replace the stored ones.
 */
export const fromRecord = (record: Readonly<Record<string, unknown>>): CredentialsProviderShape => {
  const store = new Map<string, unknown>(Object.entries(record))
  const keyOf = (ref: CredentialsRef) => {
    const qualified = `${ref.platform}:${ref.accountId}`
    return store.has(qualified) ? qualified : ref.accountId
  }
  return {
    get: (ref) => Effect.sync(() => store.get(keyOf(ref))),
    save: (ref, credentials) => Effect.sync(() => void store.set(keyOf(ref), credentials))
  }
}

const isRefreshKey = (key: string) => /refresh/i.test(key)
const isEmpty = (value: unknown) => value === undefined || value === null || value === ""

/**
 * Fresh credentials with every refresh-token field that the fresh set left
 * empty taken from the previous set. A platform that does not rotate refresh
 * tokens answers a refresh without one; storing that answer as is would
 * disconnect the account at the next expiry.
 *
 * @example
 * keepRefreshToken({ accessToken: "a", refreshToken: "r" }, { accessToken: "b" })
 * // { accessToken: "b", refreshToken: "r" }
 */
export const keepRefreshToken = (previous: unknown, fresh: unknown): unknown => {
  if (!Predicate.isObject(previous) || !Predicate.isObject(fresh)) return fresh
  const merged: Record<string, unknown> = { ...fresh }
  for (const [key, value] of Object.entries(previous)) {
    if (isRefreshKey(key) && !isEmpty(value) && isEmpty(merged[key])) merged[key] = value
  }
  return merged
}
