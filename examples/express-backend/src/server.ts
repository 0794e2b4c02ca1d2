/**
 * Starts the example backend:
 *
 *   OMNIPOST_CREDENTIALS=./credentials.json PORT=3000 npm start -w examples/express-backend
 *
 * `credentials.json` maps `platform:accountId` to the account's credentials
 * (see the README); refreshed credentials are written back to it.
 */
import { readFile, writeFile } from "node:fs/promises"
import { createOmnipost } from "@omnipost/core"
import { createApp } from "./app.ts"
import { createPublishers } from "./publishers.ts"

const credentialsFile = process.env.OMNIPOST_CREDENTIALS ?? "credentials.json"
const port = Number(process.env.PORT ?? 3000)

const stored: Record<string, unknown> = JSON.parse(await readFile(credentialsFile, "utf8").catch(() => "{}"))
const { close, publishers } = await createPublishers()

const omnipost = createOmnipost({
  publishers,
  credentials: ({ accountId, platform }) => stored[`${platform}:${accountId}`] ?? stored[accountId],
  saveCredentials: async ({ accountId, platform }, credentials) => {
    stored[`${platform}:${accountId}`] = credentials
    await writeFile(credentialsFile, JSON.stringify(stored, null, 2))
  }
})

const server = createApp({
  omnipost,
  onProgress: (event) => console.log(`${event.at} ${event.platform}/${event.accountId} ${event._tag}`)
}).listen(port, () => {
  const address = server.address()
  const actualPort = typeof address === "object" && address !== null ? address.port : port
  console.log(`listening on http://localhost:${actualPort} (platforms: ${omnipost.platforms().map((p) => p.platform).join(", ")})`)
})

const stop = () => server.close(() => void close())
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
