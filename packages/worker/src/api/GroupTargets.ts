/**
 * A post's destinations may name a group (`{ "groupId": "grp_…" }`): here
 * each such entry becomes one entry per account in the group, in the group's
 * order, with the entry's placement, settings and override. An account named
 * directly keeps its own entry (and its own settings), and an account in two
 * named groups is published to once, from the first. Expanded at creation
 * (or update): the post remembers its accounts, not the group.
 */
import { Limits } from "@omnipost/core"
import { Effect } from "effect"
import { AccountGroups } from "../storage/AccountGroups.js"
import * as Errors from "../Errors.js"
import type * as Models from "./Models.js"

/** A destination entry naming one account, with the index of the body's entry it came from. */
export interface AccountEntry {
  readonly index: number
  readonly destination: Models.DestinationInput & { readonly accountId: string }
}

const problem = (index: number, code: string, message: string) =>
  Errors.make(Errors.ValidationFailed, `destinations[${index}]: ${message}`, {
    issues: [{ path: ["destinations", index], code, message }]
  })

/** The body's destinations with every group entry replaced by its accounts. */
export const expandGroups = Effect.fnUntraced(function*(
  organizationId: string,
  destinations: ReadonlyArray<Models.DestinationInput>
) {
  const groups = yield* AccountGroups
  const direct = new Set<string>()
  for (const [index, d] of destinations.entries()) {
    if ((d.accountId === undefined) === (d.groupId === undefined)) {
      return yield* problem(index, "ACCOUNT_OR_GROUP", "give either accountId or groupId")
    }
    if (d.groupId !== undefined && d.platform !== undefined) {
      return yield* problem(index, "PLATFORM_WITH_GROUP", "platform goes with accountId; a group's accounts keep their own platforms")
    }
    if (d.accountId !== undefined) direct.add(d.accountId)
  }
  const seen = new Set<string>()
  const out: Array<AccountEntry> = []
  for (const [index, d] of destinations.entries()) {
    if (d.accountId !== undefined) {
      out.push({ index, destination: { ...d, accountId: d.accountId } })
      continue
    }
    const groupId = d.groupId!
    const group = yield* groups.get(organizationId, groupId).pipe(
      Effect.catchTags({
        GroupNotFound: (e) =>
          Effect.fail(Errors.make(Errors.GroupNotFound, `destinations[${index}]: ${e.message}`, {
            groupId,
            path: ["destinations", index, "groupId"]
          })),
        SqlError: Effect.die
      })
    )
    if (group.accounts.length === 0) {
      return yield* Errors.make(Errors.EmptyGroup, `destinations[${index}]: group ${groupId} ("${group.name}") has no accounts`, {
        groupId,
        path: ["destinations", index, "groupId"]
      })
    }
    const { groupId: _, ...rest } = d
    for (const account of group.accounts) {
      if (direct.has(account.id) || seen.has(account.id)) continue
      seen.add(account.id)
      out.push({ index, destination: { ...rest, accountId: account.id } })
    }
  }
  if (out.length > Limits.maxDestinations) {
    const message = `the groups expand to ${out.length} destinations; a post has at most ${Limits.maxDestinations}`
    return yield* Errors.make(Errors.ValidationFailed, message, {
      issues: [{ path: ["destinations"], code: "TOO_MANY_DESTINATIONS", message }]
    })
  }
  return out
})
