/** Shared pieces of the Meta tests: a fake per test, publishers against it, requests and media. */
import { NodeHttpClient } from "@effect/platform-node"
import { Effect } from "effect"
import type { Media, Post, Publisher as CorePublisher } from "@omnipost/core"
import { FakeMeta, type FakeMetaOptions, type FakeMetaServer } from "@omnipost/platform-meta/testing"
import { Samples } from "@omnipost/platform-kit/testing"

/** Runs `body` with a fresh fake over the real Node HTTP client. */
export const withFake = <A, E>(body: (fake: FakeMetaServer) => Effect.Effect<A, E, any>, options: FakeMetaOptions = {}) =>
  Effect.gen(function*() {
    const fake = yield* FakeMeta.make(options)
    return yield* body(fake)
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)) as Effect.Effect<A, E>

/** Publisher options for the fake: its base URL, its loopback media allowed, polling without waits. */
export const publisherOptions = (fake: FakeMetaServer) => ({
  baseUrl: fake.graphUrl,
  urlGuard: { allowPrivate: true },
  polling: { interval: "1 millis", maxPolls: 20 }
}) as const

export const part = (text: string, media: ReadonlyArray<Media.Media> = [], link?: string): Post.ResolvedPart => ({
  text,
  media,
  ...(link !== undefined ? { link } : {})
})

export const request = <S = any, C = any>(
  platform: string,
  credentials: C,
  parts: readonly [Post.ResolvedPart, ...Array<Post.ResolvedPart>],
  options: { readonly placement?: Post.Placement; readonly settings?: S; readonly publishAt?: string } = {}
): CorePublisher.PublishRequest<S, C> => ({
  postId: "post-1",
  destinationId: "dest-1",
  attemptId: "attempt-1",
  destination: {
    platform,
    accountId: "acct-1",
    ...(options.placement !== undefined ? { placement: options.placement } : {}),
    settings: (options.settings ?? {}) as S & Readonly<Record<string, unknown>>,
    parts
  },
  credentials,
  ...(options.publishAt !== undefined ? { publishAt: options.publishAt } : {})
})

const dims = { width: 1080, height: 1080 }

/** An image hosted on the fake: `bytesType` is what the bytes are, `mimeType` what the post declares. */
export const hostedImage = (
  fake: FakeMetaServer,
  options: { readonly size?: number; readonly bytesType?: string; readonly mimeType?: string; readonly width?: number; readonly height?: number; readonly seed?: number } = {}
): Media.Media => {
  const size = options.size ?? 50_000
  const width = options.width ?? dims.width
  const height = options.height ?? dims.height
  const bytes = Samples.of(options.bytesType ?? "image/jpeg", size, options.seed ?? 1, { width, height })
  return {
    kind: "image",
    mimeType: options.mimeType ?? options.bytesType ?? "image/jpeg",
    sizeBytes: size,
    width,
    height,
    source: { _tag: "url", url: fake.hostMedia(bytes) }
  }
}

export const hostedVideo = (
  fake: FakeMetaServer,
  options: { readonly size?: number; readonly bytesType?: string; readonly seconds?: number; readonly seed?: number } = {}
): Media.Media => {
  const size = options.size ?? 200_000
  const bytes = Samples.of(options.bytesType ?? "video/mp4", size, options.seed ?? 1)
  return {
    kind: "video",
    mimeType: "video/mp4",
    sizeBytes: size,
    width: 1080,
    height: 1920,
    durationSeconds: options.seconds ?? 20,
    source: { _tag: "url", url: fake.hostMedia(bytes) }
  }
}

/** A video given as bytes (uploaded where Meta offers an upload). */
export const bytesVideo = (size = 300_000, seed = 1): Media.Media => ({
  kind: "video",
  mimeType: "video/mp4",
  sizeBytes: size,
  width: 1080,
  height: 1920,
  durationSeconds: 20,
  source: { _tag: "bytes", data: Samples.mp4(size, seed) }
})
