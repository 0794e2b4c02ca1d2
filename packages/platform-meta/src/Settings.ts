/**
 * Per-destination settings of the three Meta platforms. The schemas live in
 * core (`Settings.InstagramSettings`, `FacebookSettings`, `ThreadsSettings`)
 * so `validatePost` reports bad settings without this package; they are
 * re-exported here so every platform package has the same shape.
 *
 * | platform | setting | Graph parameter |
 * |---|---|---|
 * | Instagram | `shareToFeed`, `collaborators`, `coverUrl`, `thumbOffsetMs`, `locationId`, `audioName` | `share_to_feed`, `collaborators`, `cover_url`, `thumb_offset`, `location_id`, `audio_name` |
 * | Facebook | `videoTitle` | `title` of `/{page-id}/videos` |
 * | Threads | `topicTag`, `replyControl` | `topic_tag`, `reply_control` |
 */
import { Settings } from "@omnipost/core"

export const InstagramSettings = Settings.InstagramSettings
export type InstagramSettings = Settings.InstagramSettings
export const FacebookSettings = Settings.FacebookSettings
export type FacebookSettings = Settings.FacebookSettings
export const ThreadsSettings = Settings.ThreadsSettings
export type ThreadsSettings = Settings.ThreadsSettings
