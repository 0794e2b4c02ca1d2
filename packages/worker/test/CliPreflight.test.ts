/**
 * `omnipost post --file …` checks each file against the destinations' rules
 * before it uploads anything: a video over Bluesky's limit and a file of no
 * supported type are refused in one line naming the file, and nothing
 * reaches the server's media storage; a file that fits is uploaded and posted.
 */
import { assert, describe, layer } from "@effect/vitest"
import { Samples } from "@omnipost/platform-kit/testing"
import { Effect } from "effect"
import { existsSync, mkdtempSync, readdirSync, truncateSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { ApiCallFailed } from "../src/cli/Client.js"
import { testKinds } from "./fixtures.js"
import { cli } from "./cliHarness.js"
import { type ApiServer, apiLayer, connectBluesky, request, TestApi } from "./apiHarness.js"

const storedFiles = (api: ApiServer) => {
  const dir = join(api.dataDir, "media")
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).filter((name) => !String(name).endsWith("/")).length : 0
}

for (const kind of testKinds) {
  describe(`omnipost post checks files before uploading (${kind})`, () => {
    layer(apiLayer(kind, { maxUploadBytes: 400_000_000 }, { scheduler: false }), { timeout: 180_000, excludeTestServices: true })((it) => {
      it.effect("a video over the destination's limit and a file of no known type are refused before any upload", () =>
        Effect.gen(function*() {
          const api = yield* TestApi
          const accountId = yield* connectBluesky(api)
          const env = { OMNIPOST_URL: api.url, OMNIPOST_API_KEY: api.key }
          const dir = mkdtempSync(join(tmpdir(), "omnipost-cli-"))
          const before = storedFiles(api)

          // 300,000,001 bytes (sparse): one byte over Bluesky's video limit.
          const big = join(dir, "long-take.mp4")
          writeFileSync(big, Samples.mp4(4096))
          truncateSync(big, 300_000_001)
          const tooBig = (yield* cli(["post", "a long take", "--file", big, "--account", accountId], env).pipe(Effect.flip)) as ApiCallFailed
          assert.strictEqual(tooBig.code, "VALIDATION_FAILED")
          assert.include(tooBig.message, "long-take.mp4")
          assert.include(tooBig.message, "nothing was uploaded")
          assert.match(tooBig.message, /300[,.]?000[,.]?000|300 ?MB/)

          const notes = join(dir, "notes.txt")
          writeFileSync(notes, "just some text, not media")
          const unknown = (yield* cli(["post", "notes", "--file", notes, "--account", accountId], env).pipe(Effect.flip)) as ApiCallFailed
          assert.strictEqual(unknown.code, "UNSUPPORTED_MEDIA_TYPE")
          assert.include(unknown.message, "notes.txt")

          assert.strictEqual(storedFiles(api), before)
          const listed = yield* request(api, "GET", "/v1/posts")
          assert.strictEqual(listed.body.data.length, 0)

          // A file that fits is uploaded and posted.
          const photo = join(dir, "photo.png")
          writeFileSync(photo, Samples.png(20_000, 3))
          const printed = yield* cli(["post", "a photo", "--file", photo, "--account", accountId, "--draft"], env)
          const post = JSON.parse(printed)
          assert.strictEqual(post.status, "draft")
          assert.strictEqual(post.content.media.length, 1)
          assert.isAbove(storedFiles(api), before)
        }))
    })
  })
}
