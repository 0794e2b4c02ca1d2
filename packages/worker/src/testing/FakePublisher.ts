/**
 * Publishers for tests and benchmarks.
 *
 * - `counting`: an in-process publisher for a test platform that counts every
 *   call per destination and answers with a behaviour the test sets (succeed,
 *   fail with any `PublishError`, wait), optionally with `findPublished`.
 * - `noop`: succeeds at once (the benchmark's publisher).
 * - `http`: calls a fake platform over real HTTP (`FakePlatformServer`), so
 *   several worker processes publish to one counter and a killed process
 *   leaves its request on the "platform".
 */
import { type Publisher, PublishError, Rules } from "@omnipost/core"
import { Effect, Schema } from "effect"

/** The test platforms' rules: a short-text feed with up to 4 images or one video, threads allowed. */
const rulesFor = (platform: string): Rules.PlatformRules => ({
  platform,
  displayName: `Fake (${platform})`,
  defaultPlacement: "feed",
  placements: [{
    placement: "feed",
    inferable: true,
    source: "test platform",
    text: [{ max: 300, counting: "graphemes", source: "test platform" }],
    textAllowed: true,
    mediaRequired: false,
    minMedia: 0,
    maxMedia: 4,
    mixedMedia: false,
    media: {
      image: { maxCount: 4, mimeTypes: ["image/*"], maxSizeBytes: 1_000_000, source: "test platform" },
      video: { maxCount: 1, mimeTypes: ["video/mp4"], maxSizeBytes: 50 * 1024 * 1024, source: "test platform" }
    }
  }],
  threads: true,
  nativeScheduling: { supported: false, source: "test platform" }
})

export const AnySettings = Schema.Record(Schema.String, Schema.Unknown)
export const AnyCredentials = Schema.Unknown

export type Behaviour = (request: Publisher.PublishRequest, call: number) => Effect.Effect<Publisher.PublishResult, PublishError.PublishError>

export const success = (request: Publisher.PublishRequest): Publisher.PublishResult => ({
  platformPostId: `p_${request.destinationId}`,
  url: `https://fake.example/p/${request.destinationId}`,
  publishedAt: new Date().toISOString(),
  parts: [{ platformPostId: `p_${request.destinationId}`, url: `https://fake.example/p/${request.destinationId}` }]
})

export interface CountingPublisher {
  readonly publisher: Publisher.PlatformPublisher
  /** Calls per destination id. */
  readonly calls: Map<string, number>
  /** Every request in order. */
  readonly requests: Array<Publisher.PublishRequest>
  /** What the next calls do; default: succeed. */
  behaviour: Behaviour
  /** Posts the "platform" holds, by attempt id (for `findPublished`). */
  readonly posted: Map<string, Publisher.PublishResult>
  readonly total: () => number
}

export const counting = (
  options: { readonly platform?: string; readonly findPublished?: boolean; readonly expectedCallMs?: number } = {}
): CountingPublisher => {
  const platform = options.platform ?? "fake"
  const state: CountingPublisher = {
    calls: new Map(),
    requests: [],
    posted: new Map(),
    behaviour: (request) => Effect.succeed(success(request)),
    total: () => [...state.calls.values()].reduce((a, b) => a + b, 0),
    publisher: undefined as unknown as Publisher.PlatformPublisher
  }
  const publisher: Publisher.PlatformPublisher = {
    platform,
    displayName: `Fake (${platform})`,
    rules: rulesFor(platform),
    settingsSchema: AnySettings,
    credentialsSchema: AnyCredentials,
    publish: (request) =>
      Effect.suspend(() => {
        const call = (state.calls.get(request.destinationId) ?? 0) + 1
        state.calls.set(request.destinationId, call)
        state.requests.push(request)
        return state.behaviour(request, call).pipe(Effect.tap((result) => Effect.sync(() => state.posted.set(request.attemptId, result))))
      }),
    findPublished: options.findPublished === true
      ? (request) => Effect.sync(() => state.posted.get(request.attemptId))
      : undefined,
    expectedCallMs: options.expectedCallMs
  }
  ;(state as { publisher: Publisher.PlatformPublisher }).publisher = publisher
  return state
}

/** Succeeds at once, without counting: the benchmark's publisher. */
export const noop = (platform = "noop"): Publisher.PlatformPublisher => ({
  platform,
  displayName: "No-op",
  rules: rulesFor(platform),
  settingsSchema: AnySettings,
  credentialsSchema: AnyCredentials,
  publish: (request) => Effect.succeed(success(request)),
  // It answers at once: the scheduler may mark its destinations ahead from the start.
  expectedCallMs: 0
})

/**
 * A publisher that POSTs each call to a fake platform at `baseUrl`
 * (`/publish`, and `/find` for `findPublished` when `lookup` is on).
 */
export const http = (baseUrl: string, options: { readonly platform?: string; readonly lookup?: boolean } = {}): Publisher.PlatformPublisher => {
  const platform = options.platform ?? "fake"
  const post = (path: string, body: unknown) =>
    Effect.tryPromise({
      try: async () => {
        const response = await fetch(`${baseUrl}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body)
        })
        return { status: response.status, body: (await response.json()) as any }
      },
      catch: (cause) => new PublishError.OutcomeUnknown({ platform, message: `no answer from the fake platform: ${String(cause)}` })
    })
  return {
    platform,
    displayName: "Fake over HTTP",
    rules: rulesFor(platform),
    settingsSchema: AnySettings,
    credentialsSchema: AnyCredentials,
    publish: (request) =>
      post("/publish", { destinationId: request.destinationId, attemptId: request.attemptId, text: request.destination.parts[0].text }).pipe(
        Effect.flatMap(({ body, status }) =>
          status === 200
            ? Effect.succeed(body as Publisher.PublishResult)
            : Effect.fail(new PublishError.Rejected({ platform, message: `fake platform answered ${status}`, httpStatus: status }))
        )
      ),
    findPublished: options.lookup === true
      ? (request) =>
        post("/find", { attemptId: request.attemptId }).pipe(
          Effect.map(({ body }) => (body.found ? (body.result as Publisher.PublishResult) : undefined)),
          Effect.mapError((e) => new PublishError.Transient({ platform, message: e.message }))
        )
      : undefined
  }
}
