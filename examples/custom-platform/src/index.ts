/**
 * A Mastodon platform written outside the Omnipost repository's core, as any
 * user would write one, and packaged as a plugin: `omnipost serve` loads it
 * when `OMNIPOST_PLUGINS` names this package (or its directory).
 *
 * - `plugin`: the plugin object (id, config, publisher factory, OAuth provider);
 * - the publisher's parts: rules, settings and credentials schemas, a
 *   validation hook, error mapping and `publish`;
 * - `./testing`: a fake Mastodon (statuses and the OAuth endpoints) on loopback.
 */
export * as Auth from "./Auth.js"
export * as Errors from "./Errors.js"
export * as Media from "./Media.js"
export * as Plugin from "./Plugin.js"
export * as Publisher from "./Publisher.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export * as Validation from "./Validation.js"
export { makeMastodonPublisher, type MastodonPublisher } from "./Publisher.js"
export { MastodonCredentials } from "./Auth.js"
export { MastodonSettings } from "./Settings.js"
/** The plugin object `omnipost serve` loads. */
export { plugin } from "./Plugin.js"
