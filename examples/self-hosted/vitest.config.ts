import { project } from "../../vitest.shared.js"

export default project("example-self-hosted", { testTimeout: 240_000, hookTimeout: 240_000 })
