/** A fake Mastodon on loopback, for tests of the plugin and of servers running it. */
export { type Fault, FakeMastodon, FakeMastodonServer, type FakeStatus } from "./FakeMastodon.js"
