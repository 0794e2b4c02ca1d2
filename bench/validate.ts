/**
 * How fast is `validatePost`? A post with 4 images to 7 destinations (every
 * built-in platform that takes 4 images: X, Bluesky, Instagram, Facebook,
 * Threads, LinkedIn, TikTok photo), validated in a loop.
 *
 *   npm run validate -w @omnipost/bench
 *
 * Runs against the TypeScript sources of @omnipost/core (no build needed):
 * a resolve hook maps the sources' `./X.js` imports to `./X.ts`.
 */
import "./support/tsSources.ts"

const { validatePost } = await import("../packages/core/src/Validation.ts")

const image = (n: number) => ({
  kind: "image",
  mimeType: "image/jpeg",
  sizeBytes: 480_000,
  width: 1080,
  height: 1080,
  altText: `Photo ${n} of the launch`,
  source: { _tag: "url", url: `https://media.example.com/launch-${n}.jpg` }
})

const post = {
  content: {
    text: "We shipped Omnipost 1.0 today 🚀 Self-hosted publishing to eight networks, with validation that tells you what is wrong before you schedule. Read the notes: https://example.com/blog/omnipost-1-0 #opensource #typescript @omnipost",
    media: [image(1), image(2), image(3), image(4)]
  },
  destinations: [
    { platform: "x", accountId: "x-1", settings: { replySettings: "following" } },
    { platform: "bluesky", accountId: "bsky-1", settings: { langs: ["en"] } },
    { platform: "instagram", accountId: "ig-1" },
    { platform: "facebook", accountId: "fb-1" },
    { platform: "threads", accountId: "th-1", settings: { topicTag: "launches" } },
    { platform: "linkedin", accountId: "li-1", settings: { visibility: "PUBLIC" } },
    { platform: "tiktok", accountId: "tt-1", settings: { privacyLevel: "PUBLIC_TO_EVERYONE", title: "Omnipost 1.0" } }
  ]
}
const destinations = post.destinations.length

const check = validatePost(post)
if (!check.valid) {
  console.error("the benchmark post should be valid:", JSON.stringify(check.issues, null, 2))
  process.exit(1)
}

const run = (durationMs: number) => {
  let iterations = 0
  let sink = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < durationMs) {
    for (let i = 0; i < 100; i++) sink += validatePost(post).issues.length
    iterations += 100
    elapsed = performance.now() - start
  }
  if (sink !== 0) throw new Error("unexpected issues")
  return { iterations, elapsed }
}

run(1_000) // warm-up: let the JIT settle
// Five rounds: the median is the typical figure, the best one is the closest
// to an idle machine (other processes only ever slow a round down).
const perSecond = Array.from({ length: 5 }, () => run(1_500))
  .map((r) => (r.iterations / r.elapsed) * 1000)
  .sort((a, b) => a - b)
const median = perSecond[2]!
const best = perSecond[4]!
const format = (n: number) => Math.round(n).toLocaleString("en-US")

console.log(`validatePost: 1 post, ${destinations} destinations, 4 images each (Node ${process.version})`)
console.log(`                      median of 5 rounds   best round`)
console.log(`  validations / s     ${format(median).padStart(18)}   ${format(best).padStart(10)}`)
console.log(`  µs / post           ${(1e6 / median).toFixed(1).padStart(18)}   ${(1e6 / best).toFixed(1).padStart(10)}`)
console.log(`  µs / destination    ${(1e6 / median / destinations).toFixed(1).padStart(18)}   ${(1e6 / best / destinations).toFixed(1).padStart(10)}`)
