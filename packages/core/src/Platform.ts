/**
 * Platform identifiers. The built-in ones are listed here; a user plugin may
 * use any other lowercase id (`mastodon`, `webhook`…), which is why the schema
 * is an open string and `BuiltinPlatform` a separate closed set.
 */
import { Schema } from "effect"

export const builtinPlatforms = [
  "x",
  "instagram",
  "facebook",
  "threads",
  "linkedin",
  "youtube",
  "tiktok",
  "bluesky"
] as const

export type BuiltinPlatform = (typeof builtinPlatforms)[number]

export const BuiltinPlatform = Schema.Literals(builtinPlatforms)

/** Any platform id: a built-in one or a plugin's. Lowercase letters, digits, `-` and `_`. */
export const PlatformId = Schema.String.check(
  Schema.isPattern(/^[a-z][a-z0-9_-]{0,39}$/, {
    message: "a platform id is 1-40 lowercase letters, digits, '-' or '_', starting with a letter"
  })
)
export type PlatformId = typeof PlatformId.Type

export const isBuiltinPlatform = (id: string): id is BuiltinPlatform =>
  (builtinPlatforms as ReadonlyArray<string>).includes(id)
