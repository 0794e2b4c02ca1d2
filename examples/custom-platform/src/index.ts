/**
 * A Mastodon publisher written outside core, as any user would write one:
 * rules, settings and credentials schemas, a validation hook, error mapping
 * and `publish`. `registry.ts` registers it next to the built-in Bluesky
 * publisher.
 */
export * as Auth from "./Auth.js"
export * as Errors from "./Errors.js"
export * as Publisher from "./Publisher.js"
export * as Rules from "./Rules.js"
export * as Settings from "./Settings.js"
export * as Validation from "./Validation.js"
export { makeMastodonPublisher, type MastodonPublisher } from "./Publisher.js"
export { MastodonCredentials } from "./Auth.js"
export { MastodonSettings } from "./Settings.js"
export { makeRegistry, registryLayer } from "./registry.js"
