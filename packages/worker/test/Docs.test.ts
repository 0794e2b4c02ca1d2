/**
 * `/docs` in a real browser: Debian's Chromium, headless, driven by
 * playwright-core. The page must render the API's operations from
 * `/openapi.json` (served by this server), request nothing from any other
 * origin (no CDN script, no web fonts), and its curl samples must send the
 * API key as `Authorization: Bearer`, never Basic.
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
          const requests: Array<string> = []
          page.on("pageerror", (error) => failures.push(String(error)))
          // Every request the page makes, fonts and scripts included (data: URLs are not requests to a host).
          page.on("request", (request) => {
            if (!request.url().startsWith("data:")) requests.push(request.url())
          })
          await page.goto(`${api.url}/docs`, { waitUntil: "load", timeout: 60_000 })
          // Scalar renders the operations client-side from the OpenAPI document.
          await page.getByText("Create a post (JSON, or multipart with inline files)").first().waitFor({ timeout: 60_000 })
          // The title renders separately from the operations; on a loaded machine it can come later.
          await page.getByText("Omnipost API").first().waitFor({ timeout: 60_000 })
          // The curl samples render with the operations; wait for one carrying the key.
          await page.getByText("Authorization: Bearer").first().waitFor({ timeout: 60_000 })
          // Fonts are requested once the text is laid out: let them settle before reading the requests.
          await page.evaluate(() => document.fonts.ready.then(() => undefined))
          const body = await page.locator("body").innerText()
          if (process.env.OMNIPOST_DOCS_SCREENSHOT) await page.screenshot({ path: process.env.OMNIPOST_DOCS_SCREENSHOT, fullPage: false })
          return { body, failures, requests }
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
        // Samples show the API key as a bearer token, never Scalar's Basic placeholder.
        assert.include(text.body, "Authorization: Bearer")
        assert.notInclude(text.body, "Authorization: Basic")
        const origin = new URL(api.url).origin
        assert.isAbove(text.requests.length, 0)
        assert.deepStrictEqual(text.requests.filter((url) => new URL(url).origin !== origin), [])
      }), { timeout: 150_000 })

    it.effect("/openapi.json declares the API key as an HTTP bearer scheme (and x-api-key), no Basic", () =>
      Effect.gen(function*() {
        const api = yield* TestApi
        const spec = yield* Effect.promise(() => fetch(`${api.url}/openapi.json`).then((r) => r.json())) as Effect.Effect<{
          components: { securitySchemes: Record<string, { type: string; scheme?: string; name?: string; in?: string }> }
          paths: Record<string, Record<string, { security?: Array<Record<string, Array<string>>> }>>
        }>
        const schemes = spec.components.securitySchemes
        // Lowercase: Scalar recognizes only the registered name and otherwise samples `Basic username:password`.
        assert.deepInclude(schemes["bearer"], { type: "http", scheme: "bearer" })
        assert.deepInclude(schemes["apiKey"], { type: "apiKey", name: "x-api-key", in: "header" })
        assert.deepStrictEqual(Object.values(schemes).filter((s) => s.scheme?.toLowerCase() === "basic"), [])
        assert.deepStrictEqual(spec.paths["/v1/posts"]?.["post"]?.security, [{ bearer: [] }, { apiKey: [] }])
      }))
  })
})
