/** Shared pieces of the YouTube tests: a fake per test, a channel with a token, a publisher against it. */
import { NodeHttpClient } from "@effect/platform-node"
import type { Media, Publisher as CorePublisher } from "@omnipost/core"
import {
  makeYoutubePublisher,
  type YoutubeCredentials,
  type YoutubePublisher,
  type YoutubePublisherOptions,
  type YoutubeSettings
} from "@omnipost/platform-youtube"
import { type FakeChannel, FakeYoutube, type FakeYoutubeOptions } from "@omnipost/platform-youtube/testing"
import { Effect } from "effect"
import type { HttpClient } from "effect/http"
import { createHash } from "node:crypto"

export interface World {
  readonly fake: FakeYoutube
  readonly publisher: YoutubePublisher
  readonly channel: FakeChannel
  readonly credentials: YoutubeCredentials
}

/** Runs `body` with a fresh fake, a channel with a token, and a publisher pointed at the fake (real Node HTTP client). */
export const withFake = <A, E>(
  body: (world: World) => Effect.Effect<A, E, HttpClient.HttpClient>,
  options: { readonly fake?: FakeYoutubeOptions; readonly publisher?: Partial<YoutubePublisherOptions> } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeYoutube.make(options.fake)
    const channel = fake.addChannel({ title: "Ada's channel" })
    const credentials: YoutubeCredentials = { accessToken: fake.issueToken(channel) }
    const publisher = yield* makeYoutubePublisher({ ...fake.publisherOptions(), ...options.publisher })
    return yield* body({ fake, publisher, channel, credentials })
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

export const defaultSettings: YoutubeSettings = { privacyStatus: "private", madeForKids: false }

export const request = (
  credentials: YoutubeCredentials,
  text: string,
  media: ReadonlyArray<Media.Media>,
  settings: YoutubeSettings = defaultSettings
): CorePublisher.PublishRequest<YoutubeSettings, YoutubeCredentials> => ({
  postId: "post-1",
  destinationId: "dest-1",
  attemptId: "attempt-1",
  destination: { platform: "youtube", accountId: "acct-1", settings, parts: [{ text, media }] },
  credentials
})

export const bytesVideo = (data: Uint8Array): Media.Media => ({
  kind: "video",
  mimeType: "video/mp4",
  sizeBytes: data.byteLength,
  source: { _tag: "bytes", data }
})

export const fileVideo = (path: string, sizeBytes: number): Media.Media => ({
  kind: "video",
  mimeType: "video/mp4",
  sizeBytes,
  source: { _tag: "file", path }
})

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex")
