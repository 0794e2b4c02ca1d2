export * as FakePublisher from "./FakePublisher.js"
export * as FakePlatformServer from "./FakePlatformServer.js"
