/**
 * The API against FakeTiktok, for the TikTok suites: a fresh database, the
 * fake as TikTok's base URL and its OAuth client configured, the fake itself
 * as the `FakeTiktokService` service. Its processing completes at the first
 * status call (the publisher polls every 5 s).
 */
import { FakeTiktok } from "@omnipost/platform-tiktok/testing"
import { Context, Effect, Layer } from "effect"
import { apiLayer } from "./apiHarness.js"

export class FakeTiktokService extends Context.Service<FakeTiktokService, FakeTiktok>()("test/FakeTiktok") {}

export const withFakeTiktok = (kind: "pglite" | "postgres", options: { readonly scheduler?: boolean } = {}) =>
  Layer.unwrap(Effect.gen(function*() {
    const fake = yield* Effect.acquireRelease(Effect.promise(() => FakeTiktok.start()), (fake) => Effect.promise(() => fake.close()))
    fake.processingPolls = 0
    return apiLayer(kind, { platformBaseUrls: { tiktok: fake.url } }, {
      ...(options.scheduler === false ? { scheduler: false } : {}),
      env: { OMNIPOST_TIKTOK_CLIENT_KEY: fake.client.clientKey, OMNIPOST_TIKTOK_CLIENT_SECRET: fake.client.clientSecret }
    }).pipe(Layer.merge(Layer.succeed(FakeTiktokService, fake)))
  }))
