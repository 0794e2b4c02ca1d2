/**
 * The fake's reading of little text, written from LinkedIn's description
 * (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format),
 * independently of the publisher's `LittleText.escape`:
 *
 * - `\` before a reserved character is that character as text;
 * - `@[Name](urn:li:person:…|urn:li:organization:…)` is a MentionElement, shown as Name;
 * - `{hashtag|\#|name}` is the HashtagTemplate, `#name` (letters, digits) the HashtagElement, shown as `#name`;
 * - any other reserved character, unescaped, ends the text there: the real
 *   API answers 201 and the post is silently cut (platform-specs §3.5).
 */
const reserved = new Set(["\\", "|", "{", "}", "@", "[", "]", "(", ")", "<", ">", "#", "*", "_", "~"])

export interface Parsed {
  /** What members see. */
  readonly text: string
  readonly mentions: ReadonlyArray<{ readonly name: string; readonly urn: string }>
  readonly hashtags: ReadonlyArray<string>
  /** Whether an unescaped reserved character cut the text. */
  readonly truncated: boolean
}

/** Reads escaped text up to (not including) one of `stops`; undefined when an unescaped reserved character comes first. */
const readEscaped = (source: string, start: number, stops: string): { readonly value: string; readonly end: number } | undefined => {
  let value = ""
  let index = start
  while (index < source.length) {
    const character = source[index]!
    if (stops.includes(character)) return { value, end: index }
    if (character === "\\") {
      const next = source[index + 1]
      if (next === undefined || !reserved.has(next)) return undefined
      value += next
      index += 2
      continue
    }
    if (reserved.has(character)) return undefined
    value += character
    index += 1
  }
  return undefined
}

const mentionUrn = /^\((urn:li:(?:person|organization):[A-Za-z0-9_-]+)\)/
const hashtagName = /^[\p{L}\p{N}\p{M}]+/u

export const parse = (source: string): Parsed => {
  let text = ""
  const mentions: Array<{ name: string; urn: string }> = []
  const hashtags: Array<string> = []
  let index = 0
  const cut = (): Parsed => ({ text, mentions, hashtags, truncated: true })
  while (index < source.length) {
    const character = source[index]!
    if (character === "\\") {
      const next = source[index + 1]
      if (next === undefined || !reserved.has(next)) return cut()
      text += next
      index += 2
      continue
    }
    if (character === "@" && source[index + 1] === "[") {
      const name = readEscaped(source, index + 2, "]")
      const urn = name === undefined ? null : mentionUrn.exec(source.slice(name.end + 1))
      if (name === undefined || urn === null || name.value.length === 0) return cut()
      mentions.push({ name: name.value, urn: urn[1]! })
      text += name.value
      index = name.end + 1 + urn[0].length
      continue
    }
    if (character === "{" && source.startsWith("{hashtag|\\#|", index)) {
      const name = readEscaped(source, index + "{hashtag|\\#|".length, "}")
      if (name === undefined || name.value.length === 0) return cut()
      hashtags.push(name.value)
      text += `#${name.value}`
      index = name.end + 1
      continue
    }
    if (character === "#") {
      const name = hashtagName.exec(source.slice(index + 1))
      if (name === null) return cut()
      hashtags.push(name[0])
      text += `#${name[0]}`
      index += 1 + name[0].length
      continue
    }
    if (reserved.has(character)) return cut()
    text += character
    index += 1
  }
  return { text, mentions, hashtags, truncated: false }
}
