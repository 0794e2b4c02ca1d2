/**
 * @omnipost/platform-youtube: publish videos to YouTube (Data API v3,
 * resumable uploads) through core's `PlatformPublisher` contract. Its plugin
 * object (`plugin`) is what `omnipost serve` loads.
 */
export * as Auth from "./Auth.js"
export * as Errors from "./Errors.js"
export * as Media from "./Media.js"
export * as Plugin from "./Plugin.js"
export * as Publisher from "./Publisher.js"
export * as Quota from "./Quota.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export { YoutubeCredentials } from "./Auth.js"
export { makeYoutubePublisher, videoUrl, type YoutubePublisher, type YoutubePublisherOptions } from "./Publisher.js"
export { YoutubeSettings } from "./Settings.js"
/** The plugin object `omnipost serve` loads (see core's `Plugin`). */
export { plugin } from "./Plugin.js"
