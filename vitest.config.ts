import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts", "examples/*/vitest.config.ts"],
    // The JSON report feeds the `tests: N passed, N failed` line of .ci/run.
    reporters: ["default", ["json", { outputFile: ".vitest-report.json" }]]
  }
})
