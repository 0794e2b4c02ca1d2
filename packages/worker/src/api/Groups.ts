/**
 * `/v1/groups`, declared: account groups (named sets of accounts a post can
 * target as a whole). The bodies are strict and bounded like every other:
 * a name of 1 to `maxNameLength` characters, at most `maxAccounts` accounts
 * a group. `Api.ts` mounts these endpoints under `/v1` with the
 * organization's middleware.
 */
import { Limits } from "@omnipost/core"
import { Schema } from "effect"
import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import * as Errors from "../Errors.js"
import { maxAccounts, maxNameLength } from "../storage/AccountGroups.js"
import { AccountView, EmptyObject } from "./Models.js"
import { pageFields, pagingQuery } from "./Paging.js"

export { maxAccounts, maxNameLength }

const GroupName = Schema.String.check(
  Schema.isMinLength(1),
  Schema.isMaxLength(maxNameLength),
  Schema.isPattern(/\S/, { message: "a name with a visible character" })
).annotate({ description: `The group's name: 1 to ${maxNameLength} characters, unique in the organization (ignoring case).` })

const AccountIds = (min: number) =>
  Schema.Array(Limits.BoundedString).check(Schema.isMinLength(min), Schema.isMaxLength(maxAccounts)).annotate({
    description: `Account ids of the organization (at most ${maxAccounts}).`
  })

export const GroupView = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  /** The members, in the order they were added. */
  accounts: Schema.Array(AccountView),
  createdAt: Schema.String,
  updatedAt: Schema.String
})
export type GroupView = typeof GroupView.Type

export const CreateGroup = Schema.Struct({ name: GroupName, accountIds: Schema.optional(AccountIds(0)) })
export const RenameGroup = Schema.Struct({ name: GroupName })
export const GroupAccounts = Schema.Struct({ accountIds: AccountIds(1) })
export const ListGroupsQuery = Schema.Struct({ ...pagingQuery })
export const GroupPage = Schema.Struct({ data: Schema.Array(GroupView), ...pageFields })

const idParam = { id: Schema.String }

export const endpoints = HttpApiGroup.make("groups")
  .add(
    HttpApiEndpoint.post("create", "/groups", {
      query: EmptyObject,
      payload: CreateGroup,
      success: GroupView.pipe(HttpApiSchema.status(201)),
      error: [Errors.ValidationFailed, Errors.UnknownField, Errors.InvalidAccounts, Errors.GroupNameTaken, Errors.GroupFull]
    }).annotate(OpenApi.Summary, `Create an account group (a name unique in the organization; at most ${maxAccounts} accounts)`),
    HttpApiEndpoint.get("list", "/groups", {
      query: ListGroupsQuery,
      success: GroupPage,
      error: Errors.ValidationFailed
    }).annotate(OpenApi.Summary, "List account groups with their accounts, oldest first (cursor, or offset with a total)"),
    HttpApiEndpoint.get("get", "/groups/:id", {
      params: idParam,
      query: EmptyObject,
      success: GroupView,
      error: Errors.GroupNotFound
    }).annotate(OpenApi.Summary, "Get an account group with its accounts"),
    HttpApiEndpoint.patch("rename", "/groups/:id", {
      params: idParam,
      query: EmptyObject,
      payload: RenameGroup,
      success: GroupView,
      error: [Errors.GroupNotFound, Errors.ValidationFailed, Errors.UnknownField, Errors.GroupNameTaken]
    }).annotate(OpenApi.Summary, "Rename an account group"),
    HttpApiEndpoint.delete("delete", "/groups/:id", {
      params: idParam,
      query: EmptyObject,
      error: Errors.GroupNotFound
    }).annotate(OpenApi.Summary, "Delete an account group (its accounts stay connected)"),
    HttpApiEndpoint.post("addAccounts", "/groups/:id/accounts", {
      params: idParam,
      query: EmptyObject,
      payload: GroupAccounts,
      success: GroupView,
      error: [Errors.GroupNotFound, Errors.ValidationFailed, Errors.UnknownField, Errors.InvalidAccounts, Errors.GroupFull]
    }).annotate(OpenApi.Summary, "Add accounts to a group (those already in it stay as they are)"),
    HttpApiEndpoint.post("removeAccounts", "/groups/:id/accounts/remove", {
      params: idParam,
      query: EmptyObject,
      payload: GroupAccounts,
      success: GroupView,
      error: [Errors.GroupNotFound, Errors.ValidationFailed, Errors.UnknownField]
    }).annotate(OpenApi.Summary, "Remove accounts from a group (the accounts stay connected; ids not in the group are ignored)")
  )
  .annotate(
    OpenApi.Description,
    "Account groups: a post's destinations may name a group (`{ \"groupId\" }`), expanded into its accounts when the post is created."
  )
