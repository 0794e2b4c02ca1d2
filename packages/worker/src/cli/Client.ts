/**
 * The CLI's HTTP client for a running server: JSON requests with the API key,
 * and file uploads streamed from disk with a progress callback.
 */
import { Data, Effect } from "effect"
import { createReadStream, statSync } from "node:fs"
import { basename } from "node:path"
import { Readable } from "node:stream"

export class ApiCallFailed extends Data.TaggedError("ApiCallFailed")<{
  readonly status: number
  readonly code: string
  readonly message: string
  readonly details?: unknown
}> {}

export interface Connection {
  readonly url: string
  readonly key: string
}

const failure = (status: number, body: any) =>
  new ApiCallFailed({
    status,
    code: body?.error?.code ?? `HTTP_${status}`,
    message: body?.error?.message ?? `the server answered ${status}`,
    details: body?.error?.details
  })

export const call = (connection: Connection, method: string, path: string, body?: unknown) =>
  Effect.tryPromise({
    try: async () => {
      const response = await fetch(`${connection.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${connection.key}`,
          ...(body !== undefined ? { "content-type": "application/json" } : {})
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {})
      })
      const text = await response.text()
      const parsed = text === "" ? undefined : JSON.parse(text)
      if (!response.ok) throw failure(response.status, parsed)
      return parsed as any
    },
    catch: (error) =>
      error instanceof ApiCallFailed
        ? error
        : new ApiCallFailed({ status: 0, code: "UNREACHABLE", message: `cannot reach ${connection.url}: ${String(error)}` })
  })

/** Uploads a file as the raw body, streamed from disk; `onProgress(sent, total)` as bytes go out. */
export const upload = (connection: Connection, file: string, onProgress: (sent: number, total: number) => void) =>
  Effect.tryPromise({
    try: async () => {
      const total = statSync(file).size
      let sent = 0
      const source = createReadStream(file, { highWaterMark: 256 * 1024 })
      source.on("data", (chunk) => {
        sent += chunk.length
        onProgress(sent, total)
      })
      const response = await fetch(`${connection.url}/v1/media?fileName=${encodeURIComponent(basename(file))}`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${connection.key}`,
          "content-type": "application/octet-stream",
          "content-length": String(total)
        },
        body: Readable.toWeb(source) as ReadableStream,
        duplex: "half"
      } as RequestInit)
      const text = await response.text()
      const parsed = text === "" ? undefined : JSON.parse(text)
      if (!response.ok) throw failure(response.status, parsed)
      return parsed as { readonly id: string; readonly mimeType: string; readonly sizeBytes: number }
    },
    catch: (error) =>
      error instanceof ApiCallFailed
        ? error
        : new ApiCallFailed({ status: 0, code: "UPLOAD_FAILED", message: `uploading ${file} failed: ${String(error)}` })
  })

/** A one-line progress bar: `[#########-----------]  45%  4.5/10.0 MB name`. */
export const progressBar = (sent: number, total: number, label: string, width = 24) => {
  const ratio = total === 0 ? 1 : Math.min(1, sent / total)
  const filled = Math.round(ratio * width)
  const mb = (n: number) => (n / 1_000_000).toFixed(1)
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}%  ${mb(sent)}/${mb(total)} MB  ${label}`
}
