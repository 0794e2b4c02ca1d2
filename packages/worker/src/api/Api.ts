/**
 * The HTTP API, defined once: the server (`HttpApiBuilder`), `/openapi.json`
 * and the `/docs` page are all derived from these declarations.
 */
import { Schema } from "effect"
import { HttpApi, HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "effect/http-api"
import * as Errors from "../Errors.js"
import * as Groups from "./Groups.js"
import * as Models from "./Models.js"
import * as Paging from "./Paging.js"
import * as RateLimiter from "./RateLimiter.js"
import {
  AdminAuthentication,
  AdmitInRead,
  Authentication,
  DecodeErrors,
  RequestPolicy
} from "./Security.js"

export {
  AdminAuthentication,
  AdminPrincipal,
  AdmitInRead,
  Authentication,
  DecodeErrors,
  type PendingAdmission,
  Principal,
  RequestPolicy
} from "./Security.js"

const idParam = { id: Schema.String }

/** For endpoints without parameters: a query string is refused rather than ignored. */
const noQuery = Models.EmptyObject

/** The body of an action that takes none: no body, `null` or `{}` (any field is refused). */
const noPayload = [Models.EmptyObject, Schema.Null] as const

/** The parts of a multipart `POST /v1/posts`; any other part is refused. */
export const CreatePostMultipart = Schema.Struct({
  post: Schema.String.annotate({ description: "The post as JSON (the JSON body's shape)." }),
  files: Schema.optional(Schema.Unknown).annotate({
    description: "Files to attach (binary, repeatable); appended to content.media in order."
  })
})

const CreatePostPayload = [
  Models.CreatePost,
  CreatePostMultipart.pipe(HttpApiSchema.asMultipartStream())
] as const

export class PostsGroup extends HttpApiGroup.make("posts")
  .add(
    HttpApiEndpoint.post("create", "/posts", {
      query: noQuery,
      payload: CreatePostPayload,
      success: Models.PostView.pipe(HttpApiSchema.status(201)),
      error: [
        Errors.ValidationFailed,
        Errors.UnknownField,
        Errors.InvalidAccounts,
        Errors.GroupNotFound,
        Errors.EmptyGroup,
        Errors.InvalidMedia,
        Errors.UrlNotAllowed,
        Errors.UnsupportedMediaType,
        Errors.PayloadTooLarge,
        Errors.InvalidStatusTransition
      ]
    }).annotate(OpenApi.Summary, "Create a post (JSON, or multipart with inline files)"),
    HttpApiEndpoint.post("validate", "/posts/validate", {
      query: noQuery,
      payload: Models.CreatePost,
      success: Models.ValidationResult,
      error: [Errors.ValidationFailed, Errors.InvalidAccounts, Errors.GroupNotFound, Errors.EmptyGroup, Errors.InvalidMedia, Errors.UrlNotAllowed]
    }).annotate(OpenApi.Summary, "Validate a post without saving it (dry run)"),
    HttpApiEndpoint.get("list", "/posts", {
      query: Models.ListPostsQuery,
      success: Models.PostPage,
      error: Errors.ValidationFailed
    }).annotate(OpenApi.Summary, "List posts (filters, cursor pagination, at most 100 per page)"),
    HttpApiEndpoint.get("get", "/posts/:id", {
      params: idParam,
      query: noQuery,
      success: Models.PostView,
      error: Errors.PostNotFound
    }).annotate(OpenApi.Summary, "Get a post with every destination's status, attempts and result").annotate(AdmitInRead, true),
    HttpApiEndpoint.get("results", "/posts/:id/results", {
      params: idParam,
      query: noQuery,
      success: Models.PostResults,
      error: Errors.PostNotFound
    }).annotate(OpenApi.Summary, "Get only the destinations' results of a post: status, platform post id and URL, attempts, errors")
      .annotate(AdmitInRead, true),
    HttpApiEndpoint.patch("update", "/posts/:id", {
      params: idParam,
      query: noQuery,
      payload: Models.UpdatePost,
      success: Models.PostView,
      error: [
        Errors.PostNotFound,
        Errors.ValidationFailed,
        Errors.InvalidAccounts,
        Errors.GroupNotFound,
        Errors.EmptyGroup,
        Errors.InvalidMedia,
        Errors.UrlNotAllowed,
        Errors.InvalidStatusTransition
      ]
    }).annotate(OpenApi.Summary, "Update a draft or scheduled post"),
    HttpApiEndpoint.post("cancel", "/posts/:id/cancel", {
      params: idParam,
      query: noQuery,
      payload: noPayload,
      success: Models.PostView,
      error: [Errors.PostNotFound, Errors.InvalidStatusTransition]
    }).annotate(OpenApi.Summary, "Cancel a draft or scheduled post"),
    HttpApiEndpoint.post("publish", "/posts/:id/publish", {
      params: idParam,
      query: noQuery,
      payload: noPayload,
      success: Models.PostView,
      error: [Errors.PostNotFound, Errors.InvalidStatusTransition, Errors.ValidationFailed]
    }).annotate(OpenApi.Summary, "Publish a draft or scheduled post now"),
    HttpApiEndpoint.post("retry", "/posts/:id/retry", {
      params: idParam,
      query: noQuery,
      // No body means every failed destination.
      payload: [Models.RetryPost, Schema.Null],
      success: Models.PostView,
      error: [Errors.PostNotFound, Errors.InvalidStatusTransition]
    }).annotate(OpenApi.Summary, "Retry the failed destinations (all of them with no body, or those of some platforms)"),
    HttpApiEndpoint.delete("delete", "/posts/:id", {
      params: idParam,
      query: noQuery,
      error: [Errors.PostNotFound, Errors.InvalidStatusTransition]
    }).annotate(
      OpenApi.Summary,
      "Delete a post that was never published (once any destination is published, its content lives on the platform: 409)"
    )
  )
  .prefix("/v1")
  // The first middleware wraps innermost: the policy runs inside authentication.
  .middleware(RequestPolicy)
  .middleware(Authentication)
  .middleware(DecodeErrors)
  .annotate(OpenApi.Description, "Posts and their destinations.")
{}

export class AccountsGroup extends HttpApiGroup.make("accounts")
  .add(
    HttpApiEndpoint.get("list", "/accounts", {
      query: { platform: Schema.optional(Schema.String), ...Paging.pagingQuery },
      success: Paging.listOrPage(Models.AccountView, "account"),
      error: Errors.ValidationFailed
    }).annotate(
      OpenApi.Summary,
      "List connected accounts, oldest first: all of them as an array, or a page { data, nextCursor?, total? } with limit, cursor or offset"
    ),
    HttpApiEndpoint.get("get", "/accounts/:id", {
      params: idParam,
      query: noQuery,
      success: Models.AccountView,
      error: Errors.AccountNotFound
    }).annotate(OpenApi.Summary, "Get a connected account"),
    HttpApiEndpoint.post("connect", "/accounts", {
      query: noQuery,
      payload: Models.ConnectAccount,
      success: Models.AccountView.pipe(HttpApiSchema.status(201)),
      error: [
        Errors.ValidationFailed,
        Errors.UnknownField,
        Errors.UnknownPlatform,
        Errors.InvalidCredentials,
        Errors.PlatformError
      ]
    }).annotate(OpenApi.Summary, "Connect an account with credentials (verified with the platform first)"),
    HttpApiEndpoint.post("oauthStart", "/accounts/oauth/:platform/start", {
      params: { platform: Schema.String },
      query: noQuery,
      payload: Models.OAuthStart,
      success: Models.OAuthStartResult,
      error: [Errors.ValidationFailed, Errors.UnknownPlatform]
    }).annotate(OpenApi.Summary, "Start connecting an OAuth platform: returns the URL to send the user to"),
    HttpApiEndpoint.post("refresh", "/accounts/:id/refresh", {
      params: idParam,
      query: noQuery,
      payload: noPayload,
      success: Models.AccountView,
      error: [Errors.AccountNotFound, Errors.InvalidCredentials, Errors.PlatformError]
    }).annotate(OpenApi.Summary, "Refresh an account's tokens"),
    HttpApiEndpoint.delete("disconnect", "/accounts/:id", {
      params: idParam,
      query: noQuery,
      error: Errors.AccountNotFound
    }).annotate(OpenApi.Summary, "Disconnect an account (its credentials are erased)")
  )
  .prefix("/v1")
  // The first middleware wraps innermost: the policy runs inside authentication.
  .middleware(RequestPolicy)
  .middleware(Authentication)
  .middleware(DecodeErrors)
{}

/** The OAuth callback: the platform redirects the user's browser here, so it carries no API key; `state` names the organization. */
export class OAuthCallbackGroup extends HttpApiGroup.make("oauth")
  .add(
    HttpApiEndpoint.get("callback", "/accounts/oauth/:platform/callback", {
      params: { platform: Schema.String },
      query: {
        code: Schema.optional(Schema.String),
        state: Schema.optional(Schema.String),
        error: Schema.optional(Schema.String)
      },
      success: Models.AccountView,
      error: [
        Errors.ValidationFailed,
        Errors.UnknownPlatform,
        Errors.InvalidCredentials,
        Errors.OrganizationDisabled,
        Errors.PlatformError
      ]
    })
      .annotate(OpenApi.Summary, "OAuth callback: exchanges the code and connects the account")
      // The platform writes this URL, not our caller: it adds parameters of its own (`iss`, `scope`, `error_description`).
      .annotate(HttpApi.QueryParseOptions, { errors: "all" })
  )
  .prefix("/v1")
  .middleware(DecodeErrors)
{}

export class MediaGroup extends HttpApiGroup.make("media")
  .add(
    HttpApiEndpoint.post("upload", "/media", {
      query: { fileName: Schema.optional(Schema.String).annotate({ description: "The file's name, for a raw-body upload." }) },
      payload: [
        HttpApiSchema.StreamUint8Array({ contentType: ["application/octet-stream", "image/*", "video/*"] }),
        Models.MediaUpload.pipe(HttpApiSchema.asMultipartStream())
      ],
      success: Models.MediaView.pipe(HttpApiSchema.status(201)),
      error: [Errors.ValidationFailed, Errors.UnknownField, Errors.UnsupportedMediaType, Errors.PayloadTooLarge]
    }).annotate(
      OpenApi.Description,
      "Upload a file: the raw bytes as the body (name it with `?fileName=`), or multipart with a `file` part. Streamed to storage; the type is detected from the content."
    ),
    HttpApiEndpoint.post("fromUrl", "/media/from-url", {
      query: noQuery,
      payload: Models.MediaFromUrl,
      success: Models.MediaView.pipe(HttpApiSchema.status(201)),
      error: [
        Errors.ValidationFailed,
        Errors.UnknownField,
        Errors.UrlNotAllowed,
        Errors.MediaUnavailable,
        Errors.UnsupportedMediaType,
        Errors.PayloadTooLarge
      ]
    }).annotate(
      OpenApi.Description,
      "Fetch the file at a public URL into the media library (through the URL guard, at most 5 redirects, the upload size limit). The type is detected from the content."
    ),
    HttpApiEndpoint.get("get", "/media/:id", {
      params: idParam,
      query: noQuery,
      success: Models.MediaView,
      error: Errors.MediaNotFound
    }).annotate(OpenApi.Summary, "Get a media record with a fresh signed URL"),
    HttpApiEndpoint.delete("delete", "/media/:id", {
      params: idParam,
      query: noQuery,
      error: [Errors.MediaNotFound, Errors.MediaInUse]
    }).annotate(OpenApi.Summary, "Delete a media file (not while a draft or scheduled post uses it)")
  )
  .prefix("/v1")
  // The first middleware wraps innermost: the policy runs inside authentication.
  .middleware(RequestPolicy)
  .middleware(Authentication)
  .middleware(DecodeErrors)
{}

export class KeysGroup extends HttpApiGroup.make("keys")
  .add(
    HttpApiEndpoint.post("create", "/keys", {
      query: noQuery,
      payload: Models.CreateApiKey,
      success: Models.CreatedApiKey.pipe(HttpApiSchema.status(201)),
      error: Errors.ValidationFailed
    }).annotate(OpenApi.Summary, "Create an API key (the raw key is in this response only)"),
    HttpApiEndpoint.get("list", "/keys", {
      query: Paging.pagingQuery,
      success: Paging.listOrPage(Models.ApiKeyView, "API key"),
      error: Errors.ValidationFailed
    }).annotate(
      OpenApi.Summary,
      "List API keys, oldest first: all of them as an array, or a page { data, nextCursor?, total? } with limit, cursor or offset"
    ),
    HttpApiEndpoint.delete("revoke", "/keys/:id", {
      params: idParam,
      query: noQuery,
      error: Errors.ApiKeyNotFound
    }).annotate(OpenApi.Summary, "Revoke an API key")
  )
  .prefix("/v1")
  // The first middleware wraps innermost: the policy runs inside authentication.
  .middleware(RequestPolicy)
  .middleware(Authentication)
  .middleware(DecodeErrors)
{}

export class WebhooksGroup extends HttpApiGroup.make("webhooks")
  .add(
    HttpApiEndpoint.post("create", "/webhooks", {
      query: noQuery,
      payload: Models.CreateWebhook,
      success: Models.WebhookView.pipe(HttpApiSchema.status(201)),
      error: [Errors.ValidationFailed, Errors.UrlNotAllowed]
    }).annotate(OpenApi.Summary, "Register a webhook"),
    HttpApiEndpoint.get("list", "/webhooks", {
      query: Paging.pagingQuery,
      success: Paging.listOrPage(Models.WebhookView, "webhook"),
      error: Errors.ValidationFailed
    }).annotate(
      OpenApi.Summary,
      "List webhooks, oldest first: all of them as an array, or a page { data, nextCursor?, total? } with limit, cursor or offset"
    ),
    HttpApiEndpoint.delete("delete", "/webhooks/:id", {
      params: idParam,
      query: noQuery,
      error: Errors.WebhookNotFound
    }).annotate(OpenApi.Summary, "Delete a webhook"),
    HttpApiEndpoint.get("deliveries", "/webhooks/:id/deliveries", {
      params: idParam,
      query: Paging.pagingQuery,
      success: Models.WebhookDeliveryPage,
      error: [Errors.WebhookNotFound, Errors.ValidationFailed]
    }).annotate(
      OpenApi.Summary,
      "The delivery log of a webhook, newest first (cursor, or offset with a total; at most 100 per page)"
    )
  )
  .prefix("/v1")
  // The first middleware wraps innermost: the policy runs inside authentication.
  .middleware(RequestPolicy)
  .middleware(Authentication)
  .middleware(DecodeErrors)
{}

export class GroupsGroup extends Groups.endpoints
  .prefix("/v1")
  // The first middleware wraps innermost: the policy runs inside authentication.
  .middleware(RequestPolicy)
  .middleware(Authentication)
  .middleware(DecodeErrors)
{}

const organizationParam = { id: Schema.String }

export class AdminGroup extends HttpApiGroup.make("admin")
  .add(
    HttpApiEndpoint.post("createOrganization", "/organizations", {
      query: noQuery,
      payload: Models.CreateOrganization,
      success: Models.OrganizationView.pipe(HttpApiSchema.status(201)),
      error: Errors.ValidationFailed
    }).annotate(OpenApi.Summary, "Create an organization (then its first key: POST /v1/admin/organizations/:id/keys)"),
    HttpApiEndpoint.get("listOrganizations", "/organizations", {
      query: Models.ListOrganizationsQuery,
      success: Models.OrganizationPage,
      error: Errors.ValidationFailed
    }).annotate(OpenApi.Summary, "List organizations, oldest first (cursor pagination, at most 100 per page)"),
    HttpApiEndpoint.get("getOrganization", "/organizations/:id", {
      params: organizationParam,
      query: noQuery,
      success: Models.OrganizationView,
      error: Errors.OrganizationNotFound
    }).annotate(OpenApi.Summary, "Get an organization"),
    HttpApiEndpoint.post("disableOrganization", "/organizations/:id/disable", {
      params: organizationParam,
      query: noQuery,
      payload: noPayload,
      success: Models.OrganizationView,
      error: Errors.OrganizationNotFound
    }).annotate(OpenApi.Summary, "Disable an organization: its keys are refused (ORGANIZATION_DISABLED) until it is enabled"),
    HttpApiEndpoint.post("enableOrganization", "/organizations/:id/enable", {
      params: organizationParam,
      query: noQuery,
      payload: noPayload,
      success: Models.OrganizationView,
      error: Errors.OrganizationNotFound
    }).annotate(OpenApi.Summary, "Enable a disabled organization again"),
    HttpApiEndpoint.post("createKey", "/organizations/:id/keys", {
      params: organizationParam,
      query: noQuery,
      payload: Models.CreateApiKey,
      success: Models.CreatedApiKey.pipe(HttpApiSchema.status(201)),
      error: [Errors.OrganizationNotFound, Errors.ValidationFailed]
    }).annotate(OpenApi.Summary, "Create a key of an organization (the raw key is in this response only)"),
    HttpApiEndpoint.get("listKeys", "/organizations/:id/keys", {
      params: organizationParam,
      query: noQuery,
      success: Schema.Array(Models.ApiKeyView),
      error: Errors.OrganizationNotFound
    }).annotate(OpenApi.Summary, "List an organization's keys")
  )
  .prefix("/v1/admin")
  .middleware(AdminAuthentication)
  .middleware(DecodeErrors)
  .annotate(
    OpenApi.Description,
    "Organizations, for the operator: admin keys only (an organization's key gets 403 ADMIN_KEY_REQUIRED)."
  )
{}

export class HealthGroup extends HttpApiGroup.make("health")
  .add(
    HttpApiEndpoint.get("healthz", "/healthz", { success: Models.Health })
      .annotate(OpenApi.Summary, "Liveness: the process answers"),
    HttpApiEndpoint.get("readyz", "/readyz", {
      success: Models.Readiness,
      error: Models.Readiness.pipe(HttpApiSchema.status(503))
    }).annotate(OpenApi.Summary, "Readiness: database reachable, a scheduler alive, no overdue work")
  )
{}

export class OmnipostApi extends HttpApi.make("omnipost")
  .add(PostsGroup)
  .add(AccountsGroup)
  .add(OAuthCallbackGroup)
  .add(MediaGroup)
  .add(KeysGroup)
  .add(WebhooksGroup)
  .add(GroupsGroup)
  .add(AdminGroup)
  .add(HealthGroup)
  // Every field of a body or query string is one the endpoint declares: anything else is UNKNOWN_FIELD, never dropped.
  .annotate(HttpApi.PayloadParseOptions, Errors.strictParseOptions)
  .annotate(HttpApi.QueryParseOptions, Errors.strictParseOptions)
  .annotate(HttpApi.ParamsParseOptions, Errors.strictParseOptions)
  // A success body is encoded by its schema (its shape: types, required fields, literals, no stray fields), but its
  // checks (lengths, formats) are not run again: the server built it from what it validated on the way in, and
  // re-checking them was 7–9 % of a GET's and a list's CPU (worker README, "Where a request's time goes").
  // `test/ResponseChecks.test.ts` decodes the answers with every check on.
  .annotate(HttpApi.SuccessParseOptions, { disableChecks: true })
  // The middleware sets the rate-limit headers on every authenticated response.
  .annotate(OpenApi.Transform, RateLimiter.documentHeaders)
  .annotate(OpenApi.Title, "Omnipost API")
  .annotate(OpenApi.Version, "0.1.0")
  .annotate(
    OpenApi.Description,
    "Self-hosted publishing to every loaded platform plugin. Every error is `{ \"error\": { \"code\", \"message\", \"details\" } }`."
  )
{}
