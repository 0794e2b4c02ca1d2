/**
 * The MCP tools: what an agent can do, each tool one call of the HTTP API
 * with the caller's API key, so an agent gets exactly the API's checks,
 * organization scoping, idempotency and rate limits. Each tool's parameters
 * are the API's own schemas (`http/Models.ts`), refused strictly (an unknown
 * field is an error, never dropped), and a refusal carries the API's error
 * body `{ error: { code, message, details } }`.
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { Tool, Toolkit } from "effect/ai"
import { HttpServerRequest } from "effect/http"
import { call, type Connection } from "../cli/Client.js"
import { Limits } from "@omnipost/core"
import * as Groups from "../api/Groups.js"
import * as Paging from "../storage/Paging.js"
import * as Models from "../api/Models.js"

/** A tool's refusal: the API's error body. */
export const ToolError = Schema.Struct({
  error: Schema.Struct({
    code: Schema.String,
    message: Schema.String,
    details: Schema.optional(Schema.Unknown)
  })
}).annotate({ identifier: "ToolError", description: "The API's error: a code (VALIDATION_FAILED, POST_NOT_FOUND, …), a message and details." })
export type ToolError = typeof ToolError.Type

/**
 * Where tool calls go: the API's base URL and the caller's key. Over stdio
 * they are fixed (`layer`); at the HTTP server's `/mcp` the key is the one
 * the MCP request was authenticated with (`layerLoopback`).
 */
export class McpConnection extends Context.Service<McpConnection, {
  readonly resolve: Effect.Effect<Connection, ToolError>
}>()("@omnipost/worker/McpConnection") {
  static readonly layer = (connection: Connection) => Layer.succeed(McpConnection, { resolve: Effect.succeed(connection) })

  /** The server's own address, with the key of the HTTP request being served. */
  static readonly layerLoopback = (url: string) =>
    Layer.succeed(McpConnection, {
      resolve: Effect.gen(function*() {
        const request = yield* Effect.serviceOption(HttpServerRequest.HttpServerRequest)
        const key = Option.flatMap(request, (r) => Option.fromUndefinedOr(presentedKey(r.headers)))
        if (Option.isNone(key)) {
          return yield* Effect.fail<ToolError>({ error: { code: "INVALID_API_KEY", message: "missing API key" } })
        }
        return { url, key: key.value }
      })
    })
}

/** The key a request presents: `Authorization: Bearer <key>` or `x-api-key`. */
export const presentedKey = (headers: Readonly<Record<string, string | undefined>>): string | undefined => {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? "")?.[1]
  const key = bearer ?? headers["x-api-key"]?.trim()
  return key === undefined || key === "" ? undefined : key
}

const Id = Schema.Struct({ id: Limits.BoundedString.annotate({ description: "The post's id." }) })

const ListAccountsParams = Schema.Struct({
  platform: Schema.optional(Schema.String).annotate({ description: "Only accounts of this platform (x, bluesky, instagram, …)." })
})
const ListPostsParams = Schema.Struct({
  ...Models.ListPostsQuery.fields,
  limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 }))),
  offset: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: Paging.maxOffset })))
})
const RetryParams = Schema.Struct({ id: Id.fields.id, ...Models.RetryPost.fields })
const UploadFromUrlParams = Models.MediaFromUrl
const ListGroupsParams = Schema.Struct({
  limit: Schema.optional(Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100 }))),
  cursor: Schema.optional(Schema.String)
})
const GroupAccountsParams = Schema.Struct({
  id: Limits.BoundedString.annotate({ description: "The group's id." }),
  ...Groups.GroupAccounts.fields
})

const tool = <const Name extends string, P extends Schema.Top, S extends Schema.Top>(
  name: Name,
  description: string,
  parameters: P,
  success: S,
  options: { readonly readonly?: boolean; readonly destructive?: boolean } = {}
) =>
  Tool.make(name, { description, parameters, success, failure: ToolError })
    .annotate(Tool.Strict, true)
    .annotate(Tool.Readonly, options.readonly ?? false)
    .annotate(Tool.Destructive, options.destructive ?? false)

