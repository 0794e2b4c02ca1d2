/** Shared pieces of the Bluesky tests: a fake per test, a publisher against it, requests. */
import { NodeHttpClient } from "@effect/platform-node"
import { Effect } from "effect"
import type { Media, Post, Publisher as CorePublisher } from "@omnipost/core"
import { type BlueskyCredentials, type BlueskyPublisherOptions, type BlueskySettings, makeBlueskyPublisher } from "@omnipost/platform-bluesky"
import { FakeBluesky, type FakeBlueskyOptions, type FakeBlueskyServer } from "@omnipost/platform-bluesky/testing"
import { Samples } from "@omnipost/platform-kit/testing"

/** Runs `body` with a fresh fake and a publisher pointed at it, over the real Node HTTP client. */
export const withFake = <A, E>(
  body: (fake: FakeBlueskyServer, publisher: CorePublisher.PlatformPublisher<BlueskySettings, BlueskyCredentials>) => Effect.Effect<A, E>,
  options: { readonly fake?: FakeBlueskyOptions; readonly publisher?: Partial<BlueskyPublisherOptions> } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeBluesky.make({ videoProcessingPolls: 2, ...options.fake })
    const publisher = yield* makeBlueskyPublisher({
      ...fake.publisherOptions(),
      videoPolling: { initialDelay: "10 millis", maxDelay: "50 millis", timeout: "5 seconds" },
      // The fake serves media and pages on 127.0.0.1.
      urlGuard: { allowPrivate: true },
      ...options.publisher
    })
    return yield* body(fake, publisher)
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

export const part = (text: string, media: ReadonlyArray<Media.Media> = [], link?: string): Post.ResolvedPart => ({
  text,
  media,
  ...(link !== undefined ? { link } : {})
})

/** A publish request; `saved` collects every `saveCredentials` call. */
export const publishRequest = (
  credentials: BlueskyCredentials,
  parts: readonly [Post.ResolvedPart, ...Array<Post.ResolvedPart>],
  settings: BlueskySettings = {},
  saved?: Array<BlueskyCredentials>
): CorePublisher.PublishRequest<BlueskySettings, BlueskyCredentials> => ({
  postId: "post-1",
  destinationId: "dest-1",
  attemptId: "attempt-1",
  destination: { platform: "bluesky", accountId: "acct-1", settings, parts },
  credentials,
  saveCredentials: saved === undefined ? undefined : (next) => Effect.sync(() => void saved.push(next))
})

/** Deterministic pseudo-random bytes of a given size: no known type (the kit's `Samples.filler`). */
export const bytesOf = (size: number, seed = 1): Uint8Array => Samples.filler(size, seed)

/** Deterministic media bytes of a type: a real header, then filler (the publisher and the PDS judge the bytes). */
export const mediaOf = (mimeType: string, size: number, seed = 1): Uint8Array => Samples.of(mimeType, size, seed)

export const image = (size: number, alt: string, seed = 1, dims = { width: 1200, height: 800 }): Media.Media => ({
  kind: "image",
  mimeType: "image/jpeg",
  sizeBytes: size,
  width: dims.width,
  height: dims.height,
  altText: alt,
  source: { _tag: "bytes", data: Samples.of("image/jpeg", size, seed, dims) }
})

export const utf8Slice = (text: string, start: number, end: number): string =>
  Buffer.from(text, "utf8").subarray(start, end).toString("utf8")

/** One XRPC call over `fetch`, as a client without Effect would make it; the JSON answer and headers. */
export const rawXrpc = async (
  base: string,
  nsid: string,
  init: {
    method?: string
    token?: string
    json?: unknown
    body?: Uint8Array<ArrayBuffer>
    contentType?: string
    query?: Record<string, string>
  } = {}
) => {
  const url = new URL(`${base}/xrpc/${nsid}`)
  for (const [key, value] of Object.entries(init.query ?? {})) url.searchParams.set(key, value)
  const response = await fetch(url, {
    method: init.method ?? (init.json !== undefined || init.body !== undefined ? "POST" : "GET"),
    headers: {
      ...(init.token !== undefined ? { authorization: `Bearer ${init.token}` } : {}),
      ...(init.json !== undefined ? { "content-type": "application/json" } : {}),
      ...(init.contentType !== undefined ? { "content-type": init.contentType } : {})
    },
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
    ...(init.body !== undefined ? { body: init.body } : {})
  })
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> }
}
