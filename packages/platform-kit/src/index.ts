// The platform kit's modules are re-exported here as namespaces (`export * as Transport from "./Transport.js"`).
export {}
