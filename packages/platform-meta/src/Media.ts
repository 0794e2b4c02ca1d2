/**
 * How media reach Meta, shared by the three publishers.
 *
 * - **By URL.** Meta fetches `image_url`/`video_url`/`url` itself, so the URL
 *   must be public: a `url` source is checked with the kit's `UrlGuard` (a
 *   loopback or private address is refused here, never handed to Meta); a
 *   `stored` source needs the host's `publicMediaUrl` (the worker's signed,
 *   expiring URLs under `OMNIPOST_PUBLIC_URL`); `bytes` and `file` sources
 *   have no URL.
 * - **By upload** where Meta offers it (rupload: Instagram Reels with
 *   Facebook Login, Facebook Reels and video stories): the bytes are streamed
 *   from any source through the kit's `MediaSource`.
 * - **Containers** (Instagram, Threads): created, then polled until
 *   `FINISHED`; `ERROR` and `EXPIRED` are final with Meta's reason; the
 *   transient "media not found" just after creation is polled again.
 */
import { Duration, Effect } from "effect"
import type { HttpClient } from "effect/http"
import { type Media as CoreMedia, type Plugin, type Publisher, PublishError, type Validation } from "@omnipost/core"
import { Poll, UrlGuard } from "@omnipost/platform-kit"
import * as Graph from "./internal/Graph.js"

/**
 * The host's public, fetchable URL for a stored medium (the worker signs one
 * under `OMNIPOST_PUBLIC_URL`); `undefined` when it has none.
 */
export type PublicMediaUrl = Plugin.PublicMediaUrl

/** The plugin options of this package: core's (`publicMediaUrl` among them). */
export type MetaPluginOptions = Plugin.PluginOptions

/**
 * Without public media URLs, a destination whose media is stored cannot be
 * published (Meta would have nothing to fetch): reported by validation,
 * before anything is sent.
 */
export const storedMediaIssues = (displayName: string) =>
(context: Publisher.ValidationContext<unknown>): ReadonlyArray<Validation.ValidationIssue> =>
  context.destination.parts.flatMap((part, partIndex) =>
    part.media.flatMap((media, mediaIndex) =>
      media.source._tag !== "stored" ? [] : [{
        code: "PUBLIC_URL_REQUIRED" as const,
        message: `${displayName} fetches media from a public URL, and stored media ${media.source.mediaId} has none: set OMNIPOST_PUBLIC_URL to the address Meta can reach this server at (${publicUrlRequired})`,
        path: partIndex === 0
          ? ["content", "media", mediaIndex, "source"]
          : ["content", "thread", partIndex - 1, "media", mediaIndex, "source"],
        platform: context.destination.platform,
        destinationIndex: context.destinationIndex
      }]
    )
  )

export interface UrlContext {
  readonly platform: string
  readonly publicMediaUrl?: PublicMediaUrl | undefined
  /** How `url` sources are checked before Meta is asked to fetch them. Default strict. */
  readonly urlGuard?: UrlGuard.Options | undefined
}

const rejected = (platform: string, code: string, message: string) => new PublishError.Rejected({ platform, code, message })

/** The code of a post whose stored media cannot be given to Meta: no public URL is configured. */
export const publicUrlRequired = "PUBLIC_URL_REQUIRED"

/** The public URL Meta fetches a medium from, or a `Rejected` that says why there is none. */
export const publicUrlOf = (
  media: CoreMedia.Media | CoreMedia.Thumbnail,
  context: UrlContext,
  what = "media"
): Effect.Effect<string, PublishError.PublishError> =>
  Effect.gen(function*() {
    const source = media.source
    switch (source._tag) {
      case "url": {
        const refusal = UrlGuard.refusal(source.url, context.urlGuard ?? {})
        if (refusal !== undefined) {
          return yield* rejected(
            context.platform,
            "URL_NOT_ALLOWED",
            `Meta fetches ${what} from a public URL, and ${refusal.url} is not one: ${refusal.message}`
          )
        }
        return source.url
      }
      case "stored": {
        const url = context.publicMediaUrl !== undefined ? yield* context.publicMediaUrl(source.mediaId) : undefined
        if (url !== undefined) {
          // A host configured with a local address must not hand it to Meta either.
          const refusal = UrlGuard.refusal(url, context.urlGuard ?? {})
          if (refusal !== undefined) {
            return yield* rejected(context.platform, publicUrlRequired, `OMNIPOST_PUBLIC_URL must be an address Meta can reach: ${refusal.message}`)
          }
          return url
        }
        return yield* rejected(
          context.platform,
          publicUrlRequired,
          `Meta fetches ${what} from a public URL, and stored media ${source.mediaId} has none: set OMNIPOST_PUBLIC_URL to the address Meta can reach this server at`
        )
      }
      default:
        return yield* rejected(
          context.platform,
          "MEDIA_URL_REQUIRED",
          `Meta fetches ${what} from a public URL; give a url source (or stored media with OMNIPOST_PUBLIC_URL set), not ${source._tag}`
        )
    }
  })

