/**
 * Rich-text facets: links, mentions and hashtags with UTF-8 byte offsets.
 * Detection and offsets come from `@atproto/api`'s `RichText`; mentions are
 * resolved to DIDs through our own `HttpClient` (so tests can answer them),
 * and a mention whose handle does not resolve is left as plain text, as the
 * Bluesky app does.
 */
import { RichText } from "@atproto/api"
import { Effect } from "effect"
import type { HttpClient } from "effect/http"
import { PublishError, type Rules, TextCount } from "@omnipost/core"
import { isTokenProblem, platform } from "../Errors.js"
import { pdsOf, type SessionManager } from "./Session.js"
import * as Xrpc from "./Xrpc.js"

export interface Facet {
  readonly $type?: "app.bsky.richtext.facet"
  readonly index: { readonly byteStart: number; readonly byteEnd: number }
  readonly features: ReadonlyArray<
    | { readonly $type: "app.bsky.richtext.facet#link"; readonly uri: string }
    | { readonly $type: "app.bsky.richtext.facet#mention"; readonly did: string }
    | { readonly $type: "app.bsky.richtext.facet#tag"; readonly tag: string }
  >
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })

export const graphemeLength = (text: string): number => {
  let count = 0
  for (const _ of segmenter.segment(text)) count++
  return count
}

export const utf8Length = (text: string): number => new TextEncoder().encode(text).byteLength

/** Facets as detected, mentions still carrying the handle in `did`. */
export const detect = (text: string): ReadonlyArray<Facet> => {
  const richText = new RichText({ text })
  richText.detectFacetsWithoutResolution()
  return (richText.facets ?? []) as unknown as ReadonlyArray<Facet>
}

/** The first link in the text, for a link card. */
export const firstLink = (facets: ReadonlyArray<Facet>): string | undefined => {
  for (const facet of facets) {
    for (const feature of facet.features) {
      if (feature.$type === "app.bsky.richtext.facet#link") return feature.uri
    }
  }
  return undefined
}

/**
 * A hashtag the PDS would refuse (lexicons `app.bsky.richtext.facet#tag` and
 * `app.bsky.feed.post` tags): one in a part's text, found as atproto finds
 * them, or one of the `tags` setting, over the rules' hashtag limits. The
 * same check as core's `validatePost`, so a direct caller is refused up front too.
 */
export const tooLongHashtag = (
  rules: Rules.PlatformRules,
  texts: ReadonlyArray<string>,
  tags: ReadonlyArray<string> | undefined
): PublishError.Rejected | undefined => {
  const rule = rules.hashtagLength
  if (rule === undefined) return undefined
  const candidates = [
    ...texts.flatMap((text, index) =>
      TextCount.hashtags(text, rule.detection).map((tag) => ({ tag, where: index === 0 ? "the post" : `thread part ${index + 1}` }))
    ),
    ...(tags ?? []).map((tag) => ({ tag: tag.replace(/^[#＃]/, ""), where: "the tags setting" }))
  ]
  for (const { tag, where } of candidates) {
    const [over] = TextCount.exceeded(tag, rule.text)
    if (over !== undefined) {
      return new PublishError.Rejected({
        platform,
        code: "CONTENT_TOO_LONG",
        message: `${where}: Bluesky hashtags are at most ${over.limit.max} ${TextCount.unitDescription[over.limit.counting]}; #${
          tag.length > 20 ? `${tag.slice(0, 19)}…` : tag
        } counts ${over.counted}`
      })
    }
  }
  return undefined
}

export interface ResolveContext {
  readonly client: HttpClient.HttpClient
  readonly session: SessionManager
  readonly loginService: string
  readonly timeout: import("effect").Duration.Input
  /** Handles resolved earlier in the same call (thread parts often repeat a mention). */
  readonly cache: Map<string, string | undefined>
}

const resolveHandle = (context: ResolveContext, handle: string) =>
  Effect.gen(function*() {
    const key = handle.toLowerCase()
    if (context.cache.has(key)) return context.cache.get(key)
    const did = yield* context.session.run((session) =>
      Xrpc.call(context.client, {
        service: pdsOf(session, context.loginService),
        nsid: "com.atproto.identity.resolveHandle",
        method: "GET",
        params: { handle: key },
        token: session.accessJwt,
        timeout: context.timeout
      }).pipe(
        Effect.map((body) => {
          const value = (body as { did?: unknown }).did
          return typeof value === "string" && value.startsWith("did:") ? value : undefined
        }),
        // 400 "Unable to resolve handle": not an account, so the text stays plain.
        Effect.catchIf(
          (failure) => failure.kind === "status" && failure.status === 400 && !isTokenProblem(failure),
          () => Effect.succeed(undefined)
        )
      )
    )
    context.cache.set(key, did)
    return did
  })

/** Detects facets and resolves mentions; unresolvable mentions are dropped. */
export const facetsFor = (
  context: ResolveContext,
  text: string
): Effect.Effect<ReadonlyArray<Facet>, PublishError.PublishError> =>
  Effect.gen(function*() {
    const resolved: Array<Facet> = []
    for (const facet of detect(text)) {
      const features: Array<Facet["features"][number]> = []
      for (const feature of facet.features) {
        if (feature.$type !== "app.bsky.richtext.facet#mention") {
          features.push(feature)
          continue
        }
        const did = yield* resolveHandle(context, feature.did)
        if (did !== undefined) features.push({ $type: "app.bsky.richtext.facet#mention", did })
      }
      if (features.length > 0) resolved.push({ index: facet.index, features })
    }
    return resolved
  })
