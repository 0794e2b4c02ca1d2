/**
 * @omnipost/platform-meta: publish to Instagram, Facebook Pages and Threads
 * (Meta's Graph APIs) through core's `PlatformPublisher` contract. One
 * package, three plugin objects (`instagramPlugin`, `facebookPlugin`,
 * `threadsPlugin`), which `omnipost serve` loads.
 */
export * as Auth from "./Auth.js"
export * as Credentials from "./Credentials.js"
export * as Errors from "./Errors.js"
export * as Facebook from "./Facebook.js"
export * as Instagram from "./Instagram.js"
export * as Media from "./Media.js"
export * as Plugin from "./Plugin.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export * as Threads from "./Threads.js"
export { FacebookCredentials, InstagramCredentials, ThreadsCredentials } from "./Credentials.js"
export { type InstagramPublisher, makeInstagramPublisher, type MetaPublisherOptions } from "./Instagram.js"
export { type FacebookPublisher, makeFacebookPublisher } from "./Facebook.js"
export { type MetaPluginOptions, type PublicMediaUrl } from "./Media.js"
export { makeThreadsPublisher, type ThreadsPublisher } from "./Threads.js"
export { facebookPlugin, instagramPlugin, plugins, threadsPlugin } from "./Plugin.js"
