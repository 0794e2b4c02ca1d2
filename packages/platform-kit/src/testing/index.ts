// The kit's testing helpers: the `FakeServer` base every platform fake is built on, and media checks by the bytes.
export * as FakeMedia from "./FakeMedia.js"
export * from "./FakeServer.js"
export * from "./Faults.js"
export * as Samples from "./Samples.js"
