import { defineConfig } from "tsup"

export default defineConfig({
  // `testing/` is the test kit (fakes, a scheduler-only process for multi-process tests and the benchmark): never imported by the product.
  entry: ["src/index.ts", "src/bin.ts", "src/testing/index.ts", "src/testing/WorkerMain.ts"],
  format: ["esm", "cjs"],
  // Declarations come from tsc (see .ci/build-types.mjs), not tsup's bundler.
  dts: false,
  sourcemap: true,
  clean: true,
  target: "es2022"
})
