/**
 * LinkedIn's "little" text format, which the Posts API's `commentary` is
 * written in (https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/little-text-format).
 * Fifteen characters are reserved for its elements and templates:
 *
 *     \  |  {  }  @  [  ]  (  )  <  >  #  *  _  ~
 *
 * and must be backslash-escaped to be plain text. An unescaped one does not
 * fail the call: LinkedIn answers 201 and the post's text silently stops (or
 * changes) there (platform-specs §3.5). `escape` makes a post's text safe
 * while keeping what the author means as LinkedIn elements:
 *
 * | in the text | sent as | shown as |
 * |---|---|---|
 * | `@[Ada Lovelace](urn:li:person:123)`, `@[Acme](urn:li:organization:456)` | the MentionElement, unchanged (reserved characters in the name escaped) | a mention of Ada Lovelace |
 * | `#launch` (a `#` at the start or after a non-word character, then letters or digits) | the HashtagElement, unchanged | the hashtag #launch |
 * | any other reserved character, URLs included | escaped (`\(`) | the character itself |
 *
 * Pure and synchronous; property-tested against the fake's independent
 * parser (`test/LittleText.test.ts`): every text round-trips exactly.
 *
 * @example
 * escape("Q3 (draft) #launch with @[Ada](urn:li:person:1) ~ 50% off_")
 * // "Q3 \\(draft\\) #launch with @[Ada](urn:li:person:1) \\~ 50% off\\_"
 */

/** The reserved characters, backslash first (it must be escaped first when escaping by replacement). */
export const reserved: ReadonlyArray<string> = ["\\", "|", "{", "}", "@", "[", "]", "(", ")", "<", ">", "#", "*", "_", "~"]

const reservedSet = new Set(reserved)

/** Whether a character is reserved in little text. */
export const isReserved = (character: string): boolean => reservedSet.has(character)

/** Every reserved character escaped: the text shows exactly as given, with no mention or hashtag. */
export const escapeLiteral = (text: string): string => {
  let out = ""
  for (const character of text) out += reservedSet.has(character) ? `\\${character}` : character
  return out
}

/**
 * A mention as the author writes it: `@[Name](urn:li:person:ID)` or
 * `@[Name](urn:li:organization:ID)`; the name holds no brackets or backslash.
 */
export const mentionPattern = /@\[([^\[\]\\\n]{1,200})\]\((urn:li:(?:person|organization):[A-Za-z0-9_-]{1,100})\)/y

/** A hashtag: `#` and letters or digits (at least one letter), at the start or after a non-word character. */
const hashtagPattern = /#[\p{L}\p{N}\p{M}]*\p{L}[\p{L}\p{N}\p{M}]*/uy
const wordCharacter = /[\p{L}\p{N}\p{M}_&\/\\#]/u

/** What `escape` kept as elements, for tests and messages. */
export interface Escaped {
  readonly commentary: string
  readonly mentions: ReadonlyArray<{ readonly name: string; readonly urn: string }>
  readonly hashtags: ReadonlyArray<string>
}

/**
 * The commentary for a post's text, and the mentions and hashtags kept as
 * elements. Everything else reserved is escaped.
 */
export const escapeWithElements = (text: string): Escaped => {
  let out = ""
  const mentions: Array<{ name: string; urn: string }> = []
  const hashtags: Array<string> = []
  let index = 0
  while (index < text.length) {
    const character = text[index]!
    if (character === "@") {
      mentionPattern.lastIndex = index
      const mention = mentionPattern.exec(text)
      if (mention !== null) {
        const [whole, name, urn] = mention
        out += `@[${escapeLiteral(name!)}](${urn})`
        mentions.push({ name: name!, urn: urn! })
        index += whole.length
        continue
      }
    }
    if (character === "#") {
      const before = index === 0 ? "" : String.fromCodePoint(text.codePointAt(index - 1)!)
      // A low surrogate before: look at the whole code point.
      const previous = index >= 2 && /[\uDC00-\uDFFF]/.test(text[index - 1]!) ? text.slice(index - 2, index) : before
      if (index === 0 || !wordCharacter.test(previous)) {
        hashtagPattern.lastIndex = index
        const hashtag = hashtagPattern.exec(text)
        if (hashtag !== null) {
          out += hashtag[0]
          hashtags.push(hashtag[0].slice(1))
          index += hashtag[0].length
          continue
        }
      }
    }
    out += reservedSet.has(character) ? `\\${character}` : character
    index += 1
  }
  return { commentary: out, mentions, hashtags }
}

/** The commentary for a post's text (see the module description). */
export const escape = (text: string): string => escapeWithElements(text).commentary

/**
 * What LinkedIn shows for a text `escape`d: the text itself, with each
 * mention shown as its name.
 */
export const shown = (text: string): string => {
  let out = ""
  let index = 0
  while (index < text.length) {
    if (text[index] === "@") {
      mentionPattern.lastIndex = index
      const mention = mentionPattern.exec(text)
      if (mention !== null) {
        out += mention[1]
        index += mention[0].length
        continue
      }
    }
    out += text[index]
    index += 1
  }
  return out
}
