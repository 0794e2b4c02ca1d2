/**
 * The checks the rules table cannot express: Mastodon's own way of counting
 * characters. Pure and synchronous, like `validatePost`, which runs it as the
 * publisher's `validate` hook.
 */
import type { Publisher, Validation } from "@omnipost/core"
import { charactersPerUrl, maxCharacters } from "./Rules.js"
import type { MastodonSettings } from "./Settings.js"

const urlPattern = /https?:\/\/[^\s<>"]+/g
// `@user@example.social` counts as `@user`: the domain is free.
const remoteMention = /(^|[^\w@])@(\w+)@[\w.-]+\w/g
const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })

/**
 * Characters as Mastodon counts them (its StatusLengthValidator): URLs count
 * 23, remote mentions their local part, everything else by grapheme.
 *
 * @example
 * countCharacters("see https://example.com/a/very/long/path/indeed") // 4 + 23
 */
export const countCharacters = (text: string): number => {
  const placeholder = "x".repeat(charactersPerUrl)
  const countable = text.replace(urlPattern, placeholder).replace(remoteMention, "$1@$2")
  let count = 0
  for (const _ of segmenter.segment(countable)) count++
  return count
}

/** One `CONTENT_TOO_LONG` per part over the limit; the content warning counts with each part. */
export const validateMastodon = (
  context: Publisher.ValidationContext<MastodonSettings>
): ReadonlyArray<Validation.ValidationIssue> => {
  const { destination, destinationIndex } = context
  const warning = destination.settings.spoilerText ?? ""
  return destination.parts.flatMap((part, partIndex) => {
    const actual = countCharacters(part.text) + countCharacters(warning)
    if (actual <= maxCharacters) return []
    return [{
      code: "CONTENT_TOO_LONG" as const,
      message: `Mastodon allows ${maxCharacters} characters, URLs counting ${charactersPerUrl} each and the content warning included; ${
        partIndex === 0 ? "this text" : `thread part ${partIndex + 1}`
      } counts ${actual}`,
      path: partIndex === 0 ? ["content", "text"] : ["content", "thread", partIndex - 1, "text"],
      platform: "mastodon",
      destinationIndex,
      limit: maxCharacters,
      actual
    }]
  })
}
