// Storage: the database and everything stored in it.
export * as AccountStore from "./storage/AccountStore.js"
export * as ApiKeys from "./storage/ApiKeys.js"
export * as Crypto from "./storage/Crypto.js"
export * as Cursor from "./storage/Cursor.js"
export * as Database from "./storage/Database.js"
export * as Ids from "./storage/Ids.js"
export * as Leases from "./storage/Leases.js"
export * as MediaLibrary from "./storage/MediaLibrary.js"
export * as MediaStorage from "./storage/MediaStorage.js"
export * as Migrations from "./storage/Migrations.js"
export * as PostStore from "./storage/PostStore.js"
// The scheduler.
export * as Scheduler from "./scheduler/Scheduler.js"
export * as SchedulerSettings from "./scheduler/SchedulerSettings.js"
// Plugins: which platforms the service publishes to.
export * as BuiltinPlugins from "./plugins/BuiltinPlugins.js"
export * as PluginLoader from "./plugins/PluginLoader.js"
export * as Plugins from "./plugins/Plugins.js"
export * as Publishers from "./plugins/Publishers.js"
// The HTTP API and its server.
export * as Api from "./api/Api.js"
export * as ApiModels from "./api/Models.js"
export * as Idempotency from "./api/Idempotency.js"
export * as OAuth from "./api/OAuth.js"
export * as RateLimiter from "./api/RateLimiter.js"
export * as Server from "./api/Server.js"
// Webhooks.
export * as Webhooks from "./webhooks/Webhooks.js"
// Shared by the parts: configuration and the service's error codes.
export * as ApiErrors from "./Errors.js"
export * as Config from "./Config.js"
// The command line.
export * as Cli from "./cli/Main.js"
