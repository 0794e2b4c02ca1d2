/**
 * Test helpers for users of @omnipost/platform-meta: an in-process fake of
 * Meta's Graph APIs (Instagram, Facebook Pages, Threads) to run the real
 * publishers against, over real HTTP.
 */
export * as FakeMeta from "./FakeMeta.js"
export { type Call, type FakeMetaOptions, FakeMetaServer } from "./FakeMeta.js"
export { instagramLimits } from "./internal/instagram.js"
export { linkCount, threadsLength, threadsLimits } from "./internal/threads.js"
export { facebookLimits } from "./internal/facebook.js"
export { commentLimits, type FakeComment } from "./internal/comments.js"
