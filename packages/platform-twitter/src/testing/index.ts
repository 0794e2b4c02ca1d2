/**
 * Test helpers: an in-process fake of the X API (see `FakeX`).
 */
export * from "./FakeX.js"
