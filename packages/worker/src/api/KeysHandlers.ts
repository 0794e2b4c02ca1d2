/** `/v1/keys`. */
import { Effect } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ApiKeys } from "../storage/ApiKeys.js"
import * as Paging from "./Paging.js"
import { OmnipostApi, Principal } from "./Api.js"
import * as Errors from "../Errors.js"
import { futureExpiry } from "./Middleware.js"

export const KeysHandlers = HttpApiBuilder.group(OmnipostApi, "keys", (handlers) =>
  Effect.gen(function*() {
    const keys = yield* ApiKeys
    return handlers
      .handle("create", ({ payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          yield* futureExpiry(payload.expiresAt)
          return yield* keys.create({ organizationId, ...payload }).pipe(Effect.orDie)
        }))
      .handle("list", ({ query }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          if (!Paging.asksForPage(query)) return yield* keys.list(organizationId).pipe(Effect.orDie)
          const page = yield* keys.listPage(organizationId, yield* Paging.pageRequest(query, Paging.defaultLimit))
            .pipe(Effect.catchTags({ InvalidCursor: (e) => Effect.fail(Errors.invalidCursor(e)), SqlError: Effect.die }))
          return Paging.toPage(page, (key) => key)
        }))
      .handle("revoke", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const revoked = yield* keys.revoke(organizationId, params.id).pipe(Effect.orDie)
          if (!revoked) return yield* Errors.make(Errors.ApiKeyNotFound, `no active API key ${params.id}`)
        }))
  }))
