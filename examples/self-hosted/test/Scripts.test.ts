/**
 * The example's npm scripts run with the Node that `npm start` uses, whatever
 * Node is first on PATH: `npm run fake` is started with the machine's own
 * Node first (20 here, which cannot run the fake's dependencies nor
 * `--experimental-strip-types` TypeScript this way), and the fake answers.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const example = join(dirname(fileURLToPath(import.meta.url)), "..")
// The machine's Node first when there is one (its npm runs the script), else the PATH as it is.
const path = existsSync("/usr/bin/node") && existsSync("/usr/bin/npm") ? `/usr/bin:/bin:${process.env.PATH}` : process.env.PATH

describe("the example's scripts", () => {
  it("npm run fake starts the Bluesky fake under Node 22 and it answers", async () => {
    const child = spawn("npm", ["run", "--silent", "fake"], {
      cwd: example,
      env: { ...process.env, PATH: path, OMNIPOST_SKIP_BUILD: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true
    })
    let output = ""
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (chunk) => {
          output += chunk
          const found = /FakeBluesky at (http:\/\/\S+)/.exec(output)
          if (found !== null && output.includes("BLUESKY_CREDENTIALS=")) resolve(found[1]!)
        })
        child.stderr.on("data", (chunk) => (output += chunk))
        child.once("exit", (code) => reject(new Error(`npm run fake exited with ${code}: ${output}`)))
      })
      const credentials = JSON.parse(/BLUESKY_CREDENTIALS='([^']+)'/.exec(output)![1]!)
      assert.strictEqual(credentials.serviceUrl, url)
      // The printed account logs in.
      const answer = await fetch(`${url}/xrpc/com.atproto.server.createSession`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ identifier: credentials.identifier, password: credentials.appPassword })
      })
      assert.strictEqual(answer.status, 200, await answer.clone().text())
      assert.isString((await answer.json()).accessJwt)
    } finally {
      // The whole group: npm, bash and node.
      try {
        process.kill(-child.pid!, "SIGTERM")
      } catch {
        // already gone
      }
    }
  })
})
