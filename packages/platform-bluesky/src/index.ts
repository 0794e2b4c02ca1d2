/**
 * @omnipost/platform-bluesky: publish to Bluesky (AT Protocol) through core's
 * `PlatformPublisher` contract. Its plugin object (`plugin`) is what
 * `omnipost serve` loads.
 */
export * as Auth from "./Auth.js"
export * as Errors from "./Errors.js"
export * as Media from "./Media.js"
export * as Plugin from "./Plugin.js"
export * as Publisher from "./Publisher.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export { Bluesky, type BlueskyPublisher, type BlueskyPublisherOptions, layer, makeBlueskyPublisher } from "./Publisher.js"
export { BlueskyCredentials } from "./Auth.js"
export { BlueskySettings } from "./Settings.js"
/** The plugin object `omnipost serve` loads (see core's `Plugin`). */
export { plugin } from "./Plugin.js"
