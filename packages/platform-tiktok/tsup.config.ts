import { defineConfig } from "tsup"

export default defineConfig({
  entry: ["src/index.ts", "src/testing/index.ts"],
  format: ["esm", "cjs"],
  // Declarations come from tsc (see .ci/build-types.mjs), not tsup's bundler.
  dts: false,
  sourcemap: true,
  clean: true,
  target: "es2022"
})
