// Shared by every package's vitest.config.ts: resolves @omnipost/* to the
// TypeScript sources, so tests run against src/ without a build.
import { fileURLToPath } from "node:url"
import { defineProject, type UserWorkspaceConfig } from "vitest/config"

const root = fileURLToPath(new URL(".", import.meta.url))

export const alias = [
  { find: /^@omnipost\/([a-z-]+)\/testing$/, replacement: `${root}packages/$1/src/testing/index.ts` },
  { find: /^@omnipost\/([a-z-]+)$/, replacement: `${root}packages/$1/src/index.ts` }
]

/**
 * 30 s a test unless a package says otherwise: many suites speak real HTTP to
 * a fake, and on a loaded 2-core machine (CI builds beside the tests) one
 * passed vitest's 5 s default (the LinkedIn rules-agreement test, at 5.04 s).
 * A hang is still reported, only later; speed targets live in bench/.
 */
export const defaultTestTimeoutMs = 30_000

export const project = (name: string, test: UserWorkspaceConfig["test"] = {}) =>
  defineProject({
    resolve: { alias },
    test: { name, include: ["test/**/*.test.ts"], testTimeout: defaultTestTimeoutMs, ...test }
  })
