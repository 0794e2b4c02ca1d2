import { project } from "../../vitest.shared.js"

// Database suites start PGlite (a few seconds) and run schedulers against it.
export default project("worker", { testTimeout: 60_000, hookTimeout: 60_000 })
