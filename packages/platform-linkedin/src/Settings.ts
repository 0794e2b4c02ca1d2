/**
 * Per-destination settings for LinkedIn: core's `Settings.LinkedinSettings`
 * (visibility) and what the Posts API offers besides. The publisher's
 * `settingsSchema` is this one, so `validatePost` (through the registry)
 * refuses a bad setting before anything is scheduled.
 *
 * | setting | Posts API field | values |
 * |---|---|---|
 * | `visibility` | `visibility` | `PUBLIC` (default), `CONNECTIONS` (members only), `LOGGED_IN` |
 * | `disableReshare` | `isReshareDisabledByAuthor` | `true` to stop others from resharing; default `false` |
 * | `author` | `author` | `urn:li:organization:{id}` to post as a Page the member administers (needs `w_organization_social`); the member by default |
 * | `articleTitle`, `articleDescription` | `content.article.title`, `.description` | an article (a post with a link and no media); the title defaults to the link |
 * | `articleThumbnail` | `content.article.thumbnail` (uploaded through the Images API) | a media source (`url`, `stored`, `file`) and its `mimeType` |
 * | `documentTitle` | `content.media.title` | a document post's title; defaults to "Document" |
 *
 * Sources: https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api
 * (visibility, isReshareDisabledByAuthor, article, media title), platform-specs §3.2.
 *
 * @example
 * const settings: LinkedinSettings = { visibility: "CONNECTIONS", disableReshare: true }
 */
import { Media, Settings } from "@omnipost/core"
import { Schema } from "effect"

const Text = (max: number, what: string) =>
  Schema.String.check(Schema.isBetweenLength(1, max, { message: `${what} is 1–${max} characters` }))

export const LinkedinSettings = Schema.Struct({
  ...Settings.LinkedinSettings.fields,
  disableReshare: Schema.optional(Schema.Boolean),
  author: Schema.optional(
    Schema.String.check(
      Schema.isPattern(/^urn:li:organization:\d{1,20}$/, {
        message: "a LinkedIn author is an organization URN such as urn:li:organization:123 (leave it out to post as the member)"
      })
    )
  ),
  articleTitle: Schema.optional(Text(400, "an article title")),
  articleDescription: Schema.optional(Text(4086, "an article description")),
  articleThumbnail: Schema.optional(Media.Thumbnail),
  documentTitle: Schema.optional(Text(400, "a document title"))
})
export type LinkedinSettings = typeof LinkedinSettings.Type
