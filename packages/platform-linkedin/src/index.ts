/**
 * @omnipost/platform-linkedin: publish to LinkedIn (versioned REST Posts,
 * Images, Videos and Documents APIs) through core's `PlatformPublisher`
 * contract. Its plugin object (`plugin`) is what `omnipost serve` loads.
 */
export * as Auth from "./Auth.js"
export * as Errors from "./Errors.js"
export * as LittleText from "./LittleText.js"
export * as Media from "./Media.js"
export * as Plugin from "./Plugin.js"
export * as Publisher from "./Publisher.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export { LinkedinCredentials } from "./Auth.js"
export {
  defaultVersion,
  Linkedin,
  type LinkedinPublisher,
  type LinkedinPublisherOptions,
  layer,
  makeLinkedinPublisher,
  postUrl
} from "./Publisher.js"
export { LinkedinSettings } from "./Settings.js"
/** The plugin object `omnipost serve` loads (see core's `Plugin`). */
export { plugin } from "./Plugin.js"
