/**
 * The video service's tokens, as the reference PDS and the official app want
 * them (docs.bsky.app "Uploading Video"; pds/src/auth-verifier.ts; social-app
 * src/lib/media/video/upload.shared.ts), and the service's address as an option.
 */
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { Plugin } from "@omnipost/core"
import { Media, plugin } from "@omnipost/platform-bluesky"
import { FakeBluesky } from "@omnipost/platform-bluesky/testing"
import { mediaOf, part, publishRequest, withFake } from "./fixtures.js"

const claims = (authorization: string | undefined): Record<string, unknown> => {
  const body = authorization?.replace(/^Bearer /, "").split(".")[1]
  assert.isDefined(body, "a bearer JWT")
  return JSON.parse(Buffer.from(body!, "base64url").toString("utf8")) as Record<string, unknown>
}

const clip = (size = 5_000, seed = 21) => {
  const data = mediaOf("video/mp4", size, seed)
  return { kind: "video" as const, mimeType: "video/mp4", sizeBytes: data.byteLength, source: { _tag: "bytes" as const, data } }
}

describe("the video service's tokens", () => {
  it("a service DID is did:web of the host name, without the port", () => {
    assert.strictEqual(Media.serviceDidOf("http://localhost:2583"), "did:web:localhost")
    assert.strictEqual(Media.serviceDidOf("https://morel.us-east.host.bsky.network"), "did:web:morel.us-east.host.bsky.network")
    assert.strictEqual(Media.serviceDidOf("https://pds.example.com:8443/"), "did:web:pds.example.com")
  })

  it.live("the upload token names the PDS's service DID (no port) and uploadBlob; the quota token the video service and its method", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        // The fake listens on a port: the PDS's own DID has none, and refuses a token that has one.
        assert.match(fake.url, /:\d+$/)
        yield* publisher.publish(publishRequest(fake.credentials(), [part("a clip", [clip()])]))
        const upload = fake.requests.find((request) => request.nsid === "app.bsky.video.uploadVideo")!
        assert.strictEqual(upload.status, 200)
        const uploadClaims = claims(upload.authorization)
        assert.strictEqual(uploadClaims.aud, fake.serviceDid)
        assert.strictEqual(uploadClaims.lxm, "com.atproto.repo.uploadBlob")
        assert.strictEqual(uploadClaims.iss, fake.posts()[0]!.repo)
        // 30 minutes, as docs.bsky.app recommends for a slow upload.
        assert.closeTo((uploadClaims.exp as number) - (uploadClaims.iat as number), 1800, 5)

        const quota = fake.requests.find((request) => request.nsid === "app.bsky.video.getUploadLimits")!
        assert.strictEqual(quota.status, 200)
        assert.deepStrictEqual([claims(quota.authorization).aud, claims(quota.authorization).lxm], [
          fake.videoServiceDid,
          "app.bsky.video.getUploadLimits"
        ])
      })
    ))

  it.live("without a videoServiceDid, the quota token names did:web of the video service's host name", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        yield* publisher.publish(publishRequest(fake.credentials(), [part("a clip", [clip()])]))
        const quota = fake.requests.find((request) => request.nsid === "app.bsky.video.getUploadLimits")!
        assert.strictEqual(quota.status, 200)
        assert.strictEqual(claims(quota.authorization).aud, `did:web:${new URL(fake.videoUrl).hostname}`)
      }), {
      fake: { videoServiceDid: "did:web:127.0.0.1" },
      publisher: { videoServiceDid: undefined }
    }))
})

describe("the video service's address", () => {
  it.live("videos go to the configured video service, never to video.bsky.app", () =>
    withFake((fake, publisher) =>
      Effect.gen(function*() {
        yield* publisher.publish(publishRequest(fake.credentials(), [part("a clip", [clip(3_000, 5)])]))
        const videoCalls = fake.requests.filter((request) => request.nsid.startsWith("app.bsky.video."))
        assert.isAbove(videoCalls.length, 2)
        assert.isTrue(videoCalls.every((request) => request.server === "video"))
        assert.strictEqual((fake.posts()[0]!.value as { embed: { $type: string } }).embed.$type, "app.bsky.embed.video")
      })
    ))
})

describe("the plugin's configuration", () => {
  it.live("OMNIPOST_BLUESKY_VIDEO_SERVICE_URL and _DID send videos, and the quota token, to the configured service", () =>
    Effect.gen(function*() {
      const fake = yield* FakeBluesky.make({ videoProcessingPolls: 0, videoServiceDid: "did:web:video.example.test" })
      const env = {
        OMNIPOST_BLUESKY_VIDEO_SERVICE_URL: fake.videoUrl,
        OMNIPOST_BLUESKY_VIDEO_SERVICE_DID: "did:web:video.example.test"
      }
      const loaded = yield* Plugin.load(plugin, { baseUrl: fake.url }).pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, ConfigProvider.fromEnv({ env }))
      )
      yield* loaded.publisher.publish(publishRequest(fake.credentials(), [part("a clip", [clip(4_000, 9)])]))
      const quota = fake.requests.find((request) => request.nsid === "app.bsky.video.getUploadLimits")
      assert.strictEqual(quota?.status, 200)
      assert.strictEqual(claims(quota?.authorization).aud, "did:web:video.example.test")
      const upload = fake.requests.find((request) => request.nsid === "app.bsky.video.uploadVideo")
      assert.deepStrictEqual([upload?.server, upload?.status], ["video", 200])
      assert.deepStrictEqual(
        plugin.environment?.map((variable) => variable.name).filter((name) => name.includes("VIDEO")),
        ["OMNIPOST_BLUESKY_VIDEO_SERVICE_URL", "OMNIPOST_BLUESKY_VIDEO_SERVICE_DID"]
      )
    }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici)))
})
