// The platform kit's modules, re-exported as namespaces (`export * as Transport from "./Transport.js"`).
export * as Sniff from "./Sniff.js"
export * as UrlGuard from "./UrlGuard.js"
export * as MediaSource from "./MediaSource.js"
export * as RateLimit from "./RateLimit.js"
export * as Transport from "./Transport.js"
export * as Thread from "./Thread.js"
export * as Json from "./Json.js"
export * as OAuth from "./OAuth.js"