export const OmnipostTools = Toolkit.make(
  tool("list_accounts", "List the connected social accounts (id, platform, handle, token health). Posts target accounts by id.", ListAccountsParams, Schema.Struct({ accounts: Schema.Array(Models.AccountView) }), { readonly: true }),
  tool("validate_post", "Check a post against every destination's platform rules without saving it. Same input as create_post.", Models.CreatePost, Models.ValidationResult, { readonly: true }),
  tool(
    "create_post",
    "Create a post: text, media (by uploaded media id, or by URL), a thread, per-platform overrides, to one or more accounts or account groups (`{ groupId }`); published now, or at `scheduledAt` (ISO 8601), or kept as a draft.",
    Models.CreatePost,
    Models.PostView
  ),
  tool("get_post", "Get a post with every destination's status, attempts and result (the platform's post id and URL).", Id, Models.PostView, { readonly: true }),
  tool("list_posts", "List posts, newest first, filtered by status, platform, type and time; pass `cursor` for the next page.", ListPostsParams, Models.PostPage, { readonly: true }),
  tool("retry_post", "Retry the failed destinations of a post (all, or those of some platforms).", RetryParams, Models.PostView),
  tool("cancel_post", "Cancel a draft or scheduled post.", Id, Models.PostView, { destructive: true }),
  tool("publish_now", "Publish a draft or scheduled post now.", Id, Models.PostView),
  tool("upload_media_from_url", "Store the file at a public URL in the media library; use its id in a post's media.", UploadFromUrlParams, Models.MediaView),
  tool("list_groups", "List the account groups with their accounts. A post's destination `{ groupId }` publishes to every account of a group.", ListGroupsParams, Groups.GroupPage, { readonly: true }),
  tool("create_group", `Create an account group: a name unique in the organization (1 to ${Groups.maxNameLength} characters) and up to ${Groups.maxAccounts} account ids.`, Groups.CreateGroup, Groups.GroupView),
  tool("add_group_accounts", "Add accounts to a group (those already in it stay).", GroupAccountsParams, Groups.GroupView),
  tool("remove_group_accounts", "Remove accounts from a group (the accounts stay connected).", GroupAccountsParams, Groups.GroupView, { destructive: true })
)

/** Calls the API; a refusal becomes the tool's error, an answer is decoded with the endpoint's schema. */
const forward = <S extends Schema.Top>(success: S, method: string, path: string, body?: unknown) =>
  Effect.gen(function*() {
    const connection = yield* (yield* McpConnection).resolve
    const answer = yield* call(connection, method, path, body).pipe(
      Effect.mapError((failure): ToolError => ({
        error: { code: failure.code, message: failure.message, ...(failure.details !== undefined ? { details: failure.details } : {}) }
      }))
    )
    return yield* Schema.decodeUnknownEffect(success)(answer).pipe(Effect.orDie)
  })

const encode = <S extends Schema.Top>(schema: S, value: S["Type"]) => Schema.encodeUnknownEffect(schema)(value).pipe(Effect.orDie)

const query = (params: Record<string, unknown>) => {
  const search = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) search.set(name, String(value))
  const text = search.toString()
  return text === "" ? "" : `?${text}`
}

/** The tools' handlers, over an `McpConnection`. */
export const OmnipostToolsLayer = OmnipostTools.toLayer(Effect.gen(function*() {
  const connection = yield* McpConnection
  const run = <A, E>(effect: Effect.Effect<A, E, McpConnection>) => Effect.provideService(effect, McpConnection, connection)
  return {
    list_accounts: (params) =>
      run(Effect.map(
        forward(Schema.Array(Models.AccountView), "GET", `/v1/accounts${query(params)}`),
        (accounts) => ({ accounts })
      )),
    validate_post: (params) => run(Effect.flatMap(encode(Models.CreatePost, params), (body) => forward(Models.ValidationResult, "POST", "/v1/posts/validate", body))),
    create_post: (params) => run(Effect.flatMap(encode(Models.CreatePost, params), (body) => forward(Models.PostView, "POST", "/v1/posts", body))),
    get_post: ({ id }) => run(forward(Models.PostView, "GET", `/v1/posts/${encodeURIComponent(id)}`)),
    list_posts: (params) =>
      run(Effect.flatMap(encode(ListPostsParams, params), (encoded) => forward(Models.PostPage, "GET", `/v1/posts${query(encoded)}`))),
    retry_post: ({ id, ...body }) =>
      run(forward(Models.PostView, "POST", `/v1/posts/${encodeURIComponent(id)}/retry`, body.platforms === undefined ? undefined : body)),
    cancel_post: ({ id }) => run(forward(Models.PostView, "POST", `/v1/posts/${encodeURIComponent(id)}/cancel`)),
    publish_now: ({ id }) => run(forward(Models.PostView, "POST", `/v1/posts/${encodeURIComponent(id)}/publish`)),
    upload_media_from_url: (params) => run(forward(Models.MediaView, "POST", "/v1/media/from-url", params)),
    list_groups: (params) => run(forward(Groups.GroupPage, "GET", `/v1/groups${query(params)}`)),
    create_group: (params) => run(forward(Groups.GroupView, "POST", "/v1/groups", params)),
    add_group_accounts: ({ id, ...body }) => run(forward(Groups.GroupView, "POST", `/v1/groups/${encodeURIComponent(id)}/accounts`, body)),
    remove_group_accounts: ({ id, ...body }) =>
      run(forward(Groups.GroupView, "POST", `/v1/groups/${encodeURIComponent(id)}/accounts/remove`, body))
  }
}))
