/** The fake PDS's XRPC plumbing: errors as the PDS spells them, body reading with limits, and the lexicon's small value checks. */
import type { IncomingHttpHeaders } from "node:http"
import type { Readable } from "node:stream"
import { type Answer, FakeMedia } from "@omnipost/platform-kit/testing"

export type { Answer }

/** A method's refusal, answered as `{"error","message"}` with its status. */
export class XrpcError {
  constructor(readonly status: number, readonly error: string, readonly message: string) {}
}

export const fail = (status: number, error: string, message: string): never => {
  throw new XrpcError(status, error, message)
}

export const invalid = (message: string): never => fail(400, "InvalidRequest", message)

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" })
export const graphemes = (text: string): number => {
  let count = 0
  for (const _ of segmenter.segment(text)) count++
  return count
}
export const utf8 = (text: string): number => Buffer.byteLength(text, "utf8")

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

export const isDatetime = (value: unknown): boolean =>
  typeof value === "string" &&
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(value) &&
  !Number.isNaN(Date.parse(value))

export const isUri = (value: unknown): boolean => {
  if (typeof value !== "string") return false
  try {
    new URL(value)
    return true
  } catch {
    return false
  }
}

/** What a handler reads of a request: its headers and its body stream (the kit's `FakeRequest` is one). */
export type Incoming = { readonly headers: IncomingHttpHeaders; readonly stream: Readable }

export const readBody = (request: Incoming, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let tooLarge = false
    request.stream.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) tooLarge = true
      else chunks.push(chunk)
    })
    request.stream.on("end", () => (tooLarge ? reject(new XrpcError(413, "PayloadTooLarge", "request entity too large")) : resolve(Buffer.concat(chunks))))
    request.stream.on("error", reject)
  })

/** Streams a body through (the kit's `FakeMedia.receive`): its size, digest and head, and the bytes only up to `keep`. */
export const consumeBody = async (
  request: Incoming,
  keep: number
): Promise<{ readonly size: number; readonly digest: Uint8Array; readonly head: Uint8Array; readonly bytes?: Uint8Array | undefined }> => {
  const received = await FakeMedia.receive(request.stream, { keepBytes: keep })
  return { size: received.size, digest: new Uint8Array(Buffer.from(received.sha256, "hex")), head: received.head, bytes: received.bytes }
}

/** An XRPC error answer. */
export const xrpcAnswer = (status: number, error: string, message: string): Answer => ({ status, body: { error, message } })

/** Bluesky's error body for a status the fake answers by itself (a fault's, an unknown route's). */
export const errorFor = (status: number): Answer =>
  status === 429
    ? xrpcAnswer(429, "RateLimitExceeded", "Rate Limit Exceeded")
    : status === 404
    ? xrpcAnswer(404, "NotFound", "Not Found")
    : status >= 500
    ? xrpcAnswer(status, "InternalServerError", "Internal Server Error")
    : xrpcAnswer(status, "InvalidRequest", "Invalid Request")

/** The XRPC method of a path (`/xrpc/<nsid>`), else the path. */
export const nsidOf = (path: string): string => (path.startsWith("/xrpc/") ? path.slice("/xrpc/".length) : path)
