/** `/v1/webhooks`. */
import { Effect, Option } from "effect"
import { UrlGuard } from "../internal/platformKit.js"
import { HttpApiBuilder } from "effect/http-api"
import { Webhooks } from "../webhooks/Webhooks.js"
import * as Paging from "./Paging.js"
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
      .handle("list", ({ query }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          if (!Paging.asksForPage(query)) return yield* webhooks.list(organizationId).pipe(Effect.orDie)
          const page = yield* webhooks.listPage(organizationId, yield* Paging.pageRequest(query, Paging.defaultLimit))
            .pipe(Effect.catchTags({ InvalidCursor: (e) => Effect.fail(Errors.invalidCursor(e)), SqlError: Effect.die }))
          return Paging.toPage(page, (webhook) => webhook)
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
          const found = yield* webhooks.deliveries(organizationId, params.id, yield* Paging.pageRequest(query, Paging.defaultLimit))
            .pipe(Effect.catchTags({ InvalidCursor: (e) => Effect.fail(Errors.invalidCursor(e)), SqlError: Effect.die }))
          if (Option.isNone(found)) return yield* Errors.make(Errors.WebhookNotFound, `no webhook ${params.id}`)
          return Paging.toPage(found.value, (delivery) => delivery)
        }))
  }))