// ---------------------------------------------------------------------------
// Containers

export interface Polling {
  /** Between two status polls. Meta suggests once a minute; images are usually ready at once. */
  readonly interval: Duration.Input
  /** Polls before giving up (`Transient`: nothing was published). */
  readonly maxPolls: number
  /** How many "media not found" answers (just after creation) are polled through. Default 3. */
  readonly notFoundRetries?: number | undefined
}

export const defaultPolling: Polling = { interval: Duration.seconds(10), maxPolls: 60, notFoundRetries: 3 }

export interface ContainerContext {
  readonly client: HttpClient.HttpClient
  readonly platform: string
  /** `https://graph.instagram.com/v25.0`. */
  readonly baseUrl: string
  readonly accessToken: string
  readonly polling: Polling
  readonly timeout: Duration.Input
  /** Instagram: `status_code` + `status`; Threads: `status` + `error_message`. */
  readonly statusFields: "instagram" | "threads"
}

/** Answers on a container's status right after creation that mean "not there yet" (platform-specs §2.1, §2.3). */
const notYetFound = new Set(["100/33", "24/4279009"])

/** Polls a container until `FINISHED` (kit `Poll`). `ERROR` and `EXPIRED` end it with Meta's reason. */
export const waitForContainer = (
  context: ContainerContext,
  containerId: string
): Effect.Effect<void, PublishError.PublishError> =>
  Effect.suspend(() => {
    const fields = context.statusFields === "instagram" ? "status_code,status" : "status,error_message"
    let notFound = 0
    // A "not found" (or no answer) just after creation is polled through, a few times.
    const notYet = (error: PublishError.PublishError) =>
      (error._tag === "Transient" || (error.platformCode !== undefined && notYetFound.has(error.platformCode))) &&
        notFound++ < (context.polling.notFoundRetries ?? 3)
    const check = Graph.call(context.client, {
      platform: context.platform,
      operation: `GET /{container-id}?fields=${fields}`,
      method: "GET",
      url: `${context.baseUrl}/${containerId}`,
      params: { fields },
      accessToken: context.accessToken,
      write: false,
      timeout: context.timeout
    }).pipe(
      Effect.map((body) => ({ body })),
      Effect.catchIf(notYet, () => Effect.succeed(undefined)),
      Effect.flatMap((answer): Effect.Effect<Poll.Check<void>, PublishError.PublishError> => {
        if (answer === undefined) return Effect.succeed(Poll.pending())
        const body = answer.body
        const status = String(body[context.statusFields === "instagram" ? "status_code" : "status"] ?? "")
        const reason = String(body[context.statusFields === "instagram" ? "status" : "error_message"] ?? "")
        switch (status) {
          case "FINISHED":
          case "PUBLISHED":
            return Effect.succeed(Poll.done(undefined))
          case "ERROR":
            return Effect.fail(
              new PublishError.Rejected({
                platform: context.platform,
                code: "MEDIA_PROCESSING_FAILED",
                ...(reason !== "" ? { platformMessage: reason, platformCode: /\b(2207\d{3})\b/.exec(reason)?.[1] ?? reason } : {}),
                message: `Meta could not process the media of container ${containerId}: ${reason || "no reason given"}`
              })
            )
          case "EXPIRED":
            return Effect.fail(rejected(
              context.platform,
              "CONTAINER_EXPIRED",
              `container ${containerId} expired before it was published (containers live 24 hours)`
            ))
          default:
            return Effect.succeed(Poll.pending())
        }
      })
    )
    return Poll.until(check, { interval: context.polling.interval, maxChecks: context.polling.maxPolls }, () =>
      new PublishError.Transient({
        platform: context.platform,
        message: `container ${containerId} was not ready after ${context.polling.maxPolls} polls; nothing was published`
      }))
  })
