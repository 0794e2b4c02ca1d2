// Storage and scheduling (issue 4).
export * as AccountStore from "./AccountStore.js"
export * as Crypto from "./Crypto.js"
export * as Database from "./Database.js"
export * as Ids from "./Ids.js"
export * as Leases from "./Leases.js"
export * as Migrations from "./Migrations.js"
export * as PostStore from "./PostStore.js"
export * as Scheduler from "./Scheduler.js"
// The HTTP API, CLI, media and webhooks (issue 5) add their exports below.
