export { answer } from "./FakeAnswer.js"
export * as FakeLimits from "./FakeLimits.js"
export { type FakeCreator, FakeTiktok, type FakeUpload } from "./FakeTiktok.js"
