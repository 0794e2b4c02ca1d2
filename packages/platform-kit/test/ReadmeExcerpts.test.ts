/**
 * The README's worked example quotes the Mastodon plugin's files: every line
 * of a block headed `// <path> (excerpt)` must still be in that file, so the
 * guide cannot drift from the code it teaches.
 */
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../../", import.meta.url))
const readme = readFileSync(`${root}packages/platform-kit/README.md`, "utf8")

const excerpts = [...readme.matchAll(/```ts\n\/\/ (\S+) \(excerpt\)\n([\s\S]*?)```/g)].map((match) => ({
  path: match[1]!,
  lines: match[2]!.split("\n").map((line) => line.trim()).filter((line) => line !== "")
}))

describe("README excerpts", () => {
  it("there are excerpts of the worked example", () => {
    assert.isAtLeast(excerpts.length, 6)
  })

  for (const { lines, path } of excerpts) {
    it(`every line quoted from ${path} is in it`, () => {
      const source = readFileSync(`${root}${path}`, "utf8").split("\n").map((line) => line.trim())
      const missing = lines.filter((line) => !source.includes(line))
      assert.deepStrictEqual(missing, [], `${path}: lines not in the file`)
    })
  }
})
