import { project } from "../../vitest.shared.js"

// Database suites start PGlite (a few seconds) and run schedulers against it.
// test-reliability/: issue 18's suites, at their reduced size unless RELIABILITY_POSTS says more (see its README).
export default project("worker", {
  include: ["test/**/*.test.ts", "test-reliability/**/*.test.ts"],
  testTimeout: 60_000,
  hookTimeout: 60_000
})
