export { type FakeAccount, FakeLinkedin, type FakeLinkedinOptions, type FakePost } from "./FakeLinkedin.js"
