/**
 * @omnipost/platform-tiktok: publish videos and photo posts to TikTok
 * (Content Posting API: creator_info, chunked FILE_UPLOAD or PULL_FROM_URL,
 * status polling) through core's `PlatformPublisher` contract. Its plugin
 * object (`plugin`) is what `omnipost serve` loads.
 */
export * as Auth from "./Auth.js"
export * as Chunks from "./Chunks.js"
export * as Creator from "./Creator.js"
export * as Errors from "./Errors.js"
export * as Photo from "./Photo.js"
export * as Plugin from "./Plugin.js"
export * as Profile from "./Profile.js"
export * as Publisher from "./Publisher.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export * as Video from "./Video.js"
export { TiktokCredentials } from "./Auth.js"
export { makeTiktokPublisher, type TiktokPublisher, type TiktokPublisherOptions } from "./Publisher.js"
export { TiktokSettings } from "./Settings.js"
/** The plugin object `omnipost serve` loads (see core's `Plugin`). */
export { plugin } from "./Plugin.js"
