/**
 * Per-destination settings for YouTube: the `video` resource's `snippet` and
 * `status` fields and `videos.insert`'s `notifySubscribers`.
 *
 * | setting | API field | notes |
 * |---|---|---|
 * | `title` | `snippet.title` | ≤ 100 characters, no `<` `>`; the post's text when left out |
 * | `privacyStatus` | `status.privacyStatus` | `public`, `private`, `unlisted` |
 * | `madeForKids` | `status.selfDeclaredMadeForKids` | always said explicitly (COPPA) |
 * | `tags` | `snippet.tags` | ≤ 500 characters joined as YouTube counts them |
 * | `categoryId` | `snippet.categoryId` | `"22"` (People & Blogs) when left out |
 * | `defaultLanguage` | `snippet.defaultLanguage` | |
 * | `containsSyntheticMedia` | `status.containsSyntheticMedia` | realistic altered or synthetic content |
 * | `license` | `status.license` | `youtube` or `creativeCommon` |
 * | `embeddable` | `status.embeddable` | |
 * | `notifySubscribers` | `notifySubscribers` query parameter | `false` to upload quietly |
 * | `thumbnail` | `thumbnails.set` after the upload | JPEG or PNG ≤ 2 MB (the rules row's `thumbnail`) |
 * | `playlistId` | `playlistItems.insert` after the upload | a playlist of the channel |
 *
 * Sources: https://developers.google.com/youtube/v3/docs/videos (properties),
 * https://developers.google.com/youtube/v3/docs/videos/insert (parameters), platform-specs §4.3.
 */
import { Media, Settings } from "@omnipost/core"
import { Schema } from "effect"

export const YoutubeSettings = Schema.Struct({
  ...Settings.YoutubeSettings.fields,
  title: Schema.optional(Settings.YoutubeSettings.fields.title),
  license: Schema.optional(Schema.Literals(["youtube", "creativeCommon"])),
  embeddable: Schema.optional(Schema.Boolean),
  thumbnail: Schema.optional(Media.Thumbnail),
  playlistId: Schema.optional(Schema.String.check(Schema.isPattern(/^[\w-]{2,64}$/, { message: "a YouTube playlist id, such as PLxxxxxxxx" })))
})
export type YoutubeSettings = typeof YoutubeSettings.Type
