/** Shared pieces of the LinkedIn tests: a fake per test, a publisher against it, requests. */
import { NodeHttpClient } from "@effect/platform-node"
import type { Media, Post, Publisher as CorePublisher } from "@omnipost/core"
import {
  type LinkedinCredentials,
  type LinkedinPublisherOptions,
  type LinkedinSettings,
  makeLinkedinPublisher
} from "@omnipost/platform-linkedin"
import { type FakeAccount, FakeLinkedin, type FakeLinkedinOptions } from "@omnipost/platform-linkedin/testing"
import { Effect } from "effect"
import type { HttpClient } from "effect/http"

export type LinkedinPublisher = CorePublisher.PlatformPublisher<LinkedinSettings, LinkedinCredentials>

export interface World {
  readonly fake: FakeLinkedin
  readonly publisher: LinkedinPublisher
  readonly account: FakeAccount
  readonly credentials: LinkedinCredentials
}

/** Runs `body` with a fresh fake, a member with a token, and a publisher pointed at the fake (real Node HTTP client). */
export const withFake = <A, E>(
  body: (world: World) => Effect.Effect<A, E, HttpClient.HttpClient>,
  options: {
    readonly fake?: FakeLinkedinOptions
    readonly publisher?: Partial<LinkedinPublisherOptions>
    readonly scopes?: ReadonlyArray<string>
    readonly administers?: ReadonlyArray<string>
  } = {}
) =>
  Effect.gen(function*() {
    const fake = yield* FakeLinkedin.make({ processingPolls: 1, ...options.fake })
    const account = fake.addAccount({ name: "Ada Lovelace", administers: options.administers ?? [] })
    const scopes = options.scopes ?? ["openid", "profile", "w_member_social"]
    const credentials: LinkedinCredentials = {
      accessToken: fake.issueToken(account, scopes),
      scopes,
      personUrn: account.personUrn
    }
    const publisher = yield* makeLinkedinPublisher({ ...fake.publisherOptions(), ...options.publisher })
    return yield* body({ fake, publisher, account, credentials })
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

export const part = (text: string, media: ReadonlyArray<Media.Media> = [], link?: string): Post.ResolvedPart => ({
  text,
  media,
  ...(link !== undefined ? { link } : {})
})

export const request = (
  credentials: LinkedinCredentials,
  parts: readonly [Post.ResolvedPart, ...Array<Post.ResolvedPart>],
  settings: LinkedinSettings = {}
): CorePublisher.PublishRequest<LinkedinSettings, LinkedinCredentials> => ({
  postId: "post-1",
  destinationId: "dest-1",
  attemptId: "attempt-1",
  destination: { platform: "linkedin", accountId: "acct-1", settings, parts },
  credentials
})

/** A post's media item from bytes. */
export const bytesMedia = (kind: Media.MediaKind, mimeType: string, data: Uint8Array, extra: Partial<Media.Media> = {}): Media.Media => ({
  kind,
  mimeType,
  sizeBytes: data.byteLength,
  source: { _tag: "bytes", data },
  ...extra
})
