/**
 * A user-written `PlatformPublisher` for Mastodon: `POST /api/v1/statuses`
 * through effect's `HttpClient`, images through the platform kit's
 * `MediaSource` (`Media.ts`), threads as reply chains, `Idempotency-Key`
 * per attempt, delete and verify-credentials. Built in an Effect from an
 * `HttpClient`, like the built-in platform packages, then registered next to
 * them (see `index.ts`).
 *
 * @example
 * const mastodon = yield* makeMastodonPublisher()
 * const registry = yield* Registry.make([bluesky, mastodon])
 */
import { Clock, Duration, Effect, Redacted, Schema } from "effect"
import { HttpClient, HttpClientRequest } from "effect/http"
import type { Plugin, Publisher } from "@omnipost/core"
import { PublishError } from "@omnipost/core"
import { MastodonCredentials } from "./Auth.js"
import { Thread, Transport, UrlGuard } from "@omnipost/platform-kit"
import { fromResponse, platform } from "./Errors.js"
import { MediaAttachment, readImage, uploadRequest } from "./Media.js"
import { rules } from "./Rules.js"
import { MastodonSettings } from "./Settings.js"
import { validateMastodon } from "./Validation.js"

export type MastodonPublisher = Publisher.PlatformPublisher<MastodonSettings, MastodonCredentials>

export interface MastodonPublisherOptions {
  /** Per HTTP call; a status create that times out is an `OutcomeUnknown`. Default 30 s. */
  readonly requestTimeout?: Duration.Input | undefined
  /** Opens `stored` media (the host's media library); without it a `stored` source is `Rejected`. */
  readonly resolveStoredMedia?: Plugin.ResolveStoredMedia | undefined
}

/** The part of Mastodon's Status entity this publisher reads. */
const Status = Schema.Struct({
  id: Schema.String,
  uri: Schema.String,
  url: Schema.optional(Schema.NullOr(Schema.String)),
  created_at: Schema.String
})

const Account = Schema.Struct({
  id: Schema.String,
  username: Schema.String,
  acct: Schema.String,
  display_name: Schema.optional(Schema.String),
  avatar: Schema.optional(Schema.String)
})

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

