/**
 * The publishers check a destination against the same rules table
 * `validatePost` applies (core's, or the row a caller passes), so what the
 * publisher refuses up front and what validation refuses cannot drift apart.
 */
import { type Post, PublishError, type Rules, Validation } from "@omnipost/core"

/** The destination as a one-destination post, validated with `rules`; the first issue as a `Rejected`. */
export const checkDestination = (
  rules: Rules.PlatformRules,
  destination: Post.ResolvedDestination
): PublishError.Rejected | undefined => {
  const [first, ...rest] = destination.parts
  const part = (p: Post.ResolvedPart) => ({
    ...(p.text !== "" ? { text: p.text } : {}),
    ...(p.media.length > 0 ? { media: p.media } : {}),
    ...(p.link !== undefined ? { link: p.link } : {})
  })
  const result = Validation.validatePost(
    {
      content: { ...part(first), ...(rest.length > 0 ? { thread: rest.map(part) } : {}) },
      destinations: [{
        platform: rules.platform,
        accountId: destination.accountId,
        ...(destination.placement !== undefined ? { placement: destination.placement } : {})
      }]
    },
    { rules: { [rules.platform]: rules } }
  )
  const issue = result.issues[0]
  if (issue === undefined) return undefined
  return new PublishError.Rejected({
    platform: rules.platform,
    code: issue.code,
    message: result.issues.map((each) => each.message).join("; ")
  })
}

/** The text sent for a part: its link appended after a blank line unless the text has it (placements without a link field). */
export const textWithLink = (part: Post.ResolvedPart): string =>
  part.link === undefined || part.text.includes(part.link) ? part.text : part.text === "" ? part.link : `${part.text}\n\n${part.link}`
