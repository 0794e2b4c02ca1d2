/**
 * @omnipost/platform-twitter: the X (Twitter API v2) publisher for Omnipost.
 *
 * @example
 * import { Publisher } from "@omnipost/platform-twitter"
 * const x = yield* Publisher.makeXPublisher()
 *
 * The package's plugin object (`plugin`) is what `omnipost serve` loads.
 */
export * as Auth from "./Auth.js"
export * as Errors from "./Errors.js"
export * as Media from "./Media.js"
export * as Plugin from "./Plugin.js"
export * as Publisher from "./Publisher.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export { layer, makeXPublisher, X, type XPublisher, type XPublisherOptions } from "./Publisher.js"
export { XCredentials } from "./Auth.js"
export { XSettings } from "./Settings.js"
/** The plugin object `omnipost serve` loads (see core's `Plugin`). */
export { plugin } from "./Plugin.js"
