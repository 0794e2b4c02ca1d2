/**
 * Starts the Bluesky platform fake on 127.0.0.1 and prints the credentials
 * of its account, for the walk-through (nothing reaches the real Bluesky).
 *
 *   node --experimental-strip-types src/fake-bluesky.ts
 */
import { FakeBluesky } from "@omnipost/platform-bluesky/testing"

const fake = await FakeBluesky.start()
console.log(`FakeBluesky at ${fake.url}`)
console.log(`BLUESKY_CREDENTIALS='${JSON.stringify(fake.credentials())}'`)
process.on("SIGINT", () => fake.close().then(() => process.exit(0)))
process.on("SIGTERM", () => fake.close().then(() => process.exit(0)))
