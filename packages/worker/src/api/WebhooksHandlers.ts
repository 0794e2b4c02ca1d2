/** `/v1/webhooks`. */
import { Effect, Option } from "effect"
import { UrlGuard } from "../internal/platformKit.js"
import { HttpApiBuilder } from "effect/http-api"
import { Webhooks } from "../webhooks/Webhooks.js"
import { OmnipostApi, Principal } from "./Api.js"
import * as Errors from "../Errors.js"

export const WebhooksHandlers = HttpApiBuilder.group(OmnipostApi, "webhooks", (handlers) =>
  Effect.gen(function*() {
    const webhooks = yield* Webhooks
    return handlers
      .handle("create", ({ payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const guard = yield* UrlGuard.UrlGuard
          yield* guard.check(payload.url).pipe(Effect.mapError((refused) => Errors.urlNotAllowed(refused, "url")))
          return yield* webhooks.create(organizationId, payload).pipe(Effect.orDie)
        }))
      .handle("list", () =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          return yield* webhooks.list(organizationId).pipe(Effect.orDie)
        }))
      .handle("delete", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const removed = yield* webhooks.remove(organizationId, params.id).pipe(Effect.orDie)
          if (!removed) return yield* Errors.make(Errors.WebhookNotFound, `no webhook ${params.id}`)
        }))
      .handle("deliveries", ({ params, query }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const found = yield* webhooks.deliveries(organizationId, params.id, { limit: query.limit ?? 50, cursor: query.cursor })
            .pipe(Effect.catchTags({ InvalidCursor: (e) => Effect.fail(Errors.invalidCursor(e)), SqlError: Effect.die }))
          if (Option.isNone(found)) return yield* Errors.make(Errors.WebhookNotFound, `no webhook ${params.id}`)
          return {
            data: found.value.items,
            ...(found.value.nextCursor !== undefined ? { nextCursor: found.value.nextCursor } : {})
          }
        }))
  }))
