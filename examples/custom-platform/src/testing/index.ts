/** A fake Mastodon on loopback, for tests of the plugin and of servers running it. */
export {
  type FakeApp,
  FakeMastodon,
  type FakeMastodonOperation,
  FakeMastodonServer,
  type FakeMedia,
  type FakeStatus,
  Faults,
  gate
} from "./FakeMastodon.js"
