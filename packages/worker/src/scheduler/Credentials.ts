/**
 * What a fast call needs at hand: each publisher's decoders built once, settings
 * decoded once per distinct value, and accounts' credentials opened (AES-GCM,
 * the costliest step of a fast call) once per sealed value.
 */
import { Lru, type Publisher } from "@omnipost/core"
import { Effect, Option, Schema } from "effect"

/** Decoders built once per publisher, not once per call. */
const codecCache = new WeakMap<Publisher.PlatformPublisher, Codecs>()

const makeCodecs = (publisher: Publisher.PlatformPublisher) => ({
  decodeSettings: Schema.decodeUnknownEffect(publisher.settingsSchema),
  /** Synchronous decoding, for the fast path; None when it fails or needs an effect. */
  decodeSettingsNow: Schema.decodeUnknownOption(publisher.settingsSchema as Schema.Codec<unknown, unknown, never, never>),
  decodeCredentials: Schema.decodeUnknownEffect(publisher.credentialsSchema),
  encodeCredentials: Schema.encodeUnknownEffect(publisher.credentialsSchema),
  settingsByJson: new Lru<string, Option.Option<unknown>>(settingsCacheSize),
  /** Decoded credentials by opened value (which the credential cache shares between calls). */
  decodedCredentials: new WeakMap<object, unknown>()
})

/** A publisher's decoders, and what they decoded. */
export type Codecs = ReturnType<typeof makeCodecs>

/** The publisher's codecs (built on first use). */
export const codecsOf = (publisher: Publisher.PlatformPublisher): Codecs => {
  let codecs = codecCache.get(publisher)
  if (codecs === undefined) {
    codecs = makeCodecs(publisher)
    codecCache.set(publisher, codecs)
  }
  return codecs
}

/** Settings remembered per publisher (their distinct JSON values). */
const settingsCacheSize = 256

/**
 * Settings decoded synchronously, remembered by their JSON: most destinations
 * of a platform carry the same few settings (often none), and a decoded value
 * is immutable.
 */
export const decodeSettingsNow = (codecs: Codecs, settings: unknown): Option.Option<unknown> => {
  const key = JSON.stringify(settings)
  return codecs.settingsByJson.getOrSet(key, () => codecs.decodeSettingsNow(settings))
}

/** Credentials as stored: sealed under a key of the key ring. */
export interface Sealed {
  readonly ciphertext: string
  readonly keyId: string
}

export interface CredentialCache<E> {
  /** Opens `sealed` (the account's credentials), or returns what an earlier call opened. */
  readonly open: (sealed: Sealed, accountId: string) => Effect.Effect<unknown, E>
  /** What an earlier call opened for `sealed`, without running an effect; undefined when nothing was. */
  readonly atHand: (sealed: Sealed, accountId: string) => unknown
}

/**
 * Opened credentials, by sealed value: destinations of one account share
 * them. A sealed value never changes meaning (a refresh seals a new one), so
 * entries never go stale; the oldest go once there are `size`.
 */
export const makeCredentialCache = <E>(
  openSealed: (sealed: Sealed, accountId: string) => Effect.Effect<unknown, E>,
  size = 1_024
): CredentialCache<E> => {
  const opened = new Lru<string, unknown>(size)
  /** Each account's last opened credentials, by account (the fast path's lookup). */
  const lastOpened = new Lru<string, { readonly ciphertext: string; readonly keyId: string; readonly opened: unknown }>(size)
  const keyOf = (sealed: Sealed, accountId: string) => `${accountId}\u0000${sealed.keyId}\u0000${sealed.ciphertext}`
  return {
    open: (sealed, accountId) => {
      const key = keyOf(sealed, accountId)
      if (opened.has(key)) {
        const value = opened.get(key)
        lastOpened.set(accountId, { ciphertext: sealed.ciphertext, keyId: sealed.keyId, opened: value })
        return Effect.succeed(value)
      }
      return openSealed(sealed, accountId).pipe(
        Effect.tap((value) =>
          Effect.sync(() => {
            opened.set(key, value)
            lastOpened.set(accountId, { ciphertext: sealed.ciphertext, keyId: sealed.keyId, opened: value })
          })
        )
      )
    },
    atHand: (sealed, accountId) => {
      // Most calls in a row are for an account just seen: compare its sealed value, no need to build a key.
      const last = lastOpened.get(accountId)
      return last !== undefined && last.ciphertext === sealed.ciphertext && last.keyId === sealed.keyId
        ? last.opened
        : opened.get(keyOf(sealed, accountId))
    }
  }
}
