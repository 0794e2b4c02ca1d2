/**
 * @omnipost/platform-tiktok: TikTok's Content Posting API for Omnipost.
 * This slice holds the error mapping, the creator_info checks and the
 * FILE_UPLOAD chunk plan; the publisher, fake and plugin follow (issue 15).
 */
export * as Chunks from "./Chunks.js"
export * as Creator from "./Creator.js"
export * as Errors from "./Errors.js"
export * as Video from "./Video.js"
