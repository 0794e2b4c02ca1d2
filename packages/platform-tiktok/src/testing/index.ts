export { type FakeCreator, FakeTiktok, type FakeUpload } from "./FakeTiktok.js"
