/**
 * The walk-through of the README as code: every step is one call to the
 * HTTP API of a running `omnipost serve`, so the test suite can run it
 * against a really started server.
 *
 * Run it yourself (with a server and the Bluesky fake running, see README):
 *   OMNIPOST_URL=http://127.0.0.1:3000 OMNIPOST_API_KEY=omp_… \
 *   BLUESKY_CREDENTIALS='{"identifier":…}' node --experimental-strip-types src/walkthrough.ts
 */

export interface Server {
  readonly url: string
  readonly key: string
}

const call = async (server: Server, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${server.key}`,
      ...(body !== undefined && !(body instanceof Uint8Array) ? { "content-type": "application/json" } : {}),
      ...headers
    },
    ...(body !== undefined ? { body: body instanceof Uint8Array ? (body as unknown as BodyInit) : JSON.stringify(body) } : {})
  })
  const text = await response.text()
  const parsed = text === "" ? undefined : JSON.parse(text)
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`)
  return parsed as any
}

/** Step 2: an API key for this walk-through (the first key came from `npm start`). */
export const createKey = (server: Server, name: string) => call(server, "POST", "/v1/keys", { name })

/** Step 3: connect a Bluesky account (here: on the platform fake). The credentials are verified first. */
export const connectBluesky = (server: Server, credentials: unknown) =>
  call(server, "POST", "/v1/accounts", { platform: "bluesky", credentials })

/** Step 4a: upload an image; the server streams it to storage and tells its type from its bytes. */
export const uploadImage = (server: Server, bytes: Uint8Array, fileName: string) =>
  call(server, "POST", `/v1/media?fileName=${encodeURIComponent(fileName)}`, bytes, {
    "content-type": "application/octet-stream"
  })

/** Step 4b: a post scheduled for `at`, with the image, to the account. */
export const schedulePost = (server: Server, options: {
  readonly text: string
  readonly accountId: string
  readonly mediaId: string
  readonly at: Date
}) =>
  call(server, "POST", "/v1/posts", {
    content: { text: options.text, media: [{ mediaId: options.mediaId, altText: "A single pixel" }] },
    destinations: [{ accountId: options.accountId }],
    scheduledAt: options.at.toISOString()
  }, { "idempotency-key": `walkthrough-${options.at.getTime()}` })

/** Step 5: watch it until every destination has an outcome. */
export const waitForOutcome = async (server: Server, postId: string, timeoutMs = 60_000) => {
  const deadline = Date.now() + timeoutMs
  const seen: Array<string> = []
  while (Date.now() < deadline) {
    const post = await call(server, "GET", `/v1/posts/${postId}`)
    if (seen[seen.length - 1] !== post.status) seen.push(post.status)
    if (["published", "partially_failed", "failed", "cancelled"].includes(post.status)) return { post, seen }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`post ${postId} did not settle within ${timeoutMs} ms (statuses seen: ${seen.join(" → ")})`)
}

/** Step 6: the results, per destination. */
export const results = (post: any) =>
  (post.destinations as ReadonlyArray<any>).map((d) => ({
    platform: d.platform,
    status: d.status,
    url: d.url,
    platformPostId: d.platformPostId,
    attempts: d.attempts,
    error: d.lastError
  }))

/** A 1×1 PNG. */
export const pixel = Uint8Array.from(Buffer.from(
  "89504e470d0a1a0a0000000d4948445200000001000000010806000000" +
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201a5f1e2b40000000049454e44ae426082",
  "hex"
))

const main = async () => {
  const server = { url: process.env.OMNIPOST_URL ?? "http://127.0.0.1:3000", key: process.env.OMNIPOST_API_KEY ?? "" }
  const account = await connectBluesky(server, JSON.parse(process.env.BLUESKY_CREDENTIALS ?? "{}"))
  console.log("connected", account.username, account.id)
  const media = await uploadImage(server, pixel, "pixel.png")
  console.log("uploaded", media.id, media.mimeType, media.url)
  const post = await schedulePost(server, {
    text: "Hello from the Omnipost walk-through",
    accountId: account.id,
    mediaId: media.id,
    at: new Date(Date.now() + 5_000)
  })
  console.log("scheduled", post.id, "for", post.scheduledAt)
  const { post: settled, seen } = await waitForOutcome(server, post.id)
  console.log("statuses:", seen.join(" → "))
  console.log(JSON.stringify(results(settled), null, 2))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(error)
    process.exit(1)
  })
}
