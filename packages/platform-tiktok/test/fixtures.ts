/** Shared pieces of the TikTok publisher tests: a fake per test, a publisher against it, requests. */
import { NodeHttpClient } from "@effect/platform-node"
import type { Media, Publisher as CorePublisher } from "@omnipost/core"
import { makeTiktokPublisher, type TiktokCredentials, type TiktokPublisher, type TiktokPublisherOptions, type TiktokSettings } from "@omnipost/platform-tiktok"
import { FakeTiktok } from "@omnipost/platform-tiktok/testing"
import { Effect } from "effect"
import type { HttpClient } from "effect/http"

export const MB = 1024 * 1024

export interface World {
  readonly fake: FakeTiktok
  readonly publisher: TiktokPublisher
  readonly credentials: TiktokCredentials
  readonly make: (options?: Partial<TiktokPublisherOptions>) => Effect.Effect<TiktokPublisher>
}

/** Runs `body` with a fresh fake and a publisher pointed at it (real Node HTTP client, polls without waiting). */
export const withFake = <A, E>(
  body: (world: World) => Effect.Effect<A, E, HttpClient.HttpClient>,
  options: Partial<TiktokPublisherOptions> = {}
) =>
  Effect.gen(function*() {
    const fake = yield* Effect.acquireRelease(Effect.promise(() => FakeTiktok.start()), (fake) => Effect.promise(() => fake.close()))
    const client = yield* Effect.context<HttpClient.HttpClient>()
    const make = (more: Partial<TiktokPublisherOptions> = {}) =>
      makeTiktokPublisher({
        apiBaseUrl: fake.url,
        video: { pollInterval: 0, chunkBytes: 5 * MB },
        urlGuard: { allowPrivate: true },
        ...options,
        ...more
      }).pipe(Effect.provide(client))
    const publisher = yield* make()
    return yield* body({ fake, publisher, credentials: { accessToken: "tok-1", username: "ana" }, make })
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

export const settings: TiktokSettings = { privacyLevel: "SELF_ONLY" }

export const request = (
  credentials: TiktokCredentials,
  text: string,
  media: ReadonlyArray<Media.Media>,
  destinationSettings: TiktokSettings = settings,
  more: Partial<CorePublisher.PublishRequest<TiktokSettings, TiktokCredentials>> = {}
): CorePublisher.PublishRequest<TiktokSettings, TiktokCredentials> => ({
  postId: "post-1",
  destinationId: "dest-1",
  attemptId: "attempt-1",
  destination: { platform: "tiktok", accountId: "acct-1", settings: destinationSettings, parts: [{ text, media }] },
  credentials,
  ...more
})

export const bytesVideo = (data: Uint8Array, durationSeconds = 30): Media.Media => ({
  kind: "video",
  mimeType: "video/mp4",
  sizeBytes: data.byteLength,
  durationSeconds,
  source: { _tag: "bytes", data }
})

export const urlVideo = (url: string, durationSeconds = 30): Media.Media => ({
  kind: "video",
  mimeType: "video/mp4",
  sizeBytes: 1_000_000,
  durationSeconds,
  source: { _tag: "url", url }
})

export const urlPhoto = (url: string): Media.Media => ({ kind: "image", mimeType: "image/jpeg", sizeBytes: 100_000, source: { _tag: "url", url } })
