import { project } from "../../vitest.shared.js"

// Real HTTP against the fake with chunked uploads and status polling: on a loaded 2-core machine
// (CI builds beside the tests) a first test, imports and fake start included, passed 5 s.
export default project("platform-tiktok", { testTimeout: 30_000 })