export const makeMastodonPublisher = Effect.fn("makeMastodonPublisher")(function*(options: MastodonPublisherOptions = {}) {
  const client = yield* HttpClient.HttpClient
  // Users' media URLs go through the host's guarded client (taken once, at build time).
  const media = { resolveStoredMedia: options.resolveStoredMedia, fetcher: yield* UrlGuard.fetcher }
  const timeout = options.requestTimeout ?? Duration.seconds(30)

  /** One call; any non-2xx answer or missing answer becomes a publish error. */
  const call = <S extends Schema.Top>(
    credentials: MastodonCredentials,
    request: HttpClientRequest.HttpClientRequest,
    answer: S & Schema.Codec<S["Type"], S["Encoded"], never, never>,
    what: { readonly write: boolean; readonly what: string }
  ): Effect.Effect<S["Type"], PublishError.PublishError> =>
    Effect.gen(function*() {
      const authorised = HttpClientRequest.bearerToken(
        HttpClientRequest.prependUrl(HttpClientRequest.acceptJson(request), credentials.instanceUrl.replace(/\/+$/, "")),
        Redacted.value(credentials.accessToken)
      )
      const response = yield* client.execute(authorised).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (text) => ({ response, text }))),
        Effect.mapError((error) => Transport.classify(error, { platform, operation: what.what, write: what.write })),
        Effect.timeoutOrElse({
          duration: timeout,
          orElse: () =>
            Effect.fail(
              Transport.noAnswer({ platform, operation: what.what, write: what.write, after: Duration.format(Duration.fromInputUnsafe(timeout)) })
            )
        })
      )
      const body = parseJson(response.text)
      const { status } = response.response
      if (status < 200 || status >= 300) {
        return yield* Effect.fail(fromResponse({
          status,
          headers: response.response.headers,
          body,
          text: response.text,
          nowMs: yield* Clock.currentTimeMillis
        }))
      }
      const decoded = Schema.decodeUnknownExit(answer)(body)
      if (decoded._tag === "Failure") {
        const message = `${what.what} answered ${status} with an unexpected body: ${response.text.slice(0, 200)}`
        return yield* Effect.fail(
          what.write
            ? new PublishError.OutcomeUnknown({ platform: "mastodon", message: `${message}; it may have been posted` })
            : new PublishError.Transient({ platform: "mastodon", message })
        )
      }
      return decoded.value
    })

  const publish: MastodonPublisher["publish"] = (request) =>
    Effect.gen(function*() {
      const { credentials, destination } = request
      const { settings } = destination
      let createdAt: string | undefined
      // The kit's thread policy: every part's images read (judged by their bytes) and uploaded before the
      // first part is posted, so a bad image never leaves half a thread live (unattached uploads are
      // harmless: write: false); then the parts strictly in order, each replying to the one before. A
      // failure after some are live keeps them on the error, and a retry resumes after them.
      const published = yield* Thread.publish({
        platform,
        parts: destination.parts,
        postedParts: request.postedParts,
        prepare: (part, index) =>
          Effect.forEach(part.media.entries(), ([n, item]) =>
            readImage(item, media).pipe(
              Effect.flatMap((image) =>
                call(credentials, uploadRequest(image, item.altText), MediaAttachment, {
                  write: false,
                  what: `uploading image ${n + 1} of part ${index + 1}`
                })
              ),
              Effect.map((attachment) => attachment.id)
            )).pipe(
              Effect.map((mediaIds) => ({
                text: part.link !== undefined && !part.text.includes(part.link) ? `${part.text}\n\n${part.link}`.trim() : part.text,
                mediaIds
              }))
            ),
        post: ({ mediaIds, text }, { index, replyTo }) =>
          call(
            credentials,
            HttpClientRequest.post("/api/v1/statuses").pipe(
              // Mastodon keeps an Idempotency-Key for an hour: a repeat of this exact call cannot post twice.
              HttpClientRequest.setHeader("Idempotency-Key", `${request.attemptId}:${index}`),
              HttpClientRequest.bodyJsonUnsafe({
                status: text,
                ...(settings.visibility !== undefined ? { visibility: settings.visibility } : {}),
                ...(settings.spoilerText !== undefined ? { spoiler_text: settings.spoilerText } : {}),
                ...(settings.sensitive !== undefined ? { sensitive: settings.sensitive } : {}),
                ...(settings.language !== undefined ? { language: settings.language } : {}),
                ...(mediaIds.length > 0 ? { media_ids: mediaIds } : {}),
                ...(replyTo !== undefined ? { in_reply_to_id: replyTo.platformPostId } : {})
              })
            ),
            Status,
            { write: true, what: `posting part ${index + 1} of ${destination.parts.length}` }
          ).pipe(
            Effect.map((status) => {
              if (index === 0) createdAt = status.created_at
              return { platformPostId: status.id, url: status.url ?? status.uri }
            })
          )
      })
      const first = published[0]!
      return {
        platformPostId: first.platformPostId,
        url: first.url,
        publishedAt: createdAt ?? new Date(yield* Clock.currentTimeMillis).toISOString(),
        parts: published
      }
    })

  const publisher: MastodonPublisher = {
    platform: "mastodon",
    displayName: "Mastodon",
    rules,
    settingsSchema: MastodonSettings,
    credentialsSchema: MastodonCredentials,
    validate: validateMastodon,
    publish,
    delete: ({ credentials, platformPostId }) =>
      Effect.asVoid(call(
        credentials,
        HttpClientRequest.delete(`/api/v1/statuses/${encodeURIComponent(platformPostId)}`),
        Schema.Unknown,
        { write: true, what: "deleting the status" }
      )),
    verifyCredentials: (credentials) =>
      Effect.map(
        call(credentials, HttpClientRequest.get("/api/v1/accounts/verify_credentials"), Account, {
          write: false,
          what: "verifying the credentials"
        }),
        (account) => ({
          accountId: account.id,
          username: account.acct,
          displayName: account.display_name,
          avatarUrl: account.avatar
        })
      )
  }
  return publisher
})
