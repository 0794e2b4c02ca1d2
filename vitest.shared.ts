// Shared by every package's vitest.config.ts: resolves @omnipost/* to the
// TypeScript sources, so tests run against src/ without a build.
import { fileURLToPath } from "node:url"
import { defineProject, type UserWorkspaceConfig } from "vitest/config"

const root = fileURLToPath(new URL(".", import.meta.url))

export const alias = [
  { find: /^@omnipost\/([a-z-]+)\/testing$/, replacement: `${root}packages/$1/src/testing/index.ts` },
  { find: /^@omnipost\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` }
]

export const project = (name: string, test: UserWorkspaceConfig["test"] = {}) =>
  defineProject({
    resolve: { alias },
    test: { name, include: ["test/**/*.test.ts"], ...test }
  })
