/**
 * Is validation linear in the text? `validatePost` timed against the length
 * of the text, up to the longest text a post may hold (`Limits.maxTextLength`),
 * for texts of several shapes, to one destination on each of the eight
 * built-in platforms (X, Bluesky, Instagram, Facebook, Threads, LinkedIn,
 * YouTube, TikTok), and the largest post accepted at all (all the text a
 * post may hold, `Limits.maxPostTextLength`, as a thread, to Bluesky and X).
 *
 *   npm run validate:length -w @omnipost/bench
 *
 * Shapes: prose (words and spaces), a wall of CJK behind a URL (no white
 * space: twitter-text's URL extraction is quadratic on it when given it
 * whole), dotted ASCII (`a.a.a.…`), CJK with a dot every 100 characters
 * (every window of it reaches twitter-text's URL extraction), emoji, and
 * hashtags and mentions.
 * Runs against the TypeScript sources of @omnipost/core, as `validate.ts` does.
 */
import "./support/tsSources.ts"

const { validatePost } = await import("../packages/core/src/Validation.ts")
const Limits = await import("../packages/core/src/Limits.ts")

const fill = (unit: string, length: number) => unit.repeat(Math.ceil(length / unit.length)).slice(0, length)
const shapes: Record<string, (length: number) => string> = {
  "prose": (n) => fill("Omnipost publishes to eight networks. ", n),
  "CJK behind a URL": (n) => `https://example.com/${fill("中", n - 20)}`,
  "dotted ASCII": (n) => fill("a.", n),
  "dot-dense CJK": (n) => fill(`${"中".repeat(99)}.`, n),
  "emoji": (n) => fill("😀", n),
  "hashtags, mentions": (n) => fill("#tag @user ", n)
}
const everyPlatform = ["x", "bluesky", "instagram", "facebook", "threads", "linkedin", "youtube", "tiktok"].map((platform) => ({
  platform,
  accountId: `${platform}-1`
}))

/**
 * The median of `rounds` timed validations, in milliseconds. Each round gets
 * its own texts (a distinct last character): core remembers the answers for
 * the last few long texts, and a repeat would time that memory.
 */
let round = 0
const unique = (text: string) => `${text.slice(0, -1)}${String.fromCharCode(0x4e00 + (round++ % 20000))}`
const time = (makePost: () => unknown, rounds = 7) => {
  const posts = Array.from({ length: rounds + 1 }, makePost)
  validatePost(posts[0])
  const times: Array<number> = []
  for (let i = 1; i <= rounds; i++) {
    const start = performance.now()
    validatePost(posts[i])
    times.push(performance.now() - start)
  }
  return times.sort((a, b) => a - b)[Math.floor(rounds / 2)]!
}

const lengths = [1_000, 10_000, 50_000, Limits.maxTextLength]
console.log(`validatePost, 8 destinations (one per built-in platform), median of 7 runs, ms (Node ${process.version})`)
console.log(`${"text".padEnd(20)}${lengths.map((n) => `${n.toLocaleString("en-US")} chars`.padStart(16)).join("")}`)
let worst = 0
for (const [name, make] of Object.entries(shapes)) {
  const row = lengths.map((length) => {
    const ms = time(() => ({ content: { text: unique(make(length)) }, destinations: everyPlatform }))
    worst = Math.max(worst, ms)
    return ms.toFixed(2).padStart(16)
  })
  console.log(`${name.padEnd(20)}${row.join("")}`)
}

// The largest post accepted: all the text a post may hold, as a thread of 2,000-character parts.
const parts = Limits.maxPostTextLength / 2000
const longest = (make: (length: number) => string) => ({
  content: {
    text: unique(make(2000)),
    thread: Array.from({ length: parts - 1 }, () => ({ text: unique(make(2000)) }))
  },
  destinations: [{ platform: "bluesky", accountId: "b" }, { platform: "x", accountId: "x" }]
})
console.log(`\nthe largest post: ${Limits.maxPostTextLength.toLocaleString("en-US")} characters in ${Limits.maxPostTextLength / 2000} parts, to X and Bluesky`)
for (const [name, make] of Object.entries(shapes)) {
  const ms = time(() => longest(make), 3)
  console.log(`${name.padEnd(20)}${ms.toFixed(1).padStart(10)} ms  (${(ms / parts).toFixed(2)} ms a part)`)
}
console.log(`\nslowest 8-destination post with the longest text: ${worst.toFixed(2)} ms (target: under 50 ms)`)
