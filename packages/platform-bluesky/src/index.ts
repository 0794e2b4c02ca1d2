/**
 * @omnipost/platform-bluesky: publish to Bluesky (AT Protocol) through core's
 * `PlatformPublisher` contract.
 */
export * as Auth from "./Auth.js"
export * as Errors from "./Errors.js"
export * as Media from "./Media.js"
export * as Publisher from "./Publisher.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export { Bluesky, type BlueskyPublisher, type BlueskyPublisherOptions, layer, makeBlueskyPublisher } from "./Publisher.js"
export { BlueskyCredentials } from "./Auth.js"
export { BlueskySettings } from "./Settings.js"
