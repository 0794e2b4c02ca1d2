/**
 * Test helpers for users of @omnipost/platform-bluesky: an in-process fake of
 * the Bluesky API to run a real publisher against, over real HTTP.
 */
export {
  defaultAccount,
  type Fault,
  Faults,
  type FakeAccount,
  type FakeAccountInput,
  FakeBluesky,
  type FakeBlueskyOptions,
  FakeBlueskyServer,
  type RecordedRequest,
  type StoredBlob,
  type StoredRecord,
  type VideoJob
} from "./FakeBluesky.js"
