/** `/v1/groups`: account groups over `AccountGroups`; another organization's group or account is unknown here. */
import { HttpApiBuilder } from "effect/http-api"
import { Effect } from "effect"
import type { SqlError } from "effect/sql"
import {
  type AccountGroup,
  AccountGroups,
  type GroupFull,
  type GroupNameTaken,
  type GroupNotFound,
  type UnknownAccounts
} from "../storage/AccountGroups.js"
import type { InvalidCursor } from "../storage/Cursor.js"
import * as Errors from "../Errors.js"
import { accountViewer } from "./AccountsHandlers.js"
import { OmnipostApi, Principal } from "./Api.js"
import type { GroupView } from "./Groups.js"
import type { AccountView } from "./Models.js"
import { pageRequest, toPage } from "./Paging.js"

/** A group as the API shows it, its accounts with their health now (`accountViewer`). */
export const toGroupView = (group: AccountGroup) => Effect.map(accountViewer, (view) => groupView(group, view))

const groupView = (group: AccountGroup, view: (account: AccountGroup["accounts"][number]) => AccountView): GroupView => ({
  id: group.id,
  name: group.name,
  accounts: group.accounts.map(view),
  createdAt: group.createdAt,
  updatedAt: group.updatedAt
})

type StoreError =
  | GroupNotFound
  | GroupNameTaken
  | UnknownAccounts
  | GroupFull
  | InvalidCursor
  | SqlError.SqlError

/** The API error of each store error (a database failure is a defect: 500). */
type ApiErrorOf<E> = E extends GroupNotFound ? Errors.GroupNotFound
  : E extends GroupNameTaken ? Errors.GroupNameTaken
  : E extends UnknownAccounts ? Errors.InvalidAccounts
  : E extends GroupFull ? Errors.GroupFull
  : E extends InvalidCursor ? Errors.ValidationFailed
  : never

const apiErrorOf = (e: StoreError) => {
  switch (e._tag) {
    case "GroupNotFound":
      return Effect.fail(Errors.make(Errors.GroupNotFound, e.message, { groupId: e.groupId }))
    case "GroupNameTaken":
      return Effect.fail(Errors.make(Errors.GroupNameTaken, e.message, { name: e.name }))
    case "UnknownAccounts":
      return Effect.fail(Errors.make(Errors.InvalidAccounts, e.message, { accountIds: e.accountIds }))
    case "GroupFull":
      return Effect.fail(Errors.make(Errors.GroupFull, e.message, { groupId: e.groupId, max: e.max, wouldHave: e.wouldHave }))
    case "InvalidCursor":
      return Effect.fail(Errors.invalidCursor(e))
    case "SqlError":
      return Effect.die(e)
  }
}

/** Runs a store operation with its errors turned into API errors. */
const fromStore = <A, E extends StoreError>(effect: Effect.Effect<A, E>): Effect.Effect<A, ApiErrorOf<E>> =>
  effect.pipe(Effect.catch((e) => apiErrorOf(e) as Effect.Effect<never, ApiErrorOf<E>>))

export const GroupsHandlers = HttpApiBuilder.group(OmnipostApi, "groups", (handlers) =>
  Effect.gen(function*() {
    const groups = yield* AccountGroups
    return handlers
      .handle("create", ({ payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const group = yield* fromStore(groups.create(organizationId, payload))
          return yield* toGroupView(group)
        }))
      .handle("list", ({ query }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const page = yield* fromStore(groups.list(organizationId, yield* pageRequest(query, 50)))
          const view = yield* accountViewer
          return toPage(page, (group) => groupView(group, view))
        }))
      .handle("get", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          return yield* toGroupView(yield* fromStore(groups.get(organizationId, params.id)))
        }))
      .handle("rename", ({ params, payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          return yield* toGroupView(yield* fromStore(groups.rename(organizationId, params.id, payload.name)))
        }))
      .handle("delete", ({ params }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          yield* fromStore(groups.remove(organizationId, params.id))
        }))
      .handle("addAccounts", ({ params, payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const group = yield* fromStore(groups.addAccounts(organizationId, params.id, payload.accountIds))
          return yield* toGroupView(group)
        }))
      .handle("removeAccounts", ({ params, payload }) =>
        Effect.gen(function*() {
          const { organizationId } = yield* Principal
          const group = yield* fromStore(groups.removeAccounts(organizationId, params.id, payload.accountIds))
          return yield* toGroupView(group)
        }))
  }))
