/**
 * Comparing a post's text with the text X shows back. X escapes `&`, `<`,
 * `>`, replaces every URL (scheme-less ones too) with a t.co link and appends
 * a t.co link to attached media, so both sides are reduced to their words:
 * NFC, entities unescaped, URLs removed, whitespace collapsed.
 */
import twitterText from "twitter-text"

const unescape = (text: string) => text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&")

export const comparable = (text: string, options?: { readonly fromX?: boolean }): string => {
  const plain = (options?.fromX === true ? unescape(text) : text).normalize("NFC")
  const urls = twitterText.extractUrlsWithIndices(plain, { extractUrlsWithoutProtocol: true })
  let out = ""
  let position = 0
  for (const entity of urls) {
    out += plain.slice(position, entity.indices[0]) + " "
    position = entity.indices[1]
  }
  out += plain.slice(position)
  return out.replace(/\s+/g, " ").trim()
}
