/**
 * The fake Meta's state and the pieces every route shares: Graph error
 * bodies, request parameters (query and form, as the Graph API takes them),
 * access tokens, and fetching media from the URLs it is given (checked by
 * their bytes with the kit's `FakeMedia`, as Meta does).
 */
import { randomBytes } from "node:crypto"
import type { Answer, FakeRequest } from "@omnipost/platform-kit/testing"
import { FakeMedia } from "@omnipost/platform-kit/testing"

export type TokenKind = "instagram" | "threads" | "user" | "page"

export interface TokenInfo {
  readonly kind: TokenKind
  /** The object the token acts as (IG user, Threads user, Facebook user, Page). */
  readonly ownerId: string
  expired: boolean
  /** Permissions granted; a missing one is error 10/200. */
  readonly scopes: ReadonlyArray<string>
  /** OAuth tokens: short-lived (1 hour, to exchange) or long-lived (60 days, refreshable). */
  readonly lifetime?: "short" | "long" | undefined
}

export interface FakeProfile {
  readonly id: string
  readonly username: string
  readonly name: string
  readonly pictureUrl: string
  readonly kind: "instagram" | "threads" | "page" | "user"
  /** Posts per window (`content_publishing_limit`, `threads_publishing_limit`). */
  quotaTotal: number
  readonly quotaDurationSeconds: number
}

export type ContainerStatus = "IN_PROGRESS" | "FINISHED" | "ERROR" | "EXPIRED" | "PUBLISHED"

export interface Container {
  readonly id: string
  readonly ownerId: string
  readonly platform: "instagram" | "threads"
  /** IMAGE, VIDEO, REELS, STORIES, CAROUSEL, TEXT. */
  readonly mediaType: string
  readonly params: Readonly<Record<string, string>>
  readonly createdAtMs: number
  readonly children: ReadonlyArray<string>
  readonly isCarouselItem: boolean
  /** Polls left before the final status. */
  pollsLeft: number
  /** What the container becomes once processed. */
  outcome: { readonly status: "FINISHED" } | { readonly status: "ERROR"; readonly reason: string }
  status: ContainerStatus
  /** A resumable container waits for its bytes. */
  awaitingUpload: boolean
  /** The media's SHA-256, when fetched or uploaded. */
  sha256?: string | undefined
}

export interface PublishedMedia {
  readonly id: string
  readonly ownerId: string
  readonly platform: "instagram" | "threads" | "facebook"
  /** FEED, REELS, STORY, CAROUSEL_ALBUM, TEXT_POST, IMAGE, VIDEO… */
  readonly productType: string
  readonly text: string
  readonly permalink: string
  readonly timestampMs: number
  readonly containerId?: string | undefined
  readonly replyToId?: string | undefined
  readonly children: ReadonlyArray<string>
  readonly params: Readonly<Record<string, string>>
}

/** Graph's error body. */
export const graphError = (
  status: number,
  code: number,
  message: string,
  extra: { readonly subcode?: number; readonly type?: string; readonly userMessage?: string; readonly headers?: Record<string, string> } = {}
): Answer => ({
  status,
  ...(extra.headers !== undefined ? { headers: extra.headers } : {}),
  body: {
    error: {
      message,
      type: extra.type ?? "OAuthException",
      code,
      ...(extra.subcode !== undefined ? { error_subcode: extra.subcode } : {}),
      ...(extra.userMessage !== undefined ? { error_user_msg: extra.userMessage } : {}),
      fbtrace_id: `A${randomBytes(8).toString("hex")}`
    }
  }
})

/**
 * One page of a list edge, as Graph pages them: `limit` items (default 25,
 * at most 100) from the `after` cursor, with `paging.cursors` and a `next`
 * link while more remain. Cursors are opaque to clients (here the offset,
 * base64url); an unreadable one is Graph's code 100.
 */
export const pageOf = <A>(
  items: ReadonlyArray<A>,
  params: Readonly<Record<string, string>>,
  show: (item: A) => unknown
): Answer => {
  const limit = Math.max(1, Math.min(100, Number(params.limit ?? 25) || 25))
  let start = 0
  if (params.after !== undefined) {
    start = Number(Buffer.from(params.after, "base64url").toString("utf8"))
    if (!Number.isSafeInteger(start) || start < 0) return graphError(400, 100, "Invalid parameter: after is not a cursor of this list")
  }
  const page = items.slice(start, start + limit)
  const cursor = (offset: number) => Buffer.from(String(offset), "utf8").toString("base64url")
  const more = start + page.length < items.length
  return {
    status: 200,
    body: {
      data: page.map(show),
      ...(page.length > 0
        ? {
          paging: {
            cursors: { before: cursor(start), after: cursor(start + page.length) },
            ...(more ? { next: `?limit=${limit}&after=${cursor(start + page.length)}` } : {})
          }
        }
        : {})
    }
  }
}

/** Query and form parameters together (the Graph API takes either). */
export const paramsOf = async (request: FakeRequest): Promise<Record<string, string>> => {
  const params: Record<string, string> = {}
  for (const [key, value] of request.query) params[key] = value
  const type = String(request.headers["content-type"] ?? "")
  if (request.method === "POST" && type.includes("application/x-www-form-urlencoded")) {
    for (const [key, value] of new URLSearchParams(await request.text())) params[key] = value
  }
  return params
}

/** The token: `access_token`, or `Authorization: Bearer|OAuth`. */
export const tokenOf = (request: FakeRequest, params: Record<string, string>): string | undefined => {
  if (params.access_token !== undefined) return params.access_token
  const header = String(request.headers.authorization ?? "")
  const match = /^(?:Bearer|OAuth)\s+(.+)$/i.exec(header)
  return match?.[1]
}

export const newId = (): string => String(17_800_000_000_000_000n + BigInt(`0x${randomBytes(6).toString("hex")}`))

export const shortcode = (): string => randomBytes(8).toString("base64url").slice(0, 11)

/** What fetching a media URL gave. */
export type Fetched =
  | { readonly _tag: "ok"; readonly received: FakeMedia.Received; readonly mimeType: string; readonly width?: number | undefined; readonly height?: number | undefined }
  | { readonly _tag: "unreachable"; readonly message: string }
  | { readonly _tag: "refused"; readonly reason: "type" | "size"; readonly message: string }

/** Fetches a media URL as Meta's crawler does and judges it by its bytes. */
export const fetchMedia = async (
  url: string,
  check: { readonly accept: ReadonlyArray<string>; readonly maxBytes: number }
): Promise<Fetched> => {
  let response: Response
  try {
    response = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(30_000) })
  } catch (error) {
    return { _tag: "unreachable", message: `could not fetch ${url}: ${String(error)}` }
  }
  if (!response.ok || response.body === null) {
    await response.body?.cancel().catch(() => undefined)
    return { _tag: "unreachable", message: `fetching ${url} answered HTTP ${response.status}` }
  }
  const received = await FakeMedia.receive(response.body as unknown as AsyncIterable<Uint8Array>)
  return judge(received, check)
}

export const judge = (
  received: FakeMedia.Received,
  check: { readonly accept: ReadonlyArray<string>; readonly maxBytes: number }
): Fetched => {
  const verdict = FakeMedia.check(received, check)
  if (verdict._tag === "Refused") return { _tag: "refused", reason: verdict.reason, message: verdict.message }
  return {
    _tag: "ok",
    received,
    mimeType: verdict.mimeType,
    width: verdict.sniffed.width,
    height: verdict.sniffed.height
  }
}
