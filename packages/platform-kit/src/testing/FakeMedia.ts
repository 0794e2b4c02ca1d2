/**
 * Media checks for fakes, done the way the real services do them: by the
 * bytes (sniffed), never by the declared Content-Type; with the size counted
 * as the bytes arrive and a digest to compare with what was sent.
 *
 * @example
 * const received = await FakeMedia.receive(request.stream, { maxBytes: 2_000_000, keepBytes: 2_000_000 })
 * const verdict = FakeMedia.check(received, { accept: ["image/*"], maxBytes: 2_000_000 })
 * if (verdict._tag === "Refused") return { status: 400, body: { error: "InvalidMimeType", message: verdict.message } }
 */
import { createHash } from "node:crypto"
import * as Sniff from "../Sniff.js"

/** What arrived of an upload. */
export interface Received {
  /** Bytes received (all of them, even past `maxBytes`, which only stops keeping them). */
  readonly size: number
  /** SHA-256 (hex) of every byte received. */
  readonly sha256: string
  /** The first bytes (up to `Sniff.sniffBytes`), for sniffing. */
  readonly head: Uint8Array
  /** The whole body, when it was at most `keepBytes`. */
  readonly bytes?: Uint8Array | undefined
}

/**
 * Reads an upload to its end, counting, hashing and keeping the head (and the
 * whole body up to `keepBytes`, default 0), so a fake can take large videos
 * without holding them.
 */
export const receive = async (
  stream: AsyncIterable<Uint8Array>,
  options: { readonly keepBytes?: number } = {}
): Promise<Received> => {
  const hash = createHash("sha256")
  const keepBytes = options.keepBytes ?? 0
  const kept: Array<Uint8Array> = []
  const head: Array<Uint8Array> = []
  let headSize = 0
  let size = 0
  for await (const chunk of stream) {
    hash.update(chunk)
    size += chunk.byteLength
    if (headSize < Sniff.sniffBytes) {
      const part = chunk.subarray(0, Sniff.sniffBytes - headSize)
      head.push(part)
      headSize += part.byteLength
    }
    if (size <= keepBytes) kept.push(chunk)
  }
  const join = (parts: ReadonlyArray<Uint8Array>) => new Uint8Array(Buffer.concat(parts))
  return {
    size,
    sha256: hash.digest("hex"),
    head: join(head),
    ...(size <= keepBytes ? { bytes: join(kept) } : {})
  }
}

/** The fake's verdict on an upload. */
export type Verdict =
  | { readonly _tag: "Accepted"; readonly mimeType: string; readonly sniffed: Sniff.Sniffed }
  | { readonly _tag: "Refused"; readonly reason: "type" | "size"; readonly message: string; readonly mimeType?: string | undefined }

const accepts = (accept: ReadonlyArray<string>, mimeType: string) =>
  accept.some((pattern) => pattern === "*/*" || pattern === mimeType || (pattern.endsWith("/*") && mimeType.startsWith(pattern.slice(0, -1))))

/**
 * Accepts an upload whose bytes are one of the `accept`ed types (`image/*`
 * patterns allowed) and at most `maxBytes`; refuses it otherwise. The
 * declared Content-Type is not consulted: the service decides from the bytes.
 */
export const check = (
  received: Received | Uint8Array,
  options: { readonly accept: ReadonlyArray<string>; readonly maxBytes?: number | undefined }
): Verdict => {
  const head = received instanceof Uint8Array ? received : received.head
  const size = received instanceof Uint8Array ? received.byteLength : received.size
  const sniffed = Sniff.sniff(head)
  if (sniffed === undefined) {
    return { _tag: "Refused", reason: "type", message: "the bytes are not a supported media type" }
  }
  if (!accepts(options.accept, sniffed.mimeType)) {
    return {
      _tag: "Refused",
      reason: "type",
      mimeType: sniffed.mimeType,
      message: `${sniffed.mimeType} is not accepted here (accepted: ${options.accept.join(", ")})`
    }
  }
  if (options.maxBytes !== undefined && size > options.maxBytes) {
    return {
      _tag: "Refused",
      reason: "size",
      mimeType: sniffed.mimeType,
      message: `the upload is ${size} bytes, more than the limit of ${options.maxBytes}`
    }
  }
  return { _tag: "Accepted", mimeType: sniffed.mimeType, sniffed }
}

/**
 * A MP4/MOV's duration in seconds, read from the `mvhd` box of a top-level
 * `moov` within `head` (ISO/IEC 14496-12 §8.2.2, versions 0 and 1), as the
 * platforms read it; `undefined` when the head holds none (a `moov` at the
 * end of a large file, or no MP4 at all).
 */
export const durationSeconds = (head: Uint8Array): number | undefined => {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength)
  const type = (at: number) => String.fromCharCode(head[at]!, head[at + 1]!, head[at + 2]!, head[at + 3]!)
  const inside = (from: number, to: number): number | undefined => {
    let at = from
    while (at + 8 <= to) {
      const size = view.getUint32(at)
      if (size < 8) return undefined
      const name = type(at + 4)
      if (name === "moov") return inside(at + 8, Math.min(at + size, to))
      if (name === "mvhd") {
        const version = head[at + 8]
        const timescaleAt = version === 1 ? at + 28 : at + 20
        if (timescaleAt + (version === 1 ? 12 : 8) > head.byteLength) return undefined
        const timescale = view.getUint32(timescaleAt)
        const duration = version === 1 ? Number(view.getBigUint64(timescaleAt + 4)) : view.getUint32(timescaleAt + 4)
        return timescale > 0 ? duration / timescale : undefined
      }
      at += size
    }
    return undefined
  }
  return inside(0, head.byteLength)
}
