/**
 * `/docs` in a real browser: Debian's Chromium, headless, driven by
 * playwright-core. The page must render the API's operations from
 * `/openapi.json` (served by this server; no network beyond 127.0.0.1).
 */
import { assert, describe, layer } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { chromium } from "playwright-core"
import { apiLayer, TestApi } from "./apiHarness.js"

const executablePath = "/usr/bin/chromium"

describe("interactive docs", () => {
  layer(apiLayer("pglite"), { timeout: 180_000, excludeTestServices: true })((it) => {
    it.effect("/docs renders the endpoints in headless Chromium", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        assert.isTrue(existsSync(executablePath), "Chromium must be installed (apt-get install chromium)")
        const browser = yield* Effect.acquireRelease(
          Effect.promise(() =>
            chromium.launch({
              executablePath,
              args: [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync"
              ]
            })
          ),
          (b) => Effect.promise(() => b.close())
        )
        const text = yield* Effect.promise(async () => {
          const page = await browser.newPage()
          const failures: Array<string> = []
          page.on("pageerror", (error) => failures.push(String(error)))
          await page.goto(`${api.url}/docs`, { waitUntil: "load", timeout: 60_000 })
          // Scalar renders the operations client-side from the OpenAPI document.
          await page.getByText("Create a post (JSON, or multipart with inline files)").first().waitFor({ timeout: 60_000 })
          // The title renders separately from the operations; on a loaded machine it can come later.
          await page.getByText("Omnipost API").first().waitFor({ timeout: 60_000 })
          const body = await page.locator("body").innerText()
          if (process.env.OMNIPOST_DOCS_SCREENSHOT) await page.screenshot({ path: process.env.OMNIPOST_DOCS_SCREENSHOT, fullPage: false })
          return { body, failures }
        })
        for (
          const summary of [
            "Create a post (JSON, or multipart with inline files)",
            "Get a post with every destination's status, attempts and result",
            "Connect an account with credentials (verified with the platform first)",
            "Register a webhook",
            "Create an API key (the raw key is in this response only)",
            "Readiness: database reachable, a scheduler alive, no overdue work"
          ]
        ) {
          assert.include(text.body, summary)
        }
        assert.include(text.body, "Omnipost API")
        assert.deepStrictEqual(text.failures, [])
      }), { timeout: 150_000 })
  })
})
