/**
 * Requests in flight: every request handled by this server, from routing to
 * its answer (or its interruption when the client goes away). `/readyz`
 * reports the count, so a request that never ends is visible, not silent.
 */
import { Context, Effect, Layer } from "effect"

export class RequestsInFlight extends Context.Service<RequestsInFlight, {
  /** Requests being handled now, the caller's own included when asked from a handler. */
  readonly count: Effect.Effect<number>
  /** Counts `effect` as one request while it runs, however it ends. */
  readonly track: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}>()("@omnipost/worker/RequestsInFlight") {
  static readonly layer: Layer.Layer<RequestsInFlight> = Layer.sync(RequestsInFlight, () => {
    let count = 0
    return RequestsInFlight.of({
      count: Effect.sync(() => count),
      track: (effect) =>
        Effect.suspend(() => {
          count++
          return effect.pipe(Effect.ensuring(Effect.sync(() => count--)))
        })
    })
  })
}
