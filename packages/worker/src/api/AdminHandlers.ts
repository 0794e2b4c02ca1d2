/** `/v1/admin/organizations…`: organizations and their keys, for admin keys. */
import { Effect, Option } from "effect"
import { HttpApiBuilder } from "effect/http-api"
import { ApiKeys } from "../storage/ApiKeys.js"
import { Organizations } from "../storage/Organizations.js"
import { OmnipostApi } from "./Api.js"
import * as Errors from "../Errors.js"
import { pageRequest, toPage } from "./Paging.js"
import { futureExpiry } from "./Middleware.js"

export const AdminHandlers = HttpApiBuilder.group(OmnipostApi, "admin", (handlers) =>
  Effect.gen(function*() {
    const organizations = yield* Organizations
    const keys = yield* ApiKeys
    const found = <A>(id: string, value: Option.Option<A>) =>
      Option.isSome(value)
        ? Effect.succeed(value.value)
        : Effect.fail(Errors.make(Errors.OrganizationNotFound, `no organization ${id}`))
    const existing = (id: string) =>
      organizations.get(id).pipe(Effect.orDie, Effect.flatMap((value) => found(id, value)))
    return handlers
      .handle("createOrganization", ({ payload }) => organizations.create(payload.name).pipe(Effect.orDie))
      .handle("listOrganizations", ({ query }) =>
        pageRequest(query, 50).pipe(
          Effect.flatMap((request) => organizations.list(request)),
          Effect.catchTag("InvalidCursor", (error) => Effect.fail(Errors.invalidCursor(error))),
          Effect.catchTag("SqlError", Effect.die),
          Effect.map((page) => toPage(page, (organization) => organization))
        ))
      .handle("getOrganization", ({ params }) => existing(params.id))
      .handle("disableOrganization", ({ params }) =>
        organizations.setDisabled(params.id, true).pipe(Effect.orDie, Effect.flatMap((value) => found(params.id, value))))
      .handle("enableOrganization", ({ params }) =>
        organizations.setDisabled(params.id, false).pipe(Effect.orDie, Effect.flatMap((value) => found(params.id, value))))
      .handle("createKey", ({ params, payload }) =>
        Effect.gen(function*() {
          const organization = yield* existing(params.id)
          yield* futureExpiry(payload.expiresAt)
          return yield* keys.create({ organizationId: organization.id, ...payload }).pipe(Effect.orDie)
        }))
      .handle("listKeys", ({ params }) =>
        Effect.gen(function*() {
          const organization = yield* existing(params.id)
          return yield* keys.list(organization.id).pipe(Effect.orDie)
        }))
  }))
