/**
 * A raw HTTP/1.1 client over `node:net`, for what `fetch` cannot send:
 * invalid UTF-8 in a path, a header or a JSON body, giant headers, bodies
 * shorter than their `Content-Length`, truncated multipart, and clients that
 * stop sending and keep the connection open.
 */
import { connect } from "node:net"

/** What came back over a raw connection. */
export interface RawAnswer {
  /** The status line's code, when an answer came. */
  readonly status?: number
  readonly headers: Record<string, string>
  readonly body: string
  /** The server closed the connection (or reset it) before the deadline. */
  readonly closed: boolean
  readonly ms: number
}

/**
 * Writes `chunks` to a new connection to 127.0.0.1:`port`, then either
 * half-closes it (`end`: the client is done) or keeps it open without
 * sending more (`stall`), and collects whatever the server sends until it
 * closes the connection or `deadlineMs` passes (then `closed` is false: a hang).
 */
export const rawRequest = (
  port: number,
  chunks: ReadonlyArray<Buffer>,
  options: { readonly after: "end" | "stall"; readonly deadlineMs: number }
): Promise<RawAnswer> =>
  new Promise((resolve) => {
    const started = performance.now()
    const socket = connect(port, "127.0.0.1")
    const received: Array<Buffer> = []
    let settled = false
    const settle = (closed: boolean) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      const text = Buffer.concat(received).toString("latin1")
      const split = text.indexOf("\r\n\r\n")
      const head = split === -1 ? text : text.slice(0, split)
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head)
      const headers: Record<string, string> = {}
      for (const line of head.split("\r\n").slice(1)) {
        const colon = line.indexOf(":")
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      let bytes = split === -1 ? "" : text.slice(split + 4)
      if (headers["transfer-encoding"] === "chunked") bytes = unchunk(bytes)
      const body = Buffer.from(bytes, "latin1").toString("utf8")
      resolve({
        ...(match === null ? {} : { status: Number(match[1]) }),
        headers,
        body,
        closed,
        ms: performance.now() - started
      })
    }
    const timer = setTimeout(() => settle(false), options.deadlineMs)
    socket.on("data", (chunk: Buffer) => received.push(chunk))
    socket.on("error", () => settle(true))
    socket.on("close", () => settle(true))
    socket.on("connect", async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return
        // Waits for each write to drain, so a large body does not pile up in this process.
        await new Promise<void>((done) => socket.write(chunk, () => done()))
      }
      if (options.after === "end" && !socket.destroyed) socket.end()
    })
  })

/** A chunked body's data, joined (`text` holds one byte a character). */
const unchunk = (text: string): string => {
  let out = ""
  let rest = text
  for (;;) {
    const line = rest.indexOf("\r\n")
    if (line === -1) return out
    const size = Number.parseInt(rest.slice(0, line), 16)
    if (!Number.isFinite(size) || size === 0) return out
    out += rest.slice(line + 2, line + 2 + size)
    rest = rest.slice(line + 2 + size + 2)
  }
}
