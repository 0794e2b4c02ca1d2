/**
 * The commands that work on the database directly (keys, organizations):
 * the stores they need, built for the command and closed after it. With
 * embedded PGlite only while the server is stopped (PGlite belongs to one
 * process; the data directory's lock says so).
 */
import { Context, Effect, Layer, Option } from "effect"
import { ApiKeys } from "../storage/ApiKeys.js"
import { Database } from "../storage/Database.js"
import { Organizations } from "../storage/Organizations.js"

/** The key store and the default organization's id. */
export const directKeys = <A, E>(f: (keys: ApiKeys["Service"], organizationId: string) => Effect.Effect<A, E>) =>
  Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(ApiKeys.layer.pipe(Layer.provideMerge(Database.layer)))
    const keys = yield* ApiKeys.pipe(Effect.provide(context))
    const organizationId = yield* keys.defaultOrganization
    return yield* f(keys, organizationId)
  }))

export /** The key and organization stores on the database directly (with PGlite only while the server is stopped). */
const directOrganizations = <A, E>(
  f: (services: { readonly keys: ApiKeys["Service"]; readonly organizations: Organizations["Service"] }) => Effect.Effect<A, E>
) =>
  Effect.scoped(Effect.gen(function*() {
    const context = yield* Layer.build(Layer.mergeAll(ApiKeys.layer, Organizations.layer).pipe(Layer.provideMerge(Database.layer)))
    return yield* f({ keys: Context.get(context, ApiKeys), organizations: Context.get(context, Organizations) })
  }))

export const existingOrganization = (organizations: Organizations["Service"], id: string) =>
  Effect.flatMap(organizations.get(id), (found) =>
    Option.isSome(found) ? Effect.succeed(found.value) : Effect.fail(new Error(`no organization ${id}`)))
