/**
 * @omnipost/platform-twitter: the X (Twitter API v2) publisher for Omnipost.
 *
 * @example
 * import { Publisher } from "@omnipost/platform-twitter"
 * const x = yield* Publisher.makeXPublisher()
 */
export * as Auth from "./Auth.js"
export * as Errors from "./Errors.js"
export * as Media from "./Media.js"
export * as Publisher from "./Publisher.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export { makeXPublisher, XPublisherService } from "./Publisher.js"
export type { XPublisher, XPublisherOptions } from "./Publisher.js"
