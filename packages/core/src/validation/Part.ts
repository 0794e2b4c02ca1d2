/**
 * One part of a destination (its first post, or a thread part) as the part
 * checks see it: the rules and placement that apply, where its fields are in
 * the input, and the text the platform will get (with the link appended where
 * the placement puts links in the text).
 */
import type * as Post from "../Post.js"
import type * as Rules from "../Rules.js"
import type { Finding, IssuePath } from "./Issues.js"
import { partLabel, placementName } from "./Messages.js"

export interface PartPaths {
  readonly text: IssuePath
  readonly media: IssuePath
  readonly link: IssuePath
}

export interface PartContext {
  readonly rules: Rules.PlatformRules
  readonly row: Rules.PlacementRule
  readonly part: Post.ResolvedPart
  readonly paths: PartPaths
  /** The placement's name for messages ("Instagram reel", or "X" when it has one placement). */
  readonly where: string
  /** " (thread part 2)" after the first part, else "". */
  readonly suffix: string
  readonly hasLink: boolean
  /** Whether the link goes at the end of the text (the placement has nowhere else for it). */
  readonly linkAppended: boolean
  /** The text the platform gets. */
  readonly text: string
  /** "text", or "text with its link" when the link is appended. */
  readonly textName: string
}

/** A check of one part: the issues it finds. */
export type PartCheck = (context: PartContext) => Iterable<Finding>

export const partContext = (
  rules: Rules.PlatformRules,
  row: Rules.PlacementRule,
  part: Post.ResolvedPart,
  partIndex: number,
  paths: PartPaths
): PartContext => {
  const hasLink = part.link !== undefined && part.link.length > 0
  // Where the link has nowhere to go but the text, count the text the platform will get.
  const linkAppended = row.linkInText === true && hasLink && !part.text.includes(part.link!)
  return {
    rules,
    row,
    part,
    paths,
    where: placementName(rules, row.placement),
    suffix: partLabel(partIndex),
    hasLink,
    linkAppended,
    text: linkAppended ? (part.text.length > 0 ? `${part.text}\n\n${part.link}` : part.link!) : part.text,
    textName: linkAppended ? "text with its link" : "text"
  }
}
